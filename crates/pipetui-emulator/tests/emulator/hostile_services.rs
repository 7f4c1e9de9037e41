//! Hostile input to the services (issue 11): loops whose size the input decides are bounded as
//! AWS bounds them, names never become paths outside the work directory, processes a crashed
//! emulator left behind are killed on reopen, and concurrent writers lose no log event.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    Metric, MetricDataQuery, MetricDatum, MetricStat, Statistic as CwStatistic,
};
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use aws_sdk_codebuild::types::{
    ArtifactsType, ComputeType, EnvironmentType, ProjectArtifacts, ProjectEnvironment,
    ProjectSource, SourceType,
};
use aws_sdk_codedeploy::types::DeploymentStatus;

use crate::codedeploy_support::bundle;
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

// ---- item 4: names that become paths ---------------------------------------------------------

fn s3_artifacts(location: &str, path: &str, name: &str) -> ProjectArtifacts {
    ProjectArtifacts::builder()
        .r#type(ArtifactsType::S3)
        .location(location)
        .path(path)
        .name(name)
        .build()
        .expect("artifacts")
}

/// An emulator keeping its state in `state`, and its CodeBuild client.
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

#[tokio::test]
async fn an_artifact_location_that_is_not_a_bucket_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let env = persistent(&state);
    // `..` once made two builds delete emulator.db, its WAL and the log.
    for bad in ["..", ".", "a/../..", "UPPER", "x"] {
        let created = project(&env, "dots", ECHO, s3_artifacts(bad, "", "")).await;
        assert_eq!(created.unwrap_err(), "InvalidInputException", "{bad}");
    }
    project(&env, "fine", ECHO, no_artifacts()).await.unwrap();
    let start = env
        .cb
        .start_build()
        .project_name("fine")
        .artifacts_override(s3_artifacts("..", "", ""))
        .send()
        .await;
    assert_eq!(code(start), "InvalidInputException");
    assert!(state.join("emulator.db").is_file());
}

#[tokio::test]
async fn an_artifact_location_linked_out_of_the_work_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(outside.join("orders/out")).unwrap();
    std::fs::write(outside.join("orders/out/keep.txt"), "mine").unwrap();
    let env = persistent(&state);
    std::fs::create_dir_all(state.join("s3")).unwrap();
    std::os::unix::fs::symlink(&outside, state.join("s3/linked")).unwrap();
    let spec = "version: 0.2\nphases:\n  build:\n    commands:\n      - echo x > a.txt\nartifacts:\n  files:\n    - a.txt\n";
    project(
        &env,
        "linked",
        spec,
        s3_artifacts("linked", "orders", "out"),
    )
    .await
    .expect("a valid bucket name");
    let start = env.cb.start_build().project_name("linked").send().await;
    assert_eq!(code(start), "InternalFailure");
    assert!(env.emu.settle(Duration::from_secs(30)));
    assert_eq!(
        std::fs::read_to_string(outside.join("orders/out/keep.txt")).unwrap(),
        "mine"
    );
    let builds = env.cb.list_builds().send().await.unwrap();
    assert!(builds.ids().is_empty(), "a refused start records no build");
}

#[tokio::test]
async fn codedeploy_names_of_dots_stay_inside_the_work_directory() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let mut settings = EngineSettings::new(work.clone());
    settings.hosts_per_group = 1;
    let emu = Emulator::in_memory_with(Clock::manual(START), settings).unwrap();
    let cd = aws_sdk_codedeploy::Client::new(&common::sdk_config(&emu));
    let long = "g".repeat(101);
    let too_long = cd
        .create_deployment_group()
        .application_name("x")
        .deployment_group_name(&long)
        .service_role_arn("r")
        .send()
        .await;
    assert_eq!(code(too_long), "InvalidDeploymentGroupNameException");
    // AWS allows any 1–100 characters, `..` included: the name must not become a path.
    cd.create_application()
        .application_name("..")
        .send()
        .await
        .unwrap();
    cd.create_deployment_group()
        .application_name("..")
        .deployment_group_name("..")
        .service_role_arn("r")
        .send()
        .await
        .unwrap();
    let rev = bundle(&emu, "dots/v1", &[], |_| {});
    let id = cd
        .create_deployment()
        .application_name("..")
        .deployment_group_name("..")
        .revision(rev)
        .send()
        .await
        .unwrap()
        .deployment_id()
        .unwrap()
        .to_string();
    let mut status = DeploymentStatus::Created;
    for _ in 0..600 {
        emu.clock.advance(1.0);
        assert!(emu.settle(Duration::from_secs(30)));
        let d = cd.get_deployment().deployment_id(&id).send().await.unwrap();
        status = d.deployment_info().unwrap().status().unwrap().clone();
        if matches!(
            status,
            DeploymentStatus::Succeeded | DeploymentStatus::Failed
        ) {
            break;
        }
    }
    assert_eq!(status, DeploymentStatus::Succeeded);
    let beside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        beside,
        ["work"],
        "nothing written beside the work directory"
    );
    assert!(work.join("hosts").is_dir());
}

// ---- item 5: orphans -------------------------------------------------------------------------

/// Whether `pid` runs (a zombie waiting for its reaper does not).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().to_string())
        })
        .is_some_and(|rest| !rest.starts_with('Z') && !rest.starts_with('X'))
}

/// Kills a process the test started should the test fail before the emulator does.
struct Reap(u32);

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-9", &self.0.to_string()])
            .status();
    }
}

#[tokio::test]
async fn a_build_left_running_by_a_crashed_emulator_is_killed_on_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let pid_file = dir.path().join("sleep.pid");
    let env = persistent(&state);
    let spec = format!(
        "version: 0.2\nphases:\n  build:\n    commands:\n      - 'sleep 600 & echo $! > {}; wait'\n",
        pid_file.display()
    );
    project(&env, "orphan", &spec, no_artifacts())
        .await
        .unwrap();
    env.cb
        .start_build()
        .project_name("orphan")
        .send()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let pid = loop {
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
        {
            break pid;
        }
        assert!(Instant::now() < deadline, "the build never started sleep");
        std::thread::sleep(Duration::from_millis(20));
    };
    let _reap = Reap(pid);
    assert!(running(pid));
    // kill -9: the emulator never gets to stop its builds.
    std::mem::forget(env.emu.clone());
    let reopened = Emulator::open_with(
        &state,
        Clock::manual(START + 10.0),
        EngineSettings::new(state.clone()),
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while running(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!running(pid), "the old build's sleep still runs");
    drop(reopened);
}

#[tokio::test]
async fn a_hook_left_running_by_a_crashed_emulator_is_killed_on_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let pid_file = dir.path().join("hook.pid");
    let settings = || {
        let mut s = EngineSettings::new(state.clone());
        s.hosts_per_group = 1;
        s
    };
    let emu = Emulator::open_with(&state, Clock::manual(START), settings()).unwrap();
    let cd = aws_sdk_codedeploy::Client::new(&common::sdk_config(&emu));
    cd.create_application()
        .application_name("hooks")
        .send()
        .await
        .unwrap();
    cd.create_deployment_group()
        .application_name("hooks")
        .deployment_group_name("g")
        .service_role_arn("r")
        .send()
        .await
        .unwrap();
    let script = format!("sleep 600 &\necho $! > {}\nwait\n", pid_file.display());
    let rev = bundle(&emu, "hooks/v1", &[], |d| {
        std::fs::write(d.join("scripts/before_install.sh"), &script).unwrap()
    });
    cd.create_deployment()
        .application_name("hooks")
        .deployment_group_name("g")
        .revision(rev)
        .send()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let pid = loop {
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
        {
            break pid;
        }
        assert!(Instant::now() < deadline, "the hook never started sleep");
        emu.clock.advance(1.0);
        // The hook keeps running, so this never settles: it only ticks for a moment.
        emu.settle(Duration::from_millis(50));
    };
    let _reap = Reap(pid);
    assert!(running(pid));
    std::mem::forget(emu);
    let reopened = Emulator::open_with(&state, Clock::manual(START + 60.0), settings()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while running(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!running(pid), "the old deployment's hook still runs");
    drop(reopened);
}

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
