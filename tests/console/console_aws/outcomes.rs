//! Honest outcomes: a mutating call is sent once (no SDK retry), a lost answer is recorded as
//! `unknown`, and reading back records what really happened.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_codepipeline::config::Intercept;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use pipetui::audit::{AuditLog, Outcome};
use pipetui::aws::{Clients, Target, ops, reads};
use pipetui::console::action::Action;
use pipetui::console::verify;
use pipetui::model::Operation;
use pipetui_emulator::faults::Fault;
use pipetui_emulator::protocol::ServiceId;

use super::pipelines::{PIPELINE, approve_op, create, settle};
use crate::common;

/// Counts the PutApprovalResult requests that leave the client (every attempt, retries too).
#[derive(Debug, Default, Clone)]
struct Attempts(Arc<AtomicUsize>);

impl Intercept for Attempts {
    fn name(&self) -> &'static str {
        "count PutApprovalResult attempts"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let target = context
            .request()
            .headers()
            .get("x-amz-target")
            .unwrap_or_default();
        if target.ends_with("PutApprovalResult") {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    }
}

/// Clients whose SDK config retries (three attempts), with PutApprovalResult attempts counted.
fn retrying_clients(emu: &Arc<pipetui_emulator::Emulator>) -> (Clients, Attempts) {
    let config = pipetui::aws::embedded_sdk_config(emu.clone(), &common::settings(3));
    let mut clients = Clients::new(&config, Target::Emulator);
    let attempts = Attempts::default();
    clients.codepipeline = aws_sdk_codepipeline::Client::from_conf(
        clients
            .codepipeline
            .config()
            .to_builder()
            .interceptor(attempts.clone())
            .build(),
    );
    (clients, attempts)
}

#[tokio::test]
async fn a_dropped_approval_is_sent_once_recorded_unknown_then_read_back() {
    let emu = common::emulator();
    let (clients, attempts) = retrying_clients(&emu);
    create(&emu, &clients).await;
    let op = approve_op(&clients, "ship it", true).await;
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::open(dir.path()).unwrap();
    emu.faults.set(
        ServiceId::CodePipeline,
        Some("PutApprovalResult"),
        Fault {
            drop_connection: 1.0,
            ..Default::default()
        },
    );

    // The audited send alone: one attempt, and a lost answer is `unknown`, never `failed`.
    let (id, result) = ops::send_audited(&clients, &audit, None, &op)
        .await
        .unwrap();
    let err = result.unwrap_err();
    assert!(ops::outcome_unknown(&err), "{err:?}");
    assert_eq!(attempts.0.load(Ordering::SeqCst), 1, "no SDK retry");
    assert!(
        matches!(audit.get(id).unwrap().unwrap().outcome, Outcome::Unknown(_)),
        "{:?}",
        audit.get(id).unwrap()
    );

    // The console's path: send once, then read the approval back. The emulator dropped the
    // connection before applying it, so the approval still waits — and that is recorded.
    let action = verify::operate(&clients, &audit, None, op.clone()).await;
    assert_eq!(
        attempts.0.load(Ordering::SeqCst),
        2,
        "one more attempt, one more send"
    );
    let Action::Done {
        result: Err(message),
        ..
    } = &action
    else {
        panic!("a not-applied result expected: {action:?}");
    };
    assert!(message.starts_with("not applied"), "{message}");
    assert!(message.contains("the approval still waits"), "{message}");
    assert!(message.contains("nothing was resent"), "{message}");
    let entries = audit.recent(10).unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].outcome, Outcome::Failed(message.clone()));
    let detail = reads::pipeline(&clients, PIPELINE).await.unwrap();
    let approval = detail
        .stages
        .iter()
        .flat_map(|s| &s.actions)
        .find(|a| a.name == "Approval")
        .unwrap();
    assert!(approval.awaiting_approval(), "not applied: {approval:?}");

    // The same approval, answered for real: reading back says it took effect.
    emu.faults.clear();
    ops::run(&clients, &op).await.unwrap();
    settle(&emu);
    assert_eq!(
        verify::read_back(&clients, &op).await,
        verify::ReadBack::Applied("Approval is Succeeded".into())
    );
}

#[tokio::test]
async fn an_undecidable_read_back_stays_unknown_and_says_so() {
    let emu = common::emulator();
    let (clients, _) = retrying_clients(&emu);
    create(&emu, &clients).await;
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::open(dir.path()).unwrap();
    emu.faults.set(
        ServiceId::CodePipeline,
        Some("StartPipelineExecution"),
        Fault {
            drop_connection: 1.0,
            ..Default::default()
        },
    );
    let op = Operation::StartExecution {
        pipeline: PIPELINE.into(),
    };
    let action = verify::operate(&clients, &audit, None, op).await;
    let Action::Unknown { message, .. } = &action else {
        panic!("an unknown outcome expected: {action:?}");
    };
    assert!(
        message.contains("check before sending it again"),
        "{message}"
    );
    let entry = &audit.recent(1).unwrap()[0];
    assert_eq!(entry.outcome, Outcome::Unknown(message.clone()));
    assert!(entry.outcome.to_string().starts_with("unknown: "));
}
