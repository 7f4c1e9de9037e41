//! The console's AWS layer (`aws::reads`, `aws::ops`) with the real SDK clients against the
//! in-process emulator: every read maps into the model, every operation sends what it says,
//! and failures read `Code: message`.
// Test helpers unwrap like the tests they serve: a failure is the test failing.
#![allow(clippy::unwrap_used)]

mod cli;
use crate::common;
mod deployments;
mod outcomes;
mod pipelines;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, MetricDatum, Statistic};
use pipetui::aws::reads::{self, LogSource};
use pipetui::aws::{AwsError, Clients, Target};
use pipetui::model::{AlarmState, Status};
use pipetui_emulator::Emulator;
use pipetui_emulator::faults::Fault;
use pipetui_emulator::protocol::ServiceId;

use common::START;

fn setup() -> (Arc<Emulator>, Clients) {
    let emu = common::emulator();
    let clients = Clients::new(&common::sdk_config(&emu), Target::Emulator);
    (emu, clients)
}

fn service_code(e: &AwsError) -> &str {
    match e {
        AwsError::Service { code, .. } => code,
        other => panic!("not a service error: {other:?}"),
    }
}

#[tokio::test]
async fn identity_names_the_emulator_account() {
    let (_emu, clients) = setup();
    let id = reads::identity(&clients).await.unwrap();
    assert_eq!(id.account, pipetui_emulator::ACCOUNT_ID);
    assert_eq!(
        id.arn,
        format!("arn:aws:iam::{}:user/pipetui", pipetui_emulator::ACCOUNT_ID)
    );
}

fn dim(name: &str, value: &str) -> Dimension {
    Dimension::builder().name(name).value(value).build()
}

/// ErrorRate{Service=orders, Environment=production} at START + offset.
fn error_rate(offset: f64, value: f64) -> MetricDatum {
    MetricDatum::builder()
        .metric_name("ErrorRate")
        .dimensions(dim("Service", "orders"))
        .dimensions(dim("Environment", "production"))
        .value(value)
        .timestamp(DateTime::from_secs_f64(START + offset))
        .build()
}

async fn put_error_rate_alarm(clients: &Clients) {
    clients
        .cloudwatch
        .put_metric_alarm()
        .alarm_name("orders-production-error-rate")
        .namespace("pipetui")
        .metric_name("ErrorRate")
        .dimensions(dim("Service", "orders"))
        .dimensions(dim("Environment", "production"))
        .statistic(Statistic::Average)
        .period(60)
        .evaluation_periods(3)
        .datapoints_to_alarm(2)
        .threshold(5.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn alarms_history_and_metric_series() {
    let (emu, clients) = setup();
    put_error_rate_alarm(&clients).await;
    clients
        .cloudwatch
        .put_metric_data()
        .namespace("pipetui")
        .metric_data(error_rate(10.0, 1.0))
        .metric_data(error_rate(70.0, 9.0))
        .metric_data(error_rate(130.0, 12.0))
        .metric_data(error_rate(135.0, 14.0))
        .send()
        .await
        .unwrap();
    emu.clock.advance(181.0);
    emu.settle(Duration::from_secs(5));

    let alarms = reads::alarms(&clients).await.unwrap();
    assert_eq!(alarms.len(), 1);
    let alarm = &alarms[0];
    assert_eq!(alarm.name, "orders-production-error-rate");
    assert_eq!(alarm.state, AlarmState::Alarm);
    assert_eq!(alarm.dimension("Environment"), Some("production"));
    assert_eq!(alarm.statistic.as_deref(), Some("Average"));
    assert_eq!(alarm.threshold, Some(5.0));
    assert!(
        alarm
            .reason
            .as_deref()
            .unwrap_or_default()
            .contains("Threshold Crossed")
    );
    assert_eq!(reads::evaluation_window(alarm), Duration::from_secs(180));

    let history = reads::alarm_history(&clients, &alarm.name).await.unwrap();
    assert!(
        history
            .iter()
            .any(|h| h.kind == "StateUpdate" && h.summary.contains("to ALARM")),
        "{history:?}"
    );

    let points = reads::metric_series_until(
        &clients,
        alarm,
        reads::evaluation_window(alarm),
        START + 180.0,
    )
    .await
    .unwrap();
    let values: Vec<f64> = points.iter().map(|p| p.value).collect();
    assert_eq!(
        values,
        [1.0, 9.0, 13.0],
        "one averaged point per period, oldest first"
    );
    assert!(points.windows(2).all(|w| w[0].t < w[1].t));
}

#[tokio::test]
async fn log_groups_streams_and_events() {
    let (emu, clients) = setup();
    let logs = &clients.logs;
    logs.create_log_group()
        .log_group_name("/aws/codebuild/orders-build")
        .send()
        .await
        .unwrap();
    logs.create_log_group()
        .log_group_name("/other")
        .send()
        .await
        .unwrap();
    for (stream, at, lines) in [
        ("old", 1.0, &["compiling", "ERROR: boom"][..]),
        ("new", 50.0, &["testing", "done"][..]),
    ] {
        logs.create_log_stream()
            .log_group_name("/aws/codebuild/orders-build")
            .log_stream_name(stream)
            .send()
            .await
            .unwrap();
        let mut put = logs
            .put_log_events()
            .log_group_name("/aws/codebuild/orders-build")
            .log_stream_name(stream);
        for (i, line) in lines.iter().enumerate() {
            put = put.log_events(
                aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                    .timestamp(((START + at + i as f64) * 1000.0) as i64)
                    .message(*line)
                    .build()
                    .unwrap(),
            );
        }
        put.send().await.unwrap();
    }
    emu.clock.advance(60.0);

    let groups = reads::log_groups(&clients, "/aws/codebuild").await.unwrap();
    let names: Vec<_> = groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["/aws/codebuild/orders-build"]);
    assert_eq!(reads::log_groups(&clients, "").await.unwrap().len(), 2);

    let streams = reads::log_streams(&clients, "/aws/codebuild/orders-build")
        .await
        .unwrap();
    let names: Vec<_> = streams.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["new", "old"], "most recent event first");
    assert_eq!(streams[0].last_event, Some(START + 51.0));

    let group = "/aws/codebuild/orders-build";
    let page = reads::log_events(
        &clients,
        group,
        &LogSource::Stream("old".into()),
        None,
        None,
        None,
    )
    .await
    .unwrap();
    let messages: Vec<_> = page.lines.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(messages, ["compiling", "ERROR: boom"]);
    assert_eq!(page.lines[0].t, START + 1.0);
    assert_eq!(page.lines[0].stream, "old");
    // Following: the next page from the forward token has nothing new, and says so.
    let token = page.next_token.clone().expect("a forward token");
    let next = reads::log_events(
        &clients,
        group,
        &LogSource::Stream("old".into()),
        None,
        None,
        Some(&token),
    )
    .await
    .unwrap();
    assert!(next.lines.is_empty());
    assert_eq!(next.next_token, None);

    let all = LogSource::Filter {
        pattern: String::new(),
        streams: vec![],
    };
    let page = reads::log_events(&clients, group, &all, None, None, None)
        .await
        .unwrap();
    let messages: Vec<_> = page.lines.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(messages, ["compiling", "ERROR: boom", "testing", "done"]);

    let errors = LogSource::Filter {
        pattern: "ERROR".into(),
        streams: vec![],
    };
    let page = reads::log_events(&clients, group, &errors, None, None, None)
        .await
        .unwrap();
    assert_eq!(page.lines.len(), 1);
    assert_eq!(page.lines[0].stream, "old");

    let window = reads::log_events(
        &clients,
        group,
        &all,
        Some(START + 50.0),
        Some(START + 50.5),
        None,
    )
    .await
    .unwrap();
    let messages: Vec<_> = window.lines.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(messages, ["testing"]);

    let err = reads::log_events(&clients, "/missing", &all, None, None, None)
        .await
        .unwrap_err();
    assert_eq!(service_code(&err), "ResourceNotFoundException");
    assert!(
        err.to_string().starts_with("ResourceNotFoundException: "),
        "{err}"
    );
}

const STACK: &str = r#"{
  "Resources": {
    "Logs": { "Type": "AWS::Logs::LogGroup", "Properties": { "LogGroupName": "/acme/orders" } }
  },
  "Outputs": {
    "LogGroup": { "Value": { "Ref": "Logs" }, "Description": "where the app logs" }
  }
}"#;

#[tokio::test]
async fn stack_status_events_resources_and_outputs() {
    let (emu, clients) = setup();
    clients
        .cloudformation
        .create_stack()
        .stack_name("acme-orders")
        .template_body(STACK)
        .send()
        .await
        .unwrap();
    let mut view = reads::stack(&clients, "acme-orders").await.unwrap();
    for _ in 0..300 {
        if view.status == "CREATE_COMPLETE" {
            break;
        }
        emu.clock.advance(1.0);
        emu.settle(Duration::from_secs(5));
        view = reads::stack(&clients, "acme-orders").await.unwrap();
    }
    assert_eq!(view.status, "CREATE_COMPLETE");
    assert_eq!(view.resources.len(), 1);
    assert_eq!(view.resources[0].logical_id, "Logs");
    assert_eq!(
        view.resources[0].physical_id.as_deref(),
        Some("/acme/orders")
    );
    assert_eq!(view.resources[0].status, "CREATE_COMPLETE");
    assert_eq!(view.outputs.len(), 1);
    assert_eq!(view.outputs[0].key, "LogGroup");
    assert_eq!(view.outputs[0].value, "/acme/orders");
    assert_eq!(
        view.outputs[0].description.as_deref(),
        Some("where the app logs")
    );
    // Newest event first: the stack's own completion.
    assert_eq!(view.events[0].logical_id, "acme-orders");
    assert_eq!(view.events[0].status, "CREATE_COMPLETE");
    assert!(view.events.iter().any(|e| e.logical_id == "Logs"));

    let err = reads::stack(&clients, "nope").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "ValidationError: Stack with id nope does not exist"
    );
}

#[tokio::test]
async fn a_simulated_build_reads_with_phases_and_log_location() {
    let (emu, clients) = setup();
    let cb = &clients.codebuild;
    cb.create_project()
        .name("orders-build")
        .source(
            aws_sdk_codebuild::types::ProjectSource::builder()
                .r#type(aws_sdk_codebuild::types::SourceType::NoSource)
                .buildspec(
                    "version: 0.2\nphases:\n  build:\n    commands:\n      - echo building\n",
                )
                .build()
                .unwrap(),
        )
        .artifacts(
            aws_sdk_codebuild::types::ProjectArtifacts::builder()
                .r#type(aws_sdk_codebuild::types::ArtifactsType::NoArtifacts)
                .build()
                .unwrap(),
        )
        .environment(
            aws_sdk_codebuild::types::ProjectEnvironment::builder()
                .r#type(aws_sdk_codebuild::types::EnvironmentType::LinuxContainer)
                .image("aws/codebuild/standard:7.0")
                .compute_type(aws_sdk_codebuild::types::ComputeType::BuildGeneral1Small)
                .build()
                .unwrap(),
        )
        .service_role("arn:aws:iam::000000000000:role/build")
        .tags(
            aws_sdk_codebuild::types::Tag::builder()
                .key("pipetui:simulated")
                .value("true")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let started = cb
        .start_build()
        .project_name("orders-build")
        .send()
        .await
        .unwrap();
    let id = started
        .build_value()
        .and_then(|b| b.id())
        .unwrap()
        .to_string();

    let running = reads::build(&clients, &id).await.unwrap();
    assert_eq!(running.project, "orders-build");
    assert!(running.simulated);
    assert!(running.status.is_active(), "{:?}", running.status);

    let mut build = running;
    for _ in 0..200 {
        if !build.status.is_active() {
            break;
        }
        emu.clock.advance(2.0);
        emu.settle(Duration::from_secs(5));
        build = reads::build(&clients, &id).await.unwrap();
    }
    assert_eq!(build.status, Status::Succeeded);
    assert_eq!(
        build.log_group.as_deref(),
        Some("/aws/codebuild/orders-build")
    );
    let stream = build.log_stream.clone().expect("a log stream");
    let names: Vec<_> = build.phases.iter().map(|p| p.name.as_str()).collect();
    assert!(names.contains(&"BUILD"), "{names:?}");
    assert!(
        build
            .phases
            .iter()
            .all(|p| p.status == Status::Succeeded || p.name == "COMPLETED")
    );
    assert!(build.end.unwrap() >= build.start.unwrap());

    // The build's log is readable through the logs reads.
    let page = reads::log_events(
        &clients,
        "/aws/codebuild/orders-build",
        &LogSource::Stream(stream),
        None,
        None,
        None,
    )
    .await
    .unwrap();
    assert!(
        page.lines
            .iter()
            .any(|l| l.message.contains("echo building")),
        "{:?}",
        page.lines
    );

    let err = reads::build(&clients, "orders-build:missing")
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "ResourceNotFoundException: Build orders-build:missing not found"
    );
}

#[tokio::test]
async fn throttling_surfaces_as_a_typed_error() {
    let (emu, clients) = setup();
    emu.faults.set(
        ServiceId::CloudWatch,
        Some("DescribeAlarms"),
        Fault {
            throttle: 1.0,
            ..Fault::default()
        },
    );
    let err = reads::alarms(&clients).await.unwrap_err();
    assert_eq!(service_code(&err), "Throttling");
    assert_eq!(err.to_string(), "Throttling: Rate exceeded");
    // Other calls are unaffected, and the fault clears.
    reads::identity(&clients).await.unwrap();
    emu.faults.clear();
    assert!(reads::alarms(&clients).await.unwrap().is_empty());
}

/// A sped-up emulator clock runs ahead of the wall clock: the series follows the data's time.
#[tokio::test]
async fn the_metric_series_follows_an_emulated_clock_ahead_of_the_wall_clock() {
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    // Two days ahead, on a period boundary.
    let ahead = ((wall + 2.0 * 86_400.0) / 60.0).floor() * 60.0;
    let emu = Emulator::in_memory(pipetui_emulator::Clock::manual(ahead)).unwrap();
    let clients = Clients::new(&common::sdk_config(&emu), Target::Emulator);
    put_error_rate_alarm(&clients).await;
    let point = |at: f64, value: f64| {
        MetricDatum::builder()
            .metric_name("ErrorRate")
            .dimensions(dim("Service", "orders"))
            .dimensions(dim("Environment", "production"))
            .value(value)
            .timestamp(DateTime::from_secs_f64(at))
            .build()
    };
    clients
        .cloudwatch
        .put_metric_data()
        .namespace("pipetui")
        .metric_data(point(ahead - 170.0, 2.0))
        .metric_data(point(ahead - 110.0, 4.0))
        .metric_data(point(ahead - 50.0, 8.0))
        .send()
        .await
        .unwrap();
    let alarm = reads::alarms(&clients).await.unwrap().remove(0);
    let points = reads::metric_series(&clients, &alarm, reads::evaluation_window(&alarm))
        .await
        .unwrap();
    let values: Vec<f64> = points.iter().map(|p| p.value).collect();
    assert_eq!(values, [2.0, 4.0, 8.0]);
    assert_eq!(points[2].t, ahead - 60.0);
}
