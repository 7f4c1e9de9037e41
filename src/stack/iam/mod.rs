//! One role per service, each allowed only the actions it needs on this stack's resources.
//! The few statements on "*" are AWS actions without resource-level permissions; each says why.

use serde_json::{Value, json};

mod deploy_role;

use super::deploy::deployment_config_arn;
use super::{CICD, Ctx, Resource, fns, ids, pascal};
use crate::config::{DeployTarget, Environment, NameKind, SourceProvider, Trigger};
use deploy_role::deploy_role;

pub(super) fn stmt(sid: &str, actions: &[&str], resources: Vec<Value>) -> Value {
    json!({ "Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources })
}

/// A role trusted by one service principal with a single inline policy.
pub(super) fn role(
    ctx: &Ctx<'_>,
    env: &str,
    purpose: &str,
    service: Value,
    statements: Vec<Value>,
) -> Resource {
    let policy = purpose.replace("-role", "-policy");
    Resource::new(
        "AWS::IAM::Role",
        json!({
            "RoleName": ctx.name(NameKind::IamRole, env, purpose),
            "AssumeRolePolicyDocument": { "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": { "Service": service }, "Action": "sts:AssumeRole"
            }] },
            "Policies": [{
                "PolicyName": ctx.name(NameKind::IamPolicy, env, &policy),
                "PolicyDocument": { "Version": "2012-10-17", "Statement": statements }
            }],
        }),
    )
}

pub fn deploy_role_id(env: &Environment) -> String {
    format!("{}DeployRole", pascal(&env.name))
}

/// Object and bucket access to the artifact bucket, plus the key when there is one.
pub(super) fn artifact_access(ctx: &Ctx<'_>, write: bool, out: &mut Vec<Value>) {
    let objects = fns::sub(format!("${{{}.Arn}}/*", ids::BUCKET));
    let mut actions = vec!["s3:GetObject", "s3:GetObjectVersion"];
    if write {
        actions.push("s3:PutObject");
    }
    out.push(stmt("ArtifactObjects", &actions, vec![objects]));
    out.push(stmt(
        "ArtifactBucket",
        &[
            "s3:GetBucketVersioning",
            "s3:GetBucketLocation",
            "s3:GetBucketAcl",
        ],
        vec![fns::get_att(ids::BUCKET, "Arn")],
    ));
    if ctx.customer_kms() {
        let actions: &[&str] = if write {
            &[
                "kms:Decrypt",
                "kms:Encrypt",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:DescribeKey",
            ]
        } else {
            &["kms:Decrypt", "kms:DescribeKey"]
        };
        out.push(stmt("PipelineKey", actions, vec![ctx.key_arn()]));
    }
}

pub fn render(ctx: &mut Ctx<'_>) {
    let pipeline = pipeline_role(ctx);
    ctx.add(ids::PIPELINE_ROLE, CICD, pipeline);
    if !ctx.projects().is_empty() {
        let mut codebuild = codebuild_role(ctx);
        if ctx.config.security.vpc.enabled {
            codebuild = codebuild.checkov_skip(
                "CKV_AWS_111",
                "CodeBuild's documented VPC permissions: ec2:CreateNetworkInterface, DeleteNetworkInterface and the Describe actions accept no resource narrower than \"*\"; attaching (CreateNetworkInterfacePermission) is limited to CodeBuild and this account's interfaces.",
            );
        }
        ctx.add(ids::CODEBUILD_ROLE, CICD, codebuild);
    }
    if ctx.config.notifications.lambda_notifier {
        let mut s = vec![
            stmt(
                "WriteOwnLogs",
                &["logs:CreateLogStream", "logs:PutLogEvents"],
                vec![fns::get_att(ids::NOTIFIER_LOGS, "Arn")],
            ),
            stmt(
                "PublishNotifications",
                &["sns:Publish"],
                vec![fns::r#ref(ids::TOPIC)],
            ),
        ];
        s.push(stmt(
            "EncryptForTopic",
            &["kms:GenerateDataKey*", "kms:Decrypt"],
            vec![ctx.topic_key_arn()],
        ));
        let r = role(ctx, CICD, "notifier-role", json!("lambda.amazonaws.com"), s);
        ctx.add(ids::NOTIFIER_ROLE, CICD, r);
    }
    let s = &ctx.config.source;
    if s.trigger == Trigger::Automatic
        && matches!(s.provider, SourceProvider::CodeCommit | SourceProvider::S3)
    {
        let arn = pipeline_arn(ctx);
        let r = role(
            ctx,
            CICD,
            "events-role",
            json!("events.amazonaws.com"),
            vec![stmt(
                "StartPipeline",
                &["codepipeline:StartPipelineExecution"],
                vec![arn],
            )],
        );
        ctx.add(ids::EVENTS_ROLE, CICD, r);
    }
    for env in ctx.home_envs() {
        let r = deploy_role(ctx, env);
        ctx.add_for(&deploy_role_id(env), env, r);
    }
}

pub fn pipeline_arn(ctx: &Ctx<'_>) -> Value {
    let name = ctx.name(NameKind::Pipeline, CICD, "pipeline");
    fns::arn("codepipeline", &name)
}

/// The role a cross-account environment's deploy action assumes, in that account.
pub fn remote_deploy_role_arn(ctx: &Ctx<'_>, env: &Environment, account: &str) -> Value {
    let name = ctx.name(NameKind::IamRole, &env.name, "deploy-role");
    fns::sub(format!(
        "arn:${{AWS::Partition}}:iam::{account}:role/{name}"
    ))
}

fn pipeline_role(ctx: &Ctx<'_>) -> Resource {
    let c = ctx.config;
    let mut s = Vec::new();
    artifact_access(ctx, true, &mut s);
    match c.source.provider {
        SourceProvider::CodeCommit => s.push(stmt(
            "ReadSourceRepository",
            &[
                "codecommit:GetBranch",
                "codecommit:GetCommit",
                "codecommit:GetRepository",
                "codecommit:UploadArchive",
                "codecommit:GetUploadArchiveStatus",
                "codecommit:CancelUploadArchive",
            ],
            vec![fns::arn("codecommit", &c.source.repository)],
        )),
        SourceProvider::GitHub => s.push(stmt(
            "UseSourceConnection",
            &[
                "codestar-connections:UseConnection",
                "codeconnections:UseConnection",
            ],
            vec![super::pipeline::connection_arn(ctx)],
        )),
        SourceProvider::S3 => {
            let bucket = c.source.bucket.clone().unwrap_or_default();
            let key = c.source.object_key.clone().unwrap_or_default();
            s.push(stmt(
                "ReadSourceObject",
                &["s3:GetObject", "s3:GetObjectVersion"],
                vec![fns::sub(format!(
                    "arn:${{AWS::Partition}}:s3:::{bucket}/{key}"
                ))],
            ));
            s.push(stmt(
                "ReadSourceBucket",
                &["s3:GetBucketVersioning"],
                vec![fns::sub(format!("arn:${{AWS::Partition}}:s3:::{bucket}"))],
            ));
        }
    }
    let projects: Vec<Value> = ctx
        .projects()
        .iter()
        .map(|p| fns::get_att(&p.project_id(), "Arn"))
        .collect();
    if !projects.is_empty() {
        s.push(stmt(
            "RunBuilds",
            &["codebuild:BatchGetBuilds", "codebuild:StartBuild"],
            projects,
        ));
    }
    let app = ctx.name(NameKind::CodeDeployApplication, CICD, "app");
    let mut deploy = vec![
        fns::arn("codedeploy", &format!("application:{app}")),
        deployment_config_arn(ctx),
    ];
    for env in &c.environments {
        let group = ctx.name(NameKind::CodeDeployGroup, &env.name, "deploy-group");
        let rest = format!("deploymentgroup:{app}/{group}");
        match ctx.other_region(env) {
            Some(r) => {
                let arn = |rest: &str| {
                    fns::sub(format!(
                        "arn:${{AWS::Partition}}:codedeploy:{r}:${{AWS::AccountId}}:{rest}"
                    ))
                };
                deploy.push(arn(&format!("application:{app}")));
                deploy.push(arn(&rest));
            }
            None => deploy.push(fns::arn("codedeploy", &rest)),
        }
    }
    let regional: Vec<Value> = ctx
        .other_regions()
        .into_iter()
        .map(|r| {
            let b = ctx.regional_bucket(r);
            fns::sub(format!("arn:${{AWS::Partition}}:s3:::{b}/*"))
        })
        .collect();
    if !regional.is_empty() {
        s.push(stmt(
            "RegionalArtifactStores",
            &["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
            regional,
        ));
    }
    s.push(stmt(
        "Deploy",
        &[
            "codedeploy:CreateDeployment",
            "codedeploy:GetDeployment",
            "codedeploy:GetApplication",
            "codedeploy:GetApplicationRevision",
            "codedeploy:RegisterApplicationRevision",
            "codedeploy:GetDeploymentConfig",
        ],
        deploy,
    ));
    if c.deploy.target == DeployTarget::Ecs {
        // RegisterTaskDefinition has no resource-level permissions.
        s.push(stmt(
            "RegisterEcsTaskDefinitions",
            &["ecs:RegisterTaskDefinition"],
            vec![json!("*")],
        ));
        s.push(pass_task_roles(ctx));
    }
    if c.environments.iter().any(|e| e.approval) {
        s.push(stmt(
            "NotifyApprovers",
            &["sns:Publish"],
            vec![fns::r#ref(ids::TOPIC)],
        ));
        if !ctx.customer_kms() {
            // The customer key is already granted for the artifacts; the topic's own key is not.
            s.push(stmt(
                "EncryptForTopic",
                &["kms:GenerateDataKey*", "kms:Decrypt"],
                vec![ctx.topic_key_arn()],
            ));
        }
    }
    let remote: Vec<Value> = c
        .environments
        .iter()
        .filter_map(|e| {
            e.account_id
                .as_deref()
                .map(|a| remote_deploy_role_arn(ctx, e, a))
        })
        .collect();
    if !remote.is_empty() {
        s.push(stmt(
            "AssumeCrossAccountDeployRoles",
            &["sts:AssumeRole"],
            remote,
        ));
    }
    role(
        ctx,
        CICD,
        "pipeline-role",
        json!("codepipeline.amazonaws.com"),
        s,
    )
}

/// ECS deployments hand the task definition's roles (named after this service) to ECS.
pub(super) fn pass_task_roles(ctx: &Ctx<'_>) -> Value {
    let p = &ctx.config.project;
    let company = p
        .company
        .as_deref()
        .map(|c| format!("{c}-"))
        .unwrap_or_default();
    let prefix = format!("{company}{}-", p.service);
    json!({
        "Sid": "PassTaskRoles", "Effect": "Allow", "Action": ["iam:PassRole"],
        "Resource": [fns::sub(format!("arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{prefix}*"))],
        "Condition": { "StringEquals": { "iam:PassedToService": "ecs-tasks.amazonaws.com" } }
    })
}

/// `account.dkr.ecr.region.amazonaws.com/repo:tag` → the repository ARN.
fn ecr_image_repository(image: &str) -> Option<Value> {
    let (host, path) = image.split_once('/')?;
    let mut parts = host.split('.');
    let account = parts.next()?;
    if parts.next()? != "dkr" || parts.next()? != "ecr" {
        return None;
    }
    let region = parts.next()?;
    let repo = path.split([':', '@']).next()?;
    Some(fns::sub(format!(
        "arn:${{AWS::Partition}}:ecr:{region}:{account}:repository/{repo}"
    )))
}

fn codebuild_role(ctx: &Ctx<'_>) -> Resource {
    let c = ctx.config;
    let projects = ctx.projects();
    let mut s = vec![stmt(
        "WriteBuildLogs",
        &["logs:CreateLogStream", "logs:PutLogEvents"],
        projects
            .iter()
            .map(|p| fns::get_att(&p.log_group_id(), "Arn"))
            .collect(),
    )];
    artifact_access(ctx, true, &mut s);
    let reports: Vec<Value> = projects
        .iter()
        .map(|p| {
            let project = ctx.name(NameKind::CodeBuildProject, CICD, p.purpose);
            fns::arn("codebuild", &format!("report-group/{project}-*"))
        })
        .collect();
    s.push(stmt(
        "PublishTestReports",
        &[
            "codebuild:CreateReportGroup",
            "codebuild:CreateReport",
            "codebuild:UpdateReport",
            "codebuild:BatchPutTestCases",
            "codebuild:BatchPutCodeCoverages",
        ],
        reports,
    ));
    let mut secrets: Vec<Value> = Vec::new();
    for p in &projects {
        for reference in p.settings.secrets.values() {
            let arn = secret_arn(reference);
            if !secrets.contains(&arn) {
                secrets.push(arn);
            }
        }
    }
    if c.secrets.database_credentials {
        secrets.push(fns::r#ref(ids::SECRET));
    }
    if !secrets.is_empty() {
        s.push(stmt(
            "ReadBuildSecrets",
            &["secretsmanager:GetSecretValue"],
            secrets,
        ));
    }
    let mut pull: Vec<Value> = projects
        .iter()
        .filter_map(|p| ecr_image_repository(&p.settings.image))
        .collect();
    let push = c.image.enabled && projects.iter().any(|p| p.purpose == "image");
    if push {
        s.push(stmt(
            "PushImages",
            &[
                "ecr:BatchCheckLayerAvailability",
                "ecr:InitiateLayerUpload",
                "ecr:UploadLayerPart",
                "ecr:CompleteLayerUpload",
                "ecr:PutImage",
            ],
            vec![fns::get_att(ids::IMAGES, "Arn")],
        ));
        pull.push(fns::get_att(ids::IMAGES, "Arn"));
    }
    if !pull.is_empty() {
        s.push(stmt(
            "PullImages",
            &[
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
                "ecr:BatchCheckLayerAvailability",
            ],
            pull,
        ));
        // GetAuthorizationToken is account-wide: it has no resource-level permissions.
        s.push(stmt(
            "EcrLogin",
            &["ecr:GetAuthorizationToken"],
            vec![json!("*")],
        ));
    }
    if c.security.vpc.enabled {
        // CodeBuild manages its VPC network interfaces with actions that only accept "*".
        s.push(stmt(
            "ManageVpcNetworkInterfaces",
            &[
                "ec2:CreateNetworkInterface",
                "ec2:DeleteNetworkInterface",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeDhcpOptions",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeVpcs",
            ],
            vec![json!("*")],
        ));
        s.push(json!({
            "Sid": "AttachVpcNetworkInterfaces", "Effect": "Allow", "Action": ["ec2:CreateNetworkInterfacePermission"],
            "Resource": [fns::arn("ec2", "network-interface/*")],
            "Condition": { "StringEquals": { "ec2:AuthorizedService": "codebuild.amazonaws.com" } }
        }));
    }
    role(
        ctx,
        CICD,
        "codebuild-role",
        json!("codebuild.amazonaws.com"),
        s,
    )
}

/// "secret-id:json-key" or a secret ARN (optionally with ":json-key…") → the secret's ARN pattern.
pub fn secret_arn(reference: &str) -> Value {
    if reference.starts_with("arn:") {
        let arn: Vec<&str> = reference.split(':').take(7).collect();
        json!(arn.join(":"))
    } else {
        let id = reference.split(':').next().unwrap_or(reference);
        // Secrets Manager appends a dash and six random characters to every secret's ARN.
        fns::arn("secretsmanager", &format!("secret:{id}-??????"))
    }
}
