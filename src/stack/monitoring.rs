//! CloudWatch alarms (pipeline, builds, deployments, application health) and the dashboard.
//!
//! CodePipeline and CodeDeploy publish no failure metrics, so failures are counted through
//! EventBridge rules: `AWS/Events MatchedEvents` per rule. Application health comes from
//! `AWS/Lambda` for Lambda targets, otherwise from the `pipetui` namespace the application
//! publishes to (`ErrorRate` in percent, `Latency` in ms, dimensions Service and Environment).

use serde_json::{Value, json};

use super::{CICD, Ctx, Resource, fns, ids, pascal};
use crate::config::{DeployTarget, Environment, NameKind, PipelineEvent};

/// The namespace applications (and the emulator) publish health metrics to.
pub const APP_NAMESPACE: &str = "pipetui";

/// A threshold alarm that notifies the topic.
fn alarm(
    ctx: &Ctx<'_>,
    name: String,
    description: String,
    metric: Value,
    threshold: f64,
    periods: (u32, u32),
) -> Resource {
    let mut props = json!({
        "AlarmName": name,
        "AlarmDescription": description,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "Threshold": threshold,
        "EvaluationPeriods": periods.0,
        "DatapointsToAlarm": periods.1,
        "Period": ctx.config.monitoring.alarms.period_seconds,
        "TreatMissingData": "notBreaching",
        "AlarmActions": [fns::r#ref(ids::TOPIC)],
    });
    if let (Value::Object(p), Value::Object(m)) = (&mut props, metric) {
        // Metric-math alarms take their period from each query, not from the alarm.
        if m.contains_key("Metrics") {
            p.remove("Period");
        }
        p.extend(m);
    }
    Resource::new("AWS::CloudWatch::Alarm", props)
}

fn count_metric(namespace: &str, metric: &str, dimensions: Value) -> Value {
    json!({ "Namespace": namespace, "MetricName": metric, "Dimensions": dimensions, "Statistic": "Sum" })
}

/// An EventBridge rule with no target: it exists so its MatchedEvents metric counts failures.
fn counting_rule(name: &str, description: &str, pattern: Value) -> Resource {
    Resource::new(
        "AWS::Events::Rule",
        json!({ "Name": name, "Description": description, "EventPattern": pattern, "State": "ENABLED" }),
    )
}

pub fn rollback_alarm_ids(_ctx: &Ctx<'_>, env: &Environment) -> Vec<String> {
    let e = pascal(&env.name);
    vec![format!("{e}ErrorRateAlarm"), format!("{e}LatencyAlarm")]
}

pub fn rollback_alarm_names(ctx: &Ctx<'_>, env: &Environment) -> Vec<String> {
    vec![
        ctx.name(NameKind::Alarm, &env.name, "error-rate"),
        ctx.name(NameKind::Alarm, &env.name, "latency-p99"),
    ]
}

pub fn render_alarms(ctx: &mut Ctx<'_>) {
    let config = ctx.config;
    let a = &config.monitoring.alarms;
    let once = (1, 1);
    if a.pipeline_failures {
        let rule = ctx.name(NameKind::EventRule, CICD, "pipeline-failures");
        let pipeline = ctx.name(NameKind::Pipeline, CICD, "pipeline");
        let pattern = json!({
            "source": ["aws.codepipeline"],
            "detail-type": ["CodePipeline Pipeline Execution State Change"],
            "detail": { "pipeline": [pipeline], "state": [PipelineEvent::Failed.as_str().to_ascii_uppercase()] }
        });
        let r = counting_rule(&rule, "Counts failed executions of the pipeline", pattern);
        ctx.add("PipelineFailureRule", CICD, r);
        let metric = count_metric(
            "AWS/Events",
            "MatchedEvents",
            json!([{ "Name": "RuleName", "Value": fns::r#ref("PipelineFailureRule") }]),
        );
        let name = ctx.name(NameKind::Alarm, CICD, "pipeline-failures");
        let al = alarm(
            ctx,
            name,
            format!("An execution of {pipeline} failed"),
            metric,
            1.0,
            once,
        );
        ctx.add("PipelineFailureAlarm", CICD, al);
    }
    if a.build_failures {
        for p in ctx.projects() {
            let project = ctx.name(NameKind::CodeBuildProject, CICD, p.purpose);
            let metric = count_metric(
                "AWS/CodeBuild",
                "FailedBuilds",
                json!([{ "Name": "ProjectName", "Value": fns::r#ref(&p.project_id()) }]),
            );
            let name = ctx.name(NameKind::Alarm, CICD, &format!("{}-failures", p.purpose));
            let al = alarm(
                ctx,
                name,
                format!("A {project} build failed"),
                metric,
                1.0,
                once,
            );
            ctx.add(&format!("{}FailureAlarm", p.stage), CICD, al);
        }
    }
    if a.lambda_errors && config.notifications.lambda_notifier {
        let metric = count_metric(
            "AWS/Lambda",
            "Errors",
            json!([{ "Name": "FunctionName", "Value": fns::r#ref(ids::NOTIFIER) }]),
        );
        let name = ctx.name(NameKind::Alarm, CICD, "notifier-errors");
        let al = alarm(
            ctx,
            name,
            "The notification Lambda failed".into(),
            metric,
            1.0,
            once,
        );
        ctx.add("NotifierErrorAlarm", CICD, al);
    }
    let app = ctx.name(NameKind::CodeDeployApplication, CICD, "app");
    for env in &config.environments {
        let e = pascal(&env.name);
        if a.deployment_failures {
            let rule = ctx.name(NameKind::EventRule, &env.name, "deploy-failures");
            let group = ctx.name(NameKind::CodeDeployGroup, &env.name, "deploy-group");
            let pattern = json!({
                "source": ["aws.codedeploy"],
                "detail-type": ["CodeDeploy Deployment State-change Notification"],
                "detail": { "state": ["FAILURE"], "application": [app], "deploymentGroup": [group] }
            });
            let r = counting_rule(
                &rule,
                &format!("Counts failed deployments to {}", env.name),
                pattern,
            );
            ctx.add_for(&format!("{e}DeployFailureRule"), env, r);
            let metric = count_metric(
                "AWS/Events",
                "MatchedEvents",
                json!([{ "Name": "RuleName", "Value": fns::r#ref(&format!("{e}DeployFailureRule")) }]),
            );
            let name = ctx.name(NameKind::Alarm, &env.name, "deploy-failures");
            let al = alarm(
                ctx,
                name,
                format!("A deployment to {} failed", env.name),
                metric,
                1.0,
                once,
            );
            ctx.add_for(&format!("{e}DeployFailureAlarm"), env, al);
        }
        let ids = rollback_alarm_ids(ctx, env);
        let names = rollback_alarm_names(ctx, env);
        let (errors, latency) = health_metrics(ctx, env);
        let periods = (a.evaluation_periods, a.datapoints_to_alarm);
        let err = alarm(
            ctx,
            names[0].clone(),
            format!(
                "Error rate in {} at or above {}% (rolls back the deployment)",
                env.name, a.error_rate_percent
            ),
            errors,
            a.error_rate_percent,
            periods,
        );
        ctx.add_for(&ids[0], env, err);
        let lat = alarm(
            ctx,
            names[1].clone(),
            format!(
                "p99 latency in {} at or above {} ms (rolls back the deployment)",
                env.name, a.latency_p99_ms
            ),
            latency,
            a.latency_p99_ms,
            periods,
        );
        ctx.add_for(&ids[1], env, lat);
    }
}

/// (error-rate, p99-latency) metric properties for an environment's application.
fn health_metrics(ctx: &Ctx<'_>, env: &Environment) -> (Value, Value) {
    let period = ctx.config.monitoring.alarms.period_seconds;
    if ctx.config.deploy.target == DeployTarget::Lambda {
        let f = super::deploy::lambda_function(ctx, env);
        let dims = json!([{ "Name": "FunctionName", "Value": f }]);
        let stat = |id: &str, metric: &str| {
            json!({
                "Id": id, "ReturnData": false,
                "MetricStat": { "Metric": { "Namespace": "AWS/Lambda", "MetricName": metric, "Dimensions": dims }, "Period": period, "Stat": "Sum" }
            })
        };
        let errors = json!({ "Metrics": [
            stat("errors", "Errors"), stat("invocations", "Invocations"),
            { "Id": "rate", "Expression": "IF(invocations > 0, 100 * errors / invocations, 0)", "Label": "Error rate (%)", "ReturnData": true }
        ] });
        let latency = json!({ "Namespace": "AWS/Lambda", "MetricName": "Duration", "Dimensions": dims, "ExtendedStatistic": "p99" });
        (errors, latency)
    } else {
        let dims = json!([
            { "Name": "Service", "Value": ctx.config.project.service },
            { "Name": "Environment", "Value": env.name }
        ]);
        let errors = json!({ "Namespace": APP_NAMESPACE, "MetricName": "ErrorRate", "Dimensions": dims, "Statistic": "Average" });
        let latency = json!({ "Namespace": APP_NAMESPACE, "MetricName": "Latency", "Dimensions": dims, "ExtendedStatistic": "p99" });
        (errors, latency)
    }
}

pub fn render_dashboard(ctx: &mut Ctx<'_>) {
    if !ctx.config.monitoring.dashboard {
        return;
    }
    let mut widgets = Vec::new();
    let mut y = 0;
    let mut widget = |title: String, metrics: Vec<Value>, stat: &str| {
        widgets.push(json!({
            "type": "metric", "x": 0, "y": y, "width": 24, "height": 6,
            "properties": { "title": title, "region": "${AWS::Region}", "stat": stat, "period": 300, "view": "timeSeries", "metrics": metrics }
        }));
        y += 6;
    };
    let rules: Vec<String> = ctx
        .template
        .resources
        .iter()
        .filter(|(_, r)| r.kind == "AWS::Events::Rule")
        .filter_map(|(_, r)| {
            r.properties
                .get("Name")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect();
    if !rules.is_empty() {
        widget(
            "Failures (pipeline and deployments)".into(),
            rules
                .iter()
                .map(|r| json!(["AWS/Events", "MatchedEvents", "RuleName", r]))
                .collect(),
            "Sum",
        );
    }
    let projects: Vec<String> = ctx
        .projects()
        .iter()
        .map(|p| ctx.name(NameKind::CodeBuildProject, CICD, p.purpose))
        .collect();
    if !projects.is_empty() {
        let mut m = Vec::new();
        for p in &projects {
            m.push(json!([
                "AWS/CodeBuild",
                "SucceededBuilds",
                "ProjectName",
                p
            ]));
            m.push(json!(["AWS/CodeBuild", "FailedBuilds", "ProjectName", p]));
        }
        widget("Builds".into(), m, "Sum");
        widget(
            "Build duration (s)".into(),
            projects
                .iter()
                .map(|p| json!(["AWS/CodeBuild", "Duration", "ProjectName", p]))
                .collect(),
            "Average",
        );
    }
    let service = ctx.config.project.service.clone();
    let lambda = ctx.config.deploy.target == DeployTarget::Lambda;
    let envs: Vec<(String, String)> = ctx
        .config
        .environments
        .iter()
        .map(|e| (e.name.clone(), super::deploy::lambda_function(ctx, e)))
        .collect();
    for (env, function) in envs {
        let (errors, latency) = if lambda {
            (
                json!(["AWS/Lambda", "Errors", "FunctionName", function]),
                json!(["AWS/Lambda", "Duration", "FunctionName", function]),
            )
        } else {
            (
                json!([
                    APP_NAMESPACE,
                    "ErrorRate",
                    "Service",
                    service,
                    "Environment",
                    env
                ]),
                json!([
                    APP_NAMESPACE,
                    "Latency",
                    "Service",
                    service,
                    "Environment",
                    env
                ]),
            )
        };
        widget(
            format!("{env}: errors"),
            vec![errors],
            if lambda { "Sum" } else { "Average" },
        );
        widget(format!("{env}: p99 latency (ms)"), vec![latency], "p99");
    }
    let body = json!({ "widgets": widgets }).to_string();
    let dash = Resource::new(
        "AWS::CloudWatch::Dashboard",
        json!({ "DashboardName": ctx.name(NameKind::Dashboard, CICD, "dashboard"), "DashboardBody": fns::sub(body) }),
    );
    ctx.add(ids::DASHBOARD, CICD, dash);
}
