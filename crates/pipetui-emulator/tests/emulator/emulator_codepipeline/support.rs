//! Builders for pipeline declarations and an [`Env`] wrapping an emulator and its SDK client,
//! shared by the CodePipeline test modules.
// Test helpers: each test crate uses a subset, and a failed unwrap is a failed test.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_codepipeline::Client;
use aws_sdk_codepipeline::error::SdkError;
use aws_sdk_codepipeline::types::{
    ActionCategory as Cat, ActionDeclaration, ActionExecution, ActionExecutionDetail, ActionOwner,
    ActionTypeId, ApprovalResult, ApprovalStatus, ArtifactStore, ArtifactStoreType,
    ExecutionMode as Mode, InputArtifact, OutputArtifact, PipelineDeclaration, PipelineExecution,
    PipelineType, PipelineVariableDeclaration, StageDeclaration, StageRetryMode as Retry,
    StageState,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use pipetui_emulator::Emulator;
use pipetui_emulator::engine::sample_app::git;

use crate::common::{self, code};

pub const REPO: &str = "orders";
pub const ARN: &str = "arn:aws:codepipeline:us-east-1:000000000000:web";

/// `Ok` or the error code.
pub fn res<T, E, R>(r: Result<T, SdkError<E, R>>) -> Result<T, String>
where
    T: std::fmt::Debug,
    E: ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match r {
        Ok(v) => Ok(v),
        Err(e) => Err(code(Err::<T, _>(e))),
    }
}

pub fn err(code: &str) -> Result<(), String> {
    Err(code.to_string())
}

pub fn action(name: &str, cat: Cat, provider: &str, config: &[(&str, &str)]) -> ActionDeclaration {
    let id = ActionTypeId::builder()
        .category(cat)
        .owner(ActionOwner::Aws);
    let id = id.provider(provider).version("1").build().unwrap();
    let mut b = ActionDeclaration::builder().name(name).action_type_id(id);
    for (k, v) in config {
        b = b.configuration(*k, *v);
    }
    if name != "Source" {
        b = b.input_artifacts(
            InputArtifact::builder()
                .name("SourceOutput")
                .build()
                .unwrap(),
        );
    }
    b.run_order(1).build().unwrap()
}

pub fn source() -> ActionDeclaration {
    let config = [("RepositoryName", REPO), ("BranchName", "main")];
    let mut a = action("Source", Cat::Source, "CodeCommit", &config);
    a.output_artifacts = Some(vec![
        OutputArtifact::builder()
            .name("SourceOutput")
            .build()
            .unwrap(),
    ]);
    a.namespace = Some("SourceVariables".into());
    a
}

pub fn approval(run_order: i32) -> ActionDeclaration {
    let config = [
        ("CustomData", "Ship #{SourceVariables.CommitId}?"),
        (
            "NotificationArn",
            "arn:aws:sns:us-east-1:000000000000:approvals",
        ),
        ("ExternalEntityLink", "https://example.com/review"),
    ];
    let mut a = action("Approve", Cat::Approval, "Manual", &config);
    a.input_artifacts = None;
    a.run_order = Some(run_order);
    a
}

pub fn invoke(name: &str, run_order: i32) -> ActionDeclaration {
    let params = "commit=#{SourceVariables.CommitId} env=#{variables.env}";
    let config = [("FunctionName", "announce"), ("UserParameters", params)];
    let mut a = action(name, Cat::Invoke, "Lambda", &config);
    a.run_order = Some(run_order);
    a
}

pub fn stage(name: &str, actions: Vec<ActionDeclaration>) -> StageDeclaration {
    StageDeclaration::builder()
        .name(name)
        .set_actions(Some(actions))
        .build()
        .unwrap()
}

pub fn declaration(name: &str, mode: Mode, stages: Vec<StageDeclaration>) -> PipelineDeclaration {
    let store = ArtifactStore::builder()
        .r#type(ArtifactStoreType::S3)
        .location("artifacts");
    let var = PipelineVariableDeclaration::builder()
        .name("env")
        .default_value("staging");
    PipelineDeclaration::builder()
        .name(name)
        .role_arn("arn:aws:iam::000000000000:role/pipeline")
        .artifact_store(store.build().unwrap())
        .pipeline_type(PipelineType::V2)
        .execution_mode(mode)
        .variables(var.build().unwrap())
        .set_stages(Some(stages))
        .build()
        .unwrap()
}

/// Source → Approval → Release (Lambda invoke).
pub fn standard(name: &str, mode: Mode) -> PipelineDeclaration {
    let source = stage("Source", vec![source()]);
    let release = stage("Release", vec![invoke("Announce", 1)]);
    declaration(
        name,
        mode,
        vec![source, stage("Approval", vec![approval(1)]), release],
    )
}

pub struct Env {
    pub emu: Arc<Emulator>,
    pub c: Client,
}

pub fn setup() -> Env {
    let emu = common::emulator();
    let c = Client::new(&common::sdk_config(&emu));
    Env { emu, c }
}

impl Env {
    pub fn settle(&self) {
        assert!(self.emu.settle(Duration::from_secs(30)), "engine settled");
    }

    pub fn repo(&self) -> std::path::PathBuf {
        self.emu.settings.source_repo(REPO).unwrap()
    }

    pub fn head(&self) -> String {
        git(&self.repo(), &["rev-parse", "HEAD"])
            .unwrap()
            .trim()
            .to_string()
    }

    pub fn commit(&self, message: &str) -> String {
        let repo = self.repo();
        std::fs::write(repo.join("CHANGES.txt"), message).unwrap();
        git(&repo, &["add", "-A"]).unwrap();
        git(&repo, &["commit", "-q", "-m", message]).unwrap();
        self.head()
    }

    pub async fn create(&self, p: PipelineDeclaration) {
        self.c.create_pipeline().pipeline(p).send().await.unwrap();
    }

    pub async fn stage(&self, pipeline: &str, stage: &str) -> StageState {
        let s = self
            .c
            .get_pipeline_state()
            .name(pipeline)
            .send()
            .await
            .unwrap();
        let found = s
            .stage_states()
            .iter()
            .find(|s| s.stage_name() == Some(stage));
        found.cloned().unwrap()
    }

    pub async fn stage_status(&self, stage: &str) -> String {
        let s = self.stage("web", stage).await;
        s.latest_execution().unwrap().status().as_str().to_string()
    }

    pub async fn action(&self, pipeline: &str, stage: &str, action: &str) -> ActionExecution {
        let s = self.stage(pipeline, stage).await;
        let a = s
            .action_states()
            .iter()
            .find(|a| a.action_name() == Some(action));
        a.and_then(|a| a.latest_execution().cloned()).unwrap()
    }

    pub async fn token_in(&self, pipeline: &str, stage: &str) -> String {
        let a = self.action(pipeline, stage, "Approve").await;
        assert_eq!(a.status().unwrap().as_str(), "InProgress");
        a.token().unwrap().to_string()
    }

    pub async fn token(&self) -> String {
        self.token_in("web", "Approval").await
    }

    pub async fn answer_in(&self, stage: &str, token: &str, approve: bool) -> Result<(), String> {
        let status = if approve {
            ApprovalStatus::Approved
        } else {
            ApprovalStatus::Rejected
        };
        let result = ApprovalResult::builder().summary("reviewed").status(status);
        let call = self
            .c
            .put_approval_result()
            .pipeline_name("web")
            .stage_name(stage);
        let call = call
            .action_name("Approve")
            .token(token)
            .result(result.build().unwrap());
        res(call.send().await).map(drop)
    }

    pub async fn answer(&self, token: &str, approve: bool) -> Result<(), String> {
        self.answer_in("Approval", token, approve).await
    }

    /// Answers the open approval of `stage` in pipeline "web", then settles.
    pub async fn decide(&self, stage: &str, approve: bool) {
        let token = self.token_in("web", stage).await;
        self.answer_in(stage, &token, approve).await.unwrap();
        self.settle();
    }

    /// Execution ids with their status, newest first.
    pub async fn executions(&self, pipeline: &str) -> Vec<(String, String)> {
        let c = self.c.list_pipeline_executions().pipeline_name(pipeline);
        let out = c.send().await.unwrap();
        let list = out.pipeline_execution_summaries().iter();
        let pair = |s: &aws_sdk_codepipeline::types::PipelineExecutionSummary| {
            let id = s.pipeline_execution_id().unwrap().to_string();
            (id, s.status().unwrap().as_str().to_string())
        };
        list.map(pair).collect()
    }

    pub async fn statuses(&self, pipeline: &str) -> Vec<String> {
        self.executions(pipeline)
            .await
            .into_iter()
            .map(|e| e.1)
            .collect()
    }

    pub async fn newest(&self) -> String {
        self.executions("web").await[0].0.clone()
    }

    pub async fn execution(&self, id: &str) -> PipelineExecution {
        let c = self.c.get_pipeline_execution().pipeline_name("web");
        let out = c.pipeline_execution_id(id).send().await.unwrap();
        out.pipeline_execution().cloned().unwrap()
    }

    pub async fn start(&self) -> String {
        let out = self
            .c
            .start_pipeline_execution()
            .name("web")
            .send()
            .await
            .unwrap();
        out.pipeline_execution_id().unwrap().to_string()
    }

    pub async fn action_runs(&self, action: &str) -> Vec<ActionExecutionDetail> {
        let out = self
            .c
            .list_action_executions()
            .pipeline_name("web")
            .send()
            .await
            .unwrap();
        let all = out.action_execution_details().iter();
        all.filter(|d| d.action_name() == Some(action))
            .cloned()
            .collect()
    }

    pub async fn retry(&self, stage: &str, id: &str, mode: Retry) -> Result<String, String> {
        let c = self
            .c
            .retry_stage_execution()
            .pipeline_name("web")
            .stage_name(stage);
        let out = res(c.pipeline_execution_id(id).retry_mode(mode).send().await)?;
        Ok(out.pipeline_execution_id().unwrap().to_string())
    }

    pub async fn rollback(&self, stage: &str, target: &str) -> Result<String, String> {
        let c = self
            .c
            .rollback_stage()
            .pipeline_name("web")
            .stage_name(stage);
        let out = res(c.target_pipeline_execution_id(target).send().await)?;
        Ok(out.pipeline_execution_id().to_string())
    }

    pub async fn stop(&self, id: &str, abandon: bool) -> Result<(), String> {
        let c = self.c.stop_pipeline_execution().pipeline_name("web");
        let c = c
            .pipeline_execution_id(id)
            .abandon(abandon)
            .reason("bad build");
        res(c.send().await).map(drop)
    }
}

pub fn trigger_type(e: &PipelineExecution) -> &str {
    e.trigger().unwrap().trigger_type().unwrap().as_str()
}

/// Polls a stack, a second of emulated time at a time, until it leaves *_IN_PROGRESS.
pub async fn stack_status(env: &Env, cfn: &aws_sdk_cloudformation::Client, stack: &str) -> String {
    for _ in 0..300 {
        let out = cfn.describe_stacks().stack_name(stack).send().await;
        let status = match out {
            Ok(o) => o.stacks()[0].stack_status().unwrap().as_str().to_string(),
            Err(_) => return "GONE".into(),
        };
        if !status.ends_with("_IN_PROGRESS") {
            return status;
        }
        env.emu.clock.advance(1.0);
        env.settle();
    }
    panic!("stack {stack} never settled");
}
