//! CodeBuild in the emulator through the real SDK (in-process, manual clock): projects, builds
//! that really run the sample app's buildspecs, phases and their transitions, logs streamed to
//! CloudWatch Logs, environment variables, timeouts, StopBuild, simulated projects, listing
//! order, errors, CloudFormation-made projects, and restart recovery.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_codebuild::Client;
use aws_sdk_codebuild::types::{
    ArtifactsType, Build, BuildPhaseType, ComputeType, EnvironmentType, EnvironmentVariable,
    EnvironmentVariableType, ProjectArtifacts, ProjectEnvironment, ProjectSource, SortOrderType,
    SourceType, StatusType, Tag,
};
use serde_json::json;

mod common;

use common::{START, code};
use pipetui::emulator::engine::sample_app;
use pipetui::emulator::protocol::ServiceId;
use pipetui::emulator::{Clock, Emulator, EngineSettings};

struct Env {
    _dir: tempfile::TempDir,
    work: PathBuf,
    emu: Arc<Emulator>,
    cb: Client,
    logs: aws_sdk_cloudwatchlogs::Client,
}

fn setup() -> Env {
    let dir = tempfile::tempdir().expect("temp dir");
    let work = dir.path().join("work");
    let emu = Emulator::in_memory_with(Clock::manual(START), EngineSettings::new(work.clone()))
        .expect("emulator");
    clients(dir, work, emu)
}

fn clients(dir: tempfile::TempDir, work: PathBuf, emu: Arc<Emulator>) -> Env {
    let conf = common::sdk_config(&emu);
    Env {
        _dir: dir,
        work,
        cb: Client::new(&conf),
        logs: aws_sdk_cloudwatchlogs::Client::new(&conf),
        emu,
    }
}

fn environment(vars: Vec<EnvironmentVariable>) -> ProjectEnvironment {
    ProjectEnvironment::builder()
        .r#type(EnvironmentType::LinuxContainer)
        .image("aws/codebuild/standard:7.0")
        .compute_type(ComputeType::BuildGeneral1Small)
        .set_environment_variables(Some(vars))
        .build()
        .expect("environment")
}

fn var(name: &str, value: &str, kind: EnvironmentVariableType) -> EnvironmentVariable {
    EnvironmentVariable::builder()
        .name(name)
        .value(value)
        .r#type(kind)
        .build()
        .expect("variable")
}

fn no_artifacts() -> ProjectArtifacts {
    ProjectArtifacts::builder()
        .r#type(ArtifactsType::NoArtifacts)
        .build()
        .expect("artifacts")
}

/// A project whose source is the inline `buildspec` (NO_SOURCE).
async fn inline_project(env: &Env, name: &str, buildspec: &str) {
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
        .artifacts(no_artifacts())
        .environment(environment(vec![]))
        .service_role("arn:aws:iam::000000000000:role/build")
        .send()
        .await
        .expect("create project");
}

/// A project reading the sample app from the S3 object `in/app`, which this writes.
async fn sample_project(env: &Env, name: &str) -> PathBuf {
    let app = env.emu.settings.s3_dir("in", "app");
    sample_app::write_files(&app).expect("sample app");
    env.cb
        .create_project()
        .name(name)
        .source(
            ProjectSource::builder()
                .r#type(SourceType::S3)
                .location("in/app")
                .build()
                .expect("source"),
        )
        .artifacts(no_artifacts())
        .environment(environment(vec![]))
        .service_role("arn:aws:iam::000000000000:role/build")
        .send()
        .await
        .expect("create project");
    app
}

async fn start(env: &Env, project: &str) -> String {
    let out = env
        .cb
        .start_build()
        .project_name(project)
        .send()
        .await
        .expect("start build");
    out.build_value()
        .and_then(|b| b.id())
        .expect("build id")
        .to_string()
}

async fn get(env: &Env, id: &str) -> Build {
    let out = env
        .cb
        .batch_get_builds()
        .ids(id)
        .send()
        .await
        .expect("batch get builds");
    out.builds().first().cloned().expect("the build")
}

/// Settles the emulator (the build's process finishes) and returns the build.
async fn finished(env: &Env, id: &str) -> Build {
    assert!(
        env.emu.settle(Duration::from_secs(60)),
        "the build never settled"
    );
    let b = get(env, id).await;
    assert!(b.build_complete(), "{b:?}");
    b
}

fn phase(b: &Build, t: BuildPhaseType) -> aws_sdk_codebuild::types::BuildPhase {
    b.phases()
        .iter()
        .find(|p| p.phase_type() == Some(&t))
        .cloned()
        .unwrap_or_else(|| panic!("no phase {t:?} in {:?}", b.phases()))
}

fn phase_types(b: &Build) -> Vec<String> {
    b.phases()
        .iter()
        .filter_map(|p| p.phase_type().map(|t| t.as_str().to_string()))
        .collect()
}

/// Every log line of the build, in order, read through the Logs service.
async fn log_lines(env: &Env, b: &Build) -> Vec<String> {
    let logs = b.logs().expect("logs");
    let out = env
        .logs
        .get_log_events()
        .log_group_name(logs.group_name().expect("group"))
        .log_stream_name(logs.stream_name().expect("stream"))
        .start_from_head(true)
        .send()
        .await
        .expect("get log events");
    out.events()
        .iter()
        .filter_map(|e| e.message().map(str::to_string))
        .collect()
}

fn position(lines: &[String], needle: &str) -> usize {
    lines
        .iter()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in {lines:#?}"))
}

/// Waits (ticking, at most 20 s of real time) until the running build `id` has logged a line
/// containing `needle`: lines reach CloudWatch Logs while the command still runs.
fn wait_for_line(emu: &Emulator, id: &str, needle: &str) {
    let stream = id.split(':').nth(1).expect("uuid");
    let project = id.split(':').next().expect("project");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        let out = emu
            .dispatch(
                ServiceId::Logs,
                "GetLogEvents",
                &json!({ "logGroupName": format!("/aws/codebuild/{project}"), "logStreamName": stream, "startFromHead": true }),
            )
            .expect("log events");
        let seen = out["events"].as_array().is_some_and(|e| {
            e.iter()
                .any(|e| e["message"].as_str().is_some_and(|m| m.contains(needle)))
        });
        if seen {
            return;
        }
        // Not settled (the build runs): this only ticks for a moment.
        emu.settle(Duration::from_millis(20));
    }
    panic!("the build never logged {needle:?}");
}

/// Whether a process whose command line is exactly `args` is alive (Linux /proc).
fn process_alive(args: &[&str]) -> bool {
    let wanted: Vec<u8> = args
        .iter()
        .flat_map(|a| [a.as_bytes(), b"\0"].concat())
        .collect();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .any(|e| std::fs::read(e.path().join("cmdline")).is_ok_and(|c| c == wanted))
}

const ALL_PHASES: [&str; 11] = [
    "SUBMITTED",
    "QUEUED",
    "PROVISIONING",
    "DOWNLOAD_SOURCE",
    "INSTALL",
    "PRE_BUILD",
    "BUILD",
    "POST_BUILD",
    "UPLOAD_ARTIFACTS",
    "FINALIZING",
    "COMPLETED",
];

#[tokio::test]
async fn the_sample_app_builds_as_codepipeline_starts_it() {
    let env = setup();
    sample_project(&env, "orders-build").await;
    let commit = "0123456789abcdef0123456789abcdef01234567";
    // CodePipeline's contract, `initiator` included, which the SDK cannot send.
    let started = env
        .emu
        .dispatch(
            ServiceId::CodeBuild,
            "StartBuild",
            &json!({
                "projectName": "orders-build",
                "sourceVersion": commit,
                "sourceTypeOverride": "S3",
                "sourceLocationOverride": "in/app",
                "artifactsOverride": { "type": "S3", "location": "artifacts", "path": "orders/BuildArtif/abc", "name": "", "packaging": "NONE" },
                "environmentVariablesOverride": [],
                "initiator": "codepipeline/orders",
            }),
        )
        .unwrap();
    let id = started["build"]["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("orders-build:"));
    assert_eq!(started["build"]["buildStatus"], "IN_PROGRESS");
    let b = finished(&env, &id).await;
    assert_eq!(b.build_status(), Some(&StatusType::Succeeded));
    assert_eq!(b.current_phase(), Some("COMPLETED"));
    assert_eq!(b.build_number(), Some(1));
    assert_eq!(b.initiator(), Some("codepipeline/orders"));
    assert_eq!(b.resolved_source_version(), Some(commit));
    assert_eq!(phase_types(&b), ALL_PHASES);
    for p in &b.phases()[..10] {
        assert_eq!(p.phase_status(), Some(&StatusType::Succeeded), "{p:?}");
        assert!(
            p.duration_in_seconds().is_some() && p.end_time().is_some(),
            "{p:?}"
        );
    }
    assert!(b.start_time().is_some() && b.end_time().is_some());
    assert_eq!(
        b.artifacts().and_then(|a| a.location()),
        Some("arn:aws:s3:::artifacts/orders/BuildArtif/abc")
    );
    let out = env
        .emu
        .settings
        .s3_dir("artifacts", "orders/BuildArtif/abc");
    assert!(out.join("orders.sh").is_file());
    assert!(out.join("scripts/start.sh").is_file());
    assert!(out.join("appspec.yml").is_file());
    assert_eq!(
        std::fs::read_to_string(out.join("VERSION")).unwrap().trim(),
        commit
    );
    // The build ran in an isolated copy, never in the input.
    assert!(!env.emu.settings.s3_dir("in", "app").join("dist").exists());
    let logs = b.logs().unwrap();
    assert_eq!(logs.group_name(), Some("/aws/codebuild/orders-build"));
    assert_eq!(Some(logs.stream_name().unwrap()), id.split(':').nth(1));
    let lines = log_lines(&env, &b).await;
    let install = position(&lines, "Entering phase INSTALL");
    let building = position(&lines, &format!("Building orders at {commit}"));
    let packaged = position(&lines, "Packaged 5 entries");
    let uploaded = position(&lines, "Phase complete: UPLOAD_ARTIFACTS State: SUCCEEDED");
    assert!(install < building && building < packaged && packaged < uploaded);
    assert!(lines[install].starts_with("[Container] 2026/01/01 00:00:00.000 "));
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with("Running command sh -n \"$f\"; done")
                || l.contains("Running command for f in"))
    );
}

#[tokio::test]
async fn failing_tests_fail_the_build_phase_and_post_build_still_runs() {
    let env = setup();
    let app = sample_project(&env, "orders-test").await;
    std::fs::write(app.join("switches/fail-tests"), "").unwrap();
    let out = env
        .cb
        .start_build()
        .project_name("orders-test")
        .buildspec_override("buildspec-test.yml")
        .send()
        .await
        .unwrap();
    let b = finished(&env, out.build_value().unwrap().id().unwrap()).await;
    assert_eq!(b.build_status(), Some(&StatusType::Failed));
    let build = phase(&b, BuildPhaseType::Build);
    assert_eq!(build.phase_status(), Some(&StatusType::Failed));
    let ctx = &build.contexts()[0];
    assert_eq!(ctx.status_code(), Some("COMMAND_EXECUTION_ERROR"));
    assert_eq!(
        ctx.message(),
        Some("Error while executing command: sh tests/run.sh. Reason: exit status 1")
    );
    assert_eq!(
        phase(&b, BuildPhaseType::PostBuild).phase_status(),
        Some(&StatusType::Succeeded)
    );
    let lines = log_lines(&env, &b).await;
    let failed = position(&lines, "FAIL switch: switches/fail-tests is present");
    let post = position(&lines, "Test phase finished");
    assert!(failed < post);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Command did not exit successfully sh tests/run.sh exit status 1"))
    );
}

#[tokio::test]
async fn commands_see_project_override_buildspec_and_codebuild_variables() {
    let env = setup();
    let spec = [
        "version: 0.2",
        "env:",
        "  variables:",
        "    FROM_SPEC: spec",
        "    SHARED: spec",
        "  parameter-store:",
        "    SECRET: /prod/token",
        "phases:",
        "  build:",
        "    commands:",
        "      - echo \"vars $FROM_SPEC $SHARED $FROM_PROJECT $FROM_OVERRIDE secret=$SECRET\"",
        "      - echo \"id=$CODEBUILD_BUILD_ID num=$CODEBUILD_BUILD_NUMBER by=$CODEBUILD_INITIATOR ok=$CODEBUILD_BUILD_SUCCEEDING\"",
        "      - echo \"src=$CODEBUILD_SRC_DIR pwd=$(pwd)\"",
        "      - echo to-stderr >&2",
    ]
    .join("\n");
    env.cb
        .create_project()
        .name("vars")
        .source(
            ProjectSource::builder()
                .r#type(SourceType::NoSource)
                .buildspec(&spec)
                .build()
                .unwrap(),
        )
        .artifacts(no_artifacts())
        .environment(environment(vec![
            var(
                "FROM_PROJECT",
                "project",
                EnvironmentVariableType::Plaintext,
            ),
            var("SHARED", "project", EnvironmentVariableType::Plaintext),
        ]))
        .service_role("arn:aws:iam::000000000000:role/build")
        .send()
        .await
        .unwrap();
    let out = env
        .cb
        .start_build()
        .project_name("vars")
        .environment_variables_override(var(
            "FROM_OVERRIDE",
            "override",
            EnvironmentVariableType::Plaintext,
        ))
        .send()
        .await
        .unwrap();
    let id = out.build_value().unwrap().id().unwrap().to_string();
    let b = finished(&env, &id).await;
    let lines = log_lines(&env, &b).await;
    assert_eq!(b.build_status(), Some(&StatusType::Succeeded), "{lines:#?}");
    assert!(
        lines.contains(&"vars spec project project override secret=********".to_string()),
        "{lines:#?}"
    );
    assert!(
        lines.contains(&format!("id={id} num=1 by=pipetui ok=1")),
        "{lines:#?}"
    );
    let src = position(&lines, "src=/");
    let (a, b2) = lines[src]
        .trim_start_matches("src=")
        .split_once(" pwd=")
        .unwrap();
    assert_eq!(a, b2);
    assert!(Path::new(a).starts_with(env.work.join("builds/vars")));
    assert!(lines.contains(&"to-stderr".to_string()));
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("/prod/token") && l.contains("secret="))
    );
    let names: Vec<&str> = b
        .environment()
        .unwrap()
        .environment_variables()
        .iter()
        .map(|v| v.name())
        .collect();
    assert_eq!(names, ["FROM_PROJECT", "SHARED", "FROM_OVERRIDE"]);
}

#[tokio::test]
async fn on_failure_continue_and_finally_follow_codebuild() {
    let env = setup();
    inline_project(
        &env,
        "flow",
        "version: 0.2\nphases:\n  install:\n    on-failure: CONTINUE\n    commands:\n      - \"false\"\n\
         \x20 pre_build:\n    commands:\n      - echo pre-ran\n\
         \x20 build:\n    commands:\n      - exit 3\n      - echo never\n    finally:\n      - echo finally-ran\n\
         \x20 post_build:\n    commands:\n      - echo \"post succeeding=$CODEBUILD_BUILD_SUCCEEDING\"\n",
    )
    .await;
    let id = start(&env, "flow").await;
    let b = finished(&env, &id).await;
    assert_eq!(b.build_status(), Some(&StatusType::Failed));
    assert_eq!(
        phase(&b, BuildPhaseType::Install).phase_status(),
        Some(&StatusType::Failed)
    );
    assert_eq!(
        phase(&b, BuildPhaseType::PreBuild).phase_status(),
        Some(&StatusType::Succeeded)
    );
    let build = phase(&b, BuildPhaseType::Build);
    assert_eq!(build.phase_status(), Some(&StatusType::Failed));
    assert_eq!(
        build.contexts()[0].message(),
        Some("Error while executing command: exit 3. Reason: exit status 3")
    );
    let lines = log_lines(&env, &b).await;
    assert!(position(&lines, "pre-ran") < position(&lines, "finally-ran"));
    assert!(!lines.contains(&"never".to_string()));
    assert!(lines.contains(&"post succeeding=0".to_string()));

    // Without CONTINUE a PRE_BUILD failure skips straight to FINALIZING.
    inline_project(
        &env,
        "abort",
        "version: 0.2\nphases:\n  pre_build:\n    commands:\n      - exit 1\n  build:\n    commands:\n      - echo built\n",
    )
    .await;
    let id = start(&env, "abort").await;
    let b = finished(&env, &id).await;
    assert_eq!(b.build_status(), Some(&StatusType::Failed));
    assert_eq!(
        phase_types(&b),
        [
            "SUBMITTED",
            "QUEUED",
            "PROVISIONING",
            "DOWNLOAD_SOURCE",
            "INSTALL",
            "PRE_BUILD",
            "FINALIZING",
            "COMPLETED"
        ]
    );
    assert!(!log_lines(&env, &b).await.contains(&"built".to_string()));
}

#[tokio::test]
async fn version_0_2_keeps_one_shell_across_commands_and_exports_variables() {
    let env = setup();
    let spec = |version: &str| {
        [
            &format!("version: {version}"),
            "env:",
            "  exported-variables:",
            "    - RELEASE",
            "phases:",
            "  pre_build:",
            "    commands:",
            "      - mkdir -p sub && cd sub",
            "      - export RELEASE=r42",
            "  build:",
            "    commands:",
            "      - echo \"in $(basename \"$(pwd)\") release=$RELEASE\"",
        ]
        .join("\n")
    };
    inline_project(&env, "shell-02", &spec("0.2")).await;
    let id = start(&env, "shell-02").await;
    let b = finished(&env, &id).await;
    assert_eq!(b.build_status(), Some(&StatusType::Succeeded));
    assert!(
        log_lines(&env, &b)
            .await
            .contains(&"in sub release=r42".to_string())
    );
    let exported = b.exported_environment_variables();
    assert_eq!(exported.len(), 1);
    assert_eq!(exported[0].name(), Some("RELEASE"));
    assert_eq!(exported[0].value(), Some("r42"));

    // 0.1 runs every command in a fresh shell.
    inline_project(&env, "shell-01", &spec("0.1")).await;
    let id = start(&env, "shell-01").await;
    let b = finished(&env, &id).await;
    assert!(
        log_lines(&env, &b)
            .await
            .contains(&"in src release=".to_string())
    );
}

#[tokio::test]
async fn a_bad_buildspec_fails_download_source() {
    let env = setup();
    inline_project(&env, "bad", "version: 0.2\nphases:\n  build: [\n").await;
    let id = start(&env, "bad").await;
    let b = finished(&env, &id).await;
    assert_eq!(b.build_status(), Some(&StatusType::Failed));
    let p = phase(&b, BuildPhaseType::DownloadSource);
    assert_eq!(p.phase_status(), Some(&StatusType::Failed));
    assert_eq!(p.contexts()[0].status_code(), Some("YAML_FILE_ERROR"));
}

#[tokio::test]
async fn a_build_past_its_timeout_is_killed_and_timed_out() {
    let env = setup();
    inline_project(
        &env,
        "slow",
        "version: 0.2\nphases:\n  build:\n    commands:\n      - echo sleeping\n      - sleep 611\n      - echo woke\n",
    )
    .await;
    let out = env
        .cb
        .start_build()
        .project_name("slow")
        .timeout_in_minutes_override(5)
        .send()
        .await
        .unwrap();
    let id = out.build_value().unwrap().id().unwrap().to_string();
    assert_eq!(out.build_value().unwrap().timeout_in_minutes(), Some(5));
    env.emu.clock.advance(301.0);
    let b = finished(&env, &id).await;
    assert_eq!(b.build_status(), Some(&StatusType::TimedOut));
    assert!(
        b.phases()
            .iter()
            .any(|p| p.phase_status() == Some(&StatusType::TimedOut))
    );
    assert!(!log_lines(&env, &b).await.contains(&"woke".to_string()));
    assert!(
        !process_alive(&["sleep", "611"]),
        "the whole process group is killed"
    );
}

#[tokio::test]
async fn stop_build_kills_the_process() {
    let env = setup();
    inline_project(
        &env,
        "stoppable",
        "version: 0.2\nphases:\n  build:\n    commands:\n      - echo going to sleep\n      - sleep 612\n      - echo woke\n",
    )
    .await;
    let id = start(&env, "stoppable").await;
    wait_for_line(&env.emu, &id, "Running command sleep 612");
    let running = get(&env, &id).await;
    assert_eq!(running.build_status(), Some(&StatusType::InProgress));
    assert_eq!(running.current_phase(), Some("BUILD"));
    let lines = log_lines(&env, &running).await;
    assert!(
        lines.contains(&"going to sleep".to_string()),
        "streamed while running"
    );
    let stopped = env.cb.stop_build().id(&id).send().await.unwrap();
    assert_eq!(stopped.build_value().unwrap().id(), Some(id.as_str()));
    let b = finished(&env, &id).await;
    assert_eq!(b.build_status(), Some(&StatusType::Stopped));
    assert_eq!(
        phase(&b, BuildPhaseType::Build).phase_status(),
        Some(&StatusType::Stopped)
    );
    assert!(!log_lines(&env, &b).await.contains(&"woke".to_string()));
    assert!(!process_alive(&["sleep", "612"]));
}

#[tokio::test]
async fn a_simulated_project_replays_its_buildspec_without_running_it() {
    let env = setup();
    let marker = env.work.join("marker");
    let spec = format!(
        "version: 0.2\nphases:\n  build:\n    commands:\n      - touch {}\n      - echo built\n",
        marker.display()
    );
    env.cb
        .create_project()
        .name("sim")
        .source(
            ProjectSource::builder()
                .r#type(SourceType::NoSource)
                .buildspec(&spec)
                .build()
                .unwrap(),
        )
        .artifacts(no_artifacts())
        .environment(environment(vec![]))
        .service_role("arn:aws:iam::000000000000:role/build")
        .tags(
            Tag::builder()
                .key("pipetui:simulated")
                .value("true")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let id = start(&env, "sim").await;
    assert!(env.emu.settle(Duration::from_secs(10)));
    let b = get(&env, &id).await;
    assert_eq!(
        b.build_status(),
        Some(&StatusType::InProgress),
        "paced on the clock"
    );
    for _ in 0..60 {
        env.emu.clock.advance(1.0);
        assert!(env.emu.settle(Duration::from_secs(10)));
    }
    let b = get(&env, &id).await;
    assert_eq!(b.build_status(), Some(&StatusType::Succeeded));
    assert_eq!(phase_types(&b), ALL_PHASES);
    assert!(
        b.phases()[..10]
            .iter()
            .all(|p| p.phase_status() == Some(&StatusType::Succeeded))
    );
    assert!(!marker.exists(), "a simulated build runs nothing");
    let vars = b.environment().unwrap().environment_variables();
    assert!(
        vars.iter()
            .any(|v| v.name() == "PIPETUI_SIMULATED" && v.value() == "true")
    );
    let lines = log_lines(&env, &b).await;
    assert!(lines.iter().any(|l| l.contains("SIMULATED")));
    let touch = position(&lines, &format!("[simulated] touch {}", marker.display()));
    let echo = position(&lines, "[simulated] echo built");
    assert!(touch < echo);
    let secs = b.end_time().unwrap().secs() - b.start_time().unwrap().secs();
    assert!(
        secs >= 6,
        "two commands take a few emulated seconds each, took {secs}"
    );
}

#[tokio::test]
async fn builds_list_newest_first_with_paging_order() {
    let env = setup();
    inline_project(
        &env,
        "listed",
        "version: 0.2\nphases:\n  build:\n    commands:\n      - echo hi\n",
    )
    .await;
    inline_project(
        &env,
        "other",
        "version: 0.2\nphases:\n  build:\n    commands:\n      - echo hi\n",
    )
    .await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(start(&env, "listed").await);
        finished(&env, ids.last().unwrap()).await;
        env.emu.clock.advance(1.0);
    }
    let other = start(&env, "other").await;
    finished(&env, &other).await;
    let newest = env
        .cb
        .list_builds_for_project()
        .project_name("listed")
        .send()
        .await
        .unwrap();
    let rev: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(newest.ids(), rev.as_slice());
    let oldest = env
        .cb
        .list_builds_for_project()
        .project_name("listed")
        .sort_order(SortOrderType::Ascending)
        .send()
        .await
        .unwrap();
    assert_eq!(oldest.ids(), ids.as_slice());
    let all = env.cb.list_builds().send().await.unwrap();
    assert_eq!(all.ids().len(), 4);
    assert_eq!(all.ids()[0], other);
    let numbers: Vec<i64> = env
        .cb
        .batch_get_builds()
        .set_ids(Some(ids.clone()))
        .send()
        .await
        .unwrap()
        .builds()
        .iter()
        .filter_map(|b| b.build_number())
        .collect();
    assert_eq!(numbers, [1, 2, 3]);
}

#[tokio::test]
async fn build_ids_page_by_a_hundred() {
    let env = setup();
    env.cb
        .create_project()
        .name("many")
        .source(
            ProjectSource::builder()
                .r#type(SourceType::NoSource)
                .buildspec("version: 0.2\nphases:\n  build:\n    commands:\n      - echo hi\n")
                .build()
                .unwrap(),
        )
        .artifacts(no_artifacts())
        .environment(environment(vec![]))
        .service_role("r")
        .tags(
            Tag::builder()
                .key("pipetui:simulated")
                .value("true")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let mut ids = Vec::new();
    for _ in 0..101 {
        ids.push(start(&env, "many").await);
        env.emu.clock.advance(1.0);
    }
    let first = env
        .cb
        .list_builds_for_project()
        .project_name("many")
        .send()
        .await
        .unwrap();
    assert_eq!(first.ids().len(), 100);
    assert_eq!(first.ids()[0], ids[100], "newest first");
    let second = env
        .cb
        .list_builds_for_project()
        .project_name("many")
        .next_token(first.next_token().expect("a second page"))
        .send()
        .await
        .unwrap();
    assert_eq!(second.ids(), [ids[0].clone()]);
    assert!(second.next_token().is_none());
    let all: Vec<String> = env
        .cb
        .list_builds()
        .sort_order(SortOrderType::Ascending)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(all, ids);
}

#[tokio::test]
async fn errors_are_codebuilds() {
    let env = setup();
    assert_eq!(
        code(env.cb.start_build().project_name("nope").send().await),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(
            env.cb
                .list_builds_for_project()
                .project_name("nope")
                .send()
                .await
        ),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(env.cb.stop_build().id("nope:123").send().await),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(
            env.cb
                .update_project()
                .name("nope")
                .description("x")
                .send()
                .await
        ),
        "ResourceNotFoundException"
    );
    inline_project(
        &env,
        "once",
        "version: 0.2\nphases:\n  build:\n    commands:\n      - sleep 600\n",
    )
    .await;
    let dup = env
        .cb
        .create_project()
        .name("once")
        .source(
            ProjectSource::builder()
                .r#type(SourceType::NoSource)
                .buildspec("version: 0.2")
                .build()
                .unwrap(),
        )
        .artifacts(no_artifacts())
        .environment(environment(vec![]))
        .service_role("r")
        .send()
        .await;
    assert_eq!(code(dup), "ResourceAlreadyExistsException");
    let no_spec = env
        .cb
        .create_project()
        .name("nospec")
        .source(
            ProjectSource::builder()
                .r#type(SourceType::NoSource)
                .build()
                .unwrap(),
        )
        .artifacts(no_artifacts())
        .environment(environment(vec![]))
        .service_role("r")
        .send()
        .await;
    assert_eq!(code(no_spec), "InvalidInputException");
    let got = env
        .cb
        .batch_get_builds()
        .ids("once:missing")
        .send()
        .await
        .unwrap();
    assert!(got.builds().is_empty());
    assert_eq!(got.builds_not_found(), ["once:missing"]);
    let got = env
        .cb
        .batch_get_projects()
        .names("once")
        .names("ghost")
        .send()
        .await
        .unwrap();
    assert_eq!(got.projects()[0].name(), Some("once"));
    assert_eq!(got.projects_not_found(), ["ghost"]);
    // A project's concurrent build limit is CodeBuild's AccountLimitExceededException.
    env.cb
        .update_project()
        .name("once")
        .concurrent_build_limit(1)
        .send()
        .await
        .unwrap();
    let first = start(&env, "once").await;
    assert_eq!(
        code(env.cb.start_build().project_name("once").send().await),
        "AccountLimitExceededException"
    );
    env.cb.stop_build().id(&first).send().await.unwrap();
    finished(&env, &first).await;
}

#[tokio::test]
async fn projects_update_list_and_delete() {
    let env = setup();
    inline_project(&env, "b-proj", "version: 0.2").await;
    env.emu.clock.advance(5.0);
    inline_project(&env, "a-proj", "version: 0.2").await;
    let names = env.cb.list_projects().send().await.unwrap();
    assert_eq!(names.projects(), ["a-proj", "b-proj"]);
    let by_time = env
        .cb
        .list_projects()
        .sort_by(aws_sdk_codebuild::types::ProjectSortByType::CreatedTime)
        .sort_order(SortOrderType::Descending)
        .send()
        .await
        .unwrap();
    assert_eq!(by_time.projects(), ["a-proj", "b-proj"]);
    env.emu.clock.advance(5.0);
    let updated = env
        .cb
        .update_project()
        .name("b-proj")
        .description("the b project")
        .timeout_in_minutes(30)
        .send()
        .await
        .unwrap();
    let p = updated.project().unwrap();
    assert_eq!(p.description(), Some("the b project"));
    assert_eq!(p.timeout_in_minutes(), Some(30));
    assert_eq!(
        p.arn(),
        Some("arn:aws:codebuild:us-east-1:000000000000:project/b-proj")
    );
    assert!(p.last_modified().unwrap().secs() > p.created().unwrap().secs());
    assert_eq!(
        p.environment().unwrap().image(),
        "aws/codebuild/standard:7.0"
    );
    env.cb.delete_project().name("b-proj").send().await.unwrap();
    env.cb.delete_project().name("b-proj").send().await.unwrap();
    assert_eq!(
        env.cb.list_projects().send().await.unwrap().projects(),
        ["a-proj"]
    );
}

#[tokio::test]
async fn a_codecommit_project_builds_a_commit_of_its_repository() {
    let env = setup();
    env.cb
        .create_project()
        .name("from-git")
        .source(
            ProjectSource::builder()
                .r#type(SourceType::Codecommit)
                .location("https://git-codecommit.us-east-1.amazonaws.com/v1/repos/orders")
                .build()
                .unwrap(),
        )
        .artifacts(
            ProjectArtifacts::builder()
                .r#type(ArtifactsType::S3)
                .location("bucket")
                .path("orders")
                .name("out")
                .build()
                .unwrap(),
        )
        .environment(environment(vec![]))
        .service_role("r")
        .send()
        .await
        .unwrap();
    let id = start(&env, "from-git").await;
    let b = finished(&env, &id).await;
    assert_eq!(
        b.build_status(),
        Some(&StatusType::Succeeded),
        "{:#?}",
        log_lines(&env, &b).await
    );
    let repo = env.emu.settings.source_repo("orders").unwrap();
    let head = sample_app::git(&repo, &["rev-parse", "HEAD"]).unwrap();
    assert_eq!(b.resolved_source_version(), Some(head.trim()));
    let out = env.emu.settings.s3_dir("bucket", "orders/out");
    assert_eq!(
        std::fs::read_to_string(out.join("VERSION")).unwrap().trim(),
        head.trim()
    );
    assert!(
        !repo.join("dist").exists(),
        "never built inside the repository"
    );
}

/// The stack's status once it stops progressing (CloudFormation moves one resource per
/// emulated second, and its tests poll DescribeStacks the same way).
async fn stack_settled(env: &Env, cfn: &aws_sdk_cloudformation::Client) -> String {
    for _ in 0..300 {
        // A deleted stack is not found by name any more.
        let Ok(out) = cfn.describe_stacks().stack_name("builds").send().await else {
            return "DELETE_COMPLETE".into();
        };
        let status = out.stacks()[0]
            .stack_status()
            .expect("stack status")
            .as_str()
            .to_string();
        if !status.ends_with("_IN_PROGRESS") {
            return status;
        }
        env.emu.clock.advance(1.0);
        assert!(env.emu.settle(Duration::from_secs(10)));
    }
    panic!("the stack never settled");
}

#[tokio::test]
async fn a_cloudformation_project_keeps_its_properties() {
    let env = setup();
    let template = json!({
        "Resources": { "Build": { "Type": "AWS::CodeBuild::Project", "Properties": {
            "Name": "cfn-build",
            "ServiceRole": "arn:aws:iam::000000000000:role/build",
            "TimeoutInMinutes": "15",
            "Source": { "Type": "NO_SOURCE", "BuildSpec": "version: 0.2\nphases:\n  build:\n    commands:\n      - echo from-cfn\n" },
            "Environment": { "Type": "LINUX_CONTAINER", "ComputeType": "BUILD_GENERAL1_SMALL", "Image": "img",
                "PrivilegedMode": "true",
                "EnvironmentVariables": [{ "Name": "STAGE", "Value": "prod", "Type": "PLAINTEXT" }] },
            "Artifacts": { "Type": "NO_ARTIFACTS" },
            "LogsConfig": { "CloudWatchLogs": { "Status": "ENABLED", "GroupName": "/custom/builds", "StreamName": "cfn" } },
            "Tags": [{ "Key": "team", "Value": "orders" }]
        } } }
    });
    let conf = common::sdk_config(&env.emu);
    let cfn = aws_sdk_cloudformation::Client::new(&conf);
    cfn.create_stack()
        .stack_name("builds")
        .template_body(template.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(stack_settled(&env, &cfn).await, "CREATE_COMPLETE");
    let stack = cfn
        .describe_stack_events()
        .stack_name("builds")
        .send()
        .await
        .unwrap();
    let reasons: Vec<_> = stack
        .stack_events()
        .iter()
        .filter_map(|e| e.resource_status_reason())
        .collect();
    let got = env
        .cb
        .batch_get_projects()
        .names("cfn-build")
        .send()
        .await
        .unwrap();
    let p = got
        .projects()
        .first()
        .unwrap_or_else(|| panic!("the stack made no project: {reasons:?}"));
    assert_eq!(p.timeout_in_minutes(), Some(15));
    assert_eq!(p.source().unwrap().r#type(), &SourceType::NoSource);
    let e = p.environment().unwrap();
    assert_eq!(e.privileged_mode(), Some(true));
    assert_eq!(e.environment_variables()[0].name(), "STAGE");
    assert_eq!(p.tags()[0].key(), Some("team"));
    let id = start(&env, "cfn-build").await;
    let b = finished(&env, &id).await;
    let logs = b.logs().unwrap();
    assert_eq!(logs.group_name(), Some("/custom/builds"));
    assert_eq!(
        logs.stream_name(),
        Some(format!("cfn/{}", id.split(':').nth(1).unwrap()).as_str())
    );
    assert!(log_lines(&env, &b).await.contains(&"from-cfn".to_string()));

    // A template update changes the project in place; a removed property goes back to default.
    let created = p.created().unwrap().secs();
    let mut updated = template.clone();
    let props = &mut updated["Resources"]["Build"]["Properties"];
    props["TimeoutInMinutes"] = json!(20);
    props.as_object_mut().unwrap().remove("Tags");
    cfn.update_stack()
        .stack_name("builds")
        .template_body(updated.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(stack_settled(&env, &cfn).await, "UPDATE_COMPLETE");
    let got = env
        .cb
        .batch_get_projects()
        .names("cfn-build")
        .send()
        .await
        .unwrap();
    let p = &got.projects()[0];
    assert_eq!(p.timeout_in_minutes(), Some(20));
    assert!(p.tags().is_empty());
    assert_eq!(p.created().unwrap().secs(), created);
    assert!(p.last_modified().unwrap().secs() > created);

    cfn.delete_stack()
        .stack_name("builds")
        .send()
        .await
        .unwrap();
    assert_eq!(stack_settled(&env, &cfn).await, "DELETE_COMPLETE");
    let got = env
        .cb
        .batch_get_projects()
        .names("cfn-build")
        .send()
        .await
        .unwrap();
    assert!(got.projects().is_empty());
}

#[tokio::test]
async fn a_build_running_when_the_emulator_stops_fails_on_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let (id, sim) = {
        let emu = Emulator::open(&state, Clock::manual(START)).unwrap();
        let env = clients(tempfile::tempdir().unwrap(), state.clone(), emu);
        env.cb
            .create_project()
            .name("replayed")
            .source(
                ProjectSource::builder()
                    .r#type(SourceType::NoSource)
                    .buildspec("version: 0.2\nphases:\n  build:\n    commands:\n      - echo hi\n")
                    .build()
                    .unwrap(),
            )
            .artifacts(no_artifacts())
            .environment(environment(vec![]))
            .service_role("r")
            .tags(
                Tag::builder()
                    .key("pipetui:simulated")
                    .value("true")
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let sim = start(&env, "replayed").await;
        inline_project(
            &env,
            "long",
            "version: 0.2\nphases:\n  build:\n    commands:\n      - sleep 600\n",
        )
        .await;
        let id = start(&env, "long").await;
        wait_for_line(&env.emu, &id, "Running command sleep 600");
        assert_eq!(
            get(&env, &id).await.build_status(),
            Some(&StatusType::InProgress)
        );
        (id, sim)
    };
    let emu = Emulator::open(&state, Clock::manual(START + 10.0)).unwrap();
    let env = clients(dir, state, emu);
    let b = get(&env, &id).await;
    assert_eq!(b.build_status(), Some(&StatusType::Failed), "{b:#?}");
    assert!(b.build_complete());
    let failed: Vec<_> = b
        .phases()
        .iter()
        .filter(|p| p.phase_status() == Some(&StatusType::Failed))
        .collect();
    assert_eq!(failed.len(), 1, "{:?}", b.phases());
    assert_eq!(failed[0].phase_type(), Some(&BuildPhaseType::Build));
    assert_eq!(
        failed[0].contexts()[0].message(),
        Some("Build interrupted: the emulator restarted while it was running")
    );
    assert_eq!(b.current_phase(), Some("COMPLETED"));
    let lines = log_lines(&env, &b).await;
    assert!(lines.iter().any(|l| l.contains("the emulator restarted")));

    // A simulated build has no process to lose: it carries on from its stored plan.
    assert_eq!(
        get(&env, &sim).await.build_status(),
        Some(&StatusType::InProgress)
    );
    for _ in 0..60 {
        env.emu.clock.advance(1.0);
        assert!(env.emu.settle(Duration::from_secs(10)));
    }
    assert_eq!(
        get(&env, &sim).await.build_status(),
        Some(&StatusType::Succeeded)
    );
}
