//! The template for one target account of cross-account environments: the role the pipeline's
//! deploy action assumes, the CodeDeploy service role, and the application and deployment group
//! the action deploys to. Deployed once in that account (`pipetui template -o DIR`).

use serde_json::{Value, json};

use super::deploy::{ecs_names, lambda_function, target_group};
use super::iam::{role, stmt};
use super::{CICD, Ctx, Parameter, Resource, Template, fns, pascal};
use crate::config::naming::NameError;
use crate::config::{Config, DeployTarget, Environment, KmsMode, NameKind, Strategy};

/// Accounts that need a template of their own, sorted and without duplicates.
pub fn target_accounts(config: &Config) -> Vec<String> {
    let mut a: Vec<String> = config
        .environments
        .iter()
        .filter_map(|e| e.account_id.clone())
        .collect();
    a.sort();
    a.dedup();
    a
}

/// Renders the template for `account`; an account no environment names yields no resources.
pub fn render_account(config: &Config, account: &str) -> Result<Template, NameError> {
    let mut ctx = Ctx::new(config);
    ctx.template.description = format!(
        "pipetui cross-account deploy roles for {} in account {account}",
        config.project.service
    );
    ctx.template.parameters.insert(
        "PipelineAccountId",
        Parameter {
            kind: "String".into(),
            description: "The account the pipeline stack runs in".into(),
            default: None,
            allowed_pattern: Some("^[0-9]{12}$".into()),
        },
    );
    let envs: Vec<&Environment> = config
        .environments
        .iter()
        .filter(|e| e.account_id.as_deref() == Some(account))
        .collect();
    if !envs.is_empty() {
        application(&mut ctx);
        for env in envs {
            environment(&mut ctx, env);
        }
    }
    let mut errors = ctx.errors.into_inner();
    if errors.is_empty() {
        Ok(ctx.template)
    } else {
        Err(errors.swap_remove(0))
    }
}

fn application(ctx: &mut Ctx<'_>) {
    let platform = match ctx.config.deploy.target {
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
    ctx.add("DeployApplication", CICD, app);
}

fn environment(ctx: &mut Ctx<'_>, env: &Environment) {
    let e = pascal(&env.name);
    let app = ctx.name(NameKind::CodeDeployApplication, CICD, "app");
    let group = ctx.name(NameKind::CodeDeployGroup, &env.name, "deploy-group");
    let pipeline_role = ctx.name(NameKind::IamRole, CICD, "pipeline-role");
    let bucket = ctx.name(NameKind::S3Bucket, CICD, "artifacts");
    let mut s = vec![
        stmt(
            "DeployToThisAccount",
            &[
                "codedeploy:CreateDeployment",
                "codedeploy:GetDeployment",
                "codedeploy:GetApplication",
                "codedeploy:GetApplicationRevision",
                "codedeploy:RegisterApplicationRevision",
                "codedeploy:GetDeploymentConfig",
            ],
            vec![
                fns::arn("codedeploy", &format!("application:{app}")),
                fns::arn("codedeploy", &format!("deploymentgroup:{app}/{group}")),
                fns::arn("codedeploy", "deploymentconfig:*"),
            ],
        ),
        stmt(
            "ReadPipelineArtifacts",
            &["s3:GetObject", "s3:GetObjectVersion"],
            vec![fns::sub(format!("arn:${{AWS::Partition}}:s3:::{bucket}/*"))],
        ),
    ];
    if ctx.config.security.kms == KmsMode::Customer {
        s.push(stmt(
            "DecryptPipelineArtifacts",
            &["kms:Decrypt", "kms:DescribeKey"],
            vec![fns::sub(
                "arn:${AWS::Partition}:kms:${AWS::Region}:${PipelineAccountId}:key/*",
            )],
        ));
    }
    // Trusted by the pipeline's role only, named like the pipeline stack names it.
    let mut action = role(
        ctx,
        &env.name,
        "deploy-role",
        json!("codepipeline.amazonaws.com"),
        s,
    );
    action.properties["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] = json!({
        "AWS": fns::sub(format!("arn:${{AWS::Partition}}:iam::${{PipelineAccountId}}:role/{pipeline_role}"))
    });
    ctx.add(&format!("{e}DeployActionRole"), &env.name, action);

    let service = service_role(ctx, env);
    ctx.add(&format!("{e}CodeDeployRole"), &env.name, service);
    let group = deployment_group(ctx, env, &format!("{e}CodeDeployRole"));
    ctx.add(&format!("{e}DeploymentGroup"), &env.name, group);
}

/// What CodeDeploy itself may do in this account for the environment's target.
fn service_role(ctx: &Ctx<'_>, env: &Environment) -> Resource {
    let d = &ctx.config.deploy;
    let s = match d.target {
        // Instance discovery by tag and Auto Scaling group has no resource-level permissions.
        DeployTarget::Ec2 => vec![stmt(
            "DiscoverInstances",
            &[
                "ec2:DescribeInstances",
                "ec2:DescribeInstanceStatus",
                "tag:GetResources",
                "autoscaling:DescribeAutoScalingGroups",
                "autoscaling:DescribeLifecycleHooks",
            ],
            vec![json!("*")],
        )],
        DeployTarget::Lambda => {
            let f = lambda_function(ctx, env);
            vec![stmt(
                "ShiftAliasTraffic",
                &[
                    "lambda:GetAlias",
                    "lambda:UpdateAlias",
                    "lambda:GetFunction",
                ],
                vec![
                    fns::arn("lambda", &format!("function:{f}")),
                    fns::arn("lambda", &format!("function:{f}:*")),
                ],
            )]
        }
        DeployTarget::Ecs => {
            let (cluster, service) = ecs_names(ctx, env);
            vec![stmt(
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
            )]
        }
    };
    role(
        ctx,
        &env.name,
        "codedeploy-role",
        json!("codedeploy.amazonaws.com"),
        s,
    )
}

fn deployment_group(ctx: &mut Ctx<'_>, env: &Environment, role_id: &str) -> Resource {
    let d = &ctx.config.deploy;
    let config_name = match (d.target, d.strategy) {
        (DeployTarget::Ec2, Strategy::AllAtOnce) => "CodeDeployDefault.AllAtOnce",
        (DeployTarget::Ec2, Strategy::Rolling) => "CodeDeployDefault.HalfAtATime",
        (DeployTarget::Ec2, _) => "CodeDeployDefault.OneAtATime",
        (DeployTarget::Ecs, _) => "CodeDeployDefault.ECSAllAtOnce",
        (DeployTarget::Lambda, _) => "CodeDeployDefault.LambdaAllAtOnce",
    };
    let mut p = json!({
        "ApplicationName": fns::r#ref("DeployApplication"),
        "DeploymentGroupName": ctx.name(NameKind::CodeDeployGroup, &env.name, "deploy-group"),
        "ServiceRoleArn": fns::get_att(role_id, "Arn"),
        "DeploymentConfigName": config_name,
        "AutoRollbackConfiguration": { "Enabled": d.auto_rollback, "Events": ["DEPLOYMENT_FAILURE"] },
    });
    match d.target {
        DeployTarget::Ec2 => {
            p["DeploymentStyle"] = json!({ "DeploymentType": "IN_PLACE", "DeploymentOption": "WITHOUT_TRAFFIC_CONTROL" });
            if let Some(asg) = &d.ec2.auto_scaling_group {
                p["AutoScalingGroups"] = json!([asg]);
            } else {
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
                p["Ec2TagFilters"] = Value::Array(tags);
            }
        }
        DeployTarget::Lambda => {
            p["DeploymentStyle"] = json!({ "DeploymentType": "BLUE_GREEN", "DeploymentOption": "WITH_TRAFFIC_CONTROL" });
        }
        DeployTarget::Ecs => {
            // The service's load balancer lives in this account; its listener is a parameter.
            let listener = format!("{}ProdListenerArn", pascal(&env.name));
            ctx.template.parameters.insert(
                listener.clone(),
                Parameter {
                    kind: "String".into(),
                    description: format!("Production listener of the {} ALB", env.name),
                    default: None,
                    allowed_pattern: Some("^arn:aws[a-z-]*:elasticloadbalancing:.+$".into()),
                },
            );
            let (cluster, service) = ecs_names(ctx, env);
            p["DeploymentStyle"] = json!({ "DeploymentType": "BLUE_GREEN", "DeploymentOption": "WITH_TRAFFIC_CONTROL" });
            p["ECSServices"] = json!([{ "ClusterName": cluster, "ServiceName": service }]);
            p["BlueGreenDeploymentConfiguration"] = json!({
                "DeploymentReadyOption": { "ActionOnTimeout": "CONTINUE_DEPLOYMENT", "WaitTimeInMinutes": 0 },
                "TerminateBlueInstancesOnDeploymentSuccess": { "Action": "TERMINATE", "TerminationWaitTimeInMinutes": 5 }
            });
            p["LoadBalancerInfo"] = json!({ "TargetGroupPairInfoList": [{
                "TargetGroups": [{ "Name": target_group(ctx, env, "blue") }, { "Name": target_group(ctx, env, "green") }],
                "ProdTrafficRoute": { "ListenerArns": [fns::r#ref(&listener)] }
            }] });
        }
    }
    Resource::new("AWS::CodeDeploy::DeploymentGroup", p)
}
