//! Fixed fake data for the console tests and benches: no clock, no network.
#![allow(dead_code)]

use pipetui::console::keymap::Keymap;
use pipetui::console::state::{AuditRow, Settings, State};
use pipetui::model::*;

pub const NOW: f64 = 1_800_000_000.0;

pub fn settings(read_only: bool) -> Settings {
    Settings {
        read_only,
        production: vec!["production".into()],
        environments: vec!["staging".into(), "production".into()],
        stack_name: "orders-cicd-stack".into(),
        refresh_seconds: 5.0,
        save_dir: std::env::temp_dir().join("pipetui-test-logs"),
        no_color: false,
        theme: Default::default(),
    }
}

pub fn emulator_target() -> TargetInfo {
    TargetInfo {
        label: "EMULATOR".into(),
        emulator: true,
        account: Some("000000000000".into()),
        endpoint_url: None,
    }
}

pub fn state(read_only: bool) -> State {
    let mut s = State::new(
        emulator_target(),
        settings(read_only),
        Keymap::new(read_only),
        NOW,
    );
    s.size = (80, 24);
    s
}

fn rev() -> Revision {
    Revision {
        id: "3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39".into(),
        summary: Some("Add order history endpoint".into()),
        created: Some(NOW - 3600.0),
        url: None,
    }
}

fn cell(name: &str, status: Status) -> StageCell {
    StageCell {
        name: name.into(),
        status,
        execution_id: Some("e-1".into()),
    }
}

fn exec(id: &str, status: Status, start: f64, took: f64) -> ExecutionSummary {
    ExecutionSummary {
        id: id.into(),
        status,
        status_summary: None,
        trigger_type: Some("StartPipelineExecution".into()),
        trigger_detail: None,
        start: Some(start),
        last_update: Some(start + took),
        source_revisions: vec![rev()],
        execution_type: Some("STANDARD".into()),
        execution_mode: Some("SUPERSEDED".into()),
    }
}

pub fn pipelines() -> Vec<PipelineSummary> {
    vec![
        PipelineSummary {
            name: "orders-pipeline".into(),
            version: 1,
            stages: vec![
                cell("Source", Status::Succeeded),
                cell("Build", Status::Succeeded),
                cell("Staging", Status::Succeeded),
                cell("Production", Status::InProgress),
            ],
            latest_execution: Some(exec(
                "11111111-aaaa-4bbb-8ccc-000000000001",
                Status::InProgress,
                NOW - 185.0,
                100.0,
            )),
            pending_approvals: 1,
            updated: Some(NOW - 10.0),
        },
        PipelineSummary {
            name: "payments-pipeline".into(),
            version: 3,
            stages: vec![
                cell("Source", Status::Succeeded),
                cell("Build", Status::Failed),
                cell("Deploy", Status::None),
            ],
            latest_execution: Some(exec(
                "22222222-aaaa-4bbb-8ccc-000000000002",
                Status::Failed,
                NOW - 7200.0,
                300.0,
            )),
            pending_approvals: 0,
            updated: Some(NOW - 7000.0),
        },
        PipelineSummary {
            name: "web-pipeline".into(),
            version: 1,
            stages: vec![
                cell("Source", Status::Succeeded),
                cell("Build", Status::Succeeded),
            ],
            latest_execution: Some(exec(
                "33333333-aaaa-4bbb-8ccc-000000000003",
                Status::Succeeded,
                NOW - 86_400.0,
                420.0,
            )),
            pending_approvals: 0,
            updated: Some(NOW - 86_000.0),
        },
    ]
}

fn action(name: &str, category: &str, provider: &str, status: Status) -> ActionState {
    ActionState {
        name: name.into(),
        category: category.into(),
        provider: provider.into(),
        status,
        last_status_change: Some(NOW - 95.0),
        ..Default::default()
    }
}

fn stage(name: &str, status: Status, actions: Vec<ActionState>) -> StageState {
    StageState {
        name: name.into(),
        inbound_transition: TransitionState::default(),
        latest_execution: Some(LatestStageExecution {
            execution_id: "11111111-aaaa-4bbb-8ccc-000000000001".into(),
            status,
        }),
        actions,
        revision: Some(rev()),
    }
}

/// orders-pipeline: built, deployed to staging, waiting for approval before production; the
/// Staging stage's test action failed once (its error shows).
pub fn pipeline() -> PipelineDetail {
    let mut build = action("Build", "Build", "CodeBuild", Status::Succeeded);
    build.external_execution_id = Some("orders-build:0f0e0d0c-1111-2222-3333-444455556666".into());
    build.summary = Some("Build succeeded".into());
    let mut deploy = action("Deploy", "Deploy", "CodeDeploy", Status::Failed);
    deploy.external_execution_id = Some("d-ABCDEF123".into());
    deploy.error = Some(ErrorDetails {
        code: "JobFailed".into(),
        message: "Deployment d-ABCDEF123 failed".into(),
    });
    let mut approve = action("Approve", "Approval", "Manual", Status::InProgress);
    approve.token = Some("0b7c8d9e-aaaa-bbbb-cccc-123456789abc".into());
    approve.custom_data =
        Some("Check the staging smoke tests before releasing to production.".into());
    approve.review_url = Some("https://example.com/review".into());
    let mut staging = stage("Staging", Status::Failed, vec![deploy]);
    staging.latest_execution = Some(LatestStageExecution {
        execution_id: "11111111-aaaa-4bbb-8ccc-000000000001".into(),
        status: Status::Failed,
    });
    PipelineDetail {
        name: "orders-pipeline".into(),
        pipeline_type: "V2".into(),
        execution_mode: "SUPERSEDED".into(),
        stages: vec![
            stage(
                "Source",
                Status::Succeeded,
                vec![action("Source", "Source", "CodeCommit", Status::Succeeded)],
            ),
            stage("Build", Status::Succeeded, vec![build]),
            staging,
            stage("ApproveProduction", Status::InProgress, vec![approve]),
            stage(
                "Production",
                Status::Succeeded,
                vec![action("Deploy", "Deploy", "CodeDeploy", Status::Succeeded)],
            ),
        ],
        variables: vec![],
        updated: Some(NOW - 10.0),
    }
}

pub fn executions() -> Vec<ExecutionSummary> {
    vec![
        exec(
            "11111111-aaaa-4bbb-8ccc-000000000001",
            Status::InProgress,
            NOW - 185.0,
            100.0,
        ),
        exec(
            "44444444-aaaa-4bbb-8ccc-000000000004",
            Status::Succeeded,
            NOW - 90_000.0,
            600.0,
        ),
        exec(
            "55555555-aaaa-4bbb-8ccc-000000000005",
            Status::Failed,
            NOW - 95_000.0,
            200.0,
        ),
        exec(
            "66666666-aaaa-4bbb-8ccc-000000000006",
            Status::Succeeded,
            NOW - 99_000.0,
            610.0,
        ),
    ]
}

pub fn alarms() -> Vec<Alarm> {
    let alarm = |name: &str, env: &str, state: AlarmState| Alarm {
        name: name.into(),
        state,
        reason: Some(
            "Threshold Crossed: 1 datapoint [7.5] was greater than the threshold (5.0)".into(),
        ),
        updated: Some(NOW - 300.0),
        namespace: Some("pipetui".into()),
        metric: Some("ErrorRate".into()),
        dimensions: vec![
            ("Service".into(), "orders".into()),
            ("Environment".into(), env.into()),
        ],
        threshold: Some(5.0),
        comparison: Some("GreaterThanThreshold".into()),
        period: Some(60),
        evaluation_periods: Some(3),
        datapoints_to_alarm: Some(2),
        statistic: Some("Average".into()),
    };
    vec![
        alarm(
            "orders-production-error-rate",
            "production",
            AlarmState::Alarm,
        ),
        alarm("orders-staging-error-rate", "staging", AlarmState::Ok),
        alarm(
            "orders-production-latency",
            "production",
            AlarmState::InsufficientData,
        ),
    ]
}

pub fn metric() -> Vec<MetricPoint> {
    (0..30)
        .map(|i| MetricPoint {
            t: NOW - 1800.0 + 60.0 * i as f64,
            value: (i % 7) as f64 + 0.5,
        })
        .collect()
}

pub fn build() -> Build {
    let phase = |name: &str, status: Status, d: i64| BuildPhase {
        name: name.into(),
        status,
        start: Some(NOW - 300.0),
        end: Some(NOW - 300.0 + d as f64),
        duration_secs: Some(d),
        context: vec![],
    };
    Build {
        id: "orders-build:0f0e0d0c-1111-2222-3333-444455556666".into(),
        project: "orders-build".into(),
        status: Status::Succeeded,
        current_phase: Some("COMPLETED".into()),
        phases: vec![
            phase("SUBMITTED", Status::Succeeded, 0),
            phase("PROVISIONING", Status::Succeeded, 12),
            phase("INSTALL", Status::Succeeded, 31),
            phase("BUILD", Status::Succeeded, 95),
            phase("UPLOAD_ARTIFACTS", Status::Succeeded, 3),
        ],
        log_group: Some("/aws/codebuild/orders-build".into()),
        log_stream: Some("0f0e0d0c-1111-2222-3333-444455556666".into()),
        simulated: true,
        source_version: Some(rev().id),
        initiator: Some("codepipeline/orders-pipeline".into()),
        start: Some(NOW - 300.0),
        end: Some(NOW - 159.0),
    }
}

pub fn deployment() -> Deployment {
    let ev = |name: &str, status: Status, d: f64| LifecycleEvent {
        name: name.into(),
        status,
        start: Some(NOW - 200.0),
        end: Some(NOW - 200.0 + d),
        diagnostics: None,
    };
    let mut failing = ev("ValidateService", Status::Failed, 14.0);
    failing.diagnostics = Some(Diagnostics {
        error_code: Some("ScriptFailed".into()),
        script_name: Some("scripts/validate_service.sh".into()),
        message: Some("Script at specified location: scripts/validate_service.sh run as user root failed with exit code 1".into()),
        log_tail: Some("ErrorRate=7.5 Latency=120".into()),
    });
    Deployment {
        id: "d-ABCDEF123".into(),
        application: "orders-staging".into(),
        group: "orders-staging-fleet".into(),
        status: Status::Failed,
        creator: Some("user".into()),
        overview: DeploymentCounts { pending: 0, in_progress: 0, succeeded: 1, failed: 1, skipped: 0, ready: 0 },
        error: Some(ErrorDetails { code: "HEALTH_CONSTRAINTS".into(), message: "The overall deployment failed because too many individual instances failed deployment".into() }),
        rollback: None,
        compute_platform: Some("Server".into()),
        create: Some(NOW - 260.0),
        complete: Some(NOW - 150.0),
        targets: vec![
            DeploymentTarget {
                id: "i-0000000000000001".into(),
                kind: "InstanceTarget".into(),
                status: Status::Succeeded,
                lifecycle: vec![ev("BeforeInstall", Status::Succeeded, 3.0), ev("Install", Status::Succeeded, 5.0), ev("ValidateService", Status::Succeeded, 9.0)],
            },
            DeploymentTarget {
                id: "i-0000000000000002".into(),
                kind: "InstanceTarget".into(),
                status: Status::Failed,
                lifecycle: vec![ev("BeforeInstall", Status::Succeeded, 3.0), ev("Install", Status::Succeeded, 6.0), failing],
            },
        ],
    }
}

pub fn stack() -> StackView {
    StackView {
        name: "orders-cicd-stack".into(),
        status: "CREATE_COMPLETE".into(),
        reason: None,
        events: (0..12)
            .map(|i| StackEvent {
                t: NOW - 1000.0 + i as f64 * 10.0,
                logical_id: format!("Resource{i}"),
                resource_type: "AWS::CodeBuild::Project".into(),
                status: if i == 11 {
                    "CREATE_COMPLETE".into()
                } else {
                    "CREATE_IN_PROGRESS".into()
                },
                reason: None,
            })
            .collect(),
        resources: vec![StackResource {
            logical_id: "Pipeline".into(),
            physical_id: Some("orders-pipeline".into()),
            resource_type: "AWS::CodePipeline::Pipeline".into(),
            status: "CREATE_COMPLETE".into(),
            reason: None,
        }],
        outputs: vec![StackOutput {
            key: "PipelineName".into(),
            value: "orders-pipeline".into(),
            description: None,
        }],
        updated: Some(NOW - 900.0),
    }
}

pub fn audit() -> Vec<AuditRow> {
    vec![AuditRow {
        time: NOW - 60.0,
        identity: "arn:aws:iam::000000000000:user/release".into(),
        target: "EMULATOR".into(),
        operation: "codepipeline:PutApprovalResult".into(),
        outcome: "succeeded".into(),
        cli_command: "aws codepipeline put-approval-result --pipeline-name orders-pipeline --stage-name ApproveProduction --action-name Approve --result summary=ok,status=Approved --token 0b7c8d9e".into(),
    }]
}

pub fn log_lines(n: usize) -> Vec<LogLine> {
    (0..n)
        .map(|i| LogLine {
            t: NOW - 600.0 + i as f64 * 0.001,
            ingested: None,
            stream: "0f0e0d0c".into(),
            message: match i % 50 {
                7 => format!("[Container] line {i}: ERROR unit test OrderHistoryTest failed"),
                _ => format!(
                    "[Container] line {i}: Running command npm test -- --shard {}",
                    i % 13
                ),
            },
        })
        .collect()
}

/// A state holding every fixture, as if all reads had answered.
pub fn loaded(read_only: bool) -> State {
    let mut s = state(read_only);
    s.data.identity = Some(Identity {
        account: "000000000000".into(),
        arn: "arn:aws:iam::000000000000:user/release".into(),
    });
    s.data.pipelines = Some(pipelines());
    s.data.alarms = Some(alarms());
    s.data.pipeline = Some(pipeline());
    s.data.executions = Some(executions());
    s.data.metric = Some(metric());
    s.data.stack = Some(stack());
    s.data.audit = Some(audit());
    s.data.build = Some(build());
    s.data.deployment = Some(deployment());
    s.focus.pipeline = Some("orders-pipeline".into());
    s.polls.last_ok = Some(NOW - 3.0);
    s
}
