//! The rendered CloudFormation template: least-privilege IAM, encryption, retention, names, tags,
//! pipeline order and determinism, for the example config and a set of variants.

use std::path::{Path, PathBuf};

use pipetui::config::naming::check;
use pipetui::config::{Config, ConfigFile, NameKind, load};
use pipetui::stack::{Template, render, try_render};
use serde_json::Value;

pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The config at `path`, or every problem it has as one message.
pub(crate) fn try_load(path: &Path) -> Result<Config, String> {
    load(
        ConfigFile::Explicit(path.to_path_buf()),
        std::iter::empty(),
        &Default::default(),
    )
    .map(|l| l.config)
    .map_err(|e| e.to_string())
}

/// A config from the embedded defaults plus `toml`, or its problems.
pub(crate) fn try_variant(toml: &str) -> Result<Config, String> {
    let f = tempfile::Builder::new()
        .suffix(".toml")
        .tempfile()
        .expect("temp file");
    std::fs::write(f.path(), toml).expect("write");
    try_load(f.path())
}

fn load_path(path: &Path) -> Config {
    try_load(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn example() -> Config {
    load_path(&root().join("config.example.toml"))
}

/// A config from the embedded defaults plus `toml`.
fn variant(toml: &str) -> Config {
    try_variant(toml).unwrap_or_else(|e| panic!("{e}"))
}

const VARIANTS: &[&str] = &[
    // ECS canary behind an ALB, with an image stage, parallel executions and a history table.
    r#"
[project]
service = "orders"
[deploy]
target = "ecs"
strategy = "canary"
load_balancer = "alb"
[image]
enabled = true
[pipeline]
execution_mode = "parallel"
history_table = true
[[environments]]
name = "staging"
[[environments]]
name = "production"
approval = true
review_url = "https://staging.orders.example.com"
approval_message = "Check the staging smoke tests before releasing to production."
retain_data = true
plain_http = true
"#,
    // Lambda linear from GitHub, AWS-managed keys, build secrets, generated credentials, extra tags.
    r#"
[project]
service = "orders"
company = ""
suffix = "pr42"
[source]
provider = "github"
repository = "acme/orders"
connection_arn = "arn:aws:codestar-connections:us-east-1:123456789012:connection/abc"
[deploy]
target = "lambda"
strategy = "linear"
[notifications]
lambda_notifier = false
[security]
kms = "aws_managed"
[secrets]
database_credentials = true
[build.secrets]
NPM_TOKEN = "ci/npm:token"
DB_PASS = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf:password"
[tags]
Team = "payments"
"#,
    // EC2 blue/green from S3 with an Auto Scaling group, a VPC and a cross-account production.
    r#"
[project]
service = "orders"
[aws]
endpoint = "aws"
[source]
provider = "s3"
bucket = "acme-sources"
object_key = "orders/source.zip"
[test]
enabled = false
[deploy]
strategy = "blue_green"
load_balancer = "alb"
[deploy.ec2]
auto_scaling_group = "orders-asg"
[security.vpc]
enabled = true
[image]
enabled = true
[monitoring]
dashboard = false
[[environments]]
name = "staging"
[[environments]]
name = "production"
account_id = "210987654321"
approval = true
retain_data = true
plain_http = true
"#,
    // Rolling at 75% with a manual trigger, no notifications and no failure alarms.
    r#"
[project]
service = "orders"
[source]
trigger = "manual"
[deploy]
minimum_healthy_percent = 75
[notifications]
events = []
emails = []
[monitoring.alarms]
pipeline_failures = false
build_failures = false
deployment_failures = false
lambda_errors = false
"#,
];

/// The scenario configs of assets/examples/, by file name.
fn scenario_configs() -> Vec<(String, Config)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join("assets/examples"))
        .expect("assets/examples")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let name = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            (name, load_path(&p))
        })
        .collect()
}

fn all_configs() -> Vec<Config> {
    let mut v = vec![example()];
    v.extend(VARIANTS.iter().map(|t| variant(t)));
    v.extend(scenario_configs().into_iter().map(|(_, c)| c));
    v
}

fn resources(t: &Template) -> Vec<(String, Value)> {
    let v = t.to_value();
    v["Resources"]
        .as_object()
        .expect("resources")
        .iter()
        .map(|(k, r)| (k.clone(), r.clone()))
        .collect()
}

fn of_type(t: &Template, kind: &str) -> Vec<(String, Value)> {
    resources(t)
        .into_iter()
        .filter(|(_, r)| r["Type"] == kind)
        .collect()
}

fn as_list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

/// Actions AWS offers only on "*" (no resource-level permissions); each use is commented in iam.rs.
const WILDCARD_RESOURCE_ACTIONS: &[&str] = &[
    "ecr:GetAuthorizationToken",
    "ecs:RegisterTaskDefinition",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeVpcs",
    "ec2:DescribeInstances",
    "ec2:DescribeInstanceStatus",
    "tag:GetResources",
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeLifecycleHooks",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeLoadBalancers",
];

fn check_iam(t: &Template) {
    for (id, role) in of_type(t, "AWS::IAM::Role") {
        let policies = as_list(&role["Properties"]["Policies"]);
        assert!(!policies.is_empty(), "{id} has no policy");
        assert!(
            role["Properties"].get("ManagedPolicyArns").is_none(),
            "{id} uses managed policies"
        );
        for p in policies {
            for s in as_list(&p["PolicyDocument"]["Statement"]) {
                let actions = as_list(&s["Action"]);
                assert!(!actions.is_empty(), "{id}: statement without actions: {s}");
                for a in &actions {
                    let a = a.as_str().unwrap_or_default();
                    assert!(a != "*" && !a.ends_with(":*"), "{id}: wildcard action {a}");
                }
                for r in as_list(&s["Resource"]) {
                    if r == "*" {
                        for a in &actions {
                            let a = a.as_str().unwrap_or_default();
                            assert!(
                                WILDCARD_RESOURCE_ACTIONS.contains(&a),
                                "{id}: {a} on \"*\" in {s}"
                            );
                        }
                    }
                    assert!(!r.is_null(), "{id}: empty resource in {s}");
                }
            }
        }
    }
    // Resource policies: no "*" action; "*" resource only in the key policy, where it means the key.
    for (kind, doc) in [
        ("AWS::S3::BucketPolicy", "PolicyDocument"),
        ("AWS::SNS::TopicPolicy", "PolicyDocument"),
        ("AWS::KMS::Key", "KeyPolicy"),
    ] {
        for (id, r) in of_type(t, kind) {
            for s in as_list(&r["Properties"][doc]["Statement"]) {
                for a in as_list(&s["Action"]) {
                    assert_ne!(a, "*", "{id}: \"*\" action");
                }
                if kind != "AWS::KMS::Key" {
                    for res in as_list(&s["Resource"]) {
                        assert_ne!(res, "*", "{id}: \"*\" resource");
                    }
                }
            }
        }
    }
}

fn check_encryption(t: &Template, c: &Config) {
    let buckets = of_type(t, "AWS::S3::Bucket");
    assert!(!buckets.is_empty());
    for (id, b) in buckets {
        let rules =
            as_list(&b["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]);
        assert!(!rules.is_empty(), "{id} unencrypted");
        for r in rules {
            let alg = &r["ServerSideEncryptionByDefault"]["SSEAlgorithm"];
            assert!(alg == "aws:kms" || alg == "AES256", "{id}: {alg}");
        }
        let pab = &b["Properties"]["PublicAccessBlockConfiguration"];
        for k in [
            "BlockPublicAcls",
            "BlockPublicPolicy",
            "IgnorePublicAcls",
            "RestrictPublicBuckets",
        ] {
            assert_eq!(pab[k], true, "{id}: {k}");
        }
    }
    let topics = of_type(t, "AWS::SNS::Topic");
    assert!(!topics.is_empty());
    // Every topic is encrypted: by the customer key, or with kms = "aws_managed" by a key of its
    // own (alias/aws/sns refuses EventBridge and CloudWatch, which must publish to it).
    let customer = c.security.kms == pipetui::config::KmsMode::Customer;
    let key = if customer {
        "PipelineKey"
    } else {
        "NotificationTopicKey"
    };
    for (id, topic) in topics {
        assert_eq!(
            topic["Properties"]["KmsMasterKeyId"],
            serde_json::json!({ "Fn::GetAtt": [key, "Arn"] }),
            "{id}: encrypted by {key}"
        );
    }
    for (id, r) in of_type(t, "AWS::Logs::LogGroup") {
        assert_eq!(!r["Properties"]["KmsKeyId"].is_null(), customer, "{id}");
    }
}

fn check_log_retention(t: &Template, c: &Config) {
    for (id, g) in of_type(t, "AWS::Logs::LogGroup") {
        assert_eq!(
            g["Properties"]["RetentionInDays"], c.monitoring.log_retention_days,
            "{id}"
        );
    }
}

/// Every literal physical name, with the kind whose rules it must meet.
fn physical_names(t: &Template) -> Vec<(NameKind, String)> {
    let props: &[(&str, &str, NameKind)] = &[
        ("AWS::S3::Bucket", "BucketName", NameKind::S3Bucket),
        ("AWS::IAM::Role", "RoleName", NameKind::IamRole),
        ("AWS::CodePipeline::Pipeline", "Name", NameKind::Pipeline),
        (
            "AWS::CodeBuild::Project",
            "Name",
            NameKind::CodeBuildProject,
        ),
        (
            "AWS::CodeDeploy::Application",
            "ApplicationName",
            NameKind::CodeDeployApplication,
        ),
        (
            "AWS::CodeDeploy::DeploymentGroup",
            "DeploymentGroupName",
            NameKind::CodeDeployGroup,
        ),
        ("AWS::Logs::LogGroup", "LogGroupName", NameKind::LogGroup),
        (
            "AWS::Lambda::Function",
            "FunctionName",
            NameKind::LambdaFunction,
        ),
        ("AWS::SNS::Topic", "TopicName", NameKind::SnsTopic),
        (
            "AWS::ECR::Repository",
            "RepositoryName",
            NameKind::EcrRepository,
        ),
        ("AWS::CloudWatch::Alarm", "AlarmName", NameKind::Alarm),
        (
            "AWS::CloudWatch::Dashboard",
            "DashboardName",
            NameKind::Dashboard,
        ),
        ("AWS::KMS::Alias", "AliasName", NameKind::KmsAlias),
        ("AWS::DynamoDB::Table", "TableName", NameKind::DynamoDbTable),
        ("AWS::SecretsManager::Secret", "Name", NameKind::Secret),
        ("AWS::Events::Rule", "Name", NameKind::EventRule),
        (
            "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Name",
            NameKind::LoadBalancer,
        ),
        (
            "AWS::ElasticLoadBalancingV2::TargetGroup",
            "Name",
            NameKind::TargetGroup,
        ),
        ("AWS::ECS::Cluster", "ClusterName", NameKind::EcsCluster),
        ("AWS::ECS::Service", "ServiceName", NameKind::EcsService),
    ];
    let mut out = Vec::new();
    for (_, r) in resources(t) {
        for (kind, prop, name_kind) in props {
            if r["Type"] == *kind {
                let name = r["Properties"][*prop].as_str();
                let name = name.unwrap_or_else(|| panic!("{kind} without a literal {prop}"));
                out.push((*name_kind, name.to_string()));
            }
        }
        if r["Type"] == "AWS::IAM::Role" {
            for p in as_list(&r["Properties"]["Policies"]) {
                let name = p["PolicyName"].as_str().expect("policy name");
                out.push((NameKind::IamPolicy, name.to_string()));
            }
        }
    }
    out
}

fn check_names(t: &Template, c: &Config) {
    let names = physical_names(t);
    assert!(names.len() > 10);
    let company = c.project.company.as_deref().map(|s| format!("{s}-"));
    for (kind, name) in names {
        assert!(
            check(kind, &name).is_ok(),
            "{kind:?} {name}: {:?}",
            check(kind, &name)
        );
        let bare = name
            .trim_start_matches("/pipetui/")
            .trim_start_matches("alias/");
        let expected = format!(
            "{}{}-",
            company.clone().unwrap_or_default(),
            c.project.service
        );
        assert!(
            bare.starts_with(&expected),
            "{name} does not follow the convention"
        );
    }
}

const STANDARD_TAGS: &[&str] = &["Project", "Environment", "Owner", "CostCenter", "ManagedBy"];
const TAGGABLE: &[&str] = &[
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

fn check_tags(t: &Template, c: &Config) {
    for (id, r) in resources(t) {
        let kind = r["Type"].as_str().unwrap_or_default();
        let tags = as_list(&r["Properties"]["Tags"]);
        if !TAGGABLE.contains(&kind) {
            assert!(tags.is_empty(), "{id}: {kind} is not taggable");
            continue;
        }
        let get = |k: &str| {
            tags.iter()
                .find(|t| t["Key"] == k)
                .map(|t| t["Value"].clone())
        };
        for k in STANDARD_TAGS {
            assert!(get(k).is_some(), "{id} lacks tag {k}");
        }
        assert_eq!(get("ManagedBy"), Some(Value::from("pipetui")), "{id}");
        assert_eq!(
            get("Project"),
            Some(Value::from(c.project.service.clone())),
            "{id}"
        );
        for (k, v) in &c.tags {
            assert_eq!(
                get(k),
                Some(Value::from(v.clone())),
                "{id} lacks [tags] {k}"
            );
        }
    }
}

fn check_all(c: &Config) {
    let t = try_render(c).expect("every name fits");
    check_iam(&t);
    check_encryption(&t, c);
    check_log_retention(&t, c);
    check_names(&t, c);
    check_tags(&t, c);
}

#[test]
fn example_template_is_least_privilege_encrypted_named_and_tagged() {
    let c = example();
    check_all(&c);
    let t = render(&c);
    assert!(!of_type(&t, "AWS::Logs::LogGroup").is_empty());
    assert_eq!(
        of_type(&t, "AWS::IAM::Role").len(),
        6,
        "pipeline, codebuild, notifier, trigger, 2 deploy"
    );
}

#[test]
fn variants_keep_the_same_guarantees() {
    for c in all_configs() {
        check_all(&c);
    }
}

fn stages(t: &Template) -> Vec<Value> {
    let p = of_type(t, "AWS::CodePipeline::Pipeline");
    assert_eq!(p.len(), 1);
    as_list(&p[0].1["Properties"]["Stages"])
}

#[test]
fn approval_sits_before_production_with_the_review_url() {
    let c = example();
    let t = render(&c);
    let stages = stages(&t);
    let names: Vec<&str> = stages.iter().filter_map(|s| s["Name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "Source",
            "Build",
            "Test",
            "Deploy-staging",
            "Approval-production",
            "Deploy-production"
        ]
    );
    let approval = &stages[4]["Actions"][0];
    assert_eq!(approval["ActionTypeId"]["Category"], "Approval");
    assert_eq!(approval["ActionTypeId"]["Provider"], "Manual");
    let prod = c
        .environments
        .iter()
        .find(|e| e.name == "production")
        .expect("production");
    let conf = &approval["Configuration"];
    assert_eq!(
        conf["ExternalEntityLink"].as_str(),
        prod.review_url.as_deref()
    );
    assert_eq!(
        conf["CustomData"].as_str(),
        prod.approval_message.as_deref()
    );
    assert_eq!(conf["NotificationArn"]["Ref"], "NotificationTopic");
    // CodeDeploy's own automatic rollback is on in the example, so no stage rollback races it.
    assert!(c.deploy.auto_rollback);
    assert!(stages[5].get("OnFailure").is_none());
    assert_eq!(
        stages[5]["Actions"][0]["ActionTypeId"]["Provider"],
        "CodeDeploy"
    );
    let source = &stages[0]["Actions"][0]["Configuration"];
    assert_eq!(
        source["PollForSourceChanges"], false,
        "pushes arrive through EventBridge"
    );
    assert_eq!(
        of_type(&t, "AWS::Events::Rule")
            .iter()
            .filter(|(id, _)| id == "SourceTriggerRule")
            .count(),
        1
    );
}

#[test]
fn pipeline_is_v2_with_kms_artifact_store() {
    let t = render(&example());
    let p = &of_type(&t, "AWS::CodePipeline::Pipeline")[0].1["Properties"];
    assert_eq!(p["PipelineType"], "V2");
    assert_eq!(p["ExecutionMode"], "QUEUED");
    assert_eq!(p["ArtifactStore"]["EncryptionKey"]["Type"], "KMS");
}

#[test]
fn cross_account_environment_assumes_its_deploy_role() {
    let c = variant(VARIANTS[2]);
    let t = render(&c);
    let stages = stages(&t);
    let deploy = stages
        .iter()
        .find(|s| s["Name"] == "Deploy-production")
        .expect("stage");
    let role = deploy["Actions"][0]["RoleArn"].to_string();
    assert!(
        role.contains("arn:${AWS::Partition}:iam::210987654321:role/orders-production-deploy-role"),
        "{role}"
    );
    let v = t.to_value();
    assert!(v["Conditions"]["ProductionInPipelineAccount"].is_object());
    assert_eq!(
        v["Resources"]["ProductionDeploymentGroup"]["Condition"],
        "ProductionInPipelineAccount"
    );
    assert_eq!(v["Resources"]["ArtifactBucket"]["DeletionPolicy"], "Retain");
}

#[test]
fn secrets_are_references_only() {
    let c = variant(VARIANTS[1]);
    let t = render(&c);
    let build = &of_type(&t, "AWS::CodeBuild::Project")[0].1;
    let vars = as_list(&build["Properties"]["Environment"]["EnvironmentVariables"]);
    let token = vars
        .iter()
        .find(|v| v["Name"] == "NPM_TOKEN")
        .expect("NPM_TOKEN");
    assert_eq!(token["Type"], "SECRETS_MANAGER");
    assert_eq!(token["Value"], "ci/npm:token");
    let outputs = t.to_value()["Outputs"].to_string();
    assert!(
        !outputs.contains("Secret"),
        "no secret in outputs: {outputs}"
    );
}

#[test]
fn render_is_deterministic() {
    for c in all_configs() {
        assert_eq!(render(&c).to_json_pretty(), render(&c).to_json_pretty());
    }
    assert_eq!(render(&example()), render(&example()));
}

#[test]
fn template_command_writes_the_file() {
    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().join("t.json");
    let cfg = root().join("config.example.toml");
    let assert = assert_cmd::Command::cargo_bin("pipetui")
        .expect("binary")
        .args(["template", "--config"])
        .arg(&cfg)
        .arg("--output")
        .arg(&out)
        .env("PIPETUI_STATE_DIR", dir.path())
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains(&out.display().to_string()), "{stderr}");
    let text = std::fs::read_to_string(&out).expect("written");
    let v: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v["AWSTemplateFormatVersion"], "2010-09-09");
    assert_eq!(text, render(&example()).to_json_pretty() + "\n");
}
