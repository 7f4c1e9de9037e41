//! One error type for every AWS call, so the UI can show a short, actionable
//! line while the full SDK error chain goes to the log.

use std::error::Error as StdError;

use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Error returned by the AWS client layer.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// The service answered with an error (`ValidationError`, `AccessDenied`, ...).
    #[error("{}", service_line(.code, .message))]
    Service {
        code: String,
        message: String,
        operation: &'static str,
    },
    /// No connection could be made (refused, DNS failure, network down).
    #[error("cannot reach {endpoint}")]
    Unreachable { endpoint: String },
    /// The connect or operation timeout expired.
    #[error("{operation} timed out")]
    Timeout { operation: &'static str },
    /// The credential chain failed; the payload is the provider's reason.
    #[error(
        "AWS credentials are missing or invalid ({0}); configure a profile with `aws configure`, \
         run `aws sso login`, or set AWS_PROFILE"
    )]
    Credentials(String),
    /// No region came from the settings, the environment or the profile.
    #[error(
        "no AWS region configured; set AWS_REGION, add `region` to your AWS profile, \
         or pass a region explicitly"
    )]
    NoRegion,
    /// A backend that cannot be used at all (e.g. the embedded emulator, for now).
    #[error("{0}")]
    Unavailable(String),
    /// Anything else; the text is the SDK's error chain.
    #[error("{0}")]
    Other(String),
}

/// `Code: message`, or just the code when the service sent no message.
fn service_line(code: &str, message: &str) -> String {
    if message.is_empty() {
        code.to_owned()
    } else {
        format!("{code}: {message}")
    }
}

/// Map an SDK error to [`AwsError`], logging the full chain first because the
/// mapped error deliberately drops most of it.
pub fn from_sdk<E, R>(operation: &'static str, endpoint: &str, err: SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    tracing::warn!(
        error = %DisplayErrorContext(&err),
        operation,
        "AWS call failed"
    );
    if let Some(reason) = credentials_failure(&err) {
        return AwsError::Credentials(reason);
    }
    match &err {
        SdkError::ServiceError(ctx) => {
            let service_err = ctx.err();
            AwsError::Service {
                code: service_err.code().unwrap_or("Unknown").to_owned(),
                message: service_err.message().unwrap_or_default().to_owned(),
                operation,
            }
        }
        SdkError::TimeoutError(_) => AwsError::Timeout { operation },
        SdkError::DispatchFailure(failure) if failure.is_timeout() => {
            AwsError::Timeout { operation }
        }
        SdkError::DispatchFailure(failure) if failure.is_io() => AwsError::Unreachable {
            endpoint: endpoint.to_owned(),
        },
        _ => AwsError::Other(format!("{operation}: {}", chain_text(&err))),
    }
}

/// `.or_aws(op, endpoint)` instead of `.map_err(|e| from_sdk(op, endpoint, e))`.
pub trait SdkResultExt<T> {
    fn or_aws(self, operation: &'static str, endpoint: &str) -> Result<T, AwsError>;
}

impl<T, E, R> SdkResultExt<T> for Result<T, SdkError<E, R>>
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    fn or_aws(self, operation: &'static str, endpoint: &str) -> Result<T, AwsError> {
        self.map_err(|err| from_sdk(operation, endpoint, err))
    }
}

/// Iterate an error and all its sources.
fn sources<'a>(
    err: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(err), |&e| e.source())
}

/// `a: b: c` without the trailing Debug dump `DisplayErrorContext` adds, which
/// would include the raw HTTP response and is unreadable in a status line.
fn chain_text(err: &(dyn StdError + 'static)) -> String {
    sources(err)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

/// The credential provider's reason if `err` was caused by the credential chain: a failed
/// lookup surfaces as a `DispatchFailure` wrapping the provider's `CredentialsError`.
fn credentials_failure<E, R>(err: &SdkError<E, R>) -> Option<String>
where
    E: StdError + 'static,
    R: std::fmt::Debug + 'static,
{
    if !matches!(err, SdkError::DispatchFailure(_)) {
        return None;
    }
    let root: &(dyn StdError + 'static) = err;
    sources(root)
        .find(|e| e.is::<CredentialsError>())
        .map(chain_text)
}
