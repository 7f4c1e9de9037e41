//! CodeDeploy in the emulator through the real aws-sdk-codedeploy client: in-place deployments
//! that really run the sample app's hooks on an emulated fleet (host directories), batches,
//! failures with diagnostics, automatic rollback, alarm-driven stops from the hosts' health, and
//! a restart in the middle of a deployment.

use crate::codedeploy_support;
use crate::common;

use std::time::Duration;

use aws_sdk_codedeploy::Client;
use aws_sdk_codedeploy::types::{
    AutoRollbackEvent, BlueGreenDeploymentConfiguration, BlueInstanceTerminationOption,
    DeploymentOption, DeploymentReadyAction, DeploymentReadyOption, DeploymentStatus,
    DeploymentStyle, DeploymentType, InstanceAction, LifecycleErrorCode, LifecycleEventStatus,
    LoadBalancerInfo, TargetGroupInfo, TargetStatus,
};
use pipetui_emulator::{Clock, Emulator};

use codedeploy_support::*;
use common::{START, code};

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
async fn one_at_a_time_tolerates_a_failure_on_the_last_host_only() {
    let fx = fixture(3);
    server_group(&fx.cd, "CodeDeployDefault.OneAtATime", None, None).await;
    let rev = bundle(&fx.emu, "v1", &[], |d| {
        let check =
            "#!/bin/sh\n[ \"$HOST_INDEX\" = 2 ] && { echo last host broken; exit 3; }\necho ok\n";
        std::fs::write(d.join("scripts/validate.sh"), check).unwrap();
    });
    let id = deploy(&fx.cd, rev).await;
    let d = run(&fx, &id, 1.0, 120.0).await;
    assert_eq!(d.status(), Some(&DeploymentStatus::Succeeded));
    let o = d.deployment_overview().unwrap();
    assert_eq!((o.succeeded(), o.failed()), (2, 1));
    let config = fx
        .cd
        .get_deployment_config()
        .deployment_config_name("CodeDeployDefault.OneAtATime")
        .send()
        .await
        .unwrap();
    let m = config
        .deployment_config_info()
        .unwrap()
        .minimum_healthy_hosts()
        .unwrap();
    assert_eq!(
        (m.r#type().unwrap().as_str(), m.value()),
        ("MOST_CONCURRENCY", 1)
    );
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

fn decimal_seconds(dist: &std::path::Path) {
    let path = dist.join("scripts/health_check.sh");
    let script = std::fs::read_to_string(&path).expect("health check script");
    let fixed = script.replace("$(date +%S)", "$(date +%S | sed 's/^0//')");
    std::fs::write(&path, fixed).expect("write the health check");
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

    // The sample app's health check fails when the wall clock's seconds are 08 or 09 (`$((40 +
    // 08 % 20))` is invalid octal in sh); this copy strips the zero until the app is fixed.
    let good = deploy(&fx.cd, bundle(&fx.emu, "v1", &[], decimal_seconds)).await;
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
async fn a_hook_past_its_timeout_on_the_emulated_clock_is_killed() {
    let fx = fixture(1);
    server_group(&fx.cd, "CodeDeployDefault.OneAtATime", None, None).await;
    let rev = bundle(&fx.emu, "hangs", &[], |d| {
        let spec = std::fs::read_to_string(d.join("appspec.yml")).unwrap();
        std::fs::write(
            d.join("appspec.yml"),
            spec.replace("timeout: 120", "timeout: 5"),
        )
        .unwrap();
        std::fs::write(
            d.join("scripts/validate.sh"),
            "#!/bin/sh\necho checking\nsleep 30\n",
        )
        .unwrap();
    });
    let id = deploy(&fx.cd, rev).await;
    // A short settle: a full one would wait for the sleeping script in real time.
    for _ in 0..60 {
        fx.emu.clock.advance(1.0);
        fx.emu.settle(Duration::from_millis(200));
        if info(&fx.cd, &id).await.status() == Some(&DeploymentStatus::Failed) {
            break;
        }
    }
    assert_eq!(
        info(&fx.cd, &id).await.status(),
        Some(&DeploymentStatus::Failed)
    );
    let t = targets(&fx.cd, &id).await.remove(0);
    let validate = &t.instance_target().unwrap().lifecycle_events()[6];
    let diag = validate.diagnostics().unwrap();
    assert_eq!(diag.error_code(), Some(&LifecycleErrorCode::ScriptTimedOut));
    assert!(
        diag.message()
            .unwrap()
            .contains("failed to complete in 5 seconds")
    );
    assert!(diag.log_tail().unwrap().contains("checking"));
    assert!(secs(validate.end_time()) - secs(validate.start_time()) >= 5.0);
    assert!(!fx.emu.busy(), "the timed-out script was killed");
}

#[tokio::test]
async fn blue_green_moves_traffic_to_a_replacement_fleet_and_terminates_the_original() {
    let fx = fixture(2);
    fx.cd
        .create_application()
        .application_name(APP)
        .send()
        .await
        .unwrap();
    fx.cd
        .create_deployment_group()
        .application_name(APP)
        .deployment_group_name(GROUP)
        .service_role_arn(ROLE)
        .deployment_config_name("CodeDeployDefault.AllAtOnce")
        .deployment_style(
            DeploymentStyle::builder()
                .deployment_type(DeploymentType::BlueGreen)
                .deployment_option(DeploymentOption::WithTrafficControl)
                .build(),
        )
        .load_balancer_info(
            LoadBalancerInfo::builder()
                .target_group_info_list(TargetGroupInfo::builder().name("orders-tg").build())
                .build(),
        )
        .blue_green_deployment_configuration(
            BlueGreenDeploymentConfiguration::builder()
                .deployment_ready_option(
                    DeploymentReadyOption::builder()
                        .action_on_timeout(DeploymentReadyAction::ContinueDeployment)
                        .build(),
                )
                .terminate_blue_instances_on_deployment_success(
                    BlueInstanceTerminationOption::builder()
                        .action(InstanceAction::Terminate)
                        .termination_wait_time_in_minutes(1)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let first = deploy(&fx.cd, bundle(&fx.emu, "v1", &[], |_| {})).await;
    let d = run(&fx, &first, 1.0, 200.0).await;
    assert_eq!(d.status(), Some(&DeploymentStatus::Succeeded));
    assert!(d.instance_termination_wait_time_started());
    let ts = targets(&fx.cd, &first).await;
    let (green, blue): (Vec<_>, Vec<_>) = ts
        .iter()
        .map(|t| t.instance_target().unwrap())
        .partition(|t| t.instance_label().map(|l| l.as_str()) == Some("Green"));
    assert_eq!((green.len(), blue.len()), (2, 2));
    for g in &green {
        let names: Vec<&str> = g
            .lifecycle_events()
            .iter()
            .map(|e| e.lifecycle_event_name().unwrap())
            .collect();
        assert_eq!(&names[..7], IN_PLACE);
        assert_eq!(
            &names[7..],
            ["BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic"]
        );
        assert_eq!(g.status(), Some(&TargetStatus::Succeeded));
        let dir = host_dir(&fx, g.target_id().unwrap());
        assert_eq!(
            std::fs::read_to_string(dir.join("opt/orders/VERSION")).unwrap(),
            "v1\n"
        );
    }
    for b in &blue {
        let names: Vec<&str> = b
            .lifecycle_events()
            .iter()
            .map(|e| e.lifecycle_event_name().unwrap())
            .collect();
        assert_eq!(
            names,
            ["BeforeBlockTraffic", "BlockTraffic", "AfterBlockTraffic"]
        );
        // Traffic leaves the original hosts only once the replacements are installed.
        let allow = green[0].lifecycle_events()[6].end_time();
        assert!(secs(b.lifecycle_events()[0].start_time()) >= secs(allow));
        assert!(
            !host_dir(&fx, b.target_id().unwrap()).exists(),
            "original host terminated"
        );
    }
    let only_green = fx
        .cd
        .list_deployment_targets()
        .deployment_id(&first)
        .target_filters(
            aws_sdk_codedeploy::types::TargetFilterName::ServerInstanceLabel,
            vec!["Green".into()],
        )
        .send()
        .await
        .unwrap();
    assert_eq!(only_green.target_ids().len(), 2);

    // The replacement fleet is now the original one of the next deployment.
    let second = deploy(&fx.cd, bundle(&fx.emu, "v2", &[], |_| {})).await;
    assert_eq!(
        run(&fx, &second, 1.0, 200.0).await.status(),
        Some(&DeploymentStatus::Succeeded)
    );
    let mut old: Vec<String> = green
        .iter()
        .map(|g| g.target_id().unwrap().to_string())
        .collect();
    let mut now_blue: Vec<String> = targets(&fx.cd, &second)
        .await
        .iter()
        .map(|t| t.instance_target().unwrap())
        .filter(|t| t.instance_label().map(|l| l.as_str()) == Some("Blue"))
        .map(|t| t.target_id().unwrap().to_string())
        .collect();
    old.sort();
    now_blue.sort();
    assert_eq!(old, now_blue);
}
