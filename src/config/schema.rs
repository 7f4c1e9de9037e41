//! The typed configuration. Defaults for every fixed key live in `config.example.toml`, which is
//! embedded and merged under the user's file; only entries of user-named lists (`[[environments]]`)
//! take per-field defaults from here, and those are documented in the example's comments.

use std::collections::BTreeMap;

use serde::Serialize;

use super::decode::{FromNode, TableReader, config_enum};
use super::problem::Problems;
use super::tree::Node;
use super::validate::{is_label, is_region};

config_enum!(SourceProvider, "source provider" {
    CodeCommit = "codecommit", GitHub = "github", S3 = "s3",
});
config_enum!(Trigger, "trigger" { Automatic = "automatic", Manual = "manual" });
config_enum!(ComputeType, "compute type" {
    Small = "BUILD_GENERAL1_SMALL", Medium = "BUILD_GENERAL1_MEDIUM",
    Large = "BUILD_GENERAL1_LARGE", XLarge = "BUILD_GENERAL1_XLARGE",
    XXLarge = "BUILD_GENERAL1_2XLARGE",
});
config_enum!(DeployTarget, "deploy target" { Ec2 = "ec2", Ecs = "ecs", Lambda = "lambda" });
config_enum!(Strategy, "strategy" {
    Rolling = "rolling", BlueGreen = "blue_green", AllAtOnce = "all_at_once",
    Canary = "canary", Linear = "linear",
});
config_enum!(LoadBalancer, "load balancer" { None = "none", Alb = "alb" });
config_enum!(ExecutionMode, "execution mode" {
    Queued = "queued", Superseded = "superseded", Parallel = "parallel",
});
config_enum!(KmsMode, "encryption mode" { Customer = "customer", AwsManaged = "aws_managed" });
config_enum!(ConsoleTheme, "theme" { Dark = "dark", Light = "light", Mono = "mono" });
config_enum!(PipelineEvent, "pipeline event" {
    Started = "started", Succeeded = "succeeded", Failed = "failed",
});

/// Where the AWS SDK sends its calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum EndpointSetting {
    /// The emulator inside this process (the default: no AWS account needed).
    Embedded,
    /// Real AWS through the normal endpoint resolution.
    Aws,
    /// An explicit endpoint URL (a standalone emulator, LocalStack, a VPC endpoint).
    Url(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct Config {
    pub project: Project,
    pub aws: AwsSettings,
    pub source: Source,
    pub build: BuildProject,
    pub test: BuildProject,
    pub image: ImageSettings,
    pub deploy: Deploy,
    pub pipeline: PipelineSettings,
    pub environments: Vec<Environment>,
    pub artifacts: Artifacts,
    pub notifications: Notifications,
    pub monitoring: Monitoring,
    pub security: Security,
    pub secrets: SecretsSettings,
    pub tags: BTreeMap<String, String>,
    pub console: ConsoleSettings,
    pub emulator: EmulatorSettings,
}

#[derive(Debug, Clone, Serialize)]
pub struct Project {
    pub company: Option<String>,
    pub service: String,
    pub suffix: Option<String>,
    pub owner: String,
    pub cost_center: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AwsSettings {
    pub endpoint: EndpointSetting,
    pub profile: Option<String>,
    pub region: String,
    pub max_attempts: u32,
    pub connect_timeout_seconds: u64,
    pub operation_timeout_seconds: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Source {
    pub provider: SourceProvider,
    pub repository: String,
    pub branch: String,
    pub trigger: Trigger,
    pub connection_arn: Option<String>,
    pub bucket: Option<String>,
    pub object_key: Option<String>,
    /// A local git repository the emulator uses as the source; empty means the bundled sample app.
    pub local_path: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BuildProject {
    pub enabled: bool,
    pub compute_type: ComputeType,
    pub image: String,
    pub buildspec: String,
    pub timeout_minutes: u32,
    pub privileged: bool,
    pub docker_cache: bool,
    /// Replay the buildspec with realistic pacing instead of running it (emulator only).
    pub simulated: bool,
    pub env: BTreeMap<String, String>,
    /// Variable name → Secrets Manager reference (`secret-id:json-key`); never a secret value.
    pub secrets: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImageSettings {
    pub enabled: bool,
    pub repository: Option<String>,
    pub keep_images: u32,
    pub scan_on_push: bool,
    pub immutable_tags: bool,
    pub build: BuildProject,
}

#[derive(Debug, Clone, Serialize)]
pub struct Deploy {
    pub target: DeployTarget,
    pub strategy: Strategy,
    pub load_balancer: LoadBalancer,
    pub auto_rollback: bool,
    pub rollback_on_alarms: bool,
    pub minimum_healthy_percent: u32,
    pub canary_percent: u32,
    pub interval_minutes: u32,
    pub ec2: Ec2Target,
    pub ecs: EcsTarget,
    pub lambda: LambdaTarget,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ec2Target {
    pub instance_tags: BTreeMap<String, String>,
    pub auto_scaling_group: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EcsTarget {
    pub cluster: Option<String>,
    pub service: Option<String>,
    pub container_name: String,
    pub container_port: u16,
}

#[derive(Debug, Clone, Serialize)]
pub struct LambdaTarget {
    pub function: Option<String>,
    pub alias: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PipelineSettings {
    pub execution_mode: ExecutionMode,
    pub rollback_on_failure: bool,
    pub history_table: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Environment {
    pub name: String,
    /// 12-digit account; `None` means the pipeline's own account.
    pub account_id: Option<String>,
    pub region: Option<String>,
    /// Manual approval gate before deploying into this environment.
    pub approval: bool,
    pub review_url: Option<String>,
    pub approval_message: Option<String>,
    /// Keep data resources (tables, buckets) when the stack is deleted.
    pub retain_data: bool,
    /// The console marks this environment's stages, approvals and alarms as production.
    pub production: bool,
    /// ACM certificate for the load balancer's HTTPS production listener (port 443; port 80
    /// then only redirects to it).
    pub certificate_arn: Option<String>,
    /// Serve production traffic as plain HTTP on port 80 without a certificate: an explicit
    /// choice, refused by default in production.
    pub plain_http: bool,
}

impl Environment {
    /// `production`'s default: the conventional production names.
    pub fn production_by_name(name: &str) -> bool {
        matches!(
            name.to_ascii_lowercase().as_str(),
            "production" | "prod" | "prd"
        )
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Artifacts {
    pub expire_days: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Notifications {
    pub emails: Vec<String>,
    pub events: Vec<PipelineEvent>,
    pub lambda_notifier: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Monitoring {
    pub log_retention_days: u32,
    pub dashboard: bool,
    pub alarms: Alarms,
}

#[derive(Debug, Clone, Serialize)]
pub struct Alarms {
    pub pipeline_failures: bool,
    pub build_failures: bool,
    pub deployment_failures: bool,
    pub lambda_errors: bool,
    pub error_rate_percent: f64,
    pub latency_p99_ms: f64,
    pub period_seconds: u32,
    pub evaluation_periods: u32,
    pub datapoints_to_alarm: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Security {
    pub kms: KmsMode,
    pub key_rotation: bool,
    pub vpc: Vpc,
}

#[derive(Debug, Clone, Serialize)]
pub struct Vpc {
    pub enabled: bool,
    pub cidr: String,
    pub nat_gateway: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct SecretsSettings {
    pub database_credentials: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConsoleSettings {
    pub read_only: bool,
    pub refresh_seconds: u32,
    /// Colours for a dark or light terminal background, or none (`mono`; NO_COLOR too).
    pub theme: ConsoleTheme,
    /// Key remapping: view (or `global`) → command → keys; checked against the keymap.
    pub keys: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EmulatorSettings {
    pub clock_speed: f64,
    pub port: u16,
    pub hosts_per_group: u32,
    /// `"service"` or `"service:Operation"` → the faults injected there.
    pub faults: BTreeMap<String, FaultSetting>,
}

/// Faults the emulator injects into one service or operation.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FaultSetting {
    pub throttle: f64,
    pub server_error: f64,
    pub drop_connection: f64,
    pub latency_ms: u64,
}

/// Services whose faults the config can set, by their config names.
pub const FAULT_SERVICES: &[&str] = &[
    "cloudformation",
    "cloudwatch",
    "logs",
    "sts",
    "codepipeline",
    "codedeploy",
    "codebuild",
];

impl FromNode for FaultSetting {
    fn from_node(node: &Node, path: &str, problems: &mut Problems) -> Option<Self> {
        let mut t = TableReader::new(node, path, problems)?;
        let probability = |t: &mut TableReader<'_>, key: &'static str| {
            let v = t.optional::<f64>(key);
            t.checked(key, v, |p| {
                (!(0.0..=1.0).contains(p)).then(|| {
                    (
                        format!("{p} is not a probability"),
                        "use a number from 0.0 to 1.0",
                    )
                })
            })
            .unwrap_or(0.0)
        };
        let throttle = probability(&mut t, "throttle");
        let server_error = probability(&mut t, "server_error");
        let drop_connection = probability(&mut t, "drop_connection");
        let latency_ms = t.optional::<u64>("latency_ms");
        let latency_ms = t
            .checked("latency_ms", latency_ms, |ms| {
                (*ms > 60_000).then(|| (format!("{ms} ms is over a minute"), ""))
            })
            .unwrap_or(0);
        let v = FaultSetting {
            throttle,
            server_error,
            drop_connection,
            latency_ms,
        };
        t.finish().then_some(v)
    }
}

/// Owner and CostCenter tag value when the config names none.
pub const UNASSIGNED: &str = "unassigned";

/// An empty string means "not set" (TOML has no null).
fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

/// Reads a sub-table that must exist (the embedded defaults always provide it).
fn section<T>(
    t: &mut TableReader<'_>,
    key: &'static str,
    read: impl FnOnce(TableReader<'_>) -> Option<T>,
) -> Option<T> {
    let path = t.path(key);
    let hint = format!("add a [{path}] table; config.example.toml documents it");
    let node: Node = t.required::<RawNode>(key, &hint)?.0;
    let reader = TableReader::new(&node, &path, t.problems)?;
    read(reader)
}

/// A node taken as-is, decoded later by a section reader.
struct RawNode(Node);
impl FromNode for RawNode {
    fn from_node(node: &Node, _: &str, _: &mut Problems) -> Option<Self> {
        Some(RawNode(node.clone()))
    }
}

macro_rules! req {
    ($t:ident, $key:expr) => {
        $t.required(
            $key,
            concat!("add `", $key, "`; config.example.toml documents it"),
        )
    };
}

/// Reads a section whose fields are all required, recording every problem before giving up.
macro_rules! read_struct {
    (@field $t:ident, $field:ident) => { req!($t, stringify!($field)) };
    (@field $t:ident, $field:ident, $lo:literal, $hi:literal) => {
        $t.ranged(stringify!($field), $lo, $hi)
    };
    ($t:ident, $ty:ident { $($field:ident $(in $lo:literal ..= $hi:literal)?),+ $(,)? }) => {{
        $(let $field = read_struct!(@field $t, $field $(, $lo, $hi)?);)+
        let ok = $t.finish();
        let build = || Some($ty { $($field: $field?),+ });
        build().filter(|_| ok)
    }};
}

pub fn read_config(root: &Node, problems: &mut Problems) -> Option<Config> {
    let mut t = TableReader::new(root, "", problems)?;
    let project = section(&mut t, "project", read_project);
    let aws = section(&mut t, "aws", read_aws);
    let source = section(&mut t, "source", read_source);
    let build = section(&mut t, "build", read_build);
    let test = section(&mut t, "test", read_build);
    let image = section(&mut t, "image", read_image);
    let deploy = section(&mut t, "deploy", read_deploy);
    let pipeline = section(&mut t, "pipeline", |mut t| {
        read_struct!(
            t,
            PipelineSettings {
                execution_mode,
                rollback_on_failure,
                history_table
            }
        )
    });
    let environments = read_environments(&mut t);
    let artifacts = section(
        &mut t,
        "artifacts",
        |mut t| read_struct!(t, Artifacts { expire_days in 1..=3650 }),
    );
    let notifications = section(&mut t, "notifications", |mut t| {
        read_struct!(
            t,
            Notifications {
                emails,
                events,
                lambda_notifier
            }
        )
    });
    let monitoring = section(&mut t, "monitoring", read_monitoring);
    let security = section(&mut t, "security", read_security);
    let secrets = section(&mut t, "secrets", |mut t| {
        read_struct!(
            t,
            SecretsSettings {
                database_credentials
            }
        )
    });
    let tags = t.or("tags", BTreeMap::new());
    let console = section(&mut t, "console", |mut t| {
        let read_only = req!(t, "read_only");
        let refresh_seconds = t.ranged("refresh_seconds", 1, 3600);
        let theme = req!(t, "theme");
        let keys = t.or("keys", BTreeMap::new());
        let ok = t.finish();
        Some(ConsoleSettings {
            read_only: read_only?,
            refresh_seconds: refresh_seconds?,
            theme: theme?,
            keys,
        })
        .filter(|_| ok)
    });
    let emulator = section(&mut t, "emulator", |mut t| {
        let clock_speed = req!(t, "clock_speed");
        let port = req!(t, "port");
        let hosts_per_group = t.ranged("hosts_per_group", 1, 50);
        let faults = t.or("faults", BTreeMap::new());
        let ok = t.finish();
        let v = EmulatorSettings {
            clock_speed: clock_speed?,
            port: port?,
            hosts_per_group: hosts_per_group?,
            faults,
        };
        ok.then_some(v)
    });
    let ok = t.finish();
    let config = Config {
        project: project?,
        aws: aws?,
        source: source?,
        build: build?,
        test: test?,
        image: image?,
        deploy: deploy?,
        pipeline: pipeline?,
        environments: environments?,
        artifacts: artifacts?,
        notifications: notifications?,
        monitoring: monitoring?,
        security: security?,
        secrets: secrets?,
        tags,
        console: console?,
        emulator: emulator?,
    };
    ok.then_some(config)
}

fn read_project(mut t: TableReader<'_>) -> Option<Project> {
    let company = non_empty(t.optional("company"));
    let company = t.checked("company", company, name_part);
    let service = t.required(
        "service",
        "name the service, e.g. service = \"orders\"; it starts every resource name",
    );
    let service = t.checked("service", service, name_part);
    let suffix = non_empty(t.optional("suffix"));
    let suffix = t.checked("suffix", suffix, name_part);
    let owner = t.or("owner", UNASSIGNED.to_string());
    let cost_center = t.or("cost_center", UNASSIGNED.to_string());
    let ok = t.finish();
    let v = Project {
        company,
        service: service?,
        suffix,
        owner,
        cost_center,
    };
    ok.then_some(v)
}

fn read_aws(mut t: TableReader<'_>) -> Option<AwsSettings> {
    let endpoint: Option<String> = req!(t, "endpoint");
    let profile = non_empty(t.optional("profile"));
    let region = req!(t, "region");
    let region = t.checked("region", region, region_format);
    let max_attempts = t.ranged("max_attempts", 1, 10);
    let connect = t.ranged("connect_timeout_seconds", 1, 300);
    let operation = t.ranged("operation_timeout_seconds", 1, 3600);
    let ok = t.finish();
    let endpoint = match endpoint?.trim() {
        "embedded" => EndpointSetting::Embedded,
        "aws" => EndpointSetting::Aws,
        url => EndpointSetting::Url(url.to_string()),
    };
    let v = AwsSettings {
        endpoint,
        profile,
        region: region?,
        max_attempts: max_attempts?,
        connect_timeout_seconds: connect?,
        operation_timeout_seconds: operation?,
    };
    ok.then_some(v)
}

fn read_source(mut t: TableReader<'_>) -> Option<Source> {
    let provider = req!(t, "provider");
    let repository = req!(t, "repository");
    let branch = req!(t, "branch");
    let trigger = req!(t, "trigger");
    let connection_arn = non_empty(t.optional("connection_arn"));
    let bucket = non_empty(t.optional("bucket"));
    let object_key = non_empty(t.optional("object_key"));
    let local_path = non_empty(t.optional("local_path"));
    let ok = t.finish();
    let v = Source {
        provider: provider?,
        repository: repository?,
        branch: branch?,
        trigger: trigger?,
        connection_arn,
        bucket,
        object_key,
        local_path,
    };
    ok.then_some(v)
}

fn read_build(mut t: TableReader<'_>) -> Option<BuildProject> {
    let enabled = req!(t, "enabled");
    let compute_type = req!(t, "compute_type");
    let image = req!(t, "image");
    let buildspec = req!(t, "buildspec");
    let timeout_minutes = t.ranged("timeout_minutes", 5, 2160);
    let privileged = req!(t, "privileged");
    let docker_cache = req!(t, "docker_cache");
    let simulated = req!(t, "simulated");
    let env = t.or("env", BTreeMap::new());
    let secrets = t.or("secrets", BTreeMap::new());
    let ok = t.finish();
    let v = BuildProject {
        enabled: enabled?,
        compute_type: compute_type?,
        image: image?,
        buildspec: buildspec?,
        timeout_minutes: timeout_minutes?,
        privileged: privileged?,
        docker_cache: docker_cache?,
        simulated: simulated?,
        env,
        secrets,
    };
    ok.then_some(v)
}

fn read_image(mut t: TableReader<'_>) -> Option<ImageSettings> {
    let enabled = req!(t, "enabled");
    let repository = non_empty(t.optional("repository"));
    let keep_images = t.ranged("keep_images", 1, 1000);
    let scan_on_push = req!(t, "scan_on_push");
    let immutable_tags = req!(t, "immutable_tags");
    let build = section(&mut t, "build", read_build);
    let ok = t.finish();
    let v = ImageSettings {
        enabled: enabled?,
        repository,
        keep_images: keep_images?,
        scan_on_push: scan_on_push?,
        immutable_tags: immutable_tags?,
        build: build?,
    };
    ok.then_some(v)
}

fn read_deploy(mut t: TableReader<'_>) -> Option<Deploy> {
    let target = req!(t, "target");
    let strategy = req!(t, "strategy");
    let load_balancer = req!(t, "load_balancer");
    let auto_rollback = req!(t, "auto_rollback");
    let rollback_on_alarms = req!(t, "rollback_on_alarms");
    let minimum_healthy_percent = req!(t, "minimum_healthy_percent");
    let canary_percent = req!(t, "canary_percent");
    let interval_minutes = req!(t, "interval_minutes");
    let empty = Node::empty_table(t.origin());
    let ec2 = sub_or_empty(&mut t, "ec2", &empty, |mut t| {
        let v = Ec2Target {
            instance_tags: t.or("instance_tags", BTreeMap::new()),
            auto_scaling_group: non_empty(t.optional("auto_scaling_group")),
        };
        t.finish().then_some(v)
    });
    let ecs = sub_or_empty(&mut t, "ecs", &empty, |mut t| {
        let v = EcsTarget {
            cluster: non_empty(t.optional("cluster")),
            service: non_empty(t.optional("service")),
            container_name: t.or("container_name", "app".to_string()),
            container_port: t.or("container_port", 8080),
        };
        t.finish().then_some(v)
    });
    let lambda = sub_or_empty(&mut t, "lambda", &empty, |mut t| {
        let v = LambdaTarget {
            function: non_empty(t.optional("function")),
            alias: t.or("alias", "live".to_string()),
        };
        t.finish().then_some(v)
    });
    let ok = t.finish();
    let v = Deploy {
        target: target?,
        strategy: strategy?,
        load_balancer: load_balancer?,
        auto_rollback: auto_rollback?,
        rollback_on_alarms: rollback_on_alarms?,
        minimum_healthy_percent: minimum_healthy_percent?,
        canary_percent: canary_percent?,
        interval_minutes: interval_minutes?,
        ec2: ec2?,
        ecs: ecs?,
        lambda: lambda?,
    };
    ok.then_some(v)
}

/// Target-specific sub-tables are optional; their field defaults are documented in the example.
fn sub_or_empty<T>(
    t: &mut TableReader<'_>,
    key: &'static str,
    empty: &Node,
    read: impl FnOnce(TableReader<'_>) -> Option<T>,
) -> Option<T> {
    let path = t.path(key);
    let node = t
        .optional::<RawNode>(key)
        .map_or_else(|| empty.clone(), |n| n.0);
    read(TableReader::new(&node, &path, t.problems)?)
}

fn read_environments(t: &mut TableReader<'_>) -> Option<Vec<Environment>> {
    let path = t.path("environments");
    let nodes: Vec<RawNode> = t.required(
        "environments",
        "add at least one [[environments]] table with a name",
    )?;
    let mut out = Vec::with_capacity(nodes.len());
    let mut ok = true;
    for (i, RawNode(node)) in nodes.iter().enumerate() {
        let Some(mut e) = TableReader::new(node, &format!("{path}.{i}"), t.problems) else {
            ok = false;
            continue;
        };
        let name = e.required("name", "each environment needs a name, e.g. \"staging\"");
        let name = e.checked("name", name, environment_name);
        let account_id = non_empty(e.optional("account_id"));
        let region = non_empty(e.optional("region"));
        let production_by_name = name.as_deref().is_some_and(Environment::production_by_name);
        let certificate_arn = non_empty(e.optional("certificate_arn"));
        let env = Environment {
            name: name.unwrap_or_default(),
            account_id: e.checked("account_id", account_id, account_format),
            region: e.checked("region", region, region_format),
            approval: e.or("approval", false),
            review_url: non_empty(e.optional("review_url")),
            approval_message: non_empty(e.optional("approval_message")),
            retain_data: e.or("retain_data", false),
            production: e.or("production", production_by_name),
            certificate_arn: e.checked("certificate_arn", certificate_arn, certificate_format),
            plain_http: e.or("plain_http", false),
        };
        ok &= e.finish();
        out.push(env);
    }
    ok.then_some(out)
}

fn read_monitoring(mut t: TableReader<'_>) -> Option<Monitoring> {
    let log_retention_days = req!(t, "log_retention_days");
    let dashboard = req!(t, "dashboard");
    let alarms = section(
        &mut t,
        "alarms",
        |mut t| read_struct!(t, Alarms { pipeline_failures, build_failures, deployment_failures, lambda_errors, error_rate_percent, latency_p99_ms, period_seconds, evaluation_periods in 1..=100, datapoints_to_alarm }),
    );
    let ok = t.finish();
    let v = Monitoring {
        log_retention_days: log_retention_days?,
        dashboard: dashboard?,
        alarms: alarms?,
    };
    ok.then_some(v)
}

fn read_security(mut t: TableReader<'_>) -> Option<Security> {
    let kms = req!(t, "kms");
    let key_rotation = req!(t, "key_rotation");
    let vpc = section(&mut t, "vpc", |mut t| {
        read_struct!(
            t,
            Vpc {
                enabled,
                cidr,
                nat_gateway
            }
        )
    });
    let ok = t.finish();
    let v = Security {
        kms: kms?,
        key_rotation: key_rotation?,
        vpc: vpc?,
    };
    ok.then_some(v)
}

fn name_part(v: &String) -> Option<(String, &'static str)> {
    (!is_label(v)).then(|| {
        (
            format!("\"{v}\" is not a valid name part"),
            "use lowercase letters, digits and single hyphens, starting with a letter",
        )
    })
}

fn environment_name(v: &String) -> Option<(String, &'static str)> {
    (!is_label(v) || v == "cicd").then(|| {
        (
            format!("\"{v}\" is not a valid environment name"),
            "lowercase letters, digits and hyphens; \"cicd\" is reserved for the pipeline's own resources",
        )
    })
}

fn region_format(v: &String) -> Option<(String, &'static str)> {
    (!is_region(v)).then(|| {
        (
            format!("\"{v}\" is not an AWS region"),
            "for example us-east-1 or eu-west-2",
        )
    })
}

fn certificate_format(v: &String) -> Option<(String, &'static str)> {
    let parts: Vec<&str> = v.split(':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "acm"
        && is_region(parts[3])
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && parts[5].strip_prefix("certificate/").is_some_and(|id| {
            !id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
        });
    (!ok).then(|| {
        (
            format!("\"{v}\" is not an ACM certificate ARN"),
            "arn:aws:acm:<region>:<account>:certificate/<id>, in the environment's region",
        )
    })
}

fn account_format(v: &String) -> Option<(String, &'static str)> {
    (v.len() != 12 || !v.chars().all(|c| c.is_ascii_digit())).then(|| {
        (
            format!("\"{v}\" is not a 12-digit AWS account id"),
            "write it as a quoted string so leading zeros are kept",
        )
    })
}
