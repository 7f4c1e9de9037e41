//! Execution control: modes, stop, retry, rollback, restart, unsupported providers.

use aws_sdk_codepipeline::Client;
use aws_sdk_codepipeline::types::{
    ActionCategory as Cat, ExecutionMode as Mode, FailureConditions, PipelineVariable,
    SourceRevisionOverride, SourceRevisionType, StageRetryMode as Retry, Tag,
};
use pipetui_emulator::{Clock, Emulator, EngineSettings};

use super::support::*;
use crate::common::{self, START, code};

#[tokio::test]
async fn superseded_mode_replaces_the_waiting_execution() {
    let env = setup();
    env.create(standard("web", Mode::Superseded)).await;
    env.settle();
    let first = env.token().await;
    env.commit("second");
    env.settle();
    env.commit("third");
    env.settle();
    assert_eq!(
        env.statuses("web").await,
        ["InProgress", "Superseded", "InProgress"]
    );
    let newest = env.newest().await;
    let s = env.stage("web", "Approval").await;
    assert_eq!(
        s.inbound_execution().unwrap().pipeline_execution_id(),
        newest
    );
    env.answer(&first, true).await.unwrap();
    env.settle();
    let s = env.stage("web", "Approval").await;
    assert_eq!(
        s.latest_execution().unwrap().pipeline_execution_id(),
        newest
    );
    assert_eq!(
        env.statuses("web").await,
        ["InProgress", "Superseded", "Succeeded"]
    );
}

#[tokio::test]
async fn queued_mode_runs_every_execution_in_order() {
    let env = setup();
    env.create(standard("web", Mode::Queued)).await;
    env.settle();
    let first = env.token().await;
    let second_commit = env.commit("second");
    env.settle();
    env.commit("third");
    env.settle();
    assert_eq!(env.statuses("web").await, ["InProgress"; 3]);
    assert_eq!(
        env.stage("web", "Approval")
            .await
            .inbound_executions()
            .len(),
        2
    );
    env.answer(&first, true).await.unwrap();
    env.settle();
    let second = env.executions("web").await[1].0.clone();
    let s = env.stage("web", "Approval").await;
    let latest = s.latest_execution().unwrap().pipeline_execution_id();
    assert_eq!(latest, second, "the older queued execution goes next");
    let a = env.action("web", "Approval", "Approve").await;
    assert_eq!(a.summary(), Some(format!("Ship {second_commit}?").as_str()));
    env.decide("Approval", true).await;
    env.decide("Approval", true).await;
    assert_eq!(env.statuses("web").await, ["Succeeded"; 3]);
}

#[tokio::test]
async fn stop_and_abandon_and_stop_and_wait() {
    let env = setup();
    env.create(standard("web", Mode::Queued)).await;
    env.settle();
    let id = env.newest().await;
    env.stop(&id, true).await.unwrap();
    env.settle();
    assert_eq!(env.statuses("web").await, ["Stopped"]);
    let a = env.action("web", "Approval", "Approve").await;
    assert_eq!(a.status().unwrap().as_str(), "Abandoned");
    assert_eq!(env.stage_status("Approval").await, "Stopped");
    let again = env.stop(&id, true).await;
    assert_eq!(again, err("PipelineExecutionNotStoppableException"));
    let listed = env
        .c
        .list_pipeline_executions()
        .pipeline_name("web")
        .send()
        .await
        .unwrap();
    let stop = listed.pipeline_execution_summaries()[0]
        .stop_trigger()
        .unwrap();
    assert_eq!(stop.reason(), Some("bad build"));

    let id = env.start().await;
    env.settle();
    let token = env.token().await;
    env.stop(&id, false).await.unwrap();
    env.settle();
    assert_eq!(
        env.statuses("web").await[0],
        "Stopping",
        "waits for the running approval"
    );
    assert_eq!(env.stage_status("Approval").await, "Stopping");
    let twice = env.stop(&id, false).await;
    assert_eq!(twice, err("DuplicatedStopRequestException"));
    env.answer(&token, true).await.unwrap();
    env.settle();
    assert_eq!(env.statuses("web").await[0], "Stopped");
    let release = env.stage("web", "Release").await;
    assert!(
        release.latest_execution().is_none(),
        "no new action starts after a stop"
    );
}

#[tokio::test]
async fn retry_failed_actions_and_all_actions() {
    let env = setup();
    // Check (Lambda, runOrder 1) then Approve (runOrder 2) in the same stage.
    let gate = stage("Approval", vec![invoke("Check", 1), approval(2)]);
    let stages = vec![stage("Source", vec![source()]), gate];
    env.create(declaration("web", Mode::Superseded, stages))
        .await;
    env.settle();
    let id = env.newest().await;
    let busy = env.retry("Approval", &id, Retry::FailedActions).await;
    assert_eq!(busy, Err("StageNotRetryableException".into()));
    let token = env.token().await;
    env.answer(&token, false).await.unwrap();
    env.settle();
    assert_eq!(env.action_runs("Check").await.len(), 1);

    let same = env.retry("Approval", &id, Retry::FailedActions).await;
    assert_eq!(same, Ok(id.clone()), "a retry keeps the execution id");
    env.settle();
    assert_eq!(env.statuses("web").await, ["InProgress"]);
    let second = env.token().await;
    assert_ne!(second, token, "a retried approval is a new request");
    let checks = env.action_runs("Check").await.len();
    assert_eq!(checks, 1, "FAILED_ACTIONS re-runs only the failed action");
    let s = env.stage("web", "Approval").await;
    let retries = s
        .retry_stage_metadata()
        .unwrap()
        .manual_stage_retry_attempt();
    assert_eq!(retries, Some(1));
    env.answer(&second, false).await.unwrap();
    env.settle();

    env.retry("Approval", &id, Retry::AllActions).await.unwrap();
    env.settle();
    assert_eq!(
        env.action_runs("Check").await.len(),
        2,
        "ALL_ACTIONS starts over"
    );
    env.decide("Approval", true).await;
    assert_eq!(env.statuses("web").await, ["Succeeded"]);
    let done = env.retry("Approval", &id, Retry::FailedActions).await;
    assert_eq!(done, Err("StageNotRetryableException".into()));

    // Once a later execution has entered the stage, the failed one is out of date.
    let failed = env.start().await;
    env.settle();
    env.decide("Approval", false).await;
    env.start().await;
    env.settle();
    let stale = env.retry("Approval", &failed, Retry::FailedActions).await;
    assert_eq!(stale, Err("NotLatestPipelineExecutionException".into()));
}

#[tokio::test]
async fn rollback_stage_manually_and_automatically() {
    let env = setup();
    let mut release = stage("Release", vec![approval(1), invoke("Announce", 2)]);
    let rollback = aws_sdk_codepipeline::types::Result::Rollback;
    release.on_failure = Some(FailureConditions::builder().result(rollback).build());
    let stages = vec![stage("Source", vec![source()]), release];
    env.create(declaration("web", Mode::Superseded, stages))
        .await;
    env.settle();
    env.decide("Release", true).await;
    let good = env.newest().await;
    let first_commit = env.head();
    env.commit("second");
    env.settle();
    env.decide("Release", true).await;
    assert_eq!(env.statuses("web").await, ["Succeeded"; 2]);

    let unable = Err("UnableToRollbackStageException".into());
    assert_eq!(env.rollback("Source", &good).await, unable);
    assert_eq!(
        env.rollback("Nope", &good).await,
        Err("StageNotFoundException".into())
    );
    let unknown = env
        .rollback("Release", "11111111-1111-1111-1111-111111111111")
        .await;
    assert_eq!(unknown, Err("PipelineExecutionNotFoundException".into()));
    let id = env.rollback("Release", &good).await.unwrap();
    env.settle();
    env.decide("Release", true).await;
    let e = env.execution(&id).await;
    assert_eq!(e.execution_type().unwrap().as_str(), "ROLLBACK");
    assert_eq!(trigger_type(&e), "ManualRollback");
    let target = e
        .rollback_metadata()
        .unwrap()
        .rollback_target_pipeline_execution_id();
    assert_eq!(target, Some(good.as_str()));
    assert_eq!(e.status().unwrap().as_str(), "Succeeded");
    let revision = e.artifact_revisions()[0].revision_id();
    assert_eq!(
        revision,
        Some(first_commit.as_str()),
        "the target's revision"
    );
    assert_eq!(
        env.rollback("Release", &id).await,
        unable,
        "a rollback is no target"
    );

    // A rejected release rolls back on its own to the last execution that succeeded there.
    env.commit("third");
    env.settle();
    env.decide("Release", false).await;
    let list = env
        .c
        .list_pipeline_executions()
        .pipeline_name("web")
        .send()
        .await
        .unwrap();
    let newest = &list.pipeline_execution_summaries()[0];
    assert_eq!(newest.execution_type().unwrap().as_str(), "ROLLBACK");
    let trigger = newest.trigger().unwrap().trigger_type().unwrap();
    assert_eq!(trigger.as_str(), "AutomatedRollback");
    let failed = list.pipeline_execution_summaries()[1].status().unwrap();
    assert_eq!(failed.as_str(), "Failed");
    let waiting = newest.status().unwrap().as_str();
    assert_eq!(
        waiting, "InProgress",
        "the rollback waits for its own approval"
    );
}

#[tokio::test]
async fn a_restart_keeps_a_waiting_approval_open_with_its_token() {
    let dir = tempfile::tempdir().unwrap();
    let open = || {
        let settings = EngineSettings::new(dir.path().to_path_buf());
        let emu = Emulator::open_with(dir.path(), Clock::manual(START), settings).unwrap();
        let c = Client::new(&common::sdk_config(&emu));
        Env { emu, c }
    };
    let env = open();
    env.create(standard("web", Mode::Superseded)).await;
    env.settle();
    let id = env.newest().await;
    let token = env.token().await;
    drop(env);

    // Nothing ran behind the approval, so the restart does not fail it: a release engineer can
    // close the console while a release waits and approve it later.
    let env = open();
    let e = env.execution(&id).await;
    assert_eq!(e.status().unwrap().as_str(), "InProgress");
    assert_eq!(env.token().await, token);
    env.decide("Approval", true).await;
    assert_eq!(env.executions("web").await, [(id, "Succeeded".to_string())]);
}

#[tokio::test]
async fn commits_trigger_executions_unless_the_pipeline_is_tagged_manual() {
    let env = setup();
    env.create(standard("web", Mode::Parallel)).await;
    let manual = Tag::builder()
        .key("pipetui:trigger")
        .value("manual")
        .build()
        .unwrap();
    let create = env
        .c
        .create_pipeline()
        .pipeline(standard("manual", Mode::Parallel));
    create.tags(manual).send().await.unwrap();
    env.settle();
    let commit = env.commit("fix the orders total");
    env.settle();
    let e = env.execution(&env.newest().await).await;
    assert_eq!(trigger_type(&e), "CloudWatchEvent");
    assert_eq!(e.trigger().unwrap().trigger_detail(), Some(commit.as_str()));
    let summary = e.artifact_revisions()[0].revision_summary();
    assert_eq!(summary, Some("fix the orders total"));
    assert_eq!(
        env.statuses("manual").await.len(),
        1,
        "only the CreatePipeline execution"
    );
    // PARALLEL: both executions run at once; the token is only in ListActionExecutions.
    assert_eq!(env.statuses("web").await, ["InProgress"; 2]);
    assert!(
        env.action("web", "Approval", "Approve")
            .await
            .token()
            .is_none()
    );
    let runs = env.action_runs("Approve").await;
    let token = runs[0]
        .output()
        .unwrap()
        .execution_result()
        .unwrap()
        .external_execution_id();
    env.answer(token.unwrap(), true).await.unwrap();
    env.settle();
    assert_eq!(env.statuses("web").await, ["Succeeded", "InProgress"]);
}

#[tokio::test]
async fn start_with_variables_source_revision_and_idempotency_token() {
    let env = setup();
    env.create(standard("web", Mode::Parallel)).await;
    env.settle();
    let first = env.head();
    env.commit("second");
    let var = PipelineVariable::builder()
        .name("env")
        .value("prod")
        .build()
        .unwrap();
    let rev = SourceRevisionOverride::builder().action_name("Source");
    let rev = rev
        .revision_type(SourceRevisionType::CommitId)
        .revision_value(&first);
    let start = || {
        let c = env
            .c
            .start_pipeline_execution()
            .name("web")
            .client_request_token("once");
        c.variables(var.clone())
            .source_revisions(rev.clone().build().unwrap())
    };
    let a = start().send().await.unwrap().pipeline_execution_id.unwrap();
    let b = start().send().await.unwrap().pipeline_execution_id.unwrap();
    assert_eq!(a, b, "the same clientRequestToken starts one execution");
    env.settle();
    let e = env.execution(&a).await;
    assert_eq!(
        e.artifact_revisions()[0].revision_id(),
        Some(first.as_str())
    );
    assert_eq!(e.variables()[0].resolved_value(), Some("prod"));
    let nope = PipelineVariable::builder()
        .name("nope")
        .value("x")
        .build()
        .unwrap();
    let undeclared = env.c.start_pipeline_execution().name("web").variables(nope);
    assert_eq!(code(undeclared.send().await), "ValidationException");

    let list = || env.c.list_pipeline_executions().pipeline_name("web");
    let page = list().max_results(1).send().await.unwrap();
    assert_eq!(page.pipeline_execution_summaries().len(), 1);
    let rest = list()
        .next_token(page.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.pipeline_execution_summaries().len(), 2);
    let bad = list().next_token("garbage").send().await;
    assert_eq!(code(bad), "InvalidNextTokenException");
    let get = env.c.get_pipeline_execution().pipeline_name("web");
    let missing = get.pipeline_execution_id("11111111-1111-1111-1111-111111111111");
    assert_eq!(
        code(missing.send().await),
        "PipelineExecutionNotFoundException"
    );
}

#[tokio::test]
async fn unsupported_providers_fail_with_a_clear_reason() {
    let env = setup();
    let odd = action("Scan", Cat::Test, "Jenkins", &[]);
    let stages = vec![stage("Source", vec![source()]), stage("Test", vec![odd])];
    env.create(declaration("web", Mode::Superseded, stages))
        .await;
    env.settle();
    assert_eq!(env.statuses("web").await, ["Failed"]);
    let a = env.action("web", "Test", "Scan").await;
    let message = a.error_details().unwrap().message().unwrap();
    assert!(
        message.contains("not supported by the emulator"),
        "{message}"
    );
}

#[tokio::test]
async fn on_failure_retry_retries_a_stage_once_by_itself() {
    let env = setup();
    let mut gate = stage("Approval", vec![approval(1)]);
    let retry = aws_sdk_codepipeline::types::Result::Retry;
    gate.on_failure = Some(FailureConditions::builder().result(retry).build());
    let stages = vec![stage("Source", vec![source()]), gate];
    env.create(declaration("web", Mode::Superseded, stages))
        .await;
    env.settle();
    let first = env.token().await;
    env.decide("Approval", false).await;
    assert_eq!(
        env.statuses("web").await,
        ["InProgress"],
        "retried automatically"
    );
    let second = env.token().await;
    assert_ne!(first, second);
    let s = env.stage("web", "Approval").await;
    let meta = s.retry_stage_metadata().unwrap();
    assert_eq!(meta.auto_stage_retry_attempt(), Some(1));
    let trigger = meta.latest_retry_trigger().unwrap().as_str();
    assert_eq!(trigger, "AutomatedStageRetry");
    env.decide("Approval", false).await;
    assert_eq!(
        env.statuses("web").await,
        ["Failed"],
        "only one automatic retry"
    );
}
