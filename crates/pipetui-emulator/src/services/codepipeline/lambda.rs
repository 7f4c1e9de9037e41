//! The Lambda Invoke action: the emulator has no Lambda runtime, so an invocation is recorded
//! and logged to `/aws/lambda/<function>` the way Lambda logs it, and succeeds.

use serde_json::{Value, json};

use super::model::{ActionRun, Execution, SVC};
use crate::protocol::ServiceId;
use crate::service::Ctx;

/// Record stream of invocations.
pub const INVOCATIONS: &str = "invocations";

fn date_path(epoch: f64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(epoch as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!("{:04}/{:02}/{:02}", t.year(), u8::from(t.month()), t.day())
}

pub fn invoke(ctx: &Ctx<'_>, e: &Execution, run: &mut ActionRun) {
    let now = ctx.clock.now();
    let function = run
        .resolved
        .get("FunctionName")
        .cloned()
        .unwrap_or_default();
    if function.is_empty() {
        super::executors::fail(run, now, "ConfigurationError", "FunctionName is required");
        return;
    }
    let params = run
        .resolved
        .get("UserParameters")
        .cloned()
        .unwrap_or_default();
    let request = uuid::Uuid::new_v4().to_string();
    let group = format!("/aws/lambda/{function}");
    let stream = format!(
        "{}/[$LATEST]{}",
        date_path(now),
        uuid::Uuid::new_v4().simple()
    );
    let ms = ctx.clock.now_millis();
    let lines = [
        format!("START RequestId: {request} Version: $LATEST"),
        format!(
            "{} {request} INFO CodePipeline job for {} ({}): UserParameters={params}",
            crate::protocol::value::iso8601(now),
            e.pipeline,
            e.id
        ),
        format!("END RequestId: {request}"),
        format!(
            "REPORT RequestId: {request}\tDuration: 12.41 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 64 MB"
        ),
    ];
    let events: Vec<Value> = lines
        .iter()
        .map(|m| json!({ "timestamp": ms, "message": m }))
        .collect();
    // A group or stream that already exists is fine; anything else is logged, not fatal.
    let _ = ctx.call(
        ServiceId::Logs,
        "CreateLogGroup",
        &json!({ "logGroupName": group }),
    );
    let logged = ctx
        .call(
            ServiceId::Logs,
            "CreateLogStream",
            &json!({ "logGroupName": group, "logStreamName": stream }),
        )
        .and_then(|_| {
            ctx.call(
                ServiceId::Logs,
                "PutLogEvents",
                &json!({ "logGroupName": group, "logStreamName": stream, "logEvents": events }),
            )
        });
    if let Err(err) = logged {
        tracing::warn!(code = %err.code, message = %err.message, "cannot log a Lambda invocation");
    }
    let record = json!({
        "functionName": function, "userParameters": params, "requestId": request,
        "pipelineName": e.pipeline, "pipelineExecutionId": e.id,
        "stageName": run.stage, "actionName": run.action,
    });
    if let Err(err) = ctx
        .store
        .write(|tx| tx.append(SVC, INVOCATIONS, now, &record))
    {
        tracing::warn!(error = %err, "cannot record a Lambda invocation");
    }
    run.external_id = Some(request);
    run.external_url = Some(format!(
        "https://console.aws.amazon.com/lambda/home?region={}#/functions/{function}",
        ctx.region
    ));
    run.status = "Succeeded".into();
    run.updated = now;
    run.summary = Some(format!("Invoked Lambda function {function}"));
}
