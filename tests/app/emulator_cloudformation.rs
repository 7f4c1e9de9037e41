//! CloudFormation in the emulator through the real SDK (in-process transport, manual clock):
//! stacks progressing one resource per emulated second, events newest first, every intrinsic,
//! exports and imports, live log groups and alarms, rollback, change sets, updates, deletion
//! with Retain, and pipetui's own template deployed as a stack.

use std::path::PathBuf;
use std::sync::Arc;

use crate::common;
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use aws_sdk_cloudformation::types::{
    Capability, ChangeAction, ChangeSetType, Parameter, Replacement, ResourceStatus, Stack,
    StackEvent, StackStatus,
};

use pipetui_emulator::Emulator;

use common::START;

struct Env {
    emu: Arc<Emulator>,
    cfn: Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    cw: aws_sdk_cloudwatch::Client,
}

fn setup() -> Env {
    let emu = common::emulator();
    let conf = common::sdk_config(&emu);
    Env {
        cfn: Client::new(&conf),
        logs: aws_sdk_cloudwatchlogs::Client::new(&conf),
        cw: aws_sdk_cloudwatch::Client::new(&conf),
        emu,
    }
}

/// (code, message) of a failed SDK call.
fn err<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    r: Result<T, aws_sdk_cloudformation::error::SdkError<E>>,
) -> (String, String) {
    let e = r.expect_err("the call should fail");
    let s = e
        .as_service_error()
        .unwrap_or_else(|| panic!("not a service error: {e:?}"));
    (
        s.code().unwrap_or_default().to_string(),
        s.message().unwrap_or_default().to_string(),
    )
}

async fn describe(cfn: &Client, name: &str) -> Stack {
    let out = cfn
        .describe_stacks()
        .stack_name(name)
        .send()
        .await
        .expect("describe stacks");
    out.stacks().first().cloned().expect("one stack")
}

/// Every event, newest first, following NextToken.
async fn events(cfn: &Client, name: &str) -> Vec<StackEvent> {
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = cfn
            .describe_stack_events()
            .stack_name(name)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("events");
        all.extend(out.stack_events().iter().cloned());
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            return all;
        }
    }
}

/// `Logical STATUS` of each event, oldest first.
async fn history(cfn: &Client, name: &str) -> Vec<String> {
    let mut evs = events(cfn, name).await;
    evs.reverse();
    evs.iter()
        .map(|e| {
            format!(
                "{} {}",
                e.logical_resource_id().unwrap_or_default(),
                e.resource_status().map(|s| s.as_str()).unwrap_or_default()
            )
        })
        .collect()
}

fn in_progress(s: &Stack) -> bool {
    s.stack_status().is_some_and(|st| {
        st.as_str().ends_with("_IN_PROGRESS") && *st != StackStatus::ReviewInProgress
    })
}

/// Advances the clock a second at a time until the stack settles (the SDK waiters poll every
/// 30 s of real time, so tests poll by hand).
async fn settle(env: &Env, name: &str) -> Stack {
    for _ in 0..500 {
        let s = describe(&env.cfn, name).await;
        if !in_progress(&s) {
            return s;
        }
        env.emu.clock.advance(1.0);
    }
    panic!("stack {name} never settled");
}

async fn log_group(env: &Env, name: &str) -> Option<aws_sdk_cloudwatchlogs::types::LogGroup> {
    env.logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await
        .expect("describe log groups")
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(name))
        .cloned()
}

async fn alarm(env: &Env, name: &str) -> Option<aws_sdk_cloudwatch::types::MetricAlarm> {
    env.cw
        .describe_alarms()
        .alarm_names(name)
        .send()
        .await
        .expect("describe alarms")
        .metric_alarms()
        .first()
        .cloned()
}

fn param(k: &str, v: &str) -> Parameter {
    Parameter::builder()
        .parameter_key(k)
        .parameter_value(v)
        .build()
}

const SHARED: &str = r#"
Resources:
  Shared:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: /shared/base
Outputs:
  SharedName:
    Value: !Ref Shared
    Export:
      Name: shared-log-group
"#;

const EVERYTHING: &str = r#"
AWSTemplateFormatVersion: "2010-09-09"
Description: every intrinsic
Parameters:
  Env:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]
  Secret:
    Type: String
    NoEcho: true
  Names:
    Type: CommaDelimitedList
    Default: "alpha,beta,gamma"
Mappings:
  EnvMap:
    dev: { Retention: 7, Threshold: 5 }
    prod: { Retention: 30, Threshold: 1 }
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Not [!Condition IsProd]
  InUsEast: !Equals [!Ref "AWS::Region", us-east-1]
  DevInUs: !And [!Condition IsDev, !Condition InUsEast]
  ProdOrUs: !Or [!Condition IsProd, !Condition InUsEast]
Resources:
  AppLogs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub "/app/${Env}/${AWS::StackName}"
      RetentionInDays: !FindInMap [EnvMap, !Ref Env, Retention]
  ErrorAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: !Join ["-", [!Ref "AWS::StackName", !Select [1, !Ref Names], errors]]
      AlarmDescription: !Sub
        - "errors in ${Group} (${Az}) near ${Shared} of ${AWS::AccountId} in ${AWS::Partition}"
        - Group: !Ref AppLogs
          Az: !Select [0, !GetAZs ""]
          Shared: !ImportValue shared-log-group
      Namespace: App
      MetricName: Errors
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 3
      DatapointsToAlarm: 2
      Threshold: !FindInMap [EnvMap, !Ref Env, Threshold]
      ComparisonOperator: GreaterThanOrEqualToThreshold
      TreatMissingData: !If [IsProd, breaching, notBreaching]
      Dimensions:
        - Name: LogGroup
          Value: !Ref AppLogs
        - Name: Part
          Value: !Select [2, !Split [",", "a,b,c"]]
  ProdOnly:
    Type: AWS::Logs::LogGroup
    Condition: IsProd
Outputs:
  LogGroupName:
    Value: !Ref AppLogs
    Export:
      Name: !Sub "${AWS::StackName}-logs"
  LogGroupArn:
    Description: the arn
    Value: !GetAtt AppLogs.Arn
  AlarmName:
    Value: !Ref ErrorAlarm
  Flags:
    Value: !Join [",", [!If [DevInUs, dev-us, other], !If [ProdOrUs, "yes", "no"]]]
  StackInfo:
    Value: !Sub "${AWS::StackId}|${AWS::URLSuffix}|${AWS::Region}"
"#;

#[tokio::test]
async fn a_stack_using_every_intrinsic_progresses_on_the_clock() {
    let env = setup();
    let cfn = &env.cfn;
    cfn.create_stack()
        .stack_name("shared")
        .template_body(SHARED)
        .send()
        .await
        .expect("create shared");
    assert_eq!(
        settle(&env, "shared").await.stack_status(),
        Some(&StackStatus::CreateComplete)
    );

    let t0 = START + 1.0;
    let out = cfn
        .create_stack()
        .stack_name("everything")
        .template_body(EVERYTHING)
        .parameters(param("Secret", "s3cret"))
        .tags(
            aws_sdk_cloudformation::types::Tag::builder()
                .key("team")
                .value("ops")
                .build(),
        )
        .send()
        .await
        .expect("create");
    let stack_id = out.stack_id().expect("stack id").to_string();
    assert!(
        stack_id.starts_with("arn:aws:cloudformation:us-east-1:000000000000:stack/everything/")
    );

    // At once: the stack and the first resource are in progress.
    let s = describe(cfn, "everything").await;
    assert_eq!(s.stack_status(), Some(&StackStatus::CreateInProgress));
    assert_eq!(s.stack_status_reason(), Some("User Initiated"));
    let evs = events(cfn, "everything").await;
    let seen: Vec<(&str, &str)> = evs
        .iter()
        .map(|e| {
            (
                e.logical_resource_id().unwrap_or_default(),
                e.resource_status().map(|s| s.as_str()).unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("AppLogs", "CREATE_IN_PROGRESS"),
            ("AppLogs", "CREATE_IN_PROGRESS"),
            ("everything", "CREATE_IN_PROGRESS"),
        ],
        "newest first"
    );
    assert_eq!(
        evs[0].resource_status_reason(),
        Some("Resource creation Initiated")
    );
    assert_eq!(evs[0].physical_resource_id(), Some("/app/dev/everything"));
    assert_eq!(evs[2].resource_type(), Some("AWS::CloudFormation::Stack"));
    assert_eq!(evs[2].physical_resource_id(), Some(stack_id.as_str()));
    let props: serde_json::Value =
        serde_json::from_str(evs[0].resource_properties().expect("properties")).expect("json");
    assert_eq!(props["RetentionInDays"], 7);
    assert!(
        log_group(&env, "/app/dev/everything").await.is_none(),
        "not yet"
    );

    env.emu.clock.advance(1.0);
    assert_eq!(
        history(cfn, "everything").await[3..],
        [
            "AppLogs CREATE_COMPLETE",
            "ErrorAlarm CREATE_IN_PROGRESS",
            "ErrorAlarm CREATE_IN_PROGRESS"
        ]
    );
    assert!(log_group(&env, "/app/dev/everything").await.is_some());
    env.emu.clock.advance(1.0);
    let s = describe(cfn, "everything").await;
    assert_eq!(s.stack_status(), Some(&StackStatus::CreateComplete));
    let evs = events(cfn, "everything").await;
    assert_eq!(evs.len(), 8);
    let times: Vec<f64> = evs
        .iter()
        .rev()
        .map(|e| e.timestamp().expect("timestamp").as_secs_f64())
        .collect();
    assert_eq!(
        times,
        [t0, t0, t0, t0 + 1.0, t0 + 1.0, t0 + 1.0, t0 + 2.0, t0 + 2.0]
    );
    assert_eq!(
        evs[0].resource_status(),
        Some(&ResourceStatus::CreateComplete)
    );
    assert_eq!(evs[0].logical_resource_id(), Some("everything"));

    // Parameters (NoEcho masked), outputs, tags.
    let p = |k: &str| {
        s.parameters()
            .iter()
            .find(|p| p.parameter_key() == Some(k))
            .and_then(|p| p.parameter_value())
            .map(str::to_string)
    };
    assert_eq!(p("Secret").as_deref(), Some("****"));
    assert_eq!(p("Env").as_deref(), Some("dev"));
    let o = |k: &str| {
        s.outputs()
            .iter()
            .find(|o| o.output_key() == Some(k))
            .cloned()
            .unwrap_or_else(|| panic!("output {k}"))
    };
    assert_eq!(
        o("LogGroupName").output_value(),
        Some("/app/dev/everything")
    );
    assert_eq!(o("LogGroupName").export_name(), Some("everything-logs"));
    assert_eq!(
        o("LogGroupArn").output_value(),
        Some("arn:aws:logs:us-east-1:000000000000:log-group:/app/dev/everything:*")
    );
    assert_eq!(o("LogGroupArn").description(), Some("the arn"));
    assert_eq!(
        o("AlarmName").output_value(),
        Some("everything-beta-errors")
    );
    assert_eq!(o("Flags").output_value(), Some("dev-us,yes"));
    assert_eq!(
        o("StackInfo").output_value(),
        Some(format!("{stack_id}|amazonaws.com|us-east-1").as_str())
    );
    assert_eq!(s.tags().first().and_then(|t| t.value()), Some("ops"));
    assert_eq!(s.description(), Some("every intrinsic"));
    assert!(s.creation_time().is_some());
    assert!(s.last_updated_time().is_none());

    // The live objects.
    let g = log_group(&env, "/app/dev/everything")
        .await
        .expect("log group");
    assert_eq!(g.retention_in_days(), Some(7));
    let a = alarm(&env, "everything-beta-errors").await.expect("alarm");
    assert_eq!(a.threshold(), Some(5.0));
    assert_eq!(a.evaluation_periods(), Some(3));
    assert_eq!(a.datapoints_to_alarm(), Some(2));
    assert_eq!(a.treat_missing_data(), Some("notBreaching"));
    assert_eq!(
        a.alarm_description(),
        Some("errors in /app/dev/everything (us-east-1a) near /shared/base of 000000000000 in aws")
    );
    let dims: Vec<(&str, &str)> = a
        .dimensions()
        .iter()
        .map(|d| (d.name().unwrap_or_default(), d.value().unwrap_or_default()))
        .collect();
    assert_eq!(dims, [("LogGroup", "/app/dev/everything"), ("Part", "c")]);

    // Resources in creation order; the conditioned-out one is absent.
    let res = cfn
        .list_stack_resources()
        .stack_name("everything")
        .send()
        .await
        .expect("resources");
    let ids: Vec<&str> = res
        .stack_resource_summaries()
        .iter()
        .filter_map(|r| r.logical_resource_id())
        .collect();
    assert_eq!(ids, ["AppLogs", "ErrorAlarm"]);
    let tpl = cfn
        .get_template()
        .stack_name("everything")
        .send()
        .await
        .expect("template");
    assert_eq!(tpl.template_body(), Some(EVERYTHING));

    // Errors.
    let (code, msg) = err(cfn.describe_stacks().stack_name("nope").send().await);
    assert_eq!(
        (code.as_str(), msg.as_str()),
        ("ValidationError", "Stack with id nope does not exist")
    );
    let (code, msg) = err(cfn
        .create_stack()
        .stack_name("everything")
        .template_body(EVERYTHING)
        .parameters(param("Secret", "x"))
        .send()
        .await);
    assert_eq!(code, "AlreadyExistsException");
    assert_eq!(msg, "Stack [everything] already exists");
    let all = cfn.describe_stacks().send().await.expect("all stacks");
    assert_eq!(all.stacks().len(), 2);
}

const FAILING: &str = r#"
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: /fail/logs
  BadAlarm:
    Type: AWS::CloudWatch::Alarm
    DependsOn: Logs
    Properties:
      Namespace: App
      MetricName: Errors
      Statistic: Sum
      Period: 60
      Threshold: 1
      ComparisonOperator: GreaterThanThreshold
"#;

#[tokio::test]
async fn a_failing_resource_rolls_the_stack_back() {
    let env = setup();
    let cfn = &env.cfn;
    cfn.create_stack()
        .stack_name("failing")
        .template_body(FAILING)
        .send()
        .await
        .expect("create");
    let s = settle(&env, "failing").await;
    assert_eq!(s.stack_status(), Some(&StackStatus::RollbackComplete));
    assert_eq!(
        history(cfn, "failing").await,
        [
            "failing CREATE_IN_PROGRESS",
            "Logs CREATE_IN_PROGRESS",
            "Logs CREATE_IN_PROGRESS",
            "Logs CREATE_COMPLETE",
            "BadAlarm CREATE_IN_PROGRESS",
            "BadAlarm CREATE_FAILED",
            "failing ROLLBACK_IN_PROGRESS",
            "BadAlarm DELETE_COMPLETE",
            "Logs DELETE_IN_PROGRESS",
            "Logs DELETE_COMPLETE",
            "failing ROLLBACK_COMPLETE",
        ]
    );
    let evs = events(cfn, "failing").await;
    let failed = evs
        .iter()
        .find(|e| e.resource_status() == Some(&ResourceStatus::CreateFailed))
        .expect("failed event");
    assert_eq!(
        failed.resource_status_reason(),
        Some(
            "Properties validation failed for resource BadAlarm with message: #: required key [EvaluationPeriods] not found"
        )
    );
    let rb = evs
        .iter()
        .find(|e| e.resource_status() == Some(&ResourceStatus::RollbackInProgress))
        .expect("rollback event");
    assert_eq!(
        rb.resource_status_reason(),
        Some("The following resource(s) failed to create: [BadAlarm]. Rollback requested by user.")
    );
    assert!(log_group(&env, "/fail/logs").await.is_none(), "rolled back");

    // Only deletion is possible now.
    let (code, msg) = err(cfn
        .update_stack()
        .stack_name("failing")
        .template_body(SHARED)
        .send()
        .await);
    assert_eq!(code, "ValidationError");
    assert_eq!(
        msg,
        format!(
            "Stack:{} is in ROLLBACK_COMPLETE state and can not be updated.",
            s.stack_id().unwrap_or_default()
        )
    );
    cfn.delete_stack()
        .stack_name("failing")
        .send()
        .await
        .expect("delete");
    let gone = cfn
        .describe_stacks()
        .stack_name(s.stack_id().unwrap_or_default())
        .send()
        .await
        .expect("by id");
    assert_eq!(
        gone.stacks()[0].stack_status(),
        Some(&StackStatus::DeleteComplete)
    );

    // An unknown type fails at once; a handler error keeps its reason; DisableRollback stops.
    let (code, msg) = err(cfn
        .create_stack()
        .stack_name("unknown")
        .template_body("Resources:\n  X:\n    Type: AWS::Foo::Bar\n")
        .send()
        .await);
    assert_eq!(code, "ValidationError");
    assert_eq!(
        msg,
        "Template format error: Unrecognized resource types: [AWS::Foo::Bar]"
    );
    let bad_period = FAILING.replace("Period: 60", "Period: 7\n      EvaluationPeriods: 1");
    cfn.create_stack()
        .stack_name("kept")
        .template_body(bad_period)
        .disable_rollback(true)
        .send()
        .await
        .expect("create");
    let s = settle(&env, "kept").await;
    assert_eq!(s.stack_status(), Some(&StackStatus::CreateFailed));
    assert_eq!(
        s.stack_status_reason(),
        Some("The following resource(s) failed to create: [BadAlarm]. ")
    );
    let evs = events(cfn, "kept").await;
    let failed = evs
        .iter()
        .find(|e| {
            e.resource_status() == Some(&ResourceStatus::CreateFailed)
                && e.logical_resource_id() == Some("BadAlarm")
        })
        .expect("failed event");
    let reason = failed.resource_status_reason().unwrap_or_default();
    assert!(
        reason.contains("Period must be 10, 30 or a multiple of 60."),
        "{reason}"
    );
    assert!(log_group(&env, "/fail/logs").await.is_some(), "no rollback");
}

#[tokio::test]
async fn iam_resources_need_capabilities() {
    let env = setup();
    let body = "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: named\n      AssumeRolePolicyDocument: {}\n";
    let (code, msg) = err(env
        .cfn
        .create_stack()
        .stack_name("iam")
        .template_body(body)
        .send()
        .await);
    assert_eq!(code, "InsufficientCapabilitiesException");
    assert_eq!(msg, "Requires capabilities : [CAPABILITY_NAMED_IAM]");
    let (code, _) = err(env
        .cfn
        .create_stack()
        .stack_name("iam")
        .template_body(body)
        .capabilities(Capability::CapabilityIam)
        .send()
        .await);
    assert_eq!(code, "InsufficientCapabilitiesException");
    let v = env
        .cfn
        .validate_template()
        .template_body(body)
        .send()
        .await
        .expect("validate");
    assert_eq!(v.capabilities(), [Capability::CapabilityNamedIam]);
    env.cfn
        .create_stack()
        .stack_name("iam")
        .template_body(body)
        .capabilities(Capability::CapabilityNamedIam)
        .send()
        .await
        .expect("create");
    assert_eq!(
        settle(&env, "iam").await.stack_status(),
        Some(&StackStatus::CreateComplete)
    );
}

const V1: &str = r#"
Resources:
  Keep:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: /cs/keep
      RetentionInDays: 7
  Renamed:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: /cs/old
  Gone:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: cs-gone
      Namespace: App
      MetricName: Errors
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanThreshold
"#;

const V2: &str = r#"
Resources:
  Keep:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: /cs/keep
      RetentionInDays: 14
  Renamed:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: /cs/new
  Added:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: /cs/added
"#;

async fn change_set_status(
    cfn: &Client,
    id: &str,
) -> aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput {
    cfn.describe_change_set()
        .change_set_name(id)
        .send()
        .await
        .expect("describe change set")
}

#[tokio::test]
async fn change_sets_create_update_and_report_no_changes() {
    let env = setup();
    let cfn = &env.cfn;
    let out = cfn
        .create_change_set()
        .stack_name("cs")
        .change_set_name("first")
        .change_set_type(ChangeSetType::Create)
        .template_body(V1)
        .send()
        .await
        .expect("create change set");
    let cs1 = out.id().expect("id").to_string();
    assert!(cs1.contains(":changeSet/first/"));
    assert_eq!(
        describe(cfn, "cs").await.stack_status(),
        Some(&StackStatus::ReviewInProgress)
    );
    let d = change_set_status(cfn, &cs1).await;
    assert_eq!(d.status().map(|s| s.as_str()), Some("CREATE_COMPLETE"));
    assert_eq!(d.execution_status().map(|s| s.as_str()), Some("AVAILABLE"));
    assert_eq!(d.changes().len(), 3);
    assert!(
        d.changes()
            .iter()
            .all(|c| c.resource_change().and_then(|r| r.action()) == Some(&ChangeAction::Add))
    );
    cfn.execute_change_set()
        .change_set_name(&cs1)
        .send()
        .await
        .expect("execute");
    assert_eq!(
        settle(&env, "cs").await.stack_status(),
        Some(&StackStatus::CreateComplete)
    );
    let d = change_set_status(cfn, &cs1).await;
    assert_eq!(
        d.execution_status().map(|s| s.as_str()),
        Some("EXECUTE_COMPLETE")
    );
    assert!(alarm(&env, "cs-gone").await.is_some());

    // Add, Modify without and with replacement, Remove.
    let cs2 = cfn
        .create_change_set()
        .stack_name("cs")
        .change_set_name("second")
        .template_body(V2)
        .send()
        .await
        .expect("update change set")
        .id()
        .expect("id")
        .to_string();
    let d = cfn
        .describe_change_set()
        .stack_name("cs")
        .change_set_name("second")
        .send()
        .await
        .expect("by name");
    let rc = |id: &str| {
        d.changes()
            .iter()
            .filter_map(|c| c.resource_change())
            .find(|r| r.logical_resource_id() == Some(id))
            .cloned()
            .unwrap_or_else(|| panic!("no change for {id}"))
    };
    assert_eq!(rc("Keep").action(), Some(&ChangeAction::Modify));
    assert_eq!(rc("Keep").replacement(), Some(&Replacement::False));
    assert_eq!(rc("Keep").physical_resource_id(), Some("/cs/keep"));
    assert_eq!(rc("Renamed").action(), Some(&ChangeAction::Modify));
    assert_eq!(rc("Renamed").replacement(), Some(&Replacement::True));
    let renamed = rc("Renamed");
    let detail = &renamed.details()[0];
    assert_eq!(detail.target().and_then(|t| t.name()), Some("LogGroupName"));
    assert_eq!(rc("Added").action(), Some(&ChangeAction::Add));
    assert_eq!(rc("Gone").action(), Some(&ChangeAction::Remove));
    let listed = cfn
        .list_change_sets()
        .stack_name("cs")
        .send()
        .await
        .expect("list");
    assert_eq!(listed.summaries().len(), 2);

    let before = history(cfn, "cs").await.len();
    cfn.execute_change_set()
        .change_set_name(&cs2)
        .send()
        .await
        .expect("execute");
    let s = settle(&env, "cs").await;
    assert_eq!(s.stack_status(), Some(&StackStatus::UpdateComplete));
    assert!(s.last_updated_time().is_some());
    let h = history(cfn, "cs").await;
    assert_eq!(
        h[before..],
        [
            "cs UPDATE_IN_PROGRESS",
            "Keep UPDATE_IN_PROGRESS",
            "Keep UPDATE_COMPLETE",
            "Renamed UPDATE_IN_PROGRESS",
            "Renamed UPDATE_IN_PROGRESS",
            "Renamed UPDATE_COMPLETE",
            "Added CREATE_IN_PROGRESS",
            "Added CREATE_IN_PROGRESS",
            "Added CREATE_COMPLETE",
            "cs UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
            "Renamed DELETE_IN_PROGRESS",
            "Renamed DELETE_COMPLETE",
            "Gone DELETE_IN_PROGRESS",
            "Gone DELETE_COMPLETE",
            "cs UPDATE_COMPLETE",
        ]
    );
    assert_eq!(
        log_group(&env, "/cs/keep")
            .await
            .and_then(|g| g.retention_in_days()),
        Some(14)
    );
    assert!(log_group(&env, "/cs/new").await.is_some());
    assert!(
        log_group(&env, "/cs/old").await.is_none(),
        "replaced and cleaned up"
    );
    assert!(log_group(&env, "/cs/added").await.is_some());
    assert!(alarm(&env, "cs-gone").await.is_none());
    assert_eq!(
        cfn.list_change_sets()
            .stack_name("cs")
            .send()
            .await
            .expect("list")
            .summaries()
            .len(),
        1,
        "executing deletes the other change sets"
    );

    // Nothing to change.
    let (code, msg) = err(cfn
        .update_stack()
        .stack_name("cs")
        .template_body(V2)
        .send()
        .await);
    assert_eq!(
        (code.as_str(), msg.as_str()),
        ("ValidationError", "No updates are to be performed.")
    );
    let same = cfn
        .create_change_set()
        .stack_name("cs")
        .change_set_name("same")
        .template_body(V2)
        .send()
        .await
        .expect("empty change set")
        .id()
        .expect("id")
        .to_string();
    let d = change_set_status(cfn, &same).await;
    assert_eq!(d.status().map(|s| s.as_str()), Some("FAILED"));
    assert_eq!(
        d.execution_status().map(|s| s.as_str()),
        Some("UNAVAILABLE")
    );
    assert_eq!(
        d.status_reason(),
        Some(
            "The submitted information didn't contain changes. Submit different information to create a change set."
        )
    );
    let (code, _) = err(cfn.execute_change_set().change_set_name(&same).send().await);
    assert_eq!(code, "InvalidChangeSetStatus");
    cfn.delete_change_set()
        .change_set_name(&same)
        .send()
        .await
        .expect("delete change set");
    let e = cfn
        .describe_change_set()
        .change_set_name(&same)
        .send()
        .await
        .expect_err("deleted");
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(404));
    let (code, msg) = err(Err::<(), _>(e));
    assert_eq!(code, "ChangeSetNotFound");
    assert_eq!(msg, format!("ChangeSet [{same}] does not exist"));
}

const RETAIN: &str = r#"
Resources:
  A:
    Type: AWS::Logs::LogGroup
    DeletionPolicy: Retain
    Properties:
      LogGroupName: /del/a
  B:
    Type: AWS::Logs::LogGroup
    DependsOn: A
    Properties:
      LogGroupName: /del/b
  C:
    Type: AWS::CloudWatch::Dashboard
    Properties:
      DashboardName: !Sub "${B}-board"
      DashboardBody: '{"widgets":[]}'
"#;

#[tokio::test]
async fn delete_runs_in_reverse_order_and_honours_retain() {
    let env = setup();
    let cfn = &env.cfn;
    cfn.create_stack()
        .stack_name("del")
        .template_body(RETAIN)
        .enable_termination_protection(true)
        .send()
        .await
        .expect("create");
    let s = settle(&env, "del").await;
    assert_eq!(s.stack_status(), Some(&StackStatus::CreateComplete));
    assert_eq!(s.enable_termination_protection(), Some(true));
    let id = s.stack_id().unwrap_or_default().to_string();
    let boards = env.cw.list_dashboards().send().await.expect("dashboards");
    assert_eq!(boards.dashboard_entries().len(), 1);
    let (code, _) = err(cfn.delete_stack().stack_name("del").send().await);
    assert_eq!(code, "ValidationError");
    cfn.update_termination_protection()
        .stack_name("del")
        .enable_termination_protection(false)
        .send()
        .await
        .expect("unprotect");

    let before = history(cfn, "del").await.len();
    cfn.delete_stack()
        .stack_name("del")
        .send()
        .await
        .expect("delete");
    let s = describe(cfn, "del").await;
    assert_eq!(s.stack_status(), Some(&StackStatus::DeleteInProgress));
    env.emu.clock.advance(5.0);
    let h = history(cfn, &id).await;
    assert_eq!(
        h[before..],
        [
            "del DELETE_IN_PROGRESS",
            "C DELETE_IN_PROGRESS",
            "C DELETE_COMPLETE",
            "B DELETE_IN_PROGRESS",
            "B DELETE_COMPLETE",
            "A DELETE_SKIPPED",
            "del DELETE_COMPLETE",
        ]
    );
    assert!(log_group(&env, "/del/a").await.is_some(), "retained");
    assert!(log_group(&env, "/del/b").await.is_none());
    let boards = env.cw.list_dashboards().send().await.expect("dashboards");
    assert!(boards.dashboard_entries().is_empty());

    let (code, msg) = err(cfn.describe_stacks().stack_name("del").send().await);
    assert_eq!(
        (code.as_str(), msg.as_str()),
        ("ValidationError", "Stack with id del does not exist")
    );
    let s = describe(cfn, &id).await;
    assert_eq!(s.stack_status(), Some(&StackStatus::DeleteComplete));
    assert!(s.deletion_time().is_some());
    let all = cfn.describe_stacks().send().await.expect("all");
    assert!(all.stacks().is_empty());
    // Deleting what does not exist succeeds; the name can be used again.
    cfn.delete_stack()
        .stack_name("del")
        .send()
        .await
        .expect("idempotent");
    cfn.create_stack()
        .stack_name("del")
        .template_body(SHARED)
        .send()
        .await
        .expect("re-create");
}

fn rendered_example() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
    let loaded = pipetui::config::load(
        pipetui::config::ConfigFile::Explicit(path),
        std::iter::empty(),
        &Default::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // Compact, as `init` sends it: pretty JSON exceeds the 51,200 bytes CloudFormation takes inline.
    serde_json::to_string(&pipetui::stack::render(&loaded.config).to_value()).expect("json")
}

/// Values for the parameters pipetui's template declares without defaults.
fn parameter_values(template: &serde_json::Value) -> Vec<Parameter> {
    let Some(params) = template.get("Parameters").and_then(|p| p.as_object()) else {
        return Vec::new();
    };
    params
        .iter()
        .filter(|(_, p)| p.get("Default").is_none())
        .map(|(k, p)| {
            let ty = p.get("Type").and_then(|t| t.as_str()).unwrap_or("String");
            let v = if ty == "AWS::EC2::VPC::Id" {
                "vpc-0abc".to_string()
            } else if ty.starts_with("List<") {
                "subnet-1,subnet-2".to_string()
            } else if k.contains("Connection") {
                "arn:aws:codestar-connections:us-east-1:000000000000:connection/x".to_string()
            } else {
                format!("arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/{k}")
            };
            param(k, &v)
        })
        .collect()
}

#[tokio::test]
async fn pipetuis_own_template_deploys_as_a_stack() {
    let env = setup();
    let cfn = &env.cfn;
    let body = rendered_example();
    let template: serde_json::Value = serde_json::from_str(&body).expect("json template");
    let (code, _) = err(cfn
        .create_stack()
        .stack_name("pipetui")
        .template_body(&body)
        .set_parameters(Some(parameter_values(&template)))
        .send()
        .await);
    assert_eq!(code, "InsufficientCapabilitiesException");
    cfn.create_stack()
        .stack_name("pipetui")
        .template_body(&body)
        .set_parameters(Some(parameter_values(&template)))
        .capabilities(Capability::CapabilityNamedIam)
        .send()
        .await
        .expect("create");
    let s = settle(&env, "pipetui").await;
    let evs = events(cfn, "pipetui").await;
    assert_eq!(
        s.stack_status(),
        Some(&StackStatus::CreateComplete),
        "{:?}",
        evs.iter()
            .filter(|e| e.resource_status() == Some(&ResourceStatus::CreateFailed))
            .map(|e| (e.logical_resource_id(), e.resource_status_reason()))
            .collect::<Vec<_>>()
    );
    let resources = template["Resources"].as_object().expect("resources");
    assert!(evs.len() > 100, "events page: {}", evs.len());
    assert_eq!(evs.len(), 3 * resources.len() + 2);

    // Every log group, alarm and dashboard exists in its service under its physical id.
    let listed = cfn
        .describe_stack_resources()
        .stack_name("pipetui")
        .send()
        .await
        .expect("resources");
    let mut seen = (0, 0, 0);
    for r in listed.stack_resources() {
        let physical = r.physical_resource_id().unwrap_or_default();
        match r.resource_type().unwrap_or_default() {
            "AWS::Logs::LogGroup" => {
                assert!(log_group(&env, physical).await.is_some(), "{physical}");
                seen.0 += 1;
            }
            "AWS::CloudWatch::Alarm" => {
                assert!(alarm(&env, physical).await.is_some(), "{physical}");
                seen.1 += 1;
            }
            "AWS::CloudWatch::Dashboard" => {
                env.cw
                    .get_dashboard()
                    .dashboard_name(physical)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("{physical}: {e:?}"));
                seen.2 += 1;
            }
            _ => {}
        }
        assert_eq!(r.resource_status(), Some(&ResourceStatus::CreateComplete));
    }
    assert!(seen.0 > 0 && seen.1 > 0 && seen.2 > 0, "{seen:?}");
    assert!(s.outputs().iter().all(|o| o.export_name().is_some()));

    // Paging through the resources gives every one once.
    let mut n = 0;
    let mut token = None;
    loop {
        let page = cfn
            .list_stack_resources()
            .stack_name("pipetui")
            .set_next_token(token)
            .send()
            .await
            .expect("page");
        n += page.stack_resource_summaries().len();
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(n, resources.len());

    // Deleting removes the live objects again.
    cfn.delete_stack()
        .stack_name("pipetui")
        .send()
        .await
        .expect("delete");
    let id = s.stack_id().unwrap_or_default().to_string();
    let s = settle(&env, &id).await;
    assert_eq!(s.stack_status(), Some(&StackStatus::DeleteComplete));
    let alarms = env.cw.describe_alarms().send().await.expect("alarms");
    assert!(alarms.metric_alarms().is_empty());
}

#[tokio::test]
async fn a_failed_update_rolls_back_to_the_previous_state() {
    let env = setup();
    let cfn = &env.cfn;
    let v1 = "Resources:\n  Logs:\n    Type: AWS::Logs::LogGroup\n    Properties:\n      LogGroupName: /upd/logs\n      RetentionInDays: 7\nOutputs:\n  Name:\n    Value: !Ref Logs\n";
    cfn.create_stack()
        .stack_name("upd")
        .template_body(v1)
        .send()
        .await
        .expect("create");
    settle(&env, "upd").await;
    let v2 = format!(
        "{}  Bad:\n    Type: AWS::CloudWatch::Alarm\n    DependsOn: Logs\n    Properties:\n      Namespace: App\n      MetricName: Errors\n      Statistic: Sum\n      Period: 7\n      EvaluationPeriods: 1\n      Threshold: 1\n      ComparisonOperator: GreaterThanThreshold\n",
        v1.replace("RetentionInDays: 7", "RetentionInDays: 30")
            .replace("Outputs:\n  Name:\n    Value: !Ref Logs\n", "")
    ) + "Outputs:\n  Name:\n    Value: !Ref Logs\n";
    let before = history(cfn, "upd").await.len();
    cfn.update_stack()
        .stack_name("upd")
        .template_body(v2)
        .send()
        .await
        .expect("update");
    let s = settle(&env, "upd").await;
    assert_eq!(s.stack_status(), Some(&StackStatus::UpdateRollbackComplete));
    assert_eq!(
        history(cfn, "upd").await[before..],
        [
            "upd UPDATE_IN_PROGRESS",
            "Logs UPDATE_IN_PROGRESS",
            "Logs UPDATE_COMPLETE",
            "Bad CREATE_IN_PROGRESS",
            "Bad CREATE_IN_PROGRESS",
            "Bad CREATE_FAILED",
            "upd UPDATE_ROLLBACK_IN_PROGRESS",
            "Logs UPDATE_IN_PROGRESS",
            "Logs UPDATE_COMPLETE",
            "upd UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
            "Bad DELETE_IN_PROGRESS",
            "Bad DELETE_COMPLETE",
            "upd UPDATE_ROLLBACK_COMPLETE",
        ]
    );
    assert_eq!(
        log_group(&env, "/upd/logs")
            .await
            .and_then(|g| g.retention_in_days()),
        Some(7),
        "retention restored"
    );
    let tpl = cfn
        .get_template()
        .stack_name("upd")
        .send()
        .await
        .expect("template");
    assert_eq!(tpl.template_body(), Some(v1));
    let res = cfn
        .list_stack_resources()
        .stack_name("upd")
        .send()
        .await
        .expect("resources");
    assert_eq!(res.stack_resource_summaries().len(), 1);
    // Updatable again after a rolled-back update.
    cfn.update_stack()
        .stack_name("upd")
        .template_body(v1.replace("RetentionInDays: 7", "RetentionInDays: 14"))
        .send()
        .await
        .expect("update again");
    assert_eq!(
        settle(&env, "upd").await.stack_status(),
        Some(&StackStatus::UpdateComplete)
    );
}
