//! Log groups: one per build project and one for the notifier, all with retention.

use serde_json::{Map, Value, json};

use super::{CICD, Ctx, ids};
use crate::config::NameKind;

pub fn render(ctx: &mut Ctx<'_>) {
    let mut groups: Vec<(String, &'static str)> = ctx
        .projects()
        .iter()
        .map(|p| (p.log_group_id(), p.purpose))
        .collect();
    if ctx.config.notifications.lambda_notifier {
        groups.push((ids::NOTIFIER_LOGS.to_string(), "notifier"));
    }
    for (id, purpose) in groups {
        let mut props = Map::new();
        props.insert(
            "LogGroupName".into(),
            json!(ctx.name(NameKind::LogGroup, CICD, purpose)),
        );
        props.insert(
            "RetentionInDays".into(),
            json!(ctx.config.monitoring.log_retention_days),
        );
        let group = ctx.log_group(Value::Object(props));
        ctx.add(&id, CICD, group);
    }
}
