//! The CodePipeline V2 pipeline: source, build, test, image, then approval and deploy per environment.

use serde_json::{Value, json};

use super::deploy::group_id;
use super::iam::remote_deploy_role_arn;
use super::{CICD, Ctx, Parameter, Resource, fns, ids, same_account_condition};
use crate::config::{DeployTarget, ExecutionMode, NameKind, SourceProvider, Trigger};

const SOURCE_OUTPUT: &str = "SourceOutput";
const BUILD_OUTPUT: &str = "BuildOutput";
const IMAGE_OUTPUT: &str = "ImageOutput";

/// The CodeStar connection: from the config, else a template parameter (the emulator needs none).
pub fn connection_arn(ctx: &Ctx<'_>) -> Value {
    match &ctx.config.source.connection_arn {
        Some(arn) => json!(arn),
        None => fns::r#ref("SourceConnectionArn"),
    }
}

fn artifacts(names: &[&str]) -> Value {
    Value::Array(names.iter().map(|n| json!({ "Name": n })).collect())
}

fn action(
    name: &str,
    category: &str,
    provider: &str,
    configuration: Value,
    inputs: &[&str],
    outputs: &[&str],
) -> Value {
    let mut a = json!({
        "Name": name,
        "ActionTypeId": { "Category": category, "Owner": "AWS", "Provider": provider, "Version": "1" },
        "Configuration": configuration,
        "RunOrder": 1,
    });
    if !inputs.is_empty() {
        a["InputArtifacts"] = artifacts(inputs);
    }
    if !outputs.is_empty() {
        a["OutputArtifacts"] = artifacts(outputs);
    }
    a
}

fn source_stage(ctx: &mut Ctx<'_>) -> Value {
    let s = &ctx.config.source;
    let automatic = s.trigger == Trigger::Automatic;
    let a = match s.provider {
        // Pushes reach the pipeline through an EventBridge rule (see notify), never by polling.
        SourceProvider::CodeCommit => action(
            "Source",
            "Source",
            "CodeCommit",
            json!({ "RepositoryName": s.repository, "BranchName": s.branch, "PollForSourceChanges": false, "OutputArtifactFormat": "CODE_ZIP" }),
            &[],
            &[SOURCE_OUTPUT],
        ),
        SourceProvider::GitHub => {
            if s.connection_arn.is_none() {
                ctx.template.parameters.insert(
                    "SourceConnectionArn".into(),
                    Parameter {
                        kind: "String".into(),
                        description: "ARN of the CodeStar connection to GitHub".into(),
                        default: None,
                        allowed_pattern: Some(
                            "^arn:aws[a-z-]*:(codestar-connections|codeconnections):.+$".into(),
                        ),
                    },
                );
            }
            action(
                "Source",
                "Source",
                "CodeStarSourceConnection",
                json!({ "ConnectionArn": connection_arn(ctx), "FullRepositoryId": s.repository, "BranchName": s.branch, "DetectChanges": automatic, "OutputArtifactFormat": "CODE_ZIP" }),
                &[],
                &[SOURCE_OUTPUT],
            )
        }
        SourceProvider::S3 => action(
            "Source",
            "Source",
            "S3",
            json!({ "S3Bucket": s.bucket.clone().unwrap_or_default(), "S3ObjectKey": s.object_key.clone().unwrap_or_default(), "PollForSourceChanges": false }),
            &[],
            &[SOURCE_OUTPUT],
        ),
    };
    json!({ "Name": "Source", "Actions": [a] })
}

pub fn render(ctx: &mut Ctx<'_>) {
    let config = ctx.config;
    let mut stages = vec![source_stage(ctx)];
    let mut deploy_input = SOURCE_OUTPUT;
    let mut depends = Vec::new();
    for p in ctx.projects() {
        let output = match p.purpose {
            "build" => Some(BUILD_OUTPUT),
            "image" => Some(IMAGE_OUTPUT),
            _ => None,
        };
        if p.purpose == "build" {
            deploy_input = BUILD_OUTPUT;
        }
        let outputs: Vec<&str> = output.into_iter().collect();
        let a = action(
            p.stage,
            "Build",
            "CodeBuild",
            json!({ "ProjectName": fns::r#ref(&p.project_id()) }),
            &[SOURCE_OUTPUT],
            &outputs,
        );
        stages.push(json!({ "Name": p.stage, "Actions": [a] }));
    }
    let app = ctx.name(NameKind::CodeDeployApplication, CICD, "app");
    let image = ctx.projects().iter().any(|p| p.purpose == "image");
    // Stage rollback is not available to pipelines in PARALLEL mode. With CodeDeploy's own
    // automatic rollback on, a stage rollback would race it for the deployment group (and
    // redeploy while the alarm that stopped the release still fires), so CodeDeploy's wins.
    let rollback = config.pipeline.rollback_on_failure
        && !config.deploy.auto_rollback
        && config.pipeline.execution_mode != ExecutionMode::Parallel;
    for env in &config.environments {
        if env.approval {
            let mut conf = json!({ "NotificationArn": fns::r#ref(ids::TOPIC) });
            if let Some(m) = &env.approval_message {
                conf["CustomData"] = json!(m);
            }
            if let Some(u) = &env.review_url {
                conf["ExternalEntityLink"] = json!(u);
            }
            let a = action("Approve", "Approval", "Manual", conf, &[], &[]);
            stages.push(json!({ "Name": format!("Approval-{}", env.name), "Actions": [a] }));
        }
        let group = ctx.name(NameKind::CodeDeployGroup, &env.name, "deploy-group");
        let mut a = if config.deploy.target == DeployTarget::Ecs {
            let mut inputs = vec![deploy_input];
            let mut conf = json!({
                "ApplicationName": app, "DeploymentGroupName": group,
                "TaskDefinitionTemplateArtifact": deploy_input, "TaskDefinitionTemplatePath": "taskdef.json",
                "AppSpecTemplateArtifact": deploy_input, "AppSpecTemplatePath": "appspec.yaml",
            });
            if image {
                inputs.push(IMAGE_OUTPUT);
                conf["Image1ArtifactName"] = json!(IMAGE_OUTPUT);
                conf["Image1ContainerName"] = json!("IMAGE1_NAME");
            }
            action("Deploy", "Deploy", "CodeDeployToECS", conf, &inputs, &[])
        } else {
            action(
                "Deploy",
                "Deploy",
                "CodeDeploy",
                json!({ "ApplicationName": app, "DeploymentGroupName": group }),
                &[deploy_input],
                &[],
            )
        };
        match (&env.account_id, same_account_condition(env)) {
            (Some(account), Some(cond)) => {
                a["RoleArn"] = fns::if_(
                    &cond,
                    fns::r#ref("AWS::NoValue"),
                    remote_deploy_role_arn(ctx, env, account),
                );
            }
            _ if ctx.other_region(env).is_some() => {}
            _ => depends.push(group_id(env)),
        }
        if let Some(region) = ctx.other_region(env) {
            // Cross-region action: it runs there, with that region's artifact store.
            a["Region"] = json!(region);
        }
        let mut stage = json!({ "Name": format!("Deploy-{}", env.name), "Actions": [a] });
        if rollback {
            stage["OnFailure"] = json!({ "Result": "ROLLBACK" });
        }
        stages.push(stage);
    }
    let mut store = json!({ "Type": "S3", "Location": fns::r#ref(ids::BUCKET) });
    if ctx.customer_kms() {
        store["EncryptionKey"] = json!({ "Id": ctx.key_arn(), "Type": "KMS" });
    }
    let mode = match config.pipeline.execution_mode {
        ExecutionMode::Queued => "QUEUED",
        ExecutionMode::Superseded => "SUPERSEDED",
        ExecutionMode::Parallel => "PARALLEL",
    };
    let mut pipeline = Resource::new(
        "AWS::CodePipeline::Pipeline",
        json!({
            "Name": ctx.name(NameKind::Pipeline, CICD, "pipeline"),
            "RoleArn": fns::get_att(ids::PIPELINE_ROLE, "Arn"),
            "PipelineType": "V2",
            "ExecutionMode": mode,
            "RestartExecutionOnUpdate": false,
            "ArtifactStore": store.clone(),
            "Stages": stages,
        }),
    );
    if config.source.trigger == Trigger::Manual {
        // Tells the embedded emulator not to start an execution on creation; AWS ignores it.
        pipeline.properties["Tags"] = ctx.tags_with(CICD, &[("pipetui:trigger", "manual")]);
    }
    let regions = ctx.other_regions();
    if !regions.is_empty() {
        // A pipeline with cross-region actions names one store per region instead.
        let mut stores =
            vec![json!({ "Region": fns::r#ref("AWS::Region"), "ArtifactStore": store })];
        for r in regions {
            stores.push(json!({ "Region": r, "ArtifactStore": { "Type": "S3", "Location": ctx.regional_bucket(r) } }));
        }
        if let Value::Object(p) = &mut pipeline.properties {
            p.remove("ArtifactStore");
            p.insert("ArtifactStores".into(), Value::Array(stores));
        }
    }
    for d in depends {
        pipeline = pipeline.depends_on(&d);
    }
    ctx.add(ids::PIPELINE, CICD, pipeline);
}
