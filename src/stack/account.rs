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

/// Regions other than `aws.region` that environments deploy to, each with a template of its own.
pub fn other_regions(config: &Config) -> Vec<String> {
    let ctx = Ctx::new(config);
    ctx.other_regions()
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// Renders the template for `account`; an account no environment names yields no resources.
pub fn render_account(config: &Config, account: &str) -> Result<Template, NameError> {
    let mut ctx = Ctx::new(config);
    ctx.template.description = format!(
        "pipetui cross-account deploy roles for {} in account {account}",
        config.project.service
    );
    ctx.template.parameters.insert(
        "PipelineAccountId".into(),
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

/// Renders the template for another region of the pipeline's account: the artifact store
/// CodePipeline uses there, and the CodeDeploy application, role and group of its environments.
pub fn render_region(config: &Config, region: &str) -> Result<Template, NameError> {
    let mut ctx = Ctx::new(config);
    ctx.template.description = format!(
        "pipetui regional resources for {} in {region}",
        config.project.service
    );
    let envs: Vec<&Environment> = config
        .environments
        .iter()
        .filter(|e| e.account_id.is_none() && e.region.as_deref() == Some(region))
        .collect();
    regional_bucket(&mut ctx, region);
    if !envs.is_empty() {
        application(&mut ctx);
        for env in envs {
            let e = pascal(&env.name);
            let service = service_role(&ctx, env);
            ctx.add(&format!("{e}CodeDeployRole"), &env.name, service);
            let group = deployment_group(&mut ctx, env, &format!("{e}CodeDeployRole"));
            ctx.add(&format!("{e}DeploymentGroup"), &env.name, group);
        }
    }
    let mut errors = ctx.errors.into_inner();
    if errors.is_empty() {
        Ok(ctx.template)
    } else {
        Err(errors.swap_remove(0))
    }
}

/// S3-managed encryption: the pipeline's customer key lives in its own region only.
fn regional_bucket(ctx: &mut Ctx<'_>, region: &str) {
    let days = ctx.config.artifacts.expire_days;
    let bucket = Resource::new(
        "AWS::S3::Bucket",
        json!({
            "BucketName": ctx.regional_bucket(region),
            "VersioningConfiguration": { "Status": "Enabled" },
            "BucketEncryption": { "ServerSideEncryptionConfiguration": [
                { "ServerSideEncryptionByDefault": { "SSEAlgorithm": "AES256" } }
            ] },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": true, "BlockPublicPolicy": true,
                "IgnorePublicAcls": true, "RestrictPublicBuckets": true
            },
            "OwnershipControls": { "Rules": [{ "ObjectOwnership": "BucketOwnerEnforced" }] },
            "LifecycleConfiguration": { "Rules": [{
                "Id": "expire-artifacts", "Status": "Enabled", "ExpirationInDays": days,
                "NoncurrentVersionExpiration": { "NoncurrentDays": days }
            }] },
        }),
    )
    .retained(ctx.retain_data());
    ctx.add("RegionalArtifactBucket", CICD, bucket);
    let objects = fns::sub("${RegionalArtifactBucket.Arn}/*");
    let policy = Resource::new(
        "AWS::S3::BucketPolicy",
        json!({
            "Bucket": fns::r#ref("RegionalArtifactBucket"),
            "PolicyDocument": { "Version": "2012-10-17", "Statement": [{
                "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": [fns::get_att("RegionalArtifactBucket", "Arn"), objects],
                "Condition": { "Bool": { "aws:SecureTransport": "false" } }
            }] },
        }),
    );
    ctx.add("RegionalArtifactBucketPolicy", CICD, policy);
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
