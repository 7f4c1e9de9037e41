//! The API around builds: listing order and paging, CodeBuild's errors, project updates and
//! deletion, and projects made by CloudFormation.

use std::time::Duration;

use aws_sdk_codebuild::types::{ProjectSource, SortOrderType, SourceType, Tag};
use serde_json::json;

use super::common::{self, code};
use super::support::*;

#[tokio::test]
async fn builds_list_newest_first_with_paging_order() {
    let env = setup();
    inline_project(
        &env,
        "listed",
        "version: 0.2\nphases:\n  build:\n    commands:\n      - echo hi\n",
    )
    .await;
    inline_project(
        &env,
        "other",
        "version: 0.2\nphases:\n  build:\n    commands:\n      - echo hi\n",
    )
    .await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(start(&env, "listed").await);
        finished(&env, ids.last().unwrap()).await;
        env.emu.clock.advance(1.0);
    }
    let other = start(&env, "other").await;
    finished(&env, &other).await;
    let newest = env
        .cb
        .list_builds_for_project()
        .project_name("listed")
        .send()
        .await
        .unwrap();
    let rev: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(newest.ids(), rev.as_slice());
    let oldest = env
        .cb
        .list_builds_for_project()
        .project_name("listed")
        .sort_order(SortOrderType::Ascending)
        .send()
        .await
        .unwrap();
    assert_eq!(oldest.ids(), ids.as_slice());
    let all = env.cb.list_builds().send().await.unwrap();
    assert_eq!(all.ids().len(), 4);
    assert_eq!(all.ids()[0], other);
    let numbers: Vec<i64> = env
        .cb
        .batch_get_builds()
        .set_ids(Some(ids.clone()))
        .send()
        .await
        .unwrap()
        .builds()
        .iter()
        .filter_map(|b| b.build_number())
        .collect();
    assert_eq!(numbers, [1, 2, 3]);
}

#[tokio::test]
async fn build_ids_page_by_a_hundred() {
    let env = setup();
    env.cb
        .create_project()
        .name("many")
        .source(
            ProjectSource::builder()
                .r#type(SourceType::NoSource)
                .buildspec("version: 0.2\nphases:\n  build:\n    commands:\n      - echo hi\n")
                .build()
                .unwrap(),
        )
        .artifacts(no_artifacts())
        .environment(environment(vec![]))
        .service_role("r")
        .tags(
            Tag::builder()
                .key("pipetui:simulated")
                .value("true")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let mut ids = Vec::new();
    for _ in 0..101 {
        ids.push(start(&env, "many").await);
        env.emu.clock.advance(1.0);
    }
    let first = env
        .cb
        .list_builds_for_project()
        .project_name("many")
        .send()
        .await
        .unwrap();
    assert_eq!(first.ids().len(), 100);
    assert_eq!(first.ids()[0], ids[100], "newest first");
    let second = env
        .cb
        .list_builds_for_project()
        .project_name("many")
        .next_token(first.next_token().expect("a second page"))
        .send()
        .await
        .unwrap();
    assert_eq!(second.ids(), [ids[0].clone()]);
    assert!(second.next_token().is_none());
    let all: Vec<String> = env
        .cb
        .list_builds()
        .sort_order(SortOrderType::Ascending)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(all, ids);
}

#[tokio::test]
async fn errors_are_codebuilds() {
    let env = setup();
    assert_eq!(
        code(env.cb.start_build().project_name("nope").send().await),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(
            env.cb
                .list_builds_for_project()
                .project_name("nope")
                .send()
                .await
        ),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(env.cb.stop_build().id("nope:123").send().await),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(
            env.cb
                .update_project()
                .name("nope")
                .description("x")
                .send()
                .await
        ),
        "ResourceNotFoundException"
    );
    inline_project(
        &env,
        "once",
        "version: 0.2\nphases:\n  build:\n    commands:\n      - sleep 600\n",
    )
    .await;
    let dup = env
        .cb
        .create_project()
        .name("once")
        .source(
            ProjectSource::builder()
                .r#type(SourceType::NoSource)
                .buildspec("version: 0.2")
                .build()
                .unwrap(),
        )
        .artifacts(no_artifacts())
        .environment(environment(vec![]))
        .service_role("r")
        .send()
        .await;
    assert_eq!(code(dup), "ResourceAlreadyExistsException");
    let no_spec = env
        .cb
        .create_project()
        .name("nospec")
        .source(
            ProjectSource::builder()
                .r#type(SourceType::NoSource)
                .build()
                .unwrap(),
        )
        .artifacts(no_artifacts())
        .environment(environment(vec![]))
        .service_role("r")
        .send()
        .await;
    assert_eq!(code(no_spec), "InvalidInputException");
    let got = env
        .cb
        .batch_get_builds()
        .ids("once:missing")
        .send()
        .await
        .unwrap();
    assert!(got.builds().is_empty());
    assert_eq!(got.builds_not_found(), ["once:missing"]);
    let got = env
        .cb
        .batch_get_projects()
        .names("once")
        .names("ghost")
        .send()
        .await
        .unwrap();
    assert_eq!(got.projects()[0].name(), Some("once"));
    assert_eq!(got.projects_not_found(), ["ghost"]);
    // A project's concurrent build limit is CodeBuild's AccountLimitExceededException.
    env.cb
        .update_project()
        .name("once")
        .concurrent_build_limit(1)
        .send()
        .await
        .unwrap();
    let first = start(&env, "once").await;
    assert_eq!(
        code(env.cb.start_build().project_name("once").send().await),
        "AccountLimitExceededException"
    );
    env.cb.stop_build().id(&first).send().await.unwrap();
    finished(&env, &first).await;
}

#[tokio::test]
async fn projects_update_list_and_delete() {
    let env = setup();
    inline_project(&env, "b-proj", "version: 0.2").await;
    env.emu.clock.advance(5.0);
    inline_project(&env, "a-proj", "version: 0.2").await;
    let names = env.cb.list_projects().send().await.unwrap();
    assert_eq!(names.projects(), ["a-proj", "b-proj"]);
    let by_time = env
        .cb
        .list_projects()
        .sort_by(aws_sdk_codebuild::types::ProjectSortByType::CreatedTime)
        .sort_order(SortOrderType::Descending)
        .send()
        .await
        .unwrap();
    assert_eq!(by_time.projects(), ["a-proj", "b-proj"]);
    env.emu.clock.advance(5.0);
    let updated = env
        .cb
        .update_project()
        .name("b-proj")
        .description("the b project")
        .timeout_in_minutes(30)
        .send()
        .await
        .unwrap();
    let p = updated.project().unwrap();
    assert_eq!(p.description(), Some("the b project"));
    assert_eq!(p.timeout_in_minutes(), Some(30));
    assert_eq!(
        p.arn(),
        Some("arn:aws:codebuild:us-east-1:000000000000:project/b-proj")
    );
    assert!(p.last_modified().unwrap().secs() > p.created().unwrap().secs());
    assert_eq!(
        p.environment().unwrap().image(),
        "aws/codebuild/standard:7.0"
    );
    env.cb.delete_project().name("b-proj").send().await.unwrap();
    env.cb.delete_project().name("b-proj").send().await.unwrap();
    assert_eq!(
        env.cb.list_projects().send().await.unwrap().projects(),
        ["a-proj"]
    );
}

/// The stack's status once it stops progressing (CloudFormation moves one resource per
/// emulated second, and its tests poll DescribeStacks the same way).
async fn stack_settled(env: &Env, cfn: &aws_sdk_cloudformation::Client) -> String {
    for _ in 0..300 {
        // A deleted stack is not found by name any more.
        let Ok(out) = cfn.describe_stacks().stack_name("builds").send().await else {
            return "DELETE_COMPLETE".into();
        };
        let status = out.stacks()[0]
            .stack_status()
            .expect("stack status")
            .as_str()
            .to_string();
        if !status.ends_with("_IN_PROGRESS") {
            return status;
        }
        env.emu.clock.advance(1.0);
        assert!(env.emu.settle(Duration::from_secs(10)));
    }
    panic!("the stack never settled");
}

#[tokio::test]
async fn a_cloudformation_project_keeps_its_properties() {
    let env = setup();
    let template = json!({
        "Resources": { "Build": { "Type": "AWS::CodeBuild::Project", "Properties": {
            "Name": "cfn-build",
            "ServiceRole": "arn:aws:iam::000000000000:role/build",
            "TimeoutInMinutes": "15",
            "Source": { "Type": "NO_SOURCE", "BuildSpec": "version: 0.2\nphases:\n  build:\n    commands:\n      - echo from-cfn\n" },
            "Environment": { "Type": "LINUX_CONTAINER", "ComputeType": "BUILD_GENERAL1_SMALL", "Image": "img",
                "PrivilegedMode": "true",
                "EnvironmentVariables": [{ "Name": "STAGE", "Value": "prod", "Type": "PLAINTEXT" }] },
            "Artifacts": { "Type": "NO_ARTIFACTS" },
            "LogsConfig": { "CloudWatchLogs": { "Status": "ENABLED", "GroupName": "/custom/builds", "StreamName": "cfn" } },
            "Tags": [{ "Key": "team", "Value": "orders" }]
        } } }
    });
    let conf = common::sdk_config(&env.emu);
    let cfn = aws_sdk_cloudformation::Client::new(&conf);
    cfn.create_stack()
        .stack_name("builds")
        .template_body(template.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(stack_settled(&env, &cfn).await, "CREATE_COMPLETE");
    let stack = cfn
        .describe_stack_events()
        .stack_name("builds")
        .send()
        .await
        .unwrap();
    let reasons: Vec<_> = stack
        .stack_events()
        .iter()
        .filter_map(|e| e.resource_status_reason())
        .collect();
    let got = env
        .cb
        .batch_get_projects()
        .names("cfn-build")
        .send()
        .await
        .unwrap();
    let p = got
        .projects()
        .first()
        .unwrap_or_else(|| panic!("the stack made no project: {reasons:?}"));
    assert_eq!(p.timeout_in_minutes(), Some(15));
    assert_eq!(p.source().unwrap().r#type(), &SourceType::NoSource);
    let e = p.environment().unwrap();
    assert_eq!(e.privileged_mode(), Some(true));
    assert_eq!(e.environment_variables()[0].name(), "STAGE");
    assert_eq!(p.tags()[0].key(), Some("team"));
    let id = start(&env, "cfn-build").await;
    let b = finished(&env, &id).await;
    let logs = b.logs().unwrap();
    assert_eq!(logs.group_name(), Some("/custom/builds"));
    assert_eq!(
        logs.stream_name(),
        Some(format!("cfn/{}", id.split(':').nth(1).unwrap()).as_str())
    );
    assert!(log_lines(&env, &b).await.contains(&"from-cfn".to_string()));

    // A template update changes the project in place; a removed property goes back to default.
    let created = p.created().unwrap().secs();
    let mut updated = template.clone();
    let props = &mut updated["Resources"]["Build"]["Properties"];
    props["TimeoutInMinutes"] = json!(20);
    props.as_object_mut().unwrap().remove("Tags");
    cfn.update_stack()
        .stack_name("builds")
        .template_body(updated.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(stack_settled(&env, &cfn).await, "UPDATE_COMPLETE");
    let got = env
        .cb
        .batch_get_projects()
        .names("cfn-build")
        .send()
        .await
        .unwrap();
    let p = &got.projects()[0];
    assert_eq!(p.timeout_in_minutes(), Some(20));
    assert!(p.tags().is_empty());
    assert_eq!(p.created().unwrap().secs(), created);
    assert!(p.last_modified().unwrap().secs() > created);

    cfn.delete_stack()
        .stack_name("builds")
        .send()
        .await
        .unwrap();
    assert_eq!(stack_settled(&env, &cfn).await, "DELETE_COMPLETE");
    let got = env
        .cb
        .batch_get_projects()
        .names("cfn-build")
        .send()
        .await
        .unwrap();
    assert!(got.projects().is_empty());
}
