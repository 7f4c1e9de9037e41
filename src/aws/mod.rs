//! AWS client layer: turns connection settings into one `SdkConfig` and the
//! service clients built from it, and maps SDK errors to [`AwsError`].

mod clients;
mod error;
pub mod ops;
pub mod reads;
mod session;

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_codepipeline::config::{Credentials, ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_types::error::display::DisplayErrorContext;

pub use clients::{Clients, Target};
pub use error::{AwsError, SdkResultExt, from_sdk};
pub use session::{Session, emulator_config};

/// Where requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// The in-process emulator (not implemented yet).
    Embedded,
    /// Default AWS endpoints; `AWS_ENDPOINT_URL` still applies.
    Aws,
    /// A custom endpoint URL.
    Url(String),
}

/// Everything needed to build the SDK config; filled in by the config layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionSettings {
    pub endpoint: Endpoint,
    pub profile: Option<String>,
    pub region: Option<String>,
    /// Total attempts per call, including the first (0 is treated as 1).
    pub max_attempts: u32,
    pub connect_timeout: Duration,
    pub operation_timeout: Duration,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        Self {
            endpoint: Endpoint::Aws,
            profile: None,
            region: None,
            max_attempts: 3,
            connect_timeout: Duration::from_secs(5),
            operation_timeout: Duration::from_secs(30),
        }
    }
}

/// Access key used when an endpoint URL is set but no real credentials exist.
const FALLBACK_KEY: &str = "pipetui";

/// Build the single `SdkConfig` all clients share.
///
/// Region, profile and endpoint come from `settings` when given, otherwise from
/// aws-config's environment/profile chains (including `AWS_ENDPOINT_URL`).
pub async fn load_sdk_config(settings: &ConnectionSettings) -> Result<SdkConfig, AwsError> {
    let endpoint_url = match &settings.endpoint {
        Endpoint::Embedded => {
            return Err(AwsError::Unavailable(
                "the embedded emulator runs in process: build its config with aws::embedded_sdk_config".to_owned(),
            ));
        }
        Endpoint::Aws => None,
        Endpoint::Url(url) => Some(url.clone()),
    };

    let mut loader = aws_config::defaults(BehaviorVersion::v2026_01_12())
        .retry_config(settings.retry_config())
        .timeout_config(settings.timeout_config());
    if let Some(region) = settings.region.as_deref().filter(|r| !r.is_empty()) {
        loader = loader.region(Region::new(region.to_owned()));
    }
    if let Some(profile) = settings.profile.as_deref().filter(|p| !p.is_empty()) {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let config = loader.load().await;

    if config.region().is_none() {
        return Err(AwsError::NoRegion);
    }
    if config.endpoint_url().is_none() || has_credentials(&config, settings).await {
        return Ok(config);
    }
    // Emulators accept any signature, so static keys let them work with no AWS setup.
    let fallback = Credentials::new(FALLBACK_KEY, FALLBACK_KEY, None, None, "pipetui-fallback");
    Ok(config
        .into_builder()
        .credentials_provider(SharedCredentialsProvider::new(fallback))
        .build())
}

/// Whether the credential chain yields credentials within the operation timeout.
///
/// Probed eagerly because the chain can fail with a hard error rather than
/// "not found" (e.g. a container whose IMDS answers 403), and a lazy fallback
/// would need a custom provider type from a crate we do not depend on.
async fn has_credentials(config: &SdkConfig, settings: &ConnectionSettings) -> bool {
    let Some(provider) = config.credentials_provider() else {
        return false;
    };
    let probe = tokio::time::timeout(settings.operation_timeout, provider.provide_credentials());
    match probe.await {
        Ok(Ok(_)) => true,
        Ok(Err(err)) => {
            tracing::debug!(error = %DisplayErrorContext(&err), "no AWS credentials; using fallback keys");
            false
        }
        Err(_) => {
            tracing::debug!("AWS credential lookup timed out; using fallback keys");
            false
        }
    }
}

impl ConnectionSettings {
    /// Standard retry mode with the configured attempts (at least one).
    fn retry_config(&self) -> RetryConfig {
        RetryConfig::standard().with_max_attempts(self.max_attempts.max(1))
    }

    fn timeout_config(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect_timeout)
            .operation_timeout(self.operation_timeout)
            .build()
    }

    /// The connection described by `[aws]` of the config (after every layer was applied).
    pub fn from_config(aws: &crate::config::AwsSettings) -> Self {
        use crate::config::EndpointSetting;
        Self {
            endpoint: match &aws.endpoint {
                EndpointSetting::Embedded => Endpoint::Embedded,
                EndpointSetting::Aws => Endpoint::Aws,
                EndpointSetting::Url(u) => Endpoint::Url(u.clone()),
            },
            profile: aws.profile.clone(),
            region: Some(aws.region.clone()),
            max_attempts: aws.max_attempts,
            connect_timeout: Duration::from_secs(aws.connect_timeout_seconds),
            operation_timeout: Duration::from_secs(aws.operation_timeout_seconds),
        }
    }
}

/// The `SdkConfig` for the embedded emulator: requests go to it in process, no socket, with
/// static credentials (the emulator does not check signatures).
pub fn embedded_sdk_config(
    emulator: std::sync::Arc<pipetui_emulator::Emulator>,
    settings: &ConnectionSettings,
) -> SdkConfig {
    let region = settings
        .region
        .clone()
        .unwrap_or_else(|| "us-east-1".to_string());
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::v2026_01_12())
        .region(Region::new(region))
        .endpoint_url("http://embedded.pipetui.internal")
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            FALLBACK_KEY,
            FALLBACK_KEY,
            None,
            None,
            "pipetui-embedded",
        )))
        .http_client(pipetui_emulator::InProcessClient::new(emulator))
        .retry_config(settings.retry_config())
        .timeout_config(settings.timeout_config())
        .build()
}
