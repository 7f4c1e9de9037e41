//! Manual approval: a token-identified request, a notification "sent" to the action's SNS
//! topic (kept as a record stream), and expiry after the timeout.

use serde_json::{Value, json};

use super::executors::fail;
use super::model::{ActionRun, Execution, NOTIFICATIONS, SVC};
use crate::service::Ctx;

/// Default manual-approval timeout: 7 days.
pub const APPROVAL_TIMEOUT: f64 = 7.0 * 86_400.0;

/// Fails an open request whose deadline has passed; whether it did.
pub fn expire(run: &mut ActionRun, now: f64) -> bool {
    if let Some(d) = run.deadline
        && now >= d
    {
        let hours = ((d - run.start) / 3600.0).round();
        let window = if hours >= 24.0 && hours % 24.0 == 0.0 {
            format!("{} days", hours / 24.0)
        } else {
            format!("{} minutes", ((d - run.start) / 60.0).round())
        };
        let message =
            format!("The approval request expired: no response was received within {window}");
        fail(run, now, "JobFailed", message);
        return true;
    }
    false
}

pub fn start(ctx: &Ctx<'_>, e: &Execution, run: &mut ActionRun) {
    let now = ctx.clock.now();
    let token = uuid::Uuid::new_v4().to_string();
    let minutes = ctx
        .store
        .document(SVC, super::model::PIPELINE, &e.pipeline)
        .ok()
        .flatten()
        .and_then(|p| timeout_minutes(&p, e.version, &run.stage, &run.action));
    let deadline = now + minutes.map_or(APPROVAL_TIMEOUT, |m| m as f64 * 60.0);
    run.token = Some(token.clone());
    run.deadline = Some(deadline);
    run.external_id = Some(token.clone());
    run.summary = run.resolved.get("CustomData").cloned();
    run.external_url = run.resolved.get("ExternalEntityLink").cloned();
    let Some(topic) = run.resolved.get("NotificationArn").cloned() else {
        return;
    };
    let console = format!(
        "https://console.aws.amazon.com/codepipeline/home?region={}#/view/{}",
        ctx.region, e.pipeline
    );
    let message = json!({
        "region": ctx.region,
        "consoleLink": console,
        "approval": {
            "pipelineName": e.pipeline,
            "stageName": run.stage,
            "actionName": run.action,
            "token": token,
            "expires": crate::protocol::value::iso8601(deadline),
            "externalEntityLink": run.resolved.get("ExternalEntityLink"),
            "approvalReviewLink": format!(
                "https://console.aws.amazon.com/codepipeline/home?region={}#/approval/{}/{}/{}/{}",
                ctx.region, e.pipeline, run.stage, run.action, token
            ),
            "customData": run.resolved.get("CustomData"),
        }
    });
    let subject = format!(
        "APPROVAL NEEDED: AWS CodePipeline {} for action {}",
        e.pipeline, run.action
    );
    tracing::debug!(topic = %topic, subject = %subject, "approval notification");
    let record = json!({ "topicArn": topic, "subject": subject, "message": message.to_string(),
        "pipelineName": e.pipeline, "pipelineExecutionId": e.id });
    if let Err(err) = ctx
        .store
        .write(|tx| tx.append(SVC, NOTIFICATIONS, now, &record))
    {
        tracing::warn!(error = %err, "cannot record an approval notification");
    }
}

fn timeout_minutes(p: &Value, version: i64, stage: &str, action: &str) -> Option<i64> {
    let decl = p.get("versions")?.get(version.to_string())?;
    super::declaration::stages(decl)
        .iter()
        .find(|s| super::declaration::stage_name(s) == stage)
        .and_then(|s| {
            super::declaration::actions(s)
                .into_iter()
                .find(|a| a.name() == action)
                .and_then(|a| a.timeout_minutes())
        })
}
