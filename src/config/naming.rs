//! Physical names: `{company}-{service}-{environment}[-{suffix}]-{purpose}`, checked against each
//! AWS service's own limits so a bad name fails validation, not a deployment an hour later.

use std::fmt;

/// The naming inputs from `[project]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Naming {
    pub company: Option<String>,
    pub service: String,
    /// Appended to the environment so parallel stacks (a PR, a developer) never collide.
    pub suffix: Option<String>,
}

/// The kind of AWS resource a name is for; each has its own length and character rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameKind {
    Stack,
    S3Bucket,
    IamRole,
    IamPolicy,
    Pipeline,
    CodeBuildProject,
    CodeDeployApplication,
    CodeDeployGroup,
    LogGroup,
    LambdaFunction,
    SnsTopic,
    EcrRepository,
    Alarm,
    Dashboard,
    KmsAlias,
    DynamoDbTable,
    Secret,
    EventRule,
    LoadBalancer,
    TargetGroup,
    EcsCluster,
    EcsService,
}

impl NameKind {
    pub const ALL: &'static [NameKind] = &[
        NameKind::Stack,
        NameKind::S3Bucket,
        NameKind::IamRole,
        NameKind::IamPolicy,
        NameKind::Pipeline,
        NameKind::CodeBuildProject,
        NameKind::CodeDeployApplication,
        NameKind::CodeDeployGroup,
        NameKind::LogGroup,
        NameKind::LambdaFunction,
        NameKind::SnsTopic,
        NameKind::EcrRepository,
        NameKind::Alarm,
        NameKind::Dashboard,
        NameKind::KmsAlias,
        NameKind::DynamoDbTable,
        NameKind::Secret,
        NameKind::EventRule,
        NameKind::LoadBalancer,
        NameKind::TargetGroup,
        NameKind::EcsCluster,
        NameKind::EcsService,
    ];

    pub fn label(self) -> &'static str {
        match self {
            NameKind::Stack => "CloudFormation stack",
            NameKind::S3Bucket => "S3 bucket",
            NameKind::IamRole => "IAM role",
            NameKind::IamPolicy => "IAM policy",
            NameKind::Pipeline => "CodePipeline pipeline",
            NameKind::CodeBuildProject => "CodeBuild project",
            NameKind::CodeDeployApplication => "CodeDeploy application",
            NameKind::CodeDeployGroup => "CodeDeploy deployment group",
            NameKind::LogGroup => "CloudWatch log group",
            NameKind::LambdaFunction => "Lambda function",
            NameKind::SnsTopic => "SNS topic",
            NameKind::EcrRepository => "ECR repository",
            NameKind::Alarm => "CloudWatch alarm",
            NameKind::Dashboard => "CloudWatch dashboard",
            NameKind::KmsAlias => "KMS alias",
            NameKind::DynamoDbTable => "DynamoDB table",
            NameKind::Secret => "Secrets Manager secret",
            NameKind::EventRule => "EventBridge rule",
            NameKind::LoadBalancer => "load balancer",
            NameKind::TargetGroup => "target group",
            NameKind::EcsCluster => "ECS cluster",
            NameKind::EcsService => "ECS service",
        }
    }

    /// Inclusive length bounds, in characters.
    pub fn length(self) -> (usize, usize) {
        match self {
            NameKind::Stack => (1, 128),
            NameKind::S3Bucket => (3, 63),
            NameKind::IamRole | NameKind::LambdaFunction | NameKind::EventRule => (1, 64),
            NameKind::IamPolicy => (1, 128),
            NameKind::Pipeline | NameKind::CodeDeployApplication | NameKind::CodeDeployGroup => {
                (1, 100)
            }
            NameKind::CodeBuildProject => (2, 255),
            NameKind::LogGroup | NameKind::Secret => (1, 512),
            NameKind::SnsTopic | NameKind::EcrRepository => (1, 256),
            NameKind::Alarm | NameKind::Dashboard => (1, 255),
            NameKind::KmsAlias => (7, 256),
            NameKind::DynamoDbTable => (3, 255),
            NameKind::LoadBalancer | NameKind::TargetGroup => (1, 32),
            NameKind::EcsCluster | NameKind::EcsService => (1, 255),
        }
    }

    /// Characters allowed, described for the error message.
    fn charset(self) -> (&'static str, fn(char) -> bool) {
        fn alnum_dash(c: char) -> bool {
            c.is_ascii_alphanumeric() || c == '-'
        }
        match self {
            NameKind::Stack => ("letters, digits and -", alnum_dash),
            NameKind::S3Bucket => ("lowercase letters, digits, . and -", |c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-'
            }),
            NameKind::IamRole | NameKind::IamPolicy => ("letters, digits and +=,.@_-", |c| {
                c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)
            }),
            NameKind::Pipeline => ("letters, digits and .@_-", |c| {
                c.is_ascii_alphanumeric() || ".@_-".contains(c)
            }),
            NameKind::CodeBuildProject
            | NameKind::LambdaFunction
            | NameKind::SnsTopic
            | NameKind::Dashboard
            | NameKind::EcsCluster
            | NameKind::EcsService => ("letters, digits, _ and -", |c| {
                c.is_ascii_alphanumeric() || c == '_' || c == '-'
            }),
            NameKind::CodeDeployApplication | NameKind::CodeDeployGroup | NameKind::Alarm => {
                ("printable ASCII", |c| c.is_ascii_graphic() || c == ' ')
            }
            NameKind::LogGroup => ("letters, digits and ._-/#", |c| {
                c.is_ascii_alphanumeric() || "._-/#".contains(c)
            }),
            NameKind::EcrRepository => ("lowercase letters, digits and ._-/", |c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/".contains(c)
            }),
            NameKind::KmsAlias => ("letters, digits and /_-", |c| {
                c.is_ascii_alphanumeric() || "/_-".contains(c)
            }),
            NameKind::DynamoDbTable => ("letters, digits and ._-", |c| {
                c.is_ascii_alphanumeric() || "._-".contains(c)
            }),
            NameKind::Secret => ("letters, digits and /_+=.@-", |c| {
                c.is_ascii_alphanumeric() || "/_+=.@-".contains(c)
            }),
            NameKind::EventRule => ("letters, digits and ._-", |c| {
                c.is_ascii_alphanumeric() || "._-".contains(c)
            }),
            NameKind::LoadBalancer | NameKind::TargetGroup => ("letters, digits and -", alnum_dash),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameError {
    pub kind: NameKind,
    pub name: String,
    pub reason: String,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} name \"{}\" {}",
            self.kind.label(),
            self.name,
            self.reason
        )
    }
}

impl std::error::Error for NameError {}

impl Naming {
    /// The stem shared by every name: `{company}-{service}-{environment}[-{suffix}]`.
    pub fn stem(&self, environment: &str) -> String {
        let mut parts: Vec<&str> = Vec::with_capacity(4);
        if let Some(c) = self.company.as_deref().filter(|c| !c.is_empty()) {
            parts.push(c);
        }
        parts.push(&self.service);
        parts.push(environment);
        if let Some(s) = self.suffix.as_deref().filter(|s| !s.is_empty()) {
            parts.push(s);
        }
        parts.join("-")
    }

    /// The one function that yields every physical name. `environment` is an environment's name,
    /// or `cicd` for resources the pipeline itself owns. Log groups and KMS aliases get the prefix
    /// their service requires.
    pub fn name(
        &self,
        kind: NameKind,
        environment: &str,
        purpose: &str,
    ) -> Result<String, NameError> {
        let base = format!("{}-{}", self.stem(environment), purpose);
        let name = match kind {
            NameKind::LogGroup => format!("/pipetui/{base}"),
            NameKind::KmsAlias => format!("alias/{base}"),
            _ => base,
        };
        check(kind, &name)?;
        Ok(name)
    }
}

/// Checks a name against the limits of its kind.
pub fn check(kind: NameKind, name: &str) -> Result<(), NameError> {
    let err = |reason: String| NameError {
        kind,
        name: name.to_string(),
        reason,
    };
    let len = name.chars().count();
    let (min, max) = kind.length();
    if len < min || len > max {
        return Err(err(format!(
            "is {len} characters; {} names must be {min} to {max}",
            kind.label()
        )));
    }
    let (allowed, ok) = kind.charset();
    if let Some(bad) = name.chars().find(|c| !ok(*c)) {
        return Err(err(format!("contains '{bad}'; allowed: {allowed}")));
    }
    let first = name.chars().next().unwrap_or(' ');
    let last = name.chars().last().unwrap_or(' ');
    match kind {
        NameKind::S3Bucket => {
            if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
                return Err(err("must start and end with a letter or digit".into()));
            }
            if name.contains("..") || name.contains(".-") || name.contains("-.") {
                return Err(err(
                    "must not contain adjacent periods or a period next to a hyphen".into(),
                ));
            }
            if name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok()) {
                return Err(err("must not look like an IP address".into()));
            }
            if name.starts_with("xn--")
                || name.starts_with("sthree-")
                || name.ends_with("-s3alias")
                || name.ends_with("--ol-s3")
            {
                return Err(err("uses a prefix or suffix S3 reserves".into()));
            }
        }
        NameKind::Stack if !first.is_ascii_alphabetic() => {
            return Err(err("must start with a letter".into()));
        }
        NameKind::CodeBuildProject | NameKind::EcrRepository if !first.is_ascii_alphanumeric() => {
            return Err(err("must start with a letter or digit".into()));
        }
        NameKind::LoadBalancer | NameKind::TargetGroup => {
            if first == '-' || last == '-' {
                return Err(err("must not start or end with a hyphen".into()));
            }
            if name.starts_with("internal-") {
                return Err(err("must not start with \"internal-\"".into()));
            }
        }
        NameKind::KmsAlias if !name.starts_with("alias/") || name.starts_with("alias/aws/") => {
            return Err(err("must start with alias/ and not alias/aws/".into()));
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naming(company: Option<&str>, service: &str, suffix: Option<&str>) -> Naming {
        Naming {
            company: company.map(str::to_string),
            service: service.to_string(),
            suffix: suffix.map(str::to_string),
        }
    }

    #[test]
    fn convention_with_and_without_company_and_suffix() {
        let n = naming(Some("acme"), "orders", None);
        assert_eq!(
            n.name(NameKind::Pipeline, "cicd", "pipeline")
                .ok()
                .as_deref(),
            Some("acme-orders-cicd-pipeline")
        );
        let n = naming(None, "orders", Some("pr42"));
        assert_eq!(
            n.name(NameKind::IamRole, "staging", "deploy-role")
                .ok()
                .as_deref(),
            Some("orders-staging-pr42-deploy-role")
        );
        assert_eq!(
            n.name(NameKind::LogGroup, "cicd", "build").ok().as_deref(),
            Some("/pipetui/orders-cicd-pr42-build")
        );
        assert_eq!(
            n.name(NameKind::KmsAlias, "cicd", "key").ok().as_deref(),
            Some("alias/orders-cicd-pr42-key")
        );
    }

    #[test]
    fn suffix_keeps_parallel_stacks_apart() {
        let a = naming(None, "orders", None).name(NameKind::S3Bucket, "staging", "artifacts");
        let b =
            naming(None, "orders", Some("alice")).name(NameKind::S3Bucket, "staging", "artifacts");
        assert_ne!(a, b);
    }

    /// Each kind accepts a name of exactly its maximum length and rejects one character more.
    #[test]
    fn every_kind_enforces_its_length_limit() {
        for &kind in NameKind::ALL {
            let (min, max) = kind.length();
            let prefix = match kind {
                NameKind::KmsAlias => "alias/",
                _ => "",
            };
            let fill = |n: usize| format!("{prefix}{}", "a".repeat(n - prefix.len()));
            assert!(
                check(kind, &fill(max)).is_ok(),
                "{kind:?} should accept {max}"
            );
            let e = check(kind, &fill(max + 1)).err();
            let e = e.unwrap_or_else(|| panic!("{kind:?} accepted {} chars", max + 1));
            assert!(e.to_string().contains(&format!("{min} to {max}")), "{e}");
            if min > 1 + prefix.len() {
                assert!(
                    check(kind, &fill(min - 1)).is_err(),
                    "{kind:?} accepted {} chars",
                    min - 1
                );
            }
        }
    }

    #[test]
    fn character_rules() {
        assert!(check(NameKind::S3Bucket, "Orders-artifacts").is_err());
        assert!(check(NameKind::S3Bucket, "orders..artifacts").is_err());
        assert!(check(NameKind::S3Bucket, "192.168.1.10").is_err());
        assert!(check(NameKind::S3Bucket, "-orders").is_err());
        assert!(check(NameKind::S3Bucket, "xn--orders").is_err());
        assert!(check(NameKind::Pipeline, "orders pipeline").is_err());
        assert!(check(NameKind::Pipeline, "orders.pipeline@v2_x-y").is_ok());
        assert!(check(NameKind::IamRole, "orders/role").is_err());
        assert!(check(NameKind::IamRole, "orders+role=x,y.z@w_v-u").is_ok());
        assert!(check(NameKind::LambdaFunction, "orders.fn").is_err());
        assert!(check(NameKind::LogGroup, "/aws/codebuild/orders#1").is_ok());
        assert!(check(NameKind::LogGroup, "/aws/codebuild/orders:1").is_err());
        assert!(check(NameKind::EcrRepository, "Orders").is_err());
        assert!(check(NameKind::Stack, "1orders").is_err());
        assert!(check(NameKind::Stack, "orders_stack").is_err());
        assert!(check(NameKind::TargetGroup, "orders-").is_err());
        assert!(check(NameKind::LoadBalancer, "internal-orders").is_err());
        assert!(check(NameKind::KmsAlias, "alias/aws/orders").is_err());
        assert!(check(NameKind::CodeBuildProject, "_orders").is_err());
        assert!(check(NameKind::EventRule, "orders/rule").is_err());
        assert!(check(NameKind::Secret, "orders/db!").is_err());
        assert!(check(NameKind::DynamoDbTable, "orders history").is_err());
    }

    #[test]
    fn name_reports_the_limit_it_broke() {
        let n = naming(
            Some("averyveryverylongcompanyname"),
            "averyverylongservicename",
            None,
        );
        let e = n.name(NameKind::S3Bucket, "production", "artifacts").err();
        let msg = e.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            msg.contains("S3 bucket") && msg.contains("3 to 63"),
            "{msg}"
        );
    }
}
