//! Dashboards: PutDashboard (the body must be JSON with a widgets array), GetDashboard,
//! ListDashboards and DeleteDashboards.

use serde_json::{Value, json};

use super::{CloudWatch, SVC, delete_all, missing, not_found};
use crate::protocol::{Input, ServiceError, ts};
use crate::service::Ctx;

impl CloudWatch {
    pub(super) fn dashboards(
        ctx: &Ctx<'_>,
        op: &str,
        input: Input<'_>,
    ) -> Result<Value, ServiceError> {
        match op {
            "PutDashboard" => {
                let name = input
                    .str("DashboardName")
                    .ok_or_else(|| missing("DashboardName"))?;
                let body = input
                    .str("DashboardBody")
                    .ok_or_else(|| missing("DashboardBody"))?;
                let parsed: Value = serde_json::from_str(body).map_err(|e| {
                    ServiceError::new(
                        "InvalidParameterInput",
                        format!(
                            "The dashboard body is invalid, there are 1 validation errors: {e}"
                        ),
                    )
                })?;
                if parsed.get("widgets").is_none_or(|w| !w.is_array()) {
                    return Err(ServiceError::new(
                        "InvalidParameterInput",
                        "The dashboard body is invalid: it needs a widgets array",
                    ));
                }
                let doc = json!({
                    "DashboardName": name,
                    "DashboardArn": format!("arn:aws:cloudwatch::{}:dashboard/{name}", ctx.account_id),
                    "DashboardBody": body,
                    "LastModified": ctx.clock.now(),
                    "Size": body.len(),
                });
                ctx.store.write(|tx| tx.put(SVC, "dashboard", name, &doc))?;
                Ok(json!({"DashboardValidationMessages": []}))
            }
            "GetDashboard" => {
                let name = input
                    .str("DashboardName")
                    .ok_or_else(|| missing("DashboardName"))?;
                let d = ctx
                    .store
                    .read(|tx| tx.get(SVC, "dashboard", name))?
                    .ok_or_else(|| not_found("Dashboard does not exist"))?;
                Ok(
                    json!({"DashboardArn": d["DashboardArn"], "DashboardBody": d["DashboardBody"], "DashboardName": name}),
                )
            }
            "ListDashboards" => {
                let prefix = input.str("DashboardNamePrefix").unwrap_or("");
                let entries: Vec<Value> = ctx
                    .store
                    .read(|tx| tx.list(SVC, "dashboard"))?
                    .into_iter()
                    .filter(|(n, _)| n.starts_with(prefix))
                    .map(|(_, d)| json!({"DashboardName": d["DashboardName"], "DashboardArn": d["DashboardArn"], "LastModified": ts(d["LastModified"].as_f64().unwrap_or(0.0)), "Size": d["Size"]}))
                    .collect();
                Ok(json!({"DashboardEntries": entries}))
            }
            _ => {
                let names = input.strings("DashboardNames");
                delete_all(ctx, "dashboard", &names, |n| {
                    format!("Dashboard {n} does not exist")
                })
            }
        }
    }
}
