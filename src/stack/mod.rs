//! Config → CloudFormation template. Pure: no I/O.
//!
//! `render` builds one stack holding everything the pipeline owns (environment "cicd") plus the
//! per-environment deployment groups, roles and alarms of environments in the same account.
//! Every physical name comes from `Naming::name`; every taggable resource gets the standard tags.

mod access_logs;
mod account;
mod artifacts;
mod build;
mod data;
mod deploy;
mod ecs;
mod iam;
mod kms;
mod lambda_target;
mod logs;
mod monitoring;
mod network;
mod notify;
mod outputs;
mod pipeline;
mod template;

use std::cell::RefCell;

use serde_json::{Value, json};

use crate::config::naming::NameError;
use crate::config::validate::naming;
use crate::config::{BuildProject, Config, Environment, KmsMode, NameKind, Naming};

pub use account::{other_regions, render_account, render_region, target_accounts};
pub use template::{OrderedMap, Output, Parameter, Policy, Resource, Template, fns};

/// The environment label of resources the pipeline itself owns.
pub const CICD: &str = "cicd";

/// Resource types that accept the `Tags` list; `render` tags every one of them.
pub const TAGGABLE: &[&str] = &[
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::Dashboard",
    "AWS::CodeBuild::Project",
    "AWS::CodeDeploy::Application",
    "AWS::CodeDeploy::DeploymentGroup",
    "AWS::CodePipeline::Pipeline",
    "AWS::DynamoDB::Table",
    "AWS::EC2::EIP",
    "AWS::EC2::InternetGateway",
    "AWS::EC2::NatGateway",
    "AWS::EC2::RouteTable",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::Subnet",
    "AWS::EC2::VPC",
    "AWS::ECS::Cluster",
    "AWS::ECS::Service",
    "AWS::ECS::TaskDefinition",
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::ElasticLoadBalancingV2::TargetGroup",
    "AWS::ECR::Repository",
    "AWS::Events::Rule",
    "AWS::IAM::Role",
    "AWS::KMS::Key",
    "AWS::Lambda::Function",
    "AWS::Logs::LogGroup",
    "AWS::S3::Bucket",
    "AWS::SNS::Topic",
    "AWS::SecretsManager::Secret",
];

/// Logical ids shared between families.
pub mod ids {
    pub const KEY: &str = "PipelineKey";
    /// The topic's own key when `kms = "aws_managed"` (alias/aws/sns refuses alarms and rules).
    pub const TOPIC_KEY: &str = "NotificationTopicKey";
    pub const ACCESS_LOGS: &str = "AccessLogBucket";
    pub const BUCKET: &str = "ArtifactBucket";
    pub const TOPIC: &str = "NotificationTopic";
    pub const PIPELINE: &str = "Pipeline";
    pub const PIPELINE_ROLE: &str = "PipelineRole";
    pub const CODEBUILD_ROLE: &str = "CodeBuildRole";
    pub const NOTIFIER_ROLE: &str = "NotifierRole";
    pub const NOTIFIER: &str = "NotifierFunction";
    pub const NOTIFIER_LOGS: &str = "NotifierLogGroup";
    pub const EVENTS_ROLE: &str = "SourceTriggerRole";
    pub const APP: &str = "DeployApplication";
    pub const DEPLOY_CONFIG: &str = "DeploymentConfig";
    pub const DASHBOARD: &str = "Dashboard";
    pub const IMAGES: &str = "ImageRepository";
    pub const SECRET: &str = "DatabaseSecret";
    pub const HISTORY: &str = "DeployHistoryTable";
    pub const BUILD_SG: &str = "BuildSecurityGroup";
}

/// A CodeBuild project of the pipeline: `[build]`, `[test]` or `[image.build]`.
pub struct ProjectSpec<'a> {
    /// "Build", "Test" or "Image": the stage name and the logical-id stem.
    pub stage: &'static str,
    /// The name purpose: "build", "test" or "image".
    pub purpose: &'static str,
    pub settings: &'a BuildProject,
}

impl ProjectSpec<'_> {
    pub fn project_id(&self) -> String {
        format!("{}Project", self.stage)
    }
    pub fn log_group_id(&self) -> String {
        format!("{}LogGroup", self.stage)
    }
}

/// Rendering state: the config, the names (with any naming errors) and the template being built.
pub struct Ctx<'a> {
    pub config: &'a Config,
    naming: Naming,
    errors: RefCell<Vec<NameError>>,
    pub template: Template,
}

impl<'a> Ctx<'a> {
    fn new(config: &'a Config) -> Self {
        let description = format!(
            "pipetui CI/CD stack for {} (pipeline, builds, deployments, notifications, monitoring)",
            config.project.service
        );
        Self {
            config,
            naming: naming(config),
            errors: RefCell::new(Vec::new()),
            template: Template::new(description),
        }
    }

    /// The physical name; a name breaking its limits is recorded and rendered as-is.
    pub fn name(&self, kind: NameKind, environment: &str, purpose: &str) -> String {
        match self.naming.name(kind, environment, purpose) {
            Ok(n) => n,
            Err(e) => {
                let n = e.name.clone();
                self.errors.borrow_mut().push(e);
                n
            }
        }
    }

    pub fn customer_kms(&self) -> bool {
        self.config.security.kms == KmsMode::Customer
    }

    /// The customer key's ARN (only meaningful when `customer_kms`).
    pub fn key_arn(&self) -> Value {
        fns::get_att(ids::KEY, "Arn")
    }

    /// A log group encrypted by the customer key, or with `kms = "aws_managed"` by CloudWatch
    /// Logs' own encryption (log groups accept no AWS managed KMS key).
    pub fn log_group(&self, mut properties: Value) -> Resource {
        if self.customer_kms() {
            properties["KmsKeyId"] = self.key_arn();
            Resource::new("AWS::Logs::LogGroup", properties)
        } else {
            Resource::new("AWS::Logs::LogGroup", properties)
                .checkov_skip(
                    "CKV_AWS_158",
                    "kms = \"aws_managed\": CloudWatch Logs encrypts log data at rest with its own keys; a KMS key on a log group must be a customer key (kms = \"customer\").",
                )
        }
    }

    /// The key that encrypts the notification topic: the customer key, or with
    /// `kms = "aws_managed"` a key of the topic's own.
    pub fn topic_key_arn(&self) -> Value {
        if self.customer_kms() {
            self.key_arn()
        } else {
            fns::get_att(ids::TOPIC_KEY, "Arn")
        }
    }

    /// Pipeline-owned data outlives the stack when any environment asks to retain its data,
    /// because the artifacts, history and key were used to release into that environment.
    pub fn retain_data(&self) -> bool {
        self.config.environments.iter().any(|e| e.retain_data)
    }

    /// The standard tags plus `[tags]`; the standard keys cannot be overridden.
    pub fn tags(&self, environment: &str) -> Value {
        let p = &self.config.project;
        let standard = [
            ("Project", p.service.as_str()),
            ("Environment", environment),
            ("Owner", p.owner.as_str()),
            ("CostCenter", p.cost_center.as_str()),
            ("ManagedBy", "pipetui"),
        ];
        let mut tags: Vec<Value> = standard
            .iter()
            .map(|(k, v)| json!({ "Key": k, "Value": v }))
            .collect();
        for (k, v) in &self.config.tags {
            if !standard.iter().any(|(s, _)| s == k) {
                tags.push(json!({ "Key": k, "Value": v }));
            }
        }
        Value::Array(tags)
    }

    /// The standard tags plus `extra` (emulator conventions such as `pipetui:simulated`).
    pub fn tags_with(&self, environment: &str, extra: &[(&str, &str)]) -> Value {
        let mut tags = self.tags(environment);
        if let Value::Array(list) = &mut tags {
            list.extend(extra.iter().map(|(k, v)| json!({ "Key": k, "Value": v })));
        }
        tags
    }

    /// Adds a resource, tagging it for `environment` when its type is taggable.
    pub fn add(&mut self, logical_id: &str, environment: &str, mut resource: Resource) {
        if TAGGABLE.contains(&resource.kind.as_str())
            && let Value::Object(props) = &mut resource.properties
            && !props.contains_key("Tags")
        {
            props.insert("Tags".into(), self.tags(environment));
        }
        self.template.resources.insert(logical_id.into(), resource);
    }

    /// Adds a resource that exists only when `environment` deploys into this stack's account.
    pub fn add_for(&mut self, logical_id: &str, env: &Environment, resource: Resource) {
        let resource = Resource {
            condition: same_account_condition(env),
            ..resource
        };
        self.add(logical_id, &env.name, resource);
    }

    /// The environment deploys in another region than the pipeline's: its deployment resources
    /// belong in that region (`pipetui template -o DIR/` writes `region-<name>.json`).
    pub fn other_region(&self, env: &'a Environment) -> Option<&'a str> {
        env.region
            .as_deref()
            .filter(|r| *r != self.config.aws.region)
    }

    /// Environments whose deployment resources this stack holds.
    pub fn home_envs(&self) -> Vec<&'a Environment> {
        let config = self.config;
        config
            .environments
            .iter()
            .filter(|e| self.other_region(e).is_none())
            .collect()
    }

    /// The regions other than the pipeline's that environments deploy to, sorted.
    pub(crate) fn other_regions(&self) -> Vec<&'a str> {
        let config = self.config;
        let mut r: Vec<&str> = config
            .environments
            .iter()
            .filter_map(|e| self.other_region(e))
            .collect();
        r.sort_unstable();
        r.dedup();
        r
    }

    /// The artifact bucket CodePipeline uses in another region.
    pub fn regional_bucket(&self, region: &str) -> String {
        self.name(NameKind::S3Bucket, CICD, &format!("artifacts-{region}"))
    }

    /// The build projects the pipeline runs, in stage order.
    pub fn projects(&self) -> Vec<ProjectSpec<'a>> {
        let c = self.config;
        let mut out = Vec::new();
        if c.build.enabled {
            out.push(ProjectSpec {
                stage: "Build",
                purpose: "build",
                settings: &c.build,
            });
        }
        if c.test.enabled {
            out.push(ProjectSpec {
                stage: "Test",
                purpose: "test",
                settings: &c.test,
            });
        }
        if c.image.enabled && c.image.build.enabled {
            out.push(ProjectSpec {
                stage: "Image",
                purpose: "image",
                settings: &c.image.build,
            });
        }
        out
    }
}

/// An environment name as a logical-id part: "pre-prod" → "PreProd".
pub fn pascal(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut chars = p.chars();
            chars.next().map_or_else(String::new, |f| {
                f.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// Environments with an `account_id` get a condition: their resources exist here only when the
/// stack is deployed into that same account; otherwise the pipeline assumes a role over there.
pub fn same_account_condition(env: &Environment) -> Option<String> {
    env.account_id
        .as_ref()
        .map(|_| format!("{}InPipelineAccount", pascal(&env.name)))
}

/// Renders the template. Names that break an AWS limit are rendered as-is; use `try_render` to
/// get them as an error (a validated config never has any).
pub fn render(config: &Config) -> Template {
    render_checked(config).0
}

/// Renders the template, failing on the first physical name that breaks its AWS limits.
pub fn try_render(config: &Config) -> Result<Template, NameError> {
    let (template, mut errors) = render_checked(config);
    if errors.is_empty() {
        Ok(template)
    } else {
        Err(errors.swap_remove(0))
    }
}

fn render_checked(config: &Config) -> (Template, Vec<NameError>) {
    let mut ctx = Ctx::new(config);
    for env in &config.environments {
        if let (Some(cond), Some(account)) = (same_account_condition(env), &env.account_id) {
            ctx.template.conditions.insert(
                cond,
                json!({ "Fn::Equals": [fns::r#ref("AWS::AccountId"), account] }),
            );
        }
    }
    if ctx.customer_kms() {
        kms::render(&mut ctx);
    }
    access_logs::render(&mut ctx);
    artifacts::render(&mut ctx);
    data::render(&mut ctx);
    logs::render(&mut ctx);
    network::render(&mut ctx);
    iam::render(&mut ctx);
    build::render(&mut ctx);
    ecs::render(&mut ctx);
    lambda_target::render(&mut ctx);
    monitoring::render_alarms(&mut ctx);
    deploy::render(&mut ctx);
    pipeline::render(&mut ctx);
    notify::render(&mut ctx);
    monitoring::render_dashboard(&mut ctx);
    outputs::render(&mut ctx);
    let errors = ctx.errors.into_inner();
    (ctx.template, errors)
}
