//! CodeBuild in the emulator through the real SDK (in-process, manual clock): builds that
//! really run the sample app's buildspecs, phases and their transitions, logs streamed to
//! CloudWatch Logs, environment variables and the buildspec's shell semantics. `lifecycle`:
//! timeouts, StopBuild, simulated projects, restart recovery; `api`: listing, paging, errors,
//! project updates and CloudFormation-made projects.

use std::path::Path;

use aws_sdk_codebuild::types::{
    ArtifactsType, BuildPhaseType, EnvironmentVariableType, ProjectArtifacts, ProjectSource,
    SourceType, StatusType,
};
use serde_json::json;

mod api;
use crate::common;
mod lifecycle;
pub(crate) mod support;

use pipetui_emulator::engine::sample_app;
use pipetui_emulator::protocol::ServiceId;
use support::*;

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
async fn a_command_leaving_a_chatty_background_child_still_ends() {
    let env = setup();
    inline_project(
        &env,
        "background",
        "version: 0.2\nphases:\n  build:\n    commands:\n      - (while true; do echo tick; sleep 0.01; done) &\n      - echo after\n",
    )
    .await;
    let id = start(&env, "background").await;
    let b = finished(&env, &id).await;
    assert_eq!(b.build_status(), Some(&StatusType::Succeeded));
    let lines = log_lines(&env, &b).await;
    assert!(lines.contains(&"after".to_string()));
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
