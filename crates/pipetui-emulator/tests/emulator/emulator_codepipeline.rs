//! CodePipeline in the emulator through the real SDK (in-process, manual clock, no sleeping):
//! API and errors, the engine with git sources, manual approvals and Lambda invokes, stage
//! transitions, execution modes, stop, retry, rollback, restart and change detection.

use aws_sdk_codepipeline::types::{ExecutionMode as Mode, StageTransitionType, Tag};

use crate::common;
mod control;
pub(crate) mod support;

use common::{START, code};
use support::*;

#[tokio::test]
async fn pipeline_crud_versions_tags_and_errors() {
    let env = setup();
    let c = &env.c;
    let tag = Tag::builder().key("team").value("orders").build().unwrap();
    let create = c
        .create_pipeline()
        .pipeline(standard("web", Mode::Superseded))
        .tags(tag);
    let out = create.send().await.unwrap();
    assert_eq!(out.pipeline().unwrap().version(), Some(1));
    let again = c
        .create_pipeline()
        .pipeline(standard("web", Mode::Superseded))
        .send()
        .await;
    assert_eq!(code(again), "PipelineNameInUseException");
    let backwards = vec![
        stage("Release", vec![invoke("A", 1)]),
        stage("Source", vec![source()]),
    ];
    let bad = declaration("bad", Mode::Superseded, backwards);
    let bad = c.create_pipeline().pipeline(bad).send().await;
    assert_eq!(code(bad), "InvalidStructureException");

    let got = c.get_pipeline().name("web").send().await.unwrap();
    let meta = got.metadata().unwrap();
    assert_eq!(meta.pipeline_arn(), Some(ARN));
    assert_eq!(meta.created().unwrap().secs(), START as i64);
    let mut decl = got.pipeline().unwrap().clone();
    assert_eq!(decl.stages().len(), 3);
    assert_eq!(decl.execution_mode().unwrap().as_str(), "SUPERSEDED");

    env.emu.clock.advance(60.0);
    decl.stages.pop();
    let updated = c.update_pipeline().pipeline(decl).send().await.unwrap();
    assert_eq!(updated.pipeline().unwrap().version(), Some(2));
    let v1 = c
        .get_pipeline()
        .name("web")
        .version(1)
        .send()
        .await
        .unwrap();
    assert_eq!(v1.pipeline().unwrap().stages().len(), 3);
    let now = c.get_pipeline().name("web").send().await.unwrap();
    assert_eq!(now.pipeline().unwrap().stages().len(), 2);
    assert_eq!(
        now.metadata().unwrap().updated().unwrap().secs(),
        START as i64 + 60
    );
    let statuses = env.statuses("web").await;
    assert_eq!(
        statuses,
        ["Cancelled"],
        "the update cancelled the running execution"
    );
    let missing = c.get_pipeline().name("web").version(9).send().await;
    assert_eq!(code(missing), "PipelineVersionNotFoundException");
    let nope = c.get_pipeline().name("nope").send().await;
    assert_eq!(code(nope), "PipelineNotFoundException");
    let nope = c.get_pipeline_state().name("nope").send().await;
    assert_eq!(code(nope), "PipelineNotFoundException");

    let list = c.list_pipelines().send().await.unwrap();
    let summary = &list.pipelines()[0];
    assert_eq!((summary.name(), summary.version()), (Some("web"), Some(2)));
    assert_eq!(summary.pipeline_type().unwrap().as_str(), "V2");

    let manual = Tag::builder()
        .key("pipetui:trigger")
        .value("manual")
        .build()
        .unwrap();
    c.tag_resource()
        .resource_arn(ARN)
        .tags(manual)
        .send()
        .await
        .unwrap();
    c.untag_resource()
        .resource_arn(ARN)
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let tags = c
        .list_tags_for_resource()
        .resource_arn(ARN)
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = tags.tags().iter().map(|t| t.key()).collect();
    assert_eq!(keys, ["pipetui:trigger"]);
    let other = c.list_tags_for_resource().resource_arn(format!("{ARN}x"));
    assert_eq!(code(other.send().await), "ResourceNotFoundException");

    c.delete_pipeline().name("web").send().await.unwrap();
    let gone = c.get_pipeline().name("web").send().await;
    assert_eq!(code(gone), "PipelineNotFoundException");
    assert!(
        c.list_pipelines()
            .send()
            .await
            .unwrap()
            .pipelines()
            .is_empty()
    );
}

#[tokio::test]
async fn source_approval_invoke_release_with_variables_and_notification() {
    let env = setup();
    env.create(standard("web", Mode::Superseded)).await;
    let head = env.head();
    env.settle();
    let execs = env.executions("web").await;
    assert_eq!(
        execs.len(),
        1,
        "creating a pipeline starts its first execution"
    );
    let e = env.execution(&execs[0].0).await;
    assert_eq!(trigger_type(&e), "CreatePipeline");
    let rev = &e.artifact_revisions()[0];
    assert_eq!(rev.revision_id(), Some(head.as_str()));
    assert_eq!(
        rev.revision_summary(),
        Some("Initial commit of the orders sample app")
    );
    assert_eq!(e.variables()[0].resolved_value(), Some("staging"));

    assert_eq!(env.stage_status("Source").await, "Succeeded");
    let src = env.stage("web", "Source").await;
    let current = src.action_states()[0].current_revision().unwrap();
    assert_eq!(current.revision_id(), head);
    let pending = env.action("web", "Approval", "Approve").await;
    assert_eq!(pending.summary(), Some(format!("Ship {head}?").as_str()));
    let token = env.token().await;

    let all = |tx: &pipetui_emulator::store::Tx<'_>| {
        tx.records("codepipeline", "notifications", 0.0, f64::MAX)
    };
    let notes = env.emu.store.read(all).unwrap();
    assert_eq!(notes.len(), 1);
    let subject = "APPROVAL NEEDED: AWS CodePipeline web for action Approve";
    assert_eq!(notes[0].body["subject"], subject);
    assert!(notes[0].body["message"].as_str().unwrap().contains(&token));

    let wrong = "00000000-0000-0000-0000-000000000000";
    assert_eq!(
        env.answer(wrong, true).await,
        err("InvalidApprovalTokenException")
    );
    env.emu.clock.advance(30.0);
    env.answer(&token, true).await.unwrap();
    let twice = env.answer(&token, false).await;
    assert_eq!(twice, err("ApprovalAlreadyCompletedException"));
    env.settle();
    assert_eq!(env.statuses("web").await, ["Succeeded"]);
    let approved = env.action("web", "Approval", "Approve").await;
    let seen = (approved.status().unwrap().as_str(), approved.summary());
    assert_eq!(seen, ("Succeeded", Some("reviewed")));
    assert!(approved.token().is_none());
    assert_eq!(
        approved.last_status_change().unwrap().secs(),
        START as i64 + 30
    );

    let announce = env.action_runs("Announce").await;
    let input = announce[0].input().unwrap();
    let resolved = &input.resolved_configuration().unwrap()["UserParameters"];
    assert_eq!(resolved, &format!("commit={head} env=staging"));
    let artifact = input.input_artifacts()[0].s3_location().unwrap();
    assert_eq!(artifact.bucket(), Some("artifacts"));
    let key = artifact.key().unwrap();
    let prefix = "web/SourceOutp/";
    assert!(
        key.starts_with(prefix) && key.len() == prefix.len() + 7,
        "{key}"
    );
    let dir = env.emu.settings.s3_dir("artifacts", key);
    assert!(
        dir.join("appspec.yml").is_file(),
        "the artifact holds the checked-out tree"
    );
    let source_run = env.action_runs("Source").await;
    let vars = source_run[0].output().unwrap().output_variables().unwrap();
    assert_eq!(
        (vars["CommitId"].as_str(), vars["BranchName"].as_str()),
        (head.as_str(), "main")
    );

    let logs = aws_sdk_cloudwatchlogs::Client::new(&common::sdk_config(&env.emu));
    let filter = logs
        .filter_log_events()
        .log_group_name("/aws/lambda/announce");
    let events = filter.send().await.unwrap();
    let lines: Vec<_> = events.events().iter().filter_map(|e| e.message()).collect();
    assert!(lines[0].starts_with("START RequestId: "), "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&format!("commit={head} env=staging")))
    );
    assert!(lines.iter().any(|l| l.starts_with("REPORT RequestId: ")));
}

#[tokio::test]
async fn rejection_and_timeout_fail_the_execution() {
    let env = setup();
    env.create(standard("web", Mode::Queued)).await;
    env.settle();
    let token = env.token().await;
    env.answer(&token, false).await.unwrap();
    env.settle();
    assert_eq!(env.statuses("web").await, ["Failed"]);
    let a = env.action("web", "Approval", "Approve").await;
    assert_eq!(a.status().unwrap().as_str(), "Failed");
    assert!(
        a.error_details()
            .unwrap()
            .message()
            .unwrap()
            .contains("reviewed")
    );
    assert_eq!(env.stage_status("Approval").await, "Failed");

    env.start().await;
    env.settle();
    let token = env.token().await;
    env.emu.clock.advance(7.0 * 86_400.0 - 60.0);
    env.settle();
    assert_eq!(
        env.statuses("web").await[0],
        "InProgress",
        "not expired before 7 days"
    );
    env.emu.clock.advance(61.0);
    env.settle();
    assert_eq!(env.statuses("web").await[0], "Failed");
    let a = env.action("web", "Approval", "Approve").await;
    assert!(
        a.error_details()
            .unwrap()
            .message()
            .unwrap()
            .contains("expired")
    );
    assert_eq!(
        env.answer(&token, true).await,
        err("InvalidApprovalTokenException")
    );
}

#[tokio::test]
async fn a_disabled_transition_holds_executions_until_enabled() {
    let env = setup();
    env.create(standard("web", Mode::Superseded)).await;
    let t = |stage: &str| {
        let c = env
            .c
            .disable_stage_transition()
            .pipeline_name("web")
            .stage_name(stage);
        c.transition_type(StageTransitionType::Inbound)
            .reason("Release freeze")
    };
    t("Approval").send().await.unwrap();
    assert_eq!(code(t("Nope").send().await), "StageNotFoundException");
    env.settle();
    let s = env.stage("web", "Approval").await;
    let state = s.inbound_transition_state().unwrap();
    assert_eq!(
        (state.enabled(), state.disabled_reason()),
        (false, Some("Release freeze"))
    );
    assert!(s.latest_execution().is_none(), "held before the stage");
    let waiting = s
        .inbound_execution()
        .unwrap()
        .pipeline_execution_id()
        .to_string();
    assert_eq!(
        env.executions("web").await,
        [(waiting.clone(), "InProgress".into())]
    );

    let enable = env
        .c
        .enable_stage_transition()
        .pipeline_name("web")
        .stage_name("Approval");
    enable
        .transition_type(StageTransitionType::Inbound)
        .send()
        .await
        .unwrap();
    env.settle();
    let s = env.stage("web", "Approval").await;
    assert!(s.inbound_transition_state().unwrap().enabled());
    assert_eq!(
        s.latest_execution().unwrap().pipeline_execution_id(),
        waiting
    );
    env.token().await;
}

#[tokio::test]
async fn cloudformation_creates_updates_and_deletes_a_pipeline() {
    let env = setup();
    let cfn = aws_sdk_cloudformation::Client::new(&common::sdk_config(&env.emu));
    let template = |mode: &str| {
        serde_json::json!({ "Resources": { "Pipeline": { "Type": "AWS::CodePipeline::Pipeline",
            "Properties": {
                "Name": "web", "RoleArn": "arn:aws:iam::000000000000:role/pipeline",
                "PipelineType": "V2", "ExecutionMode": mode,
                "ArtifactStore": { "Type": "S3", "Location": "artifacts" },
                "Variables": [{ "Name": "env", "DefaultValue": "staging" }],
                "Stages": [
                    { "Name": "Source", "Actions": [{ "Name": "Source",
                        "ActionTypeId": { "Category": "Source", "Owner": "AWS", "Provider": "CodeCommit", "Version": "1" },
                        "Configuration": { "RepositoryName": REPO, "BranchName": "main", "PollForSourceChanges": false },
                        "OutputArtifacts": [{ "Name": "SourceOutput" }], "Namespace": "SourceVariables", "RunOrder": 1 }] },
                    { "Name": "Release", "OnFailure": { "Result": "ROLLBACK" }, "Actions": [{ "Name": "Announce",
                        "ActionTypeId": { "Category": "Invoke", "Owner": "AWS", "Provider": "Lambda", "Version": "1" },
                        "Configuration": { "FunctionName": "announce", "UserParameters": "#{variables.env}" },
                        "InputArtifacts": [{ "Name": "SourceOutput" }] }] }
                ],
                "DisableInboundStageTransitions": [{ "StageName": "Release", "Reason": "Not yet" }],
                "Tags": [{ "Key": "pipetui:trigger", "Value": "manual" }]
            } } } })
        .to_string()
    };
    let create = cfn
        .create_stack()
        .stack_name("cicd")
        .template_body(template("QUEUED"));
    create.send().await.unwrap();
    assert_eq!(stack_status(&env, &cfn, "cicd").await, "CREATE_COMPLETE");
    let got = env.c.get_pipeline().name("web").send().await.unwrap();
    let p = got.pipeline().unwrap();
    assert_eq!(p.execution_mode().unwrap().as_str(), "QUEUED");
    let config = p.stages()[0].actions()[0].configuration().unwrap();
    assert_eq!(
        config["PollForSourceChanges"], "false",
        "configuration values are strings"
    );
    let rollback = p.stages()[1].on_failure().unwrap().result().unwrap();
    assert_eq!(rollback.as_str(), "ROLLBACK");
    let release = env.stage("web", "Release").await;
    assert!(!release.inbound_transition_state().unwrap().enabled());
    let tags = env
        .c
        .list_tags_for_resource()
        .resource_arn(ARN)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags()[0].value(), "manual");
    assert_eq!(
        env.statuses("web").await,
        ["InProgress"],
        "the first execution waits"
    );

    let update = cfn
        .update_stack()
        .stack_name("cicd")
        .template_body(template("SUPERSEDED"));
    update.send().await.unwrap();
    assert_eq!(stack_status(&env, &cfn, "cicd").await, "UPDATE_COMPLETE");
    let got = env.c.get_pipeline().name("web").send().await.unwrap();
    assert_eq!(got.pipeline().unwrap().version(), Some(2));

    cfn.delete_stack().stack_name("cicd").send().await.unwrap();
    let end = stack_status(&env, &cfn, "cicd").await;
    assert!(end == "GONE" || end == "DELETE_COMPLETE", "{end}");
    let gone = env.c.get_pipeline().name("web").send().await;
    assert_eq!(code(gone), "PipelineNotFoundException");
}
