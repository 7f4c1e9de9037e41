use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_codebuild::config::{Credentials, SharedCredentialsProvider};
use aws_sdk_codebuild::types::{
    ArtifactsType, ComputeType, EnvironmentType, ProjectArtifacts, ProjectEnvironment,
    ProjectSource, SourceType, StatusType,
};
use pipetui_emulator::{Clock, EmulatorConfig, InProcessClient};

#[tokio::test]
async fn a_build_really_runs_its_buildspec() {
    // An in-memory emulator whose clock moves only when the test says so.
    let emulator = EmulatorConfig::in_memory()
        .with_clock(Clock::manual(1_767_225_600.0))
        .build()
        .expect("emulator");
    // The official SDK, unchanged: only its HTTP client is the emulator (no socket).
    let config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url("http://emulator.internal")
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "AKIDEXAMPLE",
            "example-secret",
            None,
            None,
            "example",
        )))
        .http_client(InProcessClient::new(emulator.clone()))
        .build();
    let codebuild = aws_sdk_codebuild::Client::new(&config);

    let buildspec = "version: 0.2\nphases:\n  build:\n    commands:\n      - echo built by $CODEBUILD_BUILD_ID\n";
    let source = ProjectSource::builder()
        .r#type(SourceType::NoSource)
        .buildspec(buildspec);
    let environment = ProjectEnvironment::builder()
        .r#type(EnvironmentType::LinuxContainer)
        .image("aws/codebuild/standard:7.0")
        .compute_type(ComputeType::BuildGeneral1Small);
    let artifacts = ProjectArtifacts::builder().r#type(ArtifactsType::NoArtifacts);
    codebuild
        .create_project()
        .name("hello")
        .source(source.build().expect("source"))
        .environment(environment.build().expect("environment"))
        .artifacts(artifacts.build().expect("artifacts"))
        .service_role("arn:aws:iam::000000000000:role/build")
        .send()
        .await
        .expect("create project");
    let started = codebuild.start_build().project_name("hello").send().await;
    let id = started
        .expect("start build")
        .build_value
        .expect("build")
        .id
        .expect("id");

    // Run the engine until nothing is left to do: the buildspec runs in /bin/sh.
    assert!(emulator.settle(Duration::from_secs(30)));

    let builds = codebuild
        .batch_get_builds()
        .ids(&id)
        .send()
        .await
        .expect("builds");
    assert_eq!(
        builds.builds()[0].build_status(),
        Some(&StatusType::Succeeded)
    );
}
