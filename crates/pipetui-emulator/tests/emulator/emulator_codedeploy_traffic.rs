//! CodeDeploy in the emulator through the real aws-sdk-codedeploy client: Lambda canary and
//! ECS blue/green traffic shifting, hook functions logged to CloudWatch Logs, AWS error codes
//! (the one-active-deployment limit among them) and the resources CloudFormation creates.

use crate::codedeploy_support;
use crate::common;

use std::time::Duration;

use aws_sdk_codedeploy::types::{
    BlueGreenDeploymentConfiguration, BlueInstanceTerminationOption, ComputePlatform,
    DeploymentOption, DeploymentReadyAction, DeploymentReadyOption, DeploymentStatus,
    DeploymentStyle, DeploymentTarget, DeploymentType, EcsService, InstanceAction,
    LifecycleEventStatus, LoadBalancerInfo, TargetGroupInfo, TargetGroupPairInfo, TargetStatus,
};

use codedeploy_support::*;
use common::code;

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
    assert!(d.instance_termination_wait_time_started());
    let d = run(&fx, &id, 30.0, 600.0).await;
    assert_eq!(d.status(), Some(&DeploymentStatus::Succeeded));
    let t = targets(&fx.cd, &id).await.remove(0);
    let sets = t.ecs_target().unwrap().task_sets_info();
    assert_eq!(sets.len(), 1);
    assert_eq!(sets[0].traffic_weight(), 100.0);
    assert_eq!(sets[0].status(), Some("PRIMARY"));
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
    let batch = cd
        .batch_get_deployment_groups()
        .application_name(APP)
        .deployment_group_names(GROUP)
        .deployment_group_names("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(batch.deployment_groups_info().len(), 1);
    assert!(batch.error_message().unwrap().contains("nope"));
    let apps = cd
        .batch_get_applications()
        .application_names(APP)
        .send()
        .await
        .unwrap();
    assert_eq!(apps.applications_info()[0].application_name(), Some(APP));
    assert_eq!(
        code(
            cd.batch_get_applications()
                .application_names("nope")
                .send()
                .await
        ),
        "ApplicationDoesNotExistException"
    );
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
    Properties:
      ApplicationName: !Ref App
      DeploymentGroupName: prod
      ServiceRoleArn: arn:aws:iam::000000000000:role/codedeploy
      DeploymentConfigName: !Ref Config
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
async fn ecs_deploys_a_pipeline_artifact_from_s3_all_at_once() {
    let fx = fixture(3);
    fx.cd
        .create_application()
        .application_name(APP)
        .compute_platform(ComputePlatform::Ecs)
        .send()
        .await
        .unwrap();
    fx.cd
        .create_deployment_group()
        .application_name(APP)
        .deployment_group_name(GROUP)
        .service_role_arn(ROLE)
        .ecs_services(
            EcsService::builder()
                .cluster_name("main")
                .service_name("orders")
                .build(),
        )
        .send()
        .await
        .unwrap();
    // The sample app's bundle, as CodePipeline hands it over: an S3 artifact.
    let id = deploy(&fx.cd, bundle(&fx.emu, "build-1", &[], |_| {})).await;
    let d = run(&fx, &id, 1.0, 60.0).await;
    assert_eq!(d.status(), Some(&DeploymentStatus::Succeeded));
    assert_eq!(
        d.deployment_config_name(),
        Some("CodeDeployDefault.ECSAllAtOnce")
    );
    let t = targets(&fx.cd, &id).await.remove(0);
    let ecs = t.ecs_target().unwrap();
    assert_eq!(ecs.status(), Some(&TargetStatus::Succeeded));
    assert_eq!(ecs.lifecycle_events().len(), 8);
    assert_eq!(ecs.task_sets_info().len(), 1);
    assert_eq!(ecs.task_sets_info()[0].traffic_weight(), 100.0);
}
