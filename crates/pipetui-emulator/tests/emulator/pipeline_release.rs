//! A whole release in the emulator: CodePipeline checks the sample app out of its git
//! repository, CodeBuild really builds and tests it, CodeDeploy really runs its hooks on an
//! emulated fleet (staging, then production after a manual approval). Also: a rejection, a
//! failing test build retried in both modes then fixed by a commit, and an alarm-driven
//! CodeDeploy rollback surfacing as a failed deploy action.
// Fixture helpers unwrap: a failed setup call is a failed test.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use aws_sdk_codebuild::types::{
    ArtifactsType, ComputeType, EnvironmentType, ProjectArtifacts, ProjectEnvironment,
    ProjectSource, SourceType,
};
use aws_sdk_codedeploy::types::{
    Alarm, AlarmConfiguration, AutoRollbackConfiguration, AutoRollbackEvent,
};
use aws_sdk_codepipeline::Client;
use aws_sdk_codepipeline::types::{
    ActionCategory as Cat, ActionDeclaration, ExecutionMode as Mode, InputArtifact, OutputArtifact,
    StageRetryMode as Retry,
};
use pipetui_emulator::{Clock, Emulator, EngineSettings};

use crate::common;
use crate::emulator_codepipeline::support;

use common::START;
use support::*;

const ALARM: &str = "orders-prod-errors";

struct Release {
    env: Env,
    cb: aws_sdk_codebuild::Client,
    cd: aws_sdk_codedeploy::Client,
    _dir: Option<tempfile::TempDir>,
}

fn artifact_in(mut a: ActionDeclaration, input: &str) -> ActionDeclaration {
    a.input_artifacts = Some(vec![InputArtifact::builder().name(input).build().unwrap()]);
    a
}

fn build(name: &str, project: &str, output: Option<&str>) -> ActionDeclaration {
    let category = if name == "Test" {
        Cat::Test
    } else {
        Cat::Build
    };
    // The build learns the commit through a pipeline variable in EnvironmentVariables.
    let vars = r##"[{"name":"RELEASE","value":"#{SourceVariables.CommitId}","type":"PLAINTEXT"}]"##;
    let config = [("ProjectName", project), ("EnvironmentVariables", vars)];
    let mut a = action(name, category, "CodeBuild", &config);
    if let Some(o) = output {
        a.output_artifacts = Some(vec![OutputArtifact::builder().name(o).build().unwrap()]);
    }
    a
}

fn deploy(group: &str) -> ActionDeclaration {
    let config = [
        ("ApplicationName", "orders"),
        ("DeploymentGroupName", group),
    ];
    artifact_in(
        action("Deploy", Cat::Deploy, "CodeDeploy", &config),
        "BuildOutput",
    )
}

async fn project(cb: &aws_sdk_codebuild::Client, name: &str, buildspec: &str) {
    let source = ProjectSource::builder().r#type(SourceType::Codepipeline);
    let artifacts = ProjectArtifacts::builder().r#type(ArtifactsType::Codepipeline);
    let environment = ProjectEnvironment::builder()
        .r#type(EnvironmentType::LinuxContainer)
        .image("aws/codebuild/standard:7.0")
        .compute_type(ComputeType::BuildGeneral1Small);
    let create = cb
        .create_project()
        .name(name)
        .service_role("arn:aws:iam::000000000000:role/b");
    let create = create.source(source.buildspec(buildspec).build().unwrap());
    let create = create.artifacts(artifacts.build().unwrap());
    create
        .environment(environment.build().unwrap())
        .send()
        .await
        .unwrap();
}

async fn group(cd: &aws_sdk_codedeploy::Client, name: &str, alarm: bool) {
    let g = cd
        .create_deployment_group()
        .application_name("orders")
        .deployment_group_name(name);
    let mut g = g.service_role_arn("arn:aws:iam::000000000000:role/d");
    if alarm {
        let events = [
            AutoRollbackEvent::DeploymentFailure,
            AutoRollbackEvent::DeploymentStopOnAlarm,
        ];
        let rollback = AutoRollbackConfiguration::builder().enabled(true);
        let alarms = AlarmConfiguration::builder().enabled(true);
        g = g
            .auto_rollback_configuration(rollback.set_events(Some(events.to_vec())).build())
            .alarm_configuration(alarms.alarms(Alarm::builder().name(ALARM).build()).build());
    }
    g.send().await.unwrap();
}

/// The emulator (2 hosts per group), the build projects, the deployment groups, the alarm that
/// watches production's error rate, and the release pipeline "web".
async fn setup() -> Release {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::in_memory_with(Clock::manual(START), settings(dir.path())).unwrap();
    let mut r = setup_on(emu).await;
    r._dir = Some(dir);
    r
}

fn settings(dir: &std::path::Path) -> EngineSettings {
    let mut settings = EngineSettings::new(dir.to_path_buf());
    settings.hosts_per_group = 2;
    settings
}

/// [`setup`] on a given emulator (one whose store is a directory the test keeps, to reopen it).
async fn setup_on(emu: std::sync::Arc<Emulator>) -> Release {
    use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, Statistic};
    let conf = common::sdk_config(&emu);
    let cb = aws_sdk_codebuild::Client::new(&conf);
    let cd = aws_sdk_codedeploy::Client::new(&conf);
    let cw = aws_sdk_cloudwatch::Client::new(&conf);
    project(&cb, "orders-build", "buildspec.yml").await;
    project(&cb, "orders-test", "buildspec-test.yml").await;
    cd.create_application()
        .application_name("orders")
        .send()
        .await
        .unwrap();
    group(&cd, "staging", false).await;
    group(&cd, "prod", true).await;
    let dim = |n: &str, v: &str| Dimension::builder().name(n).value(v).build();
    let alarm = cw.put_metric_alarm().alarm_name(ALARM).namespace("pipetui");
    let alarm = alarm.metric_name("ErrorRate").statistic(Statistic::Average);
    let alarm = alarm
        .dimensions(dim("Service", "orders"))
        .dimensions(dim("Environment", "prod"));
    let alarm = alarm
        .period(60)
        .evaluation_periods(3)
        .datapoints_to_alarm(2)
        .threshold(5.0);
    let alarm = alarm.comparison_operator(ComparisonOperator::GreaterThanThreshold);
    alarm.send().await.unwrap();

    let stages = vec![
        stage("Source", vec![source()]),
        stage(
            "Build",
            vec![build("Build", "orders-build", Some("BuildOutput"))],
        ),
        stage("Test", vec![build("Test", "orders-test", None)]),
        stage("Deploy-staging", vec![deploy("staging")]),
        stage("Approval", vec![approval(1)]),
        stage("Deploy-prod", vec![deploy("prod")]),
    ];
    let c = Client::new(&conf);
    let env = Env { emu, c };
    env.create(declaration("web", Mode::Superseded, stages))
        .await;
    Release {
        env,
        cb,
        cd,
        _dir: None,
    }
}

impl Release {
    /// Advances emulated time 10 s at a time until the newest execution stops moving: it ended,
    /// or it waits for an approval.
    async fn drive(&self) -> String {
        self.env.settle();
        for _ in 0..200 {
            let (id, status) = self.env.executions("web").await[0].clone();
            let waiting = self
                .env
                .stage("web", "Approval")
                .await
                .latest_execution()
                .is_some_and(|l| {
                    l.pipeline_execution_id() == id && l.status().as_str() == "InProgress"
                });
            if status != "InProgress" || waiting {
                return status;
            }
            self.env.emu.clock.advance(10.0);
            assert!(
                self.env.emu.settle(Duration::from_secs(60)),
                "the emulator settled"
            );
        }
        panic!("the release never came to rest");
    }

    async fn deployment(&self, stage: &str) -> aws_sdk_codedeploy::types::DeploymentInfo {
        let a = self.env.action("web", stage, "Deploy").await;
        let get = self
            .cd
            .get_deployment()
            .deployment_id(a.external_execution_id().unwrap());
        get.send()
            .await
            .unwrap()
            .deployment_info()
            .cloned()
            .unwrap()
    }
}

#[tokio::test]
async fn a_commit_is_built_tested_and_deployed_to_staging_then_production() {
    let r = setup().await;
    let head = r.env.head();
    assert_eq!(
        r.drive().await,
        "InProgress",
        "waits for the production approval"
    );
    for s in ["Source", "Build", "Test", "Deploy-staging"] {
        assert_eq!(r.env.stage_status(s).await, "Succeeded", "{s}");
    }
    let build = r.env.action("web", "Build", "Build").await;
    let id = build.external_execution_id().unwrap();
    let builds = r.cb.batch_get_builds().ids(id).send().await.unwrap();
    let b = &builds.builds()[0];
    assert_eq!(b.initiator(), Some("codepipeline/web"));
    assert_eq!(b.resolved_source_version(), Some(head.as_str()));
    let vars = b.environment().unwrap().environment_variables();
    let release = vars.iter().find(|v| v.name() == "RELEASE").unwrap();
    assert_eq!(
        release.value(),
        head,
        "EnvironmentVariables resolved and passed on"
    );
    assert!(build.external_execution_url().unwrap().contains(id));

    let staging = r.deployment("Deploy-staging").await;
    assert_eq!(staging.status().unwrap().as_str(), "Succeeded");
    let key = staging
        .revision()
        .unwrap()
        .s3_location()
        .unwrap()
        .key()
        .unwrap()
        .to_string();
    assert!(key.starts_with("web/BuildOutpu/"), "{key}");
    let version = r.env.emu.settings.s3_dir("artifacts", &key).join("VERSION");
    let built = std::fs::read_to_string(version).unwrap();
    assert_eq!(
        built.trim(),
        head,
        "the build packaged the commit it was given"
    );

    r.env.decide("Approval", true).await;
    assert_eq!(r.drive().await, "Succeeded");
    let prod = r.deployment("Deploy-prod").await;
    assert_eq!(prod.status().unwrap().as_str(), "Succeeded");
    assert_eq!(
        prod.revision().unwrap().s3_location().unwrap().key(),
        Some(key.as_str())
    );
    let runs = r.env.action_runs("Deploy").await;
    assert_eq!(runs.len(), 2);
    assert!(
        runs.iter()
            .all(|d| d.status().unwrap().as_str() == "Succeeded")
    );
}

#[tokio::test]
async fn a_rejected_release_never_reaches_production() {
    let r = setup().await;
    r.drive().await;
    r.env.decide("Approval", false).await;
    assert_eq!(r.drive().await, "Failed");
    assert_eq!(r.env.stage_status("Approval").await, "Failed");
    let prod = r.env.stage("web", "Deploy-prod").await;
    assert!(prod.latest_execution().is_none());
    assert!(r.env.action_runs("Deploy").await.len() == 1, "staging only");
}

#[tokio::test]
async fn a_failing_test_build_is_retried_in_both_modes_then_fixed_by_a_commit() {
    let r = setup().await;
    r.drive().await;
    // The first release gives up its approval so it does not hold the stage.
    r.env.decide("Approval", false).await;
    let failing = {
        let repo = r.env.repo();
        std::fs::write(repo.join("switches/fail-tests"), "on\n").unwrap();
        r.env.commit("Turn on switches/fail-tests")
    };
    assert_eq!(r.drive().await, "Failed");
    let id = r.env.newest().await;
    let test = r.env.action("web", "Test", "Test").await;
    assert_eq!(test.status().unwrap().as_str(), "Failed");
    let message = test.error_details().unwrap().message().unwrap();
    assert!(
        message.starts_with("Build terminated with state: FAILED. Phase: BUILD"),
        "{message}"
    );
    let e = r.env.execution(&id).await;
    assert_eq!(
        e.artifact_revisions()[0].revision_id(),
        Some(failing.as_str())
    );

    for mode in [Retry::FailedActions, Retry::AllActions] {
        assert_eq!(r.env.retry("Test", &id, mode).await, Ok(id.clone()));
        assert_eq!(
            r.drive().await,
            "Failed",
            "the same revision fails the same way"
        );
    }
    let builds = r.env.action_runs("Test").await;
    assert_eq!(
        builds
            .iter()
            .filter(|d| d.pipeline_execution_id() == Some(id.as_str()))
            .count(),
        3
    );

    let repo = r.env.repo();
    std::fs::remove_file(repo.join("switches/fail-tests")).unwrap();
    let fixed = r.env.commit("Turn off switches/fail-tests");
    assert_eq!(r.drive().await, "InProgress", "the fix passes the tests");
    let e = r.env.execution(&r.env.newest().await).await;
    assert_eq!(
        e.artifact_revisions()[0].revision_id(),
        Some(fixed.as_str())
    );
    assert_eq!(r.env.stage_status("Test").await, "Succeeded");
}

#[tokio::test]
async fn an_alarm_driven_rollback_fails_the_production_deploy_action() {
    let r = setup().await;
    r.drive().await;
    r.env.decide("Approval", true).await;
    assert_eq!(r.drive().await, "Succeeded");
    let good = r.deployment("Deploy-prod").await;

    let repo = r.env.repo();
    std::fs::write(repo.join("switches/fail-health"), "on\n").unwrap();
    r.env.commit("Turn on switches/fail-health");
    assert_eq!(r.drive().await, "InProgress");
    r.env.decide("Approval", true).await;
    assert_eq!(r.drive().await, "Failed");
    let a = r.env.action("web", "Deploy-prod", "Deploy").await;
    assert_eq!(a.status().unwrap().as_str(), "Failed");
    let details = a.error_details().unwrap();
    assert_eq!(details.code(), Some("ALARM_ACTIVE"));
    assert!(details.message().unwrap().contains(ALARM));
    let bad = r.deployment("Deploy-prod").await;
    assert_eq!(bad.status().unwrap().as_str(), "Stopped");
    let rollback = bad
        .rollback_info()
        .unwrap()
        .rollback_deployment_id()
        .unwrap();
    let rb =
        r.cd.get_deployment()
            .deployment_id(rollback)
            .send()
            .await
            .unwrap();
    let rb = rb.deployment_info().unwrap();
    let back_to = rb.revision().unwrap().s3_location().unwrap().key();
    assert_eq!(
        back_to,
        good.revision().unwrap().s3_location().unwrap().key()
    );
}

/// CodeDeploy's own rollback and the stage's `onFailure` rollback both react to the alarm (the
/// stack generator never combines them, a hand-made pipeline can): the pipeline's rollback waits
/// for CodeDeploy's rollback to free the group instead of failing at once with
/// DeploymentLimitExceededException, then really deploys the last good revision — which the
/// alarm, still firing on the data of the bad release, stops in turn, as it would on AWS.
#[tokio::test]
async fn a_stage_rollback_waits_for_codedeploys_own_rollback() {
    use aws_sdk_codepipeline::types::{FailureConditions, Result as OnFailure};
    let r = setup().await;
    let got = r.env.c.get_pipeline().name("web").send().await.unwrap();
    let mut decl = got.pipeline().unwrap().clone();
    for s in decl.stages.iter_mut() {
        if s.name == "Deploy-prod" {
            s.on_failure = Some(
                FailureConditions::builder()
                    .result(OnFailure::Rollback)
                    .build(),
            );
        }
    }
    r.env
        .c
        .update_pipeline()
        .pipeline(decl)
        .send()
        .await
        .unwrap();
    r.env
        .c
        .start_pipeline_execution()
        .name("web")
        .send()
        .await
        .unwrap();
    r.drive().await;
    r.env.decide("Approval", true).await;
    assert_eq!(r.drive().await, "Succeeded");
    let good = r.deployment("Deploy-prod").await;

    let repo = r.env.repo();
    std::fs::write(repo.join("switches/fail-health"), "on\n").unwrap();
    r.env.commit("Turn on switches/fail-health");
    assert_eq!(r.drive().await, "InProgress");
    r.env.decide("Approval", true).await;
    r.drive().await;
    // The standard execution failed on the alarm; the newest is the stage's rollback.
    let latest = r.env.executions("web").await[0].0.clone();
    let e = r
        .env
        .c
        .get_pipeline_execution()
        .pipeline_name("web")
        .pipeline_execution_id(&latest)
        .send()
        .await
        .unwrap();
    let e = e.pipeline_execution().unwrap();
    assert_eq!(e.execution_type().map(|t| t.as_str()), Some("ROLLBACK"));
    let a = r.env.action("web", "Deploy-prod", "Deploy").await;
    let details = a.error_details().unwrap();
    assert_eq!(details.code(), Some("ALARM_ACTIVE"), "{a:?}");
    let redeployed = r.deployment("Deploy-prod").await;
    assert_eq!(redeployed.creator().unwrap().as_str(), "user");
    assert_eq!(
        redeployed.revision().unwrap().s3_location().unwrap().key(),
        good.revision().unwrap().s3_location().unwrap().key()
    );
}

/// The emulator stops while the pipeline's build really runs: the next start fails the build and
/// the pipeline's Build action with a reason that says so, and a retry finishes the release.
#[tokio::test]
async fn a_restart_mid_build_fails_the_build_action_visibly_and_a_retry_finishes() {
    use pipetui_emulator::services::codepipeline::RESTARTED;
    let dir = tempfile::tempdir().unwrap();
    let open =
        || Emulator::open_with(dir.path(), Clock::manual(START), settings(dir.path())).unwrap();
    let r = setup_on(open()).await;
    r.drive().await;
    r.env.decide("Approval", false).await;

    // A slower build: the test stops the emulator while `sleep` runs.
    let repo = r.env.repo();
    let spec = std::fs::read_to_string(repo.join("buildspec.yml")).unwrap();
    let slow = spec.replace(
        "      - mkdir -p dist/scripts",
        "      - sleep 5\n      - mkdir -p dist/scripts",
    );
    assert_ne!(slow, spec);
    std::fs::write(repo.join("buildspec.yml"), slow).unwrap();
    r.env.commit("Build a little slower");
    let mut running = None;
    for _ in 0..200 {
        r.env.emu.tick();
        let a = r.env.action("web", "Build", "Build").await;
        if a.status().unwrap().as_str() == "InProgress" && a.external_execution_id().is_some() {
            running = Some(r.env.executions("web").await[0].0.clone());
            break;
        }
        r.env.emu.clock.advance(1.0);
    }
    let id = running.expect("the new build started");
    drop(r);

    let r = setup_clients(open());
    let a = r.env.action("web", "Build", "Build").await;
    assert_eq!(a.status().unwrap().as_str(), "Failed");
    assert_eq!(a.error_details().unwrap().message(), Some(RESTARTED));
    let build_id = a.external_execution_id().unwrap();
    let got = r.cb.batch_get_builds().ids(build_id).send().await.unwrap();
    assert_eq!(got.builds()[0].build_status().unwrap().as_str(), "FAILED");
    let e = r.env.execution(&id).await;
    assert_eq!(e.status().unwrap().as_str(), "Failed");

    r.env
        .retry("Build", &id, Retry::FailedActions)
        .await
        .unwrap();
    r.drive().await;
    r.env.decide("Approval", true).await;
    assert_eq!(r.drive().await, "Succeeded");
}

/// Clients for an emulator whose resources already exist.
fn setup_clients(emu: std::sync::Arc<Emulator>) -> Release {
    let conf = common::sdk_config(&emu);
    Release {
        cb: aws_sdk_codebuild::Client::new(&conf),
        cd: aws_sdk_codedeploy::Client::new(&conf),
        env: Env {
            c: Client::new(&conf),
            emu,
        },
        _dir: None,
    }
}
