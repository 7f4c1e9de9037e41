//! Names that become paths: refused as AWS refuses them, or kept inside the work directory.

use std::time::Duration;

use aws_sdk_codebuild::types::{ArtifactsType, ProjectArtifacts};
use aws_sdk_codedeploy::types::DeploymentStatus;

use super::{ECHO, code, no_artifacts, persistent, project};
use crate::codedeploy_support::bundle;
use crate::common::{self, START};
use pipetui_emulator::{Clock, Emulator, EngineSettings};

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
