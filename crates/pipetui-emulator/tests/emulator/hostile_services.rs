//! Hostile input to the services (issue 11): loops whose size the input decides are bounded as
//! AWS bounds them, names never become paths outside the work directory (`paths`), processes a
//! crashed emulator left behind are killed on reopen (`orphans`), and concurrent writers lose
//! no log event.

mod orphans;
mod paths;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    Metric, MetricDataQuery, MetricDatum, MetricStat, Statistic as CwStatistic,
};
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use aws_sdk_codebuild::types::{
    ArtifactsType, ComputeType, EnvironmentType, ProjectArtifacts, ProjectEnvironment,
    ProjectSource, SourceType,
};

use crate::common::{self, START, code};
use pipetui_emulator::{Clock, Emulator, EngineSettings};

// ---- item 3: input-controlled loops ----------------------------------------------------------

fn cloudwatch() -> (Arc<Emulator>, aws_sdk_cloudwatch::Client) {
    let emu = common::emulator();
    let c = aws_sdk_cloudwatch::Client::new(&common::sdk_config(&emu));
    (emu, c)
}

fn datum_at(secs: i64) -> MetricDatum {
    MetricDatum::builder()
        .metric_name("Latency")
        .value(1.0)
        .timestamp(DateTime::from_secs(secs))
        .build()
}

async fn put(c: &aws_sdk_cloudwatch::Client, d: MetricDatum) -> Result<(), String> {
    c.put_metric_data()
        .namespace("App")
        .metric_data(d)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| code::<(), _, _>(Err(e)))
}

#[tokio::test]
async fn metric_data_far_in_the_future_or_past_is_refused() {
    let (_emu, c) = cloudwatch();
    let now = START as i64;
    // 10^18 seconds once made GetMetricStatistics allocate until the process died.
    assert_eq!(
        put(&c, datum_at(1_000_000_000_000_000_000))
            .await
            .unwrap_err(),
        "InvalidParameterValue"
    );
    assert_eq!(
        put(&c, datum_at(now + 2 * 3600 + 60)).await.unwrap_err(),
        "InvalidParameterValue"
    );
    assert_eq!(
        put(&c, datum_at(now - 15 * 86_400)).await.unwrap_err(),
        "InvalidParameterValue"
    );
    put(&c, datum_at(now + 3600))
        .await
        .expect("an hour ahead is fine");
    put(&c, datum_at(now - 13 * 86_400))
        .await
        .expect("13 days old is fine");
    let nan = MetricDatum::builder()
        .metric_name("Latency")
        .value(f64::NAN)
        .build();
    assert_eq!(put(&c, nan).await.unwrap_err(), "InvalidParameterValue");
    let many = MetricDatum::builder()
        .metric_name("Latency")
        .set_values(Some(vec![1.0; 151]))
        .build();
    assert_eq!(put(&c, many).await.unwrap_err(), "InvalidParameterValue");
}

#[tokio::test]
async fn statistics_requests_are_bounded_as_cloudwatch_bounds_them() {
    let (_emu, c) = cloudwatch();
    let now = START as i64;
    put(&c, datum_at(now - 30)).await.unwrap();
    let stats = |start: i64, end: i64, period: i32| {
        c.get_metric_statistics()
            .namespace("App")
            .metric_name("Latency")
            .start_time(DateTime::from_secs(start))
            .end_time(DateTime::from_secs(end))
            .period(period)
            .statistics(CwStatistic::Sum)
            .send()
    };
    assert_eq!(
        code(stats(0, 1_000_000_000_000_000_000, 60).await),
        "InvalidParameterCombination",
        "more than 1,440 datapoints"
    );
    assert_eq!(
        code(stats(now - 86_400 - 60, now, 60).await),
        "InvalidParameterCombination"
    );
    assert_eq!(
        code(stats(now, now - 60, 60).await),
        "InvalidParameterValue",
        "StartTime after EndTime"
    );
    assert_eq!(
        code(stats(now - 600, now, 7).await),
        "InvalidParameterValue"
    );
    let ok = stats(now - 86_400, now, 60).await.expect("exactly 1,440");
    assert_eq!(ok.datapoints().len(), 1);
    assert_eq!(ok.datapoints()[0].sum(), Some(1.0));

    let query = |id: String, period: i32| {
        MetricDataQuery::builder()
            .id(id)
            .metric_stat(
                MetricStat::builder()
                    .metric(
                        Metric::builder()
                            .namespace("App")
                            .metric_name("Latency")
                            .build(),
                    )
                    .period(period)
                    .stat("Sum")
                    .build(),
            )
            .build()
    };
    let data = |queries: Vec<MetricDataQuery>, start: i64, end: i64| {
        c.get_metric_data()
            .set_metric_data_queries(Some(queries))
            .start_time(DateTime::from_secs(start))
            .end_time(DateTime::from_secs(end))
            .send()
    };
    let q501 = (0..501).map(|i| query(format!("q{i}"), 60)).collect();
    assert_eq!(
        code(data(q501, now - 600, now).await),
        "InvalidParameterValue"
    );
    assert_eq!(
        code(data(vec![query("a".into(), 60)], now, now - 600).await),
        "InvalidParameterValue"
    );
    assert_eq!(
        code(data(vec![query("a".into(), 7)], now - 600, now).await),
        "InvalidParameterValue"
    );
    let alarm = c
        .put_metric_alarm()
        .alarm_name("forever")
        .namespace("App")
        .metric_name("Latency")
        .statistic(CwStatistic::Sum)
        .period(60)
        .evaluation_periods(1_000_000)
        .threshold(1.0)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold)
        .send()
        .await;
    assert_eq!(code(alarm), "InvalidParameterCombination");
}

#[tokio::test]
async fn metric_data_pages_at_max_datapoints() {
    let (_emu, c) = cloudwatch();
    let now = START as i64;
    for minute in 1..=3 {
        put(&c, datum_at(now - minute * 60)).await.unwrap();
    }
    let query = MetricDataQuery::builder()
        .id("a")
        .metric_stat(
            MetricStat::builder()
                .metric(
                    Metric::builder()
                        .namespace("App")
                        .metric_name("Latency")
                        .build(),
                )
                .period(60)
                .stat("Sum")
                .build(),
        )
        .build();
    let page = |token: Option<String>| {
        c.get_metric_data()
            .metric_data_queries(query.clone())
            .start_time(DateTime::from_secs(now - 600))
            .end_time(DateTime::from_secs(now))
            .max_datapoints(2)
            .set_next_token(token)
            .send()
    };
    let first = page(None).await.unwrap();
    let r = &first.metric_data_results()[0];
    assert_eq!(r.values().len(), 2);
    assert_eq!(r.status_code().map(|s| s.as_str()), Some("PartialData"));
    let token = first.next_token().expect("more to read").to_string();
    let second = page(Some(token)).await.unwrap();
    let r = &second.metric_data_results()[0];
    assert_eq!(r.values().len(), 1);
    assert_eq!(r.status_code().map(|s| s.as_str()), Some("Complete"));
    assert!(second.next_token().is_none());
    let bad = page(Some("garbage".into())).await;
    assert_eq!(code(bad), "InvalidNextToken");
}

/// Where `bucket + period` rounds back to `bucket`, the bucketing loop once never moved on and
/// pushed datapoints until memory ran out; data stored before the bounds existed still can.
#[test]
fn statistics_over_timestamps_beyond_float_precision_end() {
    use pipetui_emulator::cloudwatch::evaluate::{Sample, Statistic, aggregate};
    let points: Vec<Sample> = (0..4)
        .map(|i| Sample::value(1e18 + f64::from(i) * 128.0, 1.0))
        .collect();
    let dps = aggregate(&points, 0.0, f64::MAX, 60, &[Statistic::Sum]);
    assert!(
        !dps.is_empty() && dps.len() <= points.len(),
        "{}",
        dps.len()
    );
    let total: f64 = dps.iter().map(|d| d.sum).sum();
    assert_eq!(total, 4.0, "every sample counted once");
}

// ---- CodeBuild on a persistent emulator (paths, orphans) ------------------------------------

struct Env {
    emu: Arc<Emulator>,
    cb: aws_sdk_codebuild::Client,
}

fn persistent(state: &Path) -> Env {
    let emu = Emulator::open_with(
        state,
        Clock::manual(START),
        EngineSettings::new(state.to_path_buf()),
    )
    .expect("emulator");
    let cb = aws_sdk_codebuild::Client::new(&common::sdk_config(&emu));
    Env { emu, cb }
}

fn environment() -> ProjectEnvironment {
    ProjectEnvironment::builder()
        .r#type(EnvironmentType::LinuxContainer)
        .image("aws/codebuild/standard:7.0")
        .compute_type(ComputeType::BuildGeneral1Small)
        .build()
        .expect("environment")
}

/// A NO_SOURCE project running `buildspec`, its artifacts `artifacts`.
async fn project(
    env: &Env,
    name: &str,
    buildspec: &str,
    artifacts: ProjectArtifacts,
) -> Result<(), String> {
    env.cb
        .create_project()
        .name(name)
        .source(
            ProjectSource::builder()
                .r#type(SourceType::NoSource)
                .buildspec(buildspec)
                .build()
                .expect("source"),
        )
        .artifacts(artifacts)
        .environment(environment())
        .service_role("arn:aws:iam::000000000000:role/build")
        .send()
        .await
        .map(|_| ())
        .map_err(|e| code::<(), _, _>(Err(e)))
}

fn no_artifacts() -> ProjectArtifacts {
    ProjectArtifacts::builder()
        .r#type(ArtifactsType::NoArtifacts)
        .build()
        .expect("artifacts")
}

const ECHO: &str = "version: 0.2\nphases:\n  build:\n    commands:\n      - echo hi\n";

// ---- item 7: concurrent writers --------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn eight_concurrent_writers_lose_no_event() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::open(dir.path(), Clock::manual(START)).unwrap();
    let logs = aws_sdk_cloudwatchlogs::Client::new(&common::sdk_config(&emu));
    logs.create_log_group()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    logs.create_log_stream()
        .log_group_name("g")
        .log_stream_name("s")
        .send()
        .await
        .unwrap();
    let base = START as i64 * 1000;
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let logs = logs.clone();
            tokio::spawn(async move {
                for batch in 0..30 {
                    let events = (0..5).map(|k| {
                        let i = batch * 5 + k;
                        InputLogEvent::builder()
                            .timestamp(base + i64::from(w) * 1000 + i)
                            .message(format!("w{w}-{i}"))
                            .build()
                            .unwrap()
                    });
                    logs.put_log_events()
                        .log_group_name("g")
                        .log_stream_name("s")
                        .set_log_events(Some(events.collect()))
                        .send()
                        .await
                        .expect("acknowledged");
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let mut got = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = logs
            .get_log_events()
            .log_group_name("g")
            .log_stream_name("s")
            .start_from_head(true)
            .limit(100)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        got.extend(
            out.events()
                .iter()
                .filter_map(|e| e.message().map(str::to_string)),
        );
        let next = out.next_forward_token().map(str::to_string);
        if next == token {
            break;
        }
        token = next;
    }
    let unique: BTreeSet<_> = got.iter().cloned().collect();
    assert_eq!((got.len(), unique.len()), (1200, 1200), "GetLogEvents");
    let mut filtered = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = logs
            .filter_log_events()
            .log_group_name("g")
            .limit(100)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        filtered.extend(
            out.events()
                .iter()
                .filter_map(|e| e.message().map(str::to_string)),
        );
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    let unique: BTreeSet<_> = filtered.iter().cloned().collect();
    assert_eq!(
        (filtered.len(), unique.len()),
        (1200, 1200),
        "FilterLogEvents"
    );
}
