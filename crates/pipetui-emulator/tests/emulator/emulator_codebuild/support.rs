//! Helpers of the CodeBuild tests: an emulator working in a temporary directory, projects, and
//! reading builds and their logs back through the SDK.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_codebuild::Client;
use aws_sdk_codebuild::types::{
    ArtifactsType, Build, BuildPhaseType, ComputeType, EnvironmentType, EnvironmentVariable,
    EnvironmentVariableType, ProjectArtifacts, ProjectEnvironment, ProjectSource, SourceType,
};
use serde_json::json;

use super::common::{self, START};
use pipetui_emulator::engine::sample_app;
use pipetui_emulator::protocol::ServiceId;
use pipetui_emulator::{Clock, Emulator, EngineSettings};

pub struct Env {
    pub _dir: tempfile::TempDir,
    pub work: PathBuf,
    pub emu: Arc<Emulator>,
    pub cb: Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
}

pub fn setup() -> Env {
    let dir = tempfile::tempdir().expect("temp dir");
    let work = dir.path().join("work");
    let emu = Emulator::in_memory_with(Clock::manual(START), EngineSettings::new(work.clone()))
        .expect("emulator");
    clients(dir, work, emu)
}

pub fn clients(dir: tempfile::TempDir, work: PathBuf, emu: Arc<Emulator>) -> Env {
    let conf = common::sdk_config(&emu);
    Env {
        _dir: dir,
        work,
        cb: Client::new(&conf),
        logs: aws_sdk_cloudwatchlogs::Client::new(&conf),
        emu,
    }
}

pub fn environment(vars: Vec<EnvironmentVariable>) -> ProjectEnvironment {
    ProjectEnvironment::builder()
        .r#type(EnvironmentType::LinuxContainer)
        .image("aws/codebuild/standard:7.0")
        .compute_type(ComputeType::BuildGeneral1Small)
        .set_environment_variables(Some(vars))
        .build()
        .expect("environment")
}

pub fn var(name: &str, value: &str, kind: EnvironmentVariableType) -> EnvironmentVariable {
    EnvironmentVariable::builder()
        .name(name)
        .value(value)
        .r#type(kind)
        .build()
        .expect("variable")
}

pub fn no_artifacts() -> ProjectArtifacts {
    ProjectArtifacts::builder()
        .r#type(ArtifactsType::NoArtifacts)
        .build()
        .expect("artifacts")
}

/// A project whose source is the inline `buildspec` (NO_SOURCE).
pub async fn inline_project(env: &Env, name: &str, buildspec: &str) {
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
pub async fn sample_project(env: &Env, name: &str) -> PathBuf {
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

pub async fn start(env: &Env, project: &str) -> String {
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

pub async fn get(env: &Env, id: &str) -> Build {
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
pub async fn finished(env: &Env, id: &str) -> Build {
    assert!(
        env.emu.settle(Duration::from_secs(60)),
        "the build never settled"
    );
    let b = get(env, id).await;
    assert!(b.build_complete(), "{b:?}");
    b
}

pub fn phase(b: &Build, t: BuildPhaseType) -> aws_sdk_codebuild::types::BuildPhase {
    b.phases()
        .iter()
        .find(|p| p.phase_type() == Some(&t))
        .cloned()
        .unwrap_or_else(|| panic!("no phase {t:?} in {:?}", b.phases()))
}

pub fn phase_types(b: &Build) -> Vec<String> {
    b.phases()
        .iter()
        .filter_map(|p| p.phase_type().map(|t| t.as_str().to_string()))
        .collect()
}

/// Every log line of the build, in order, read through the Logs service.
pub async fn log_lines(env: &Env, b: &Build) -> Vec<String> {
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

pub fn position(lines: &[String], needle: &str) -> usize {
    lines
        .iter()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in {lines:#?}"))
}

/// Waits (ticking, at most 20 s of real time) until the running build `id` has logged a line
/// containing `needle`: lines reach CloudWatch Logs while the command still runs.
pub fn wait_for_line(emu: &Emulator, id: &str, needle: &str) {
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
pub fn process_alive(args: &[&str]) -> bool {
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

pub const ALL_PHASES: [&str; 11] = [
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
