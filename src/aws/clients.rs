//! The service clients the console uses, all sharing one `SdkConfig` so they
//! agree on region, credentials, retries, timeouts and endpoint.

use std::fmt;

use aws_config::SdkConfig;

use super::{ConnectionSettings, Endpoint};

/// What the clients talk to; shown in the console header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The in-process emulator.
    Emulator,
    /// Real AWS endpoints.
    Aws {
        profile: Option<String>,
        region: String,
    },
    /// A custom endpoint URL (LocalStack, a VPC endpoint, ...).
    Endpoint { url: String, region: String },
}

impl Target {
    /// Describe what `config` (built from `settings`) will talk to. Uses the
    /// config's endpoint URL so `AWS_ENDPOINT_URL` shows up as an endpoint, and
    /// `AWS_PROFILE` as the profile when none was given explicitly.
    pub fn for_config(settings: &ConnectionSettings, config: &SdkConfig) -> Self {
        let region = config.region().map(ToString::to_string).unwrap_or_default();
        match (&settings.endpoint, config.endpoint_url()) {
            (Endpoint::Embedded, _) => Target::Emulator,
            (_, Some(url)) => Target::Endpoint {
                url: url.to_owned(),
                region,
            },
            (Endpoint::Url(url), None) => Target::Endpoint {
                url: url.clone(),
                region,
            },
            (Endpoint::Aws, None) => Target::Aws {
                profile: settings
                    .profile
                    .clone()
                    .or_else(|| std::env::var("AWS_PROFILE").ok())
                    .filter(|p| !p.is_empty()),
                region,
            },
        }
    }

    /// What to name in "cannot reach ..." errors.
    pub fn endpoint(&self) -> String {
        match self {
            Target::Emulator => "the embedded emulator".to_owned(),
            Target::Aws { region, .. } => format!("AWS ({region})"),
            Target::Endpoint { url, .. } => url.clone(),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Emulator => f.write_str("EMULATOR"),
            Target::Aws { profile, region } => {
                write!(f, "{}@{region}", profile.as_deref().unwrap_or("default"))
            }
            Target::Endpoint { url, .. } => f.write_str(url),
        }
    }
}

/// One client per service the console reads from.
#[derive(Debug, Clone)]
pub struct Clients {
    pub codepipeline: aws_sdk_codepipeline::Client,
    pub codedeploy: aws_sdk_codedeploy::Client,
    pub codebuild: aws_sdk_codebuild::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub cloudformation: aws_sdk_cloudformation::Client,
    pub sts: aws_sdk_sts::Client,
    pub target: Target,
}

impl Clients {
    pub fn new(config: &SdkConfig, target: Target) -> Self {
        Self {
            codepipeline: aws_sdk_codepipeline::Client::new(config),
            codedeploy: aws_sdk_codedeploy::Client::new(config),
            codebuild: aws_sdk_codebuild::Client::new(config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(config),
            logs: aws_sdk_cloudwatchlogs::Client::new(config),
            cloudformation: aws_sdk_cloudformation::Client::new(config),
            sts: aws_sdk_sts::Client::new(config),
            target,
        }
    }

    /// Load the config for `settings` and build every client from it.
    pub async fn connect(settings: &ConnectionSettings) -> Result<Self, super::AwsError> {
        let config = super::load_sdk_config(settings).await?;
        let target = Target::for_config(settings, &config);
        Ok(Self::new(&config, target))
    }

    /// Endpoint name for [`super::from_sdk`] / [`super::SdkResultExt::or_aws`].
    pub fn endpoint(&self) -> String {
        self.target.endpoint()
    }
}
