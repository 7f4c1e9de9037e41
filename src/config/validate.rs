//! Checks across keys (contradictions, formats, AWS limits); every problem is collected.

use super::naming::{NameKind, Naming};
use super::problem::{Problem, Problems};
use super::schema::{
    BuildProject, Config, DeployTarget, EndpointSetting, LoadBalancer, SourceProvider, Strategy,
};
use super::tree::{Layer, Node};

/// Log retention values CloudWatch Logs accepts.
pub const RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

struct Checker<'a> {
    root: &'a Node,
    problems: &'a mut Problems,
}

impl Checker<'_> {
    fn at(&mut self, path: &str, message: impl Into<String>, hint: Option<String>) {
        let origin = self.root.nearest_origin(path);
        let mut p = Problem::new(path, origin, message);
        p.hint = hint;
        self.problems.push(p);
    }

    /// True when the user (not the embedded defaults) wrote this key.
    fn user_set(&self, path: &str) -> bool {
        self.root
            .lookup(path)
            .is_some_and(|n| n.origin.layer != Layer::Defaults)
    }

    fn range(&mut self, path: &str, v: u64, lo: u64, hi: u64) {
        if v < lo || v > hi {
            self.at(
                path,
                format!("{v} is out of range; expected {lo} to {hi}"),
                None,
            );
        }
    }
}

pub(crate) fn is_label(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.ends_with('-')
        && !s.contains("--")
}

pub(crate) fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}

fn is_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.contains(char::is_whitespace)
        }
        None => false,
    }
}

fn is_env_var_name(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_cidr(s: &str) -> Option<u8> {
    let (ip, bits) = s.split_once('/')?;
    let octets: Vec<&str> = ip.split('.').collect();
    if octets.len() != 4 || !octets.iter().all(|o| o.parse::<u8>().is_ok()) {
        return None;
    }
    bits.parse::<u8>().ok().filter(|b| *b <= 32)
}

pub fn validate(config: &Config, root: &Node, problems: &mut Problems) {
    let mut c = Checker { root, problems };
    project(config, &mut c);
    aws(config, &mut c);
    source(config, &mut c);
    for (key, b) in [
        ("build", &config.build),
        ("test", &config.test),
        ("image.build", &config.image.build),
    ] {
        build_project(key, b, &mut c);
    }
    deploy(config, &mut c);
    environments(config, &mut c);
    observability(config, &mut c);
    names(config, &mut c);
    console_keys(config, &mut c);
    super::references::secret_references(config, root, problems);
    super::references::fault_probabilities(config, root, problems);
}

/// `[console.keys.<view>] <command> = ["key", …]` must name real views, commands and keys.
fn console_keys(config: &Config, c: &mut Checker<'_>) {
    let keymap = crate::console::keymap::Keymap::new(false);
    if let Err(errors) = keymap.with_overrides(&config.console.keys, false) {
        for e in errors {
            c.at(&e.path, e.message, e.hint);
        }
    }
}

fn project(config: &Config, c: &mut Checker<'_>) {
    for (k, v) in &config.tags {
        let path = format!("tags.{k}");
        if k.len() > 128 || v.len() > 256 {
            c.at(
                &path,
                "tag keys are limited to 128 characters and values to 256",
                None,
            );
        }
        if k.to_ascii_lowercase().starts_with("aws:") {
            c.at(
                &path,
                "tag keys starting with \"aws:\" are reserved by AWS",
                None,
            );
        }
    }
}

fn aws(config: &Config, c: &mut Checker<'_>) {
    let a = &config.aws;
    if let EndpointSetting::Url(url) = &a.endpoint
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        c.at(
            "aws.endpoint",
            format!("unknown endpoint \"{url}\""),
            Some("expected \"embedded\", \"aws\" or an http(s):// URL".into()),
        );
    }
    if a.endpoint == EndpointSetting::Embedded && a.profile.is_some() && c.user_set("aws.profile") {
        c.at(
            "aws.profile",
            "a profile has no effect with the embedded emulator",
            Some("set aws.endpoint = \"aws\" to use the profile, or remove it".into()),
        );
    }
}

fn source(config: &Config, c: &mut Checker<'_>) {
    let s = &config.source;
    if s.branch.trim().is_empty()
        || s.branch.contains(char::is_whitespace)
        || s.branch.contains("..")
    {
        c.at(
            "source.branch",
            format!("\"{}\" is not a valid git branch name", s.branch),
            None,
        );
    }
    match s.provider {
        SourceProvider::GitHub => {
            if s.repository.split('/').filter(|p| !p.is_empty()).count() != 2 {
                c.at(
                    "source.repository",
                    format!("GitHub repository \"{}\" must be owner/name", s.repository),
                    None,
                );
            }
            let embedded = config.aws.endpoint == EndpointSetting::Embedded;
            match &s.connection_arn {
                None if !embedded => c.at("source.connection_arn", "a GitHub source needs a CodeStar connection ARN", Some("create the connection in the console, then paste its arn:aws:codestar-connections:… here".into())),
                Some(arn) if !arn.starts_with("arn:aws:codestar-connections:") && !arn.starts_with("arn:aws:codeconnections:") => {
                    c.at("source.connection_arn", format!("\"{arn}\" is not a CodeStar connection ARN"), None)
                }
                _ => {}
            }
        }
        SourceProvider::S3 => {
            if s.bucket.is_none() {
                c.at("source.bucket", "an S3 source needs a bucket", None);
            }
            if s.object_key.is_none() {
                c.at(
                    "source.object_key",
                    "an S3 source needs an object key (a .zip)",
                    None,
                );
            }
        }
        SourceProvider::CodeCommit => {
            if s.repository.is_empty() || s.repository.len() > 100 {
                c.at(
                    "source.repository",
                    "CodeCommit repository names are 1 to 100 characters",
                    None,
                );
            }
        }
    }
    if s.provider != SourceProvider::S3 {
        for (key, value) in [("bucket", &s.bucket), ("object_key", &s.object_key)] {
            if value.is_some() && c.user_set(&format!("source.{key}")) {
                c.at(
                    &format!("source.{key}"),
                    format!(
                        "source.{key} only applies to the s3 provider, but provider is {}",
                        s.provider
                    ),
                    None,
                );
            }
        }
    }
    if s.provider != SourceProvider::GitHub
        && s.connection_arn.is_some()
        && c.user_set("source.connection_arn")
    {
        c.at(
            "source.connection_arn",
            format!(
                "connection_arn only applies to the github provider, but provider is {}",
                s.provider
            ),
            None,
        );
    }
}

fn build_project(key: &str, b: &BuildProject, c: &mut Checker<'_>) {
    if b.buildspec.trim().is_empty() {
        c.at(
            &format!("{key}.buildspec"),
            "buildspec must be a path in the source or an inline buildspec",
            None,
        );
    }
    for (name, value) in &b.env {
        let path = format!("{key}.env.{name}");
        if !is_env_var_name(name) {
            c.at(
                &path,
                format!("\"{name}\" is not a valid environment variable name"),
                None,
            );
        }
        let upper = name.to_ascii_uppercase();
        if ["PASSWORD", "SECRET", "TOKEN", "PRIVATE_KEY"]
            .iter()
            .any(|w| upper.contains(w))
            && !value.is_empty()
        {
            c.at(
                &path,
                "this looks like a secret in plain text",
                Some(format!(
                    "move it to [{key}.secrets] as a Secrets Manager reference"
                )),
            );
        }
    }
    // Whether each value is a reference is checked in `references`.
    for name in b.secrets.keys() {
        let path = format!("{key}.secrets.{name}");
        if !is_env_var_name(name) {
            c.at(
                &path,
                format!("\"{name}\" is not a valid environment variable name"),
                None,
            );
        }
    }
}

fn deploy(config: &Config, c: &mut Checker<'_>) {
    let d = &config.deploy;
    let allowed: &[Strategy] = match d.target {
        DeployTarget::Ec2 => &[Strategy::Rolling, Strategy::AllAtOnce, Strategy::BlueGreen],
        DeployTarget::Ecs => &[
            Strategy::BlueGreen,
            Strategy::Canary,
            Strategy::Linear,
            Strategy::AllAtOnce,
        ],
        DeployTarget::Lambda => &[Strategy::AllAtOnce, Strategy::Canary, Strategy::Linear],
    };
    if !allowed.contains(&d.strategy) {
        let list: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
        c.at(
            "deploy.strategy",
            format!(
                "strategy {} is not possible with target {}",
                d.strategy, d.target
            ),
            Some(format!("for {} use one of {}", d.target, list.join(", "))),
        );
    }
    match d.target {
        DeployTarget::Lambda if d.load_balancer == LoadBalancer::Alb => {
            c.at(
                "deploy.load_balancer",
                "Lambda deployments shift alias traffic; an ALB cannot be used with target lambda",
                Some("set load_balancer = \"none\"".into()),
            );
        }
        DeployTarget::Ecs if d.load_balancer != LoadBalancer::Alb => {
            c.at(
                "deploy.load_balancer",
                "ECS blue/green needs an ALB with production and test listeners",
                Some("set load_balancer = \"alb\"".into()),
            );
        }
        DeployTarget::Ec2
            if d.strategy == Strategy::BlueGreen && d.load_balancer != LoadBalancer::Alb =>
        {
            c.at(
                "deploy.load_balancer",
                "EC2 blue/green shifts traffic through a load balancer",
                Some("set load_balancer = \"alb\", or use strategy \"rolling\"".into()),
            );
        }
        _ => {}
    }
    for (sub, target) in [
        ("ec2", DeployTarget::Ec2),
        ("ecs", DeployTarget::Ecs),
        ("lambda", DeployTarget::Lambda),
    ] {
        if d.target != target && c.user_set(&format!("deploy.{sub}")) {
            c.at(
                &format!("deploy.{sub}"),
                format!("[deploy.{sub}] is set but deploy.target is {}", d.target),
                Some(format!("remove [deploy.{sub}] or set target = \"{sub}\"")),
            );
        }
    }
    if d.strategy == Strategy::Rolling {
        c.range(
            "deploy.minimum_healthy_percent",
            d.minimum_healthy_percent.into(),
            0,
            99,
        );
    }
    if matches!(d.strategy, Strategy::Canary | Strategy::Linear) {
        c.range("deploy.canary_percent", d.canary_percent.into(), 1, 99);
        c.range(
            "deploy.interval_minutes",
            d.interval_minutes.into(),
            1,
            2880,
        );
    }
    if d.rollback_on_alarms && !d.auto_rollback {
        c.at(
            "deploy.rollback_on_alarms",
            "alarm rollbacks need automatic rollback",
            Some("set deploy.auto_rollback = true".into()),
        );
    }
    if d.ec2.auto_scaling_group.is_some() && !d.ec2.instance_tags.is_empty() {
        c.at(
            "deploy.ec2.auto_scaling_group",
            "choose instances by tags or by Auto Scaling group, not both",
            None,
        );
    }
    c.range(
        "deploy.ecs.container_port",
        d.ecs.container_port.into(),
        1,
        65535,
    );
}

fn environments(config: &Config, c: &mut Checker<'_>) {
    if config.environments.is_empty() {
        c.at(
            "environments",
            "at least one environment is needed to deploy to",
            Some("add [[environments]] with name = \"staging\"".into()),
        );
    }
    for (i, e) in config.environments.iter().enumerate() {
        let base = format!("environments.{i}");
        if config.environments[..i].iter().any(|o| o.name == e.name) {
            c.at(
                &format!("{base}.name"),
                format!("environment \"{}\" is defined twice", e.name),
                None,
            );
        }
        if let Some(url) = e
            .review_url
            .as_deref()
            .filter(|u| !u.starts_with("https://") && !u.starts_with("http://"))
        {
            c.at(
                &format!("{base}.review_url"),
                format!("\"{url}\" is not an http(s) URL"),
                None,
            );
        }
        let alb = matches!(config.deploy.target, DeployTarget::Ecs)
            || (config.deploy.target == DeployTarget::Ec2
                && config.deploy.load_balancer == LoadBalancer::Alb);
        if alb && e.production && e.certificate_arn.is_none() && !e.plain_http {
            c.at(
                &format!("{base}.name"),
                format!(
                    "production environment \"{}\" would serve its load balancer's traffic as plain HTTP",
                    e.name
                ),
                Some(if c.user_set(&format!("{base}.name")) {
                    "set certificate_arn to an ACM certificate for HTTPS, or plain_http = true to accept HTTP".into()
                } else {
                    "the environments are the built-in defaults: declare your [[environments]], the production one with certificate_arn (HTTPS) or plain_http = true (HTTP)".into()
                }),
            );
        }
        if !alb && (e.certificate_arn.is_some() || e.plain_http) {
            let key = if e.certificate_arn.is_some() {
                "certificate_arn"
            } else {
                "plain_http"
            };
            c.at(
                &format!("{base}.{key}"),
                format!("{key} applies to a load balancer, and this deployment has none"),
                Some("remove it, or deploy behind load_balancer = \"alb\"".into()),
            );
        }
        if !e.approval && (e.review_url.is_some() || e.approval_message.is_some()) {
            c.at(
                &format!("{base}.approval"),
                format!(
                    "environment \"{}\" has approval details but no approval gate",
                    e.name
                ),
                Some("set approval = true".into()),
            );
        }
    }
}

fn observability(config: &Config, c: &mut Checker<'_>) {
    for (i, email) in config.notifications.emails.iter().enumerate() {
        if !is_email(email) {
            c.at(
                &format!("notifications.emails.{i}"),
                format!("\"{email}\" is not an email address"),
                None,
            );
        }
    }
    let m = &config.monitoring;
    if !RETENTION_DAYS.contains(&m.log_retention_days) {
        let near = RETENTION_DAYS
            .iter()
            .min_by_key(|d| d.abs_diff(m.log_retention_days))
            .copied()
            .unwrap_or(30);
        c.at(
            "monitoring.log_retention_days",
            format!(
                "CloudWatch Logs does not accept a retention of {} days",
                m.log_retention_days
            ),
            Some(format!("the nearest allowed value is {near}")),
        );
    }
    let a = &m.alarms;
    if ![10, 30].contains(&a.period_seconds)
        && (a.period_seconds == 0 || !a.period_seconds.is_multiple_of(60))
    {
        c.at(
            "monitoring.alarms.period_seconds",
            format!("period {} is not allowed", a.period_seconds),
            Some("use 10, 30 or a multiple of 60".into()),
        );
    }
    if a.datapoints_to_alarm == 0 || a.datapoints_to_alarm > a.evaluation_periods {
        c.at(
            "monitoring.alarms.datapoints_to_alarm",
            format!(
                "datapoints_to_alarm ({}) must be between 1 and evaluation_periods ({})",
                a.datapoints_to_alarm, a.evaluation_periods
            ),
            None,
        );
    }
    if !(0.0..=100.0).contains(&a.error_rate_percent) {
        c.at(
            "monitoring.alarms.error_rate_percent",
            "a percentage must be between 0 and 100",
            None,
        );
    }
    if a.latency_p99_ms <= 0.0 {
        c.at(
            "monitoring.alarms.latency_p99_ms",
            "the latency threshold must be positive",
            None,
        );
    }
    let vpc = &config.security.vpc;
    match is_cidr(&vpc.cidr) {
        Some(bits) if (16..=24).contains(&bits) => {}
        Some(bits) => c.at(
            "security.vpc.cidr",
            format!("a /{bits} VPC cannot hold four subnets in two AZs"),
            Some("use a prefix between /16 and /24".into()),
        ),
        None => c.at(
            "security.vpc.cidr",
            format!("\"{}\" is not an IPv4 CIDR block", vpc.cidr),
            None,
        ),
    }
    if vpc.nat_gateway && !vpc.enabled {
        c.at(
            "security.vpc.nat_gateway",
            "a NAT gateway needs the VPC",
            Some("set security.vpc.enabled = true".into()),
        );
    }
    for key in config.emulator.faults.keys() {
        let service = key.split(':').next().unwrap_or("");
        if !super::schema::FAULT_SERVICES.contains(&service) {
            c.at(
                &format!("emulator.faults.{key}"),
                format!("unknown service \"{service}\" in a fault key"),
                Some(format!(
                    "use \"service\" or \"service:Operation\" with a service among {}",
                    super::schema::FAULT_SERVICES.join(", ")
                )),
            );
        }
    }
    if !(0.0..=1000.0).contains(&config.emulator.clock_speed) || config.emulator.clock_speed == 0.0
    {
        c.at(
            "emulator.clock_speed",
            "the clock speed must be above 0 and at most 1000",
            None,
        );
    }
}

/// The naming inputs of a config.
pub fn naming(config: &Config) -> Naming {
    Naming {
        company: config.project.company.clone(),
        service: config.project.service.clone(),
        suffix: config.project.suffix.clone(),
    }
}

/// Every physical name the stack will use must fit its service's limits.
fn names(config: &Config, c: &mut Checker<'_>) {
    let n = naming(config);
    let mut wanted: Vec<(NameKind, String, &str)> = vec![
        (NameKind::Stack, "cicd".into(), "stack"),
        (NameKind::Pipeline, "cicd".into(), "pipeline"),
        (NameKind::S3Bucket, "cicd".into(), "artifacts"),
        (NameKind::IamRole, "cicd".into(), "pipeline-role"),
        (NameKind::IamRole, "cicd".into(), "codebuild-role"),
        (NameKind::CodeBuildProject, "cicd".into(), "build"),
        (NameKind::LogGroup, "cicd".into(), "build"),
        (NameKind::SnsTopic, "cicd".into(), "notifications"),
        (NameKind::KmsAlias, "cicd".into(), "key"),
        (NameKind::EventRule, "cicd".into(), "pipeline-events"),
        (NameKind::LambdaFunction, "cicd".into(), "notifier"),
        (NameKind::Dashboard, "cicd".into(), "dashboard"),
        (NameKind::CodeDeployApplication, "cicd".into(), "app"),
    ];
    if config.image.enabled {
        wanted.push((NameKind::EcrRepository, "cicd".into(), "images"));
    }
    if config.secrets.database_credentials {
        wanted.push((NameKind::Secret, "cicd".into(), "db-credentials"));
    }
    if config.pipeline.history_table {
        wanted.push((NameKind::DynamoDbTable, "cicd".into(), "deploy-history"));
    }
    for e in &config.environments {
        wanted.push((NameKind::CodeDeployGroup, e.name.clone(), "deploy-group"));
        wanted.push((NameKind::IamRole, e.name.clone(), "deploy-role"));
        wanted.push((NameKind::Alarm, e.name.clone(), "error-rate"));
        match config.deploy.target {
            DeployTarget::Lambda => {
                wanted.push((NameKind::LambdaFunction, e.name.clone(), "function"))
            }
            DeployTarget::Ecs => {
                wanted.push((NameKind::EcsCluster, e.name.clone(), "cluster"));
                wanted.push((NameKind::EcsService, e.name.clone(), "service"));
            }
            DeployTarget::Ec2 => {}
        }
        if config.deploy.load_balancer == LoadBalancer::Alb {
            wanted.push((NameKind::LoadBalancer, e.name.clone(), "alb"));
            wanted.push((NameKind::TargetGroup, e.name.clone(), "tg-blue"));
        }
    }
    let parts = [
        &config.project.company,
        &Some(config.project.service.clone()),
        &config.project.suffix,
    ];
    if parts
        .iter()
        .any(|p| p.as_deref().is_some_and(|v| !is_label(v)))
    {
        return; // already reported as an invalid name part; every name would repeat it
    }
    let mut broken: Vec<String> = Vec::new();
    let mut kinds = std::collections::HashSet::new();
    for (kind, env, purpose) in wanted {
        if let Err(e) = n.name(kind, &env, purpose)
            && kinds.insert(kind)
        {
            broken.push(e.to_string());
        }
    }
    if !broken.is_empty() {
        let key = if c.user_set("project.suffix") && config.project.suffix.is_some() {
            "project.suffix"
        } else {
            "project.service"
        };
        c.at(
            key,
            format!(
                "names built from it break AWS limits: {}",
                broken.join("; ")
            ),
            Some(
                "shorten project.company, project.service, project.suffix or the environment name"
                    .into(),
            ),
        );
    }
}
