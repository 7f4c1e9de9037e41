//! CodeDeploy in the emulator through the real aws-sdk-codedeploy client: deployments that
//! really run the sample app's hooks on an emulated fleet (host directories), batches, failures
//! with diagnostics, automatic rollback, alarm-driven stops from the hosts' health, Lambda and
//! ECS traffic shifting, and a restart in the middle of a deployment.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_codedeploy::Client;
use aws_sdk_codedeploy::types::{
    Alarm, AlarmConfiguration, AppSpecContent, AutoRollbackConfiguration, AutoRollbackEvent,
    BlueGreenDeploymentConfiguration, BlueInstanceTerminationOption, BundleType, ComputePlatform,
    DeploymentInfo, DeploymentOption, DeploymentReadyAction, DeploymentReadyOption,
    DeploymentStatus, DeploymentStyle, DeploymentTarget, DeploymentType, EcsService,
    InstanceAction, LifecycleErrorCode, LifecycleEventStatus, LoadBalancerInfo, RevisionLocation,
    RevisionLocationType, S3Location, TargetGroupInfo, TargetGroupPairInfo, TargetStatus,
};
use pipetui::emulator::engine::sample_app;
use pipetui::emulator::{Clock, Emulator, EngineSettings};

use common::{START, code};

const APP: &str = "orders";
const GROUP: &str = "prod";
const ROLE: &str = "arn:aws:iam::000000000000:role/codedeploy";
const IN_PLACE: [&str; 7] = [
    "ApplicationStop",
    "DownloadBundle",
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "ApplicationStart",
    "ValidateService",
];

struct Fx {
    emu: Arc<Emulator>,
    cd: Client,
    _dir: tempfile::TempDir,
}

fn fixture(hosts: u32) -> Fx {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = EngineSettings::new(dir.path().to_path_buf());
    settings.hosts_per_group = hosts;
    let emu = Emulator::in_memory_with(Clock::manual(START), settings).unwrap();
    let cd = Client::new(&common::sdk_config(&emu));
    Fx { emu, cd, _dir: dir }
}

/// The sample app packaged the way its buildspec does (dist/: orders.sh, scripts/, switches/,
/// appspec.yml, VERSION) as the S3 object `artifacts/<key>`, with `switches` turned on.
fn bundle(emu: &Emulator, key: &str, switches: &[&str], tweak: impl Fn(&Path)) -> RevisionLocation {
    let src = tempfile::tempdir().unwrap();
    sample_app::write_files(src.path()).unwrap();
    let dist = emu.settings.s3_dir("artifacts", key);
    std::fs::create_dir_all(dist.join("scripts")).unwrap();
    std::fs::create_dir_all(dist.join("switches")).unwrap();
    std::fs::copy(src.path().join("src/orders.sh"), dist.join("orders.sh")).unwrap();
    for e in std::fs::read_dir(src.path().join("scripts")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dist.join("scripts").join(e.file_name())).unwrap();
    }
    std::fs::copy(src.path().join("appspec.yml"), dist.join("appspec.yml")).unwrap();
    std::fs::write(dist.join("VERSION"), format!("{key}\n")).unwrap();
    for s in switches {
        std::fs::write(dist.join("switches").join(s), "on\n").unwrap();
    }
    tweak(&dist);
    s3_revision(key)
}

fn s3_revision(key: &str) -> RevisionLocation {
    RevisionLocation::builder()
        .revision_type(RevisionLocationType::S3)
        .s3_location(
            S3Location::builder()
                .bucket("artifacts")
                .key(key)
                .bundle_type(BundleType::Zip)
                .build(),
        )
        .build()
}

fn rollback_on(events: &[AutoRollbackEvent]) -> AutoRollbackConfiguration {
    AutoRollbackConfiguration::builder()
        .enabled(true)
        .set_events(Some(events.to_vec()))
        .build()
}

async fn server_group(
    cd: &Client,
    config: &str,
    rollback: Option<AutoRollbackConfiguration>,
    alarm: Option<&str>,
) {
    cd.create_application()
        .application_name(APP)
        .send()
        .await
        .unwrap();
    let mut g = cd
        .create_deployment_group()
        .application_name(APP)
        .deployment_group_name(GROUP)
        .service_role_arn(ROLE)
        .deployment_config_name(config)
        .set_auto_rollback_configuration(rollback);
    if let Some(a) = alarm {
        g = g.alarm_configuration(
            AlarmConfiguration::builder()
                .enabled(true)
                .alarms(Alarm::builder().name(a).build())
                .build(),
        );
    }
    g.send().await.unwrap();
}

async fn deploy(cd: &Client, rev: RevisionLocation) -> String {
    let out = cd
        .create_deployment()
        .application_name(APP)
        .deployment_group_name(GROUP)
        .revision(rev)
        .send()
        .await
        .unwrap();
    out.deployment_id().unwrap().to_string()
}

async fn info(cd: &Client, id: &str) -> DeploymentInfo {
    let out = cd.get_deployment().deployment_id(id).send().await.unwrap();
    out.deployment_info().unwrap().clone()
}

/// Advances the clock `step` seconds at a time until the deployment ends or waits (Ready).
async fn run(fx: &Fx, id: &str, step: f64, max_secs: f64) -> DeploymentInfo {
    let mut waited = 0.0;
    loop {
        let d = info(&fx.cd, id).await;
        let s = d.status().unwrap().clone();
        let done = matches!(
            s,
            DeploymentStatus::Succeeded
                | DeploymentStatus::Failed
                | DeploymentStatus::Stopped
                | DeploymentStatus::Ready
        );
        if done || waited >= max_secs {
            return d;
        }
        fx.emu.clock.advance(step);
        waited += step;
        assert!(
            fx.emu.settle(Duration::from_secs(30)),
            "the emulator did not settle"
        );
    }
}

async fn targets(cd: &Client, id: &str) -> Vec<DeploymentTarget> {
    let ids = cd
        .list_deployment_targets()
        .deployment_id(id)
        .send()
        .await
        .unwrap();
    let out = cd
        .batch_get_deployment_targets()
        .deployment_id(id)
        .set_target_ids(Some(ids.target_ids().to_vec()))
        .send()
        .await
        .unwrap();
    out.deployment_targets().to_vec()
}

fn secs(t: Option<&aws_sdk_codedeploy::primitives::DateTime>) -> f64 {
    t.map(|t| t.as_secs_f64()).unwrap_or(f64::NAN)
}

fn host_dir(fx: &Fx, host: &str) -> PathBuf {
    fx.emu
        .settings
        .work_dir
        .join("hosts")
        .join(APP)
        .join(GROUP)
        .join(host)
}

#[tokio::test]
async fn one_at_a_time_runs_every_hook_on_every_host_in_order() {
    let fx = fixture(3);
    server_group(&fx.cd, "CodeDeployDefault.OneAtATime", None, None).await;
    let id = deploy(&fx.cd, bundle(&fx.emu, "v1", &[], |_| {})).await;
    let d = run(&fx, &id, 1.0, 120.0).await;
    assert_eq!(d.status(), Some(&DeploymentStatus::Succeeded));
    assert_eq!(d.deployment_overview().unwrap().succeeded(), 3);
    assert!(d.complete_time().is_some());
    let ts = targets(&fx.cd, &id).await;
    assert_eq!(ts.len(), 3);
    let mut previous_end = 0.0;
    for t in &ts {
        let it = t.instance_target().unwrap();
        let host = it.target_id().unwrap();
        assert!(host.starts_with("i-0") && host.len() == 19, "{host}");
        assert_eq!(it.status(), Some(&TargetStatus::Succeeded));
        let events = it.lifecycle_events();
        let names: Vec<&str> = events
            .iter()
            .map(|e| e.lifecycle_event_name().unwrap())
            .collect();
        assert_eq!(names, IN_PLACE);
        for e in events {
            assert_eq!(e.status(), Some(&LifecycleEventStatus::Succeeded));
            assert!(secs(e.end_time()) - secs(e.start_time()) >= 1.0);
        }
        // One host at a time: this host starts after the previous one finished.
        assert!(secs(events[0].start_time()) >= previous_end);
        previous_end = secs(events[6].end_time());
        let validate = events[6].diagnostics().unwrap();
        assert_eq!(validate.error_code(), Some(&LifecycleErrorCode::Success));
        assert!(
            validate
                .log_tail()
                .unwrap()
                .contains("orders answers correctly")
        );
        let start = events[5].diagnostics().unwrap().log_tail().unwrap();
        assert!(
            start.contains(&format!("Started orders v1 on {host}")),
            "{start}"
        );
        let dir = host_dir(&fx, host);
        assert!(dir.join("opt/orders/orders.sh").is_file());
        assert_eq!(
            std::fs::read_to_string(dir.join("opt/orders/VERSION")).unwrap(),
            "v1\n"
        );
    }

    // The next deployment stops the running release with the previous bundle's script.
    let id2 = deploy(&fx.cd, bundle(&fx.emu, "v2", &[], |_| {})).await;
    let d2 = run(&fx, &id2, 1.0, 120.0).await;
    assert_eq!(d2.status(), Some(&DeploymentStatus::Succeeded));
    assert_eq!(
        d2.previous_revision().unwrap().s3_location().unwrap().key(),
        Some("v1")
    );
    let t0 = &targets(&fx.cd, &id2).await[0];
    let stop = &t0.instance_target().unwrap().lifecycle_events()[0];
    assert!(
        stop.diagnostics()
            .unwrap()
            .log_tail()
            .unwrap()
            .contains("Stopping orders v1")
    );
    let listed = fx
        .cd
        .list_deployments()
        .application_name(APP)
        .deployment_group_name(GROUP)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.deployments(), [id2.clone(), id.clone()]);
    let group = fx
        .cd
        .get_deployment_group()
        .application_name(APP)
        .deployment_group_name(GROUP)
        .send()
        .await
        .unwrap();
    let g = group.deployment_group_info().unwrap();
    assert_eq!(
        g.last_successful_deployment().unwrap().deployment_id(),
        Some(id2.as_str())
    );
}

#[tokio::test]
async fn half_at_a_time_deploys_in_two_batches() {
    let fx = fixture(4);
    server_group(&fx.cd, "CodeDeployDefault.HalfAtATime", None, None).await;
    let id = deploy(&fx.cd, bundle(&fx.emu, "v1", &[], |_| {})).await;
    let d = run(&fx, &id, 1.0, 120.0).await;
    assert_eq!(d.status(), Some(&DeploymentStatus::Succeeded));
    let mut starts: Vec<f64> = targets(&fx.cd, &id)
        .await
        .iter()
        .map(|t| secs(t.instance_target().unwrap().lifecycle_events()[0].start_time()))
        .collect();
    starts.sort_by(f64::total_cmp);
    assert_eq!(starts[0], starts[1], "two hosts start together");
    assert_eq!(starts[2], starts[3], "then the other two");
    assert!(
        starts[2] >= starts[0] + 7.0,
        "the second batch waits for the first: {starts:?}"
    );
}

#[tokio::test]
async fn failing_hook_fails_the_deployment_and_rolls_back() {
    let fx = fixture(3);
    let rollback = rollback_on(&[AutoRollbackEvent::DeploymentFailure]);
    server_group(&fx.cd, "CodeDeployDefault.OneAtATime", Some(rollback), None).await;

    // With no earlier good revision there is nothing to roll back to, and AWS says so.
    let first = deploy(&fx.cd, bundle(&fx.emu, "bad0", &["fail-hook"], |_| {})).await;
    let d = run(&fx, &first, 1.0, 120.0).await;
    assert_eq!(d.status(), Some(&DeploymentStatus::Failed));
    let msg = d.rollback_info().unwrap().rollback_message().unwrap();
    assert!(msg.contains("no previous successful deployment"), "{msg}");

    let good = deploy(&fx.cd, bundle(&fx.emu, "v1", &[], |_| {})).await;
    assert_eq!(
        run(&fx, &good, 1.0, 120.0).await.status(),
        Some(&DeploymentStatus::Succeeded)
    );
    let bad = deploy(&fx.cd, bundle(&fx.emu, "v2", &["fail-hook"], |_| {})).await;
    let d = run(&fx, &bad, 1.0, 120.0).await;
    assert_eq!(d.status(), Some(&DeploymentStatus::Failed));
    assert_eq!(
        d.error_information().unwrap().code().unwrap().as_str(),
        "HEALTH_CONSTRAINTS"
    );
    let ts = targets(&fx.cd, &bad).await;
    let failed = ts
        .iter()
        .map(|t| t.instance_target().unwrap())
        .find(|t| t.status() == Some(&TargetStatus::Failed))
        .expect("the first host failed");
    let validate = &failed.lifecycle_events()[6];
    assert_eq!(validate.status(), Some(&LifecycleEventStatus::Failed));
    let diag = validate.diagnostics().unwrap();
    assert_eq!(diag.error_code(), Some(&LifecycleErrorCode::ScriptFailed));
    assert_eq!(diag.script_name(), Some("scripts/validate.sh"));
    assert!(diag.message().unwrap().contains("exit code 1"));
    assert!(
        diag.log_tail()
            .unwrap()
            .contains("switches/fail-hook is present")
    );
    let skipped = ts
        .iter()
        .filter(|t| t.instance_target().unwrap().status() == Some(&TargetStatus::Skipped))
        .count();
    let statuses: Vec<_> = ts
        .iter()
        .map(|t| {
            (
                t.instance_target().unwrap().status().cloned(),
                t.instance_target()
                    .unwrap()
                    .lifecycle_events()
                    .iter()
                    .map(|e| e.status().cloned())
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    assert_eq!(skipped, 2, "the other hosts are not touched: {statuses:?}");

    let rb_id = d
        .rollback_info()
        .unwrap()
        .rollback_deployment_id()
        .unwrap()
        .to_string();
    let rb = run(&fx, &rb_id, 1.0, 120.0).await;
    assert_eq!(rb.creator().unwrap().as_str(), "codeDeployRollback");
    assert_eq!(
        rb.rollback_info()
            .unwrap()
            .rollback_triggering_deployment_id(),
        Some(bad.as_str())
    );
    assert_eq!(
        rb.revision().unwrap().s3_location().unwrap().key(),
        Some("v1")
    );
    assert_eq!(rb.status(), Some(&DeploymentStatus::Succeeded));
    let host = failed.target_id().unwrap();
    let version = std::fs::read_to_string(host_dir(&fx, host).join("opt/orders/VERSION")).unwrap();
    assert_eq!(version, "v1\n");
}

#[tokio::test]
async fn a_second_active_deployment_in_a_group_is_refused() {
    let fx = fixture(2);
    server_group(&fx.cd, "CodeDeployDefault.AllAtOnce", None, None).await;
    let id = deploy(&fx.cd, bundle(&fx.emu, "v1", &[], |_| {})).await;
    let second = fx
        .cd
        .create_deployment()
        .application_name(APP)
        .deployment_group_name(GROUP)
        .revision(s3_revision("v1"))
        .send()
        .await;
    let e = second.expect_err("refused");
    assert_eq!(
        e.as_service_error()
            .and_then(|s| aws_sdk_codedeploy::error::ProvideErrorMetadata::code(s)),
        Some("DeploymentLimitExceededException")
    );
    assert!(format!("{:?}", e).contains(&id));
    assert_eq!(
        run(&fx, &id, 1.0, 60.0).await.status(),
        Some(&DeploymentStatus::Succeeded)
    );
    deploy(&fx.cd, s3_revision("v1")).await;
}

#[tokio::test]
async fn stop_with_auto_rollback_redeploys_the_last_good_revision() {
    let fx = fixture(3);
    server_group(&fx.cd, "CodeDeployDefault.OneAtATime", None, None).await;
    let good = deploy(&fx.cd, bundle(&fx.emu, "v1", &[], |_| {})).await;
    run(&fx, &good, 1.0, 120.0).await;
    let id = deploy(&fx.cd, bundle(&fx.emu, "v2", &[], |_| {})).await;
    run(&fx, &id, 1.0, 3.0).await;
    let out = fx
        .cd
        .stop_deployment()
        .deployment_id(&id)
        .auto_rollback_enabled(true)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status().unwrap().as_str(), "Succeeded");
    let d = info(&fx.cd, &id).await;
    assert_eq!(d.status(), Some(&DeploymentStatus::Stopped));
    assert_eq!(
        d.error_information().unwrap().code().unwrap().as_str(),
        "MANUAL_STOP"
    );
    let rb_id = d
        .rollback_info()
        .unwrap()
        .rollback_deployment_id()
        .unwrap()
        .to_string();
    let rb = run(&fx, &rb_id, 1.0, 120.0).await;
    assert_eq!(rb.status(), Some(&DeploymentStatus::Succeeded));
    assert_eq!(rb.creator().unwrap().as_str(), "codeDeployRollback");
    let again = fx.cd.stop_deployment().deployment_id(&id).send().await;
    assert_eq!(code(again), "DeploymentAlreadyCompletedException");
}

#[tokio::test]
async fn unhealthy_hosts_fire_the_alarm_which_stops_and_rolls_back() {
    use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, Statistic};
    let fx = fixture(3);
    let cw = aws_sdk_cloudwatch::Client::new(&common::sdk_config(&fx.emu));
    let dim = |n: &str, v: &str| Dimension::builder().name(n).value(v).build();
    cw.put_metric_alarm()
        .alarm_name("orders-prod-errors")
        .namespace("pipetui")
        .metric_name("ErrorRate")
        .dimensions(dim("Service", "orders"))
        .dimensions(dim("Environment", "prod"))
        .statistic(Statistic::Average)
        .period(60)
        .evaluation_periods(3)
        .datapoints_to_alarm(2)
        .threshold(5.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .unwrap();
    let rollback = rollback_on(&[
        AutoRollbackEvent::DeploymentFailure,
        AutoRollbackEvent::DeploymentStopOnAlarm,
    ]);
    server_group(
        &fx.cd,
        "CodeDeployDefault.AllAtOnce",
        Some(rollback),
        Some("orders-prod-errors"),
    )
    .await;

    let good = deploy(&fx.cd, bundle(&fx.emu, "v1", &[], |_| {})).await;
    let d = run(&fx, &good, 10.0, 600.0).await;
    assert_eq!(d.status(), Some(&DeploymentStatus::Succeeded));
    // Healthy hosts kept publishing through the bake window (3 periods of 60 s).
    assert!(secs(d.complete_time()) - secs(d.start_time()) >= 180.0);
    let stats = cw
        .get_metric_statistics()
        .namespace("pipetui")
        .metric_name("ErrorRate")
        .dimensions(dim("Service", "orders"))
        .dimensions(dim("Environment", "prod"))
        .start_time(aws_sdk_cloudwatch::primitives::DateTime::from_secs(
            START as i64,
        ))
        .end_time(aws_sdk_cloudwatch::primitives::DateTime::from_secs(
            START as i64 + 3600,
        ))
        .period(60)
        .statistics(Statistic::Maximum)
        .send()
        .await
        .unwrap();
    assert!(!stats.datapoints().is_empty());
    assert!(stats.datapoints().iter().all(|p| p.maximum() == Some(0.0)));

    let bad = deploy(&fx.cd, bundle(&fx.emu, "v2", &["fail-health"], |_| {})).await;
    let d = run(&fx, &bad, 10.0, 600.0).await;
    assert_eq!(d.status(), Some(&DeploymentStatus::Stopped));
    let e = d.error_information().unwrap();
    assert_eq!(e.code().unwrap().as_str(), "ALARM_ACTIVE");
    assert!(e.message().unwrap().contains("orders-prod-errors"));
    let alarms = cw
        .describe_alarms()
        .alarm_names("orders-prod-errors")
        .send()
        .await
        .unwrap();
    assert_eq!(
        alarms.metric_alarms()[0].state_value().unwrap().as_str(),
        "ALARM"
    );
    let rb_id = d
        .rollback_info()
        .unwrap()
        .rollback_deployment_id()
        .unwrap()
        .to_string();
    let rb = info(&fx.cd, &rb_id).await;
    assert_eq!(rb.creator().unwrap().as_str(), "codeDeployRollback");
    assert_eq!(
        rb.rollback_info()
            .unwrap()
            .rollback_triggering_deployment_id(),
        Some(bad.as_str())
    );
    assert_eq!(
        rb.revision().unwrap().s3_location().unwrap().key(),
        Some("v1")
    );
}

const LAMBDA_SPEC: &str = "version: 0.0
Resources:
  - orders:
      Type: AWS::Lambda::Function
      Properties:
        Name: orders-fn
        Alias: live
        CurrentVersion: '3'
        TargetVersion: '4'
Hooks:
  - BeforeAllowTraffic: orders-pre-traffic
  - AfterAllowTraffic: orders-post-traffic
";

fn inline_revision(content: &str) -> RevisionLocation {
    RevisionLocation::builder()
        .revision_type(RevisionLocationType::AppSpecContent)
        .app_spec_content(AppSpecContent::builder().content(content).build())
        .build()
}

#[tokio::test]
async fn lambda_canary_shifts_ten_percent_then_the_rest() {
    let fx = fixture(3);
    fx.cd
        .create_application()
        .application_name(APP)
        .compute_platform(ComputePlatform::Lambda)
        .send()
        .await
        .unwrap();
    fx.cd
        .create_deployment_group()
        .application_name(APP)
        .deployment_group_name(GROUP)
        .service_role_arn(ROLE)
        .deployment_config_name("CodeDeployDefault.LambdaCanary10Percent5Minutes")
        .deployment_style(
            DeploymentStyle::builder()
                .deployment_type(DeploymentType::BlueGreen)
                .deployment_option(DeploymentOption::WithTrafficControl)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let id = deploy(&fx.cd, inline_revision(LAMBDA_SPEC)).await;
    let d = run(&fx, &id, 1.0, 3.0).await;
    assert_eq!(d.status(), Some(&DeploymentStatus::InProgress));
    let weight = |t: &DeploymentTarget| {
        t.lambda_target()
            .unwrap()
            .lambda_function_info()
            .unwrap()
            .target_version_weight()
    };
    let t = targets(&fx.cd, &id).await.remove(0);
    assert_eq!(t.lambda_target().unwrap().target_id(), Some("orders-fn"));
    assert_eq!(weight(&t), 0.1);
    let names: Vec<&str> = t
        .lambda_target()
        .unwrap()
        .lifecycle_events()
        .iter()
        .map(|e| e.lifecycle_event_name().unwrap())
        .collect();
    assert_eq!(
        names,
        ["BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic"]
    );
    // Still 10 % just before the canary interval ends, all of it after.
    fx.emu.clock.advance(290.0);
    fx.emu.settle(Duration::from_secs(10));
    assert_eq!(weight(&targets(&fx.cd, &id).await[0]), 0.1);
    let d = run(&fx, &id, 5.0, 60.0).await;
    assert_eq!(d.status(), Some(&DeploymentStatus::Succeeded));
    let t = targets(&fx.cd, &id).await.remove(0);
    assert_eq!(weight(&t), 1.0);
    let shift = &t.lambda_target().unwrap().lifecycle_events()[1];
    assert!(secs(shift.end_time()) - secs(shift.start_time()) >= 300.0);
    let messages = d.deployment_status_messages().join("\n");
    assert!(
        messages.contains("Shifted 10% of traffic on orders-fn:live to version 4"),
        "{messages}"
    );

    let logs = aws_sdk_cloudwatchlogs::Client::new(&common::sdk_config(&fx.emu));
    let events = logs
        .filter_log_events()
        .log_group_name("/aws/lambda/orders-pre-traffic")
        .send()
        .await
        .unwrap();
    let text: Vec<&str> = events.events().iter().filter_map(|e| e.message()).collect();
    assert!(
        text.iter()
            .any(|m| m.contains(&format!("BeforeAllowTraffic hook for deployment {id}"))),
        "{text:?}"
    );
}

const ECS_SPEC: &str = "version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: arn:aws:ecs:us-east-1:000000000000:task-definition/orders:7
        LoadBalancerInfo:
          ContainerName: orders
          ContainerPort: 8080
Hooks:
  - AfterAllowTestTraffic: orders-test-traffic
";

#[tokio::test]
async fn ecs_blue_green_serves_test_traffic_waits_then_shifts_linearly() {
    let fx = fixture(3);
    fx.cd
        .create_application()
        .application_name(APP)
        .compute_platform(ComputePlatform::Ecs)
        .send()
        .await
        .unwrap();
    let tg = |n: &str| TargetGroupInfo::builder().name(n).build();
    fx.cd
        .create_deployment_group()
        .application_name(APP)
        .deployment_group_name(GROUP)
        .service_role_arn(ROLE)
        .deployment_config_name("CodeDeployDefault.ECSLinear10PercentEvery1Minutes")
        .ecs_services(
            EcsService::builder()
                .cluster_name("main")
                .service_name("orders")
                .build(),
        )
        .load_balancer_info(
            LoadBalancerInfo::builder()
                .target_group_pair_info_list(
                    TargetGroupPairInfo::builder()
                        .target_groups(tg("orders-blue"))
                        .target_groups(tg("orders-green"))
                        .build(),
                )
                .build(),
        )
        .blue_green_deployment_configuration(
            BlueGreenDeploymentConfiguration::builder()
                .deployment_ready_option(
                    DeploymentReadyOption::builder()
                        .action_on_timeout(DeploymentReadyAction::StopDeployment)
                        .wait_time_in_minutes(30)
                        .build(),
                )
                .terminate_blue_instances_on_deployment_success(
                    BlueInstanceTerminationOption::builder()
                        .action(InstanceAction::Terminate)
                        .termination_wait_time_in_minutes(5)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let id = deploy(&fx.cd, inline_revision(ECS_SPEC)).await;
    let d = run(&fx, &id, 1.0, 60.0).await;
    assert_eq!(d.status(), Some(&DeploymentStatus::Ready));
    assert_eq!(d.deployment_overview().unwrap().ready(), 1);
    let t = targets(&fx.cd, &id).await.remove(0);
    let ecs = t.ecs_target().unwrap();
    assert_eq!(ecs.target_id(), Some("main:orders"));
    assert_eq!(ecs.status(), Some(&TargetStatus::Ready));
    let sets = ecs.task_sets_info();
    assert_eq!(sets.len(), 2);
    assert_eq!(sets[1].task_set_label().unwrap().as_str(), "Green");
    assert_eq!(sets[1].traffic_weight(), 0.0);
    let test = ecs
        .lifecycle_events()
        .iter()
        .find(|e| e.lifecycle_event_name() == Some("AfterAllowTestTraffic"))
        .unwrap();
    assert_eq!(test.status(), Some(&LifecycleEventStatus::Succeeded));

    fx.cd
        .continue_deployment()
        .deployment_id(&id)
        .send()
        .await
        .unwrap();
    run(&fx, &id, 1.0, 5.0).await;
    let weights = |t: &DeploymentTarget| -> Vec<f64> {
        t.ecs_target()
            .unwrap()
            .task_sets_info()
            .iter()
            .map(|s| s.traffic_weight())
            .collect()
    };
    assert_eq!(weights(&targets(&fx.cd, &id).await[0]), [90.0, 10.0]);
    fx.emu.clock.advance(60.0);
    fx.emu.settle(Duration::from_secs(10));
    assert_eq!(weights(&targets(&fx.cd, &id).await[0]), [80.0, 20.0]);
    let d = run(&fx, &id, 30.0, 600.0).await;
    assert_eq!(
        d.status(),
        Some(&DeploymentStatus::InProgress),
        "waiting to terminate the original task set"
    );
    assert_eq!(d.instance_termination_wait_time_started(), true);
    let d = run(&fx, &id, 30.0, 600.0).await;
    assert_eq!(d.status(), Some(&DeploymentStatus::Succeeded));
    let t = targets(&fx.cd, &id).await.remove(0);
    let sets = t.ecs_target().unwrap().task_sets_info();
    assert_eq!(sets.len(), 1);
    assert_eq!(sets[0].traffic_weight(), 100.0);
    assert_eq!(sets[0].status(), Some("PRIMARY"));
}

#[tokio::test]
async fn a_restart_during_a_deployment_fails_it_visibly() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::open(dir.path(), Clock::manual(START)).unwrap();
    let id = {
        let cd = Client::new(&common::sdk_config(&emu));
        server_group(&cd, "CodeDeployDefault.OneAtATime", None, None).await;
        let rev = bundle(&emu, "slow", &[], |d| {
            std::fs::write(
                d.join("scripts/before_install.sh"),
                "#!/bin/sh\necho preparing\nsleep 30\n",
            )
            .unwrap();
        });
        let id = deploy(&cd, rev).await;
        for _ in 0..6 {
            emu.clock.advance(1.0);
            emu.tick();
        }
        let t = targets(&cd, &id).await.remove(0);
        let before = &t.instance_target().unwrap().lifecycle_events()[2];
        assert_eq!(before.status(), Some(&LifecycleEventStatus::InProgress));
        id
    };
    drop(emu);
    let emu = Emulator::open(dir.path(), Clock::manual(START + 10.0)).unwrap();
    let cd = Client::new(&common::sdk_config(&emu));
    let d = info(&cd, &id).await;
    assert_eq!(d.status(), Some(&DeploymentStatus::Failed));
    let msg = d.error_information().unwrap().message().unwrap();
    assert!(msg.contains("emulator restarted"), "{msg}");
    let t = targets(&cd, &id).await.remove(0);
    let events = t.instance_target().unwrap().lifecycle_events();
    assert_eq!(events[2].status(), Some(&LifecycleEventStatus::Failed));
    assert!(
        events[2]
            .diagnostics()
            .unwrap()
            .message()
            .unwrap()
            .contains("emulator restarted")
    );
    assert_eq!(events[3].status(), Some(&LifecycleEventStatus::Skipped));
    // The group is free again.
    deploy(&cd, s3_revision("slow")).await;
}

#[tokio::test]
async fn errors_carry_aws_codes() {
    let fx = fixture(2);
    let cd = &fx.cd;
    assert_eq!(
        code(cd.get_application().application_name("nope").send().await),
        "ApplicationDoesNotExistException"
    );
    server_group(cd, "CodeDeployDefault.OneAtATime", None, None).await;
    assert_eq!(
        code(cd.create_application().application_name(APP).send().await),
        "ApplicationAlreadyExistsException"
    );
    assert_eq!(
        code(
            cd.get_deployment_group()
                .application_name(APP)
                .deployment_group_name("nope")
                .send()
                .await
        ),
        "DeploymentGroupDoesNotExistException"
    );
    assert_eq!(
        code(
            cd.get_deployment()
                .deployment_id("d-AAAAAAAAA")
                .send()
                .await
        ),
        "DeploymentDoesNotExistException"
    );
    assert_eq!(
        code(cd.get_deployment().deployment_id("bogus").send().await),
        "InvalidDeploymentIdException"
    );
    assert_eq!(
        code(
            cd.create_deployment()
                .application_name(APP)
                .deployment_group_name("nope")
                .revision(s3_revision("x"))
                .send()
                .await
        ),
        "DeploymentGroupDoesNotExistException"
    );
    assert_eq!(
        code(
            cd.create_deployment()
                .application_name(APP)
                .deployment_group_name(GROUP)
                .revision(s3_revision("missing"))
                .send()
                .await
        ),
        "RevisionDoesNotExistException"
    );
    assert_eq!(
        code(
            cd.create_deployment()
                .application_name(APP)
                .deployment_group_name(GROUP)
                .deployment_config_name("Nope")
                .revision(bundle(&fx.emu, "v1", &[], |_| {}))
                .send()
                .await
        ),
        "DeploymentConfigDoesNotExistException"
    );
    let id = deploy(cd, s3_revision("v1")).await;
    assert_eq!(
        code(cd.list_deployment_targets().deployment_id(&id).send().await),
        "DeploymentNotStartedException"
    );
    assert_eq!(
        code(cd.continue_deployment().deployment_id(&id).send().await),
        "UnsupportedActionForDeploymentTypeException"
    );
    run(&fx, &id, 1.0, 60.0).await;
    assert_eq!(
        code(cd.stop_deployment().deployment_id(&id).send().await),
        "DeploymentAlreadyCompletedException"
    );

    let one = cd
        .get_deployment_config()
        .deployment_config_name("CodeDeployDefault.OneAtATime")
        .send()
        .await
        .unwrap();
    let one = one.deployment_config_info().unwrap();
    assert_eq!(one.compute_platform(), Some(&ComputePlatform::Server));
    assert!(one.minimum_healthy_hosts().is_some());
    let canary = cd
        .get_deployment_config()
        .deployment_config_name("CodeDeployDefault.LambdaCanary10Percent5Minutes")
        .send()
        .await
        .unwrap();
    let routing = canary
        .deployment_config_info()
        .unwrap()
        .traffic_routing_config()
        .unwrap();
    let c = routing.time_based_canary().unwrap();
    assert_eq!((c.canary_percentage(), c.canary_interval()), (10, 5));
    let apps = cd.list_applications().send().await.unwrap();
    assert_eq!(apps.applications(), [APP.to_string()]);
    let groups = cd
        .list_deployment_groups()
        .application_name(APP)
        .send()
        .await
        .unwrap();
    assert_eq!(groups.deployment_groups(), [GROUP.to_string()]);
}

const STACK: &str = r#"
Resources:
  App:
    Type: AWS::CodeDeploy::Application
    Properties:
      ApplicationName: orders
      ComputePlatform: Server
  Config:
    Type: AWS::CodeDeploy::DeploymentConfig
    Properties:
      DeploymentConfigName: TwoHealthy
      MinimumHealthyHosts:
        Type: HOST_COUNT
        Value: 2
  Group:
    Type: AWS::CodeDeploy::DeploymentGroup
    DependsOn: [App, Config]
    Properties:
      ApplicationName: orders
      DeploymentGroupName: prod
      ServiceRoleArn: arn:aws:iam::000000000000:role/codedeploy
      DeploymentConfigName: TwoHealthy
      Ec2TagFilters:
        - Key: Name
          Value: orders
          Type: KEY_AND_VALUE
      AutoRollbackConfiguration:
        Enabled: true
        Events: [DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM]
      AlarmConfiguration:
        Enabled: true
        Alarms:
          - Name: orders-prod-errors
      DeploymentStyle:
        DeploymentType: IN_PLACE
        DeploymentOption: WITHOUT_TRAFFIC_CONTROL
      Tags:
        - Key: Environment
          Value: prod
"#;

#[tokio::test]
async fn cloudformation_creates_and_deletes_the_application_group_and_config() {
    use aws_sdk_cloudformation::types::StackStatus;
    let fx = fixture(3);
    let cfn = aws_sdk_cloudformation::Client::new(&common::sdk_config(&fx.emu));
    let emu = fx.emu.clone();
    let status = |cfn: aws_sdk_cloudformation::Client| async move {
        for _ in 0..300 {
            let out = cfn
                .describe_stacks()
                .stack_name("deploy")
                .send()
                .await
                .unwrap();
            let s = out.stacks()[0].stack_status().unwrap().clone();
            if !s.as_str().ends_with("IN_PROGRESS") {
                return s;
            }
            emu.clock.advance(1.0);
        }
        panic!("the stack never settled");
    };
    cfn.create_stack()
        .stack_name("deploy")
        .template_body(STACK)
        .send()
        .await
        .unwrap();
    assert_eq!(status(cfn.clone()).await, StackStatus::CreateComplete);
    let g = fx
        .cd
        .get_deployment_group()
        .application_name(APP)
        .deployment_group_name(GROUP)
        .send()
        .await
        .unwrap();
    let g = g.deployment_group_info().unwrap();
    assert_eq!(g.deployment_config_name(), Some("TwoHealthy"));
    assert_eq!(g.service_role_arn(), Some(ROLE));
    assert_eq!(g.ec2_tag_filters()[0].key(), Some("Name"));
    let rb = g.auto_rollback_configuration().unwrap();
    assert!(rb.enabled());
    assert_eq!(rb.events().len(), 2);
    assert_eq!(
        g.alarm_configuration().unwrap().alarms()[0].name(),
        Some("orders-prod-errors")
    );
    let c = fx
        .cd
        .get_deployment_config()
        .deployment_config_name("TwoHealthy")
        .send()
        .await
        .unwrap();
    let m = c
        .deployment_config_info()
        .unwrap()
        .minimum_healthy_hosts()
        .unwrap();
    assert_eq!((m.r#type().unwrap().as_str(), m.value()), ("HOST_COUNT", 2));

    cfn.delete_stack()
        .stack_name("deploy")
        .send()
        .await
        .unwrap();
    for _ in 0..300 {
        fx.emu.clock.advance(1.0);
        let gone = fx.cd.get_application().application_name(APP).send().await;
        if gone.is_err() {
            assert_eq!(code(gone), "ApplicationDoesNotExistException");
            return;
        }
        let _ = cfn.describe_stacks().stack_name("deploy").send().await;
    }
    panic!("the application outlived its stack");
}
