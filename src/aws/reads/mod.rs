//! Typed reads for the console: each function makes the SDK calls one view needs and maps
//! the answers into [`crate::model`] types, so no SDK type leaves `src/aws`. Errors are
//! [`AwsError`]s whose text reads `Code: message`.

mod activity;
mod monitor;
mod pipeline;

pub use activity::{build, deployment};
pub use monitor::{
    LogSource, alarm_history, alarms, evaluation_window, log_events, log_groups, log_streams,
    metric_series, metric_series_until, stack,
};
pub use pipeline::{action_executions, executions, pipeline, pipelines};

use aws_smithy_types::DateTime;

use super::{AwsError, Clients, SdkResultExt};
use crate::model::{Identity, Timestamp};

/// Who the clients act as (`sts:GetCallerIdentity`).
pub async fn identity(clients: &Clients) -> Result<Identity, AwsError> {
    let out = clients
        .sts
        .get_caller_identity()
        .send()
        .await
        .or_aws("GetCallerIdentity", &clients.endpoint())?;
    Ok(Identity {
        account: out.account().unwrap_or_default().to_string(),
        arn: out.arn().unwrap_or_default().to_string(),
    })
}

/// Epoch seconds of an SDK timestamp.
fn ts(t: Option<&DateTime>) -> Option<Timestamp> {
    t.map(DateTime::as_secs_f64)
}

fn owned(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(str::to_string)
}
