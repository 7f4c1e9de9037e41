//! CodeDeploy: the application, its deployment config and one deployment group per environment.

use serde_json::{Map, Value, json};

use super::iam::deploy_role_id;
use super::monitoring::rollback_alarm_ids;
use super::{CICD, Ctx, Resource, ecs, fns, ids, network, pascal};
use crate::config::{DeployTarget, Environment, LoadBalancer, NameKind, Strategy};

/// Where deployments go: a CodeDeploy default config, or the custom one this stack defines.
enum DeployConfig {
    Default(&'static str),
    Custom(Value),
}

fn deploy_config(ctx: &Ctx<'_>) -> DeployConfig {
    let d = &ctx.config.deploy;
    let time_based = |platform: &str| {
        let routing = if d.strategy == Strategy::Canary {
            json!({ "Type": "TimeBasedCanary", "TimeBasedCanary": { "CanaryPercentage": d.canary_percent, "CanaryInterval": d.interval_minutes } })
        } else {
            json!({ "Type": "TimeBasedLinear", "TimeBasedLinear": { "LinearPercentage": d.canary_percent, "LinearInterval": d.interval_minutes } })
        };
        DeployConfig::Custom(
            json!({ "ComputePlatform": platform, "TrafficRoutingConfig": routing }),
        )
    };
    match (d.target, d.strategy) {
        (DeployTarget::Ec2, Strategy::Rolling) if d.minimum_healthy_percent == 50 => {
            DeployConfig::Default("CodeDeployDefault.HalfAtATime")
        }
        (DeployTarget::Ec2, Strategy::Rolling) => DeployConfig::Custom(json!({
            "ComputePlatform": "Server",
            "MinimumHealthyHosts": { "Type": "FLEET_PERCENT", "Value": d.minimum_healthy_percent }
        })),
        (DeployTarget::Ec2, Strategy::AllAtOnce) => {
            DeployConfig::Default("CodeDeployDefault.AllAtOnce")
        }
        // Blue/green reroutes traffic to the replacement instances one at a time.
        (DeployTarget::Ec2, _) => DeployConfig::Default("CodeDeployDefault.OneAtATime"),
        (DeployTarget::Ecs, Strategy::Canary | Strategy::Linear) => time_based("ECS"),
        (DeployTarget::Ecs, _) => DeployConfig::Default("CodeDeployDefault.ECSAllAtOnce"),
        (DeployTarget::Lambda, Strategy::Canary | Strategy::Linear) => {
            match lambda_predefined(d.strategy, d.canary_percent, d.interval_minutes) {
                Some(name) => DeployConfig::Default(name),
                None => time_based("Lambda"),
            }
        }
        (DeployTarget::Lambda, _) => DeployConfig::Default("CodeDeployDefault.LambdaAllAtOnce"),
    }
}

/// CodeDeploy's predefined Lambda configs (10 % steps), used when the strategy matches one.
fn lambda_predefined(strategy: Strategy, percent: u32, minutes: u32) -> Option<&'static str> {
    if percent != 10 {
        return None;
    }
    Some(match (strategy, minutes) {
        (Strategy::Canary, 5) => "CodeDeployDefault.LambdaCanary10Percent5Minutes",
        (Strategy::Canary, 10) => "CodeDeployDefault.LambdaCanary10Percent10Minutes",
        (Strategy::Canary, 15) => "CodeDeployDefault.LambdaCanary10Percent15Minutes",
        (Strategy::Canary, 30) => "CodeDeployDefault.LambdaCanary10Percent30Minutes",
        (Strategy::Linear, 1) => "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
        (Strategy::Linear, 2) => "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes",
        (Strategy::Linear, 3) => "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes",
        (Strategy::Linear, 10) => "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes",
        _ => return None,
    })
}

/// The deployment config's name as the deployment group takes it.
fn deploy_config_name(ctx: &Ctx<'_>) -> Value {
    match deploy_config(ctx) {
        DeployConfig::Default(n) => json!(n),
        DeployConfig::Custom(_) => fns::r#ref(ids::DEPLOY_CONFIG),
    }
}

pub fn deployment_config_arn(ctx: &Ctx<'_>) -> Value {
    match deploy_config(ctx) {
        DeployConfig::Default(n) => fns::arn("codedeploy", &format!("deploymentconfig:{n}")),
        DeployConfig::Custom(_) => fns::arn(
            "codedeploy",
            &format!("deploymentconfig:${{{}}}", ids::DEPLOY_CONFIG),
        ),
    }
}

pub fn alb_name(ctx: &Ctx<'_>, env: &Environment) -> String {
    ctx.name(NameKind::LoadBalancer, &env.name, "alb")
}

pub fn target_group(ctx: &Ctx<'_>, env: &Environment, color: &str) -> String {
    ctx.name(NameKind::TargetGroup, &env.name, color)
}

pub fn ecs_names(ctx: &Ctx<'_>, env: &Environment) -> (String, String) {
    let e = &ctx.config.deploy.ecs;
    let cluster = e
        .cluster
        .clone()
        .unwrap_or_else(|| ctx.name(NameKind::EcsCluster, &env.name, "cluster"));
    let service = e
        .service
        .clone()
        .unwrap_or_else(|| ctx.name(NameKind::EcsService, &env.name, "service"));
    (cluster, service)
}

pub fn lambda_function(ctx: &Ctx<'_>, env: &Environment) -> String {
    ctx.config
        .deploy
        .lambda
        .function
        .clone()
        .unwrap_or_else(|| ctx.name(NameKind::LambdaFunction, &env.name, "function"))
}

pub fn group_id(env: &Environment) -> String {
    format!("{}DeploymentGroup", pascal(&env.name))
}

pub fn render(ctx: &mut Ctx<'_>) {
    let d = &ctx.config.deploy;
    let platform = match d.target {
        DeployTarget::Ec2 => "Server",
        DeployTarget::Ecs => "ECS",
        DeployTarget::Lambda => "Lambda",
    };
    let app = Resource::new(
        "AWS::CodeDeploy::Application",
        json!({
            "ApplicationName": ctx.name(NameKind::CodeDeployApplication, CICD, "app"),
            "ComputePlatform": platform,
        }),
    );
    ctx.add(ids::APP, CICD, app);
    if let DeployConfig::Custom(props) = deploy_config(ctx) {
        ctx.add(
            ids::DEPLOY_CONFIG,
            CICD,
            Resource::new("AWS::CodeDeploy::DeploymentConfig", props),
        );
    }
    for env in ctx.home_envs() {
        let group = group(ctx, env);
        ctx.add_for(&group_id(env), env, group);
    }
}

fn group(ctx: &mut Ctx<'_>, env: &Environment) -> Resource {
    let d = &ctx.config.deploy;
    let mut p = Map::new();
    p.insert("ApplicationName".into(), fns::r#ref(ids::APP));
    p.insert(
        "DeploymentGroupName".into(),
        json!(ctx.name(NameKind::CodeDeployGroup, &env.name, "deploy-group")),
    );
    p.insert(
        "ServiceRoleArn".into(),
        fns::get_att(&deploy_role_id(env), "Arn"),
    );
    p.insert("DeploymentConfigName".into(), deploy_config_name(ctx));
    if d.auto_rollback {
        let mut events = vec!["DEPLOYMENT_FAILURE"];
        if d.rollback_on_alarms {
            events.push("DEPLOYMENT_STOP_ON_ALARM");
        }
        p.insert(
            "AutoRollbackConfiguration".into(),
            json!({ "Enabled": true, "Events": events }),
        );
    }
    let alarms: Vec<Value> = rollback_alarm_ids(ctx, env)
        .iter()
        .map(|id| json!({ "Name": fns::r#ref(id) }))
        .collect();
    if !alarms.is_empty() {
        p.insert(
            "AlarmConfiguration".into(),
            json!({ "Enabled": true, "IgnorePollAlarmFailure": false, "Alarms": alarms }),
        );
    }
    let alb = d.load_balancer == LoadBalancer::Alb;
    let blue_green = d.target != DeployTarget::Ec2 || d.strategy == Strategy::BlueGreen;
    p.insert(
        "DeploymentStyle".into(),
        json!({
            "DeploymentType": if blue_green { "BLUE_GREEN" } else { "IN_PLACE" },
            "DeploymentOption": if alb || d.target == DeployTarget::Lambda { "WITH_TRAFFIC_CONTROL" } else { "WITHOUT_TRAFFIC_CONTROL" },
        }),
    );
    match d.target {
        DeployTarget::Ec2 => {
            if let Some(asg) = &d.ec2.auto_scaling_group {
                p.insert("AutoScalingGroups".into(), json!([asg]));
            } else {
                // Without explicit tags, instances are chosen by the standard tags of the environment.
                let tags: Vec<Value> = if d.ec2.instance_tags.is_empty() {
                    vec![
                        json!({ "Key": "Project", "Value": ctx.config.project.service, "Type": "KEY_AND_VALUE" }),
                        json!({ "Key": "Environment", "Value": env.name, "Type": "KEY_AND_VALUE" }),
                    ]
                } else {
                    d.ec2
                        .instance_tags
                        .iter()
                        .map(|(k, v)| json!({ "Key": k, "Value": v, "Type": "KEY_AND_VALUE" }))
                        .collect()
                };
                p.insert("Ec2TagFilters".into(), Value::Array(tags));
            }
            if alb {
                p.insert(
                    "LoadBalancerInfo".into(),
                    json!({ "TargetGroupInfoList": [{ "Name": fns::get_att(&network::target_group_id(env, "blue"), "TargetGroupName") }] }),
                );
            }
            if blue_green {
                let provisioning = if d.ec2.auto_scaling_group.is_some() {
                    "COPY_AUTO_SCALING_GROUP"
                } else {
                    "DISCOVER_EXISTING"
                };
                p.insert(
                    "BlueGreenDeploymentConfiguration".into(),
                    json!({
                        "DeploymentReadyOption": { "ActionOnTimeout": "CONTINUE_DEPLOYMENT" },
                        "GreenFleetProvisioningOption": { "Action": provisioning },
                        "TerminateBlueInstancesOnDeploymentSuccess": { "Action": "TERMINATE", "TerminationWaitTimeInMinutes": 5 }
                    }),
                );
            }
        }
        DeployTarget::Ecs => {
            p.insert(
                "ECSServices".into(),
                json!([{ "ClusterName": fns::r#ref(&ecs::cluster_id(env)), "ServiceName": fns::get_att(&ecs::service_id(env), "Name") }]),
            );
            p.insert(
                "BlueGreenDeploymentConfiguration".into(),
                json!({
                    "DeploymentReadyOption": { "ActionOnTimeout": "CONTINUE_DEPLOYMENT", "WaitTimeInMinutes": 0 },
                    "TerminateBlueInstancesOnDeploymentSuccess": { "Action": "TERMINATE", "TerminationWaitTimeInMinutes": 5 }
                }),
            );
            let tg = |color| json!({ "Name": fns::get_att(&network::target_group_id(env, color), "TargetGroupName") });
            p.insert(
                "LoadBalancerInfo".into(),
                json!({ "TargetGroupPairInfoList": [{
                    "TargetGroups": [tg("blue"), tg("green")],
                    "ProdTrafficRoute": { "ListenerArns": [fns::r#ref(&network::prod_listener_id(env))] },
                    "TestTrafficRoute": { "ListenerArns": [fns::r#ref(&network::test_listener_id(env))] }
                }] }),
            );
        }
        DeployTarget::Lambda => {}
    }
    Resource::new("AWS::CodeDeploy::DeploymentGroup", Value::Object(p))
}
