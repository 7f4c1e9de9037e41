//! The CodeDeploy service role of each environment deployed from this account.

use serde_json::{Value, json};

use super::{artifact_access, pass_task_roles, role, stmt};
use crate::config::{DeployTarget, Environment, LoadBalancer};
use crate::stack::deploy::{alb_name, ecs_names, lambda_function, target_group};
use crate::stack::{Ctx, Resource, fns};

pub(super) fn deploy_role(ctx: &Ctx<'_>, env: &Environment) -> Resource {
    let c = ctx.config;
    let mut s = Vec::new();
    let alarms: Vec<Value> = crate::stack::monitoring::rollback_alarm_names(ctx, env)
        .iter()
        .map(|n| fns::arn("cloudwatch", &format!("alarm:{n}")))
        .collect();
    if !alarms.is_empty() {
        s.push(stmt(
            "ReadRollbackAlarms",
            &["cloudwatch:DescribeAlarms"],
            alarms,
        ));
    }
    match c.deploy.target {
        DeployTarget::Ec2 => {
            // Instance discovery by tag and Auto Scaling group has no resource-level permissions.
            s.push(stmt(
                "DiscoverInstances",
                &[
                    "ec2:DescribeInstances",
                    "ec2:DescribeInstanceStatus",
                    "tag:GetResources",
                    "autoscaling:DescribeAutoScalingGroups",
                    "autoscaling:DescribeLifecycleHooks",
                ],
                vec![json!("*")],
            ));
            if let Some(asg) = &c.deploy.ec2.auto_scaling_group {
                s.push(stmt(
                    "ManageLifecycleHooks",
                    &[
                        "autoscaling:CompleteLifecycleAction",
                        "autoscaling:DeleteLifecycleHook",
                        "autoscaling:PutLifecycleHook",
                        "autoscaling:RecordLifecycleActionHeartbeat",
                        "autoscaling:UpdateAutoScalingGroup",
                        "autoscaling:SuspendProcesses",
                        "autoscaling:ResumeProcesses",
                    ],
                    vec![fns::arn(
                        "autoscaling",
                        &format!("autoScalingGroup:*:autoScalingGroupName/{asg}"),
                    )],
                ));
            }
        }
        DeployTarget::Ecs => {
            let (cluster, service) = ecs_names(ctx, env);
            s.push(stmt(
                "ShiftEcsTaskSets",
                &[
                    "ecs:DescribeServices",
                    "ecs:CreateTaskSet",
                    "ecs:DeleteTaskSet",
                    "ecs:UpdateServicePrimaryTaskSet",
                ],
                vec![
                    fns::arn("ecs", &format!("service/{cluster}/{service}")),
                    fns::arn("ecs", &format!("task-set/{cluster}/{service}/*")),
                ],
            ));
            s.push(pass_task_roles(ctx));
            artifact_access(ctx, false, &mut s);
        }
        DeployTarget::Lambda => {
            let f = lambda_function(ctx, env);
            s.push(stmt(
                "ShiftAliasTraffic",
                &[
                    "lambda:GetAlias",
                    "lambda:UpdateAlias",
                    "lambda:GetFunction",
                    "lambda:GetProvisionedConcurrencyConfig",
                ],
                vec![
                    fns::arn("lambda", &format!("function:{f}")),
                    fns::arn("lambda", &format!("function:{f}:*")),
                ],
            ));
        }
    }
    if c.deploy.load_balancer == LoadBalancer::Alb && c.deploy.target != DeployTarget::Lambda {
        let alb = alb_name(ctx, env);
        // Describe calls on load balancers have no resource-level permissions.
        s.push(stmt(
            "DescribeLoadBalancing",
            &[
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetHealth",
                "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeRules",
                "elasticloadbalancing:DescribeLoadBalancers",
            ],
            vec![json!("*")],
        ));
        s.push(stmt(
            "ShiftLoadBalancerTraffic",
            &[
                "elasticloadbalancing:RegisterTargets",
                "elasticloadbalancing:DeregisterTargets",
                "elasticloadbalancing:ModifyListener",
                "elasticloadbalancing:ModifyRule",
            ],
            vec![
                fns::arn(
                    "elasticloadbalancing",
                    &format!("targetgroup/{}/*", target_group(ctx, env, "blue")),
                ),
                fns::arn(
                    "elasticloadbalancing",
                    &format!("targetgroup/{}/*", target_group(ctx, env, "green")),
                ),
                fns::arn("elasticloadbalancing", &format!("listener/app/{alb}/*")),
                fns::arn(
                    "elasticloadbalancing",
                    &format!("listener-rule/app/{alb}/*"),
                ),
            ],
        ));
    }
    role(
        ctx,
        &env.name,
        "deploy-role",
        json!("codedeploy.amazonaws.com"),
        s,
    )
}
