//! CloudWatch (`GraniteServiceVersion20100801`; RPC v2 CBOR, awsQuery and JSON 1.0 alike):
//! metric alarms that really evaluate stored data points on the emulator clock, metric data,
//! statistics and dashboards. Alarms are evaluated whenever they are read or their metric
//! receives data, and every state transition is written to the alarm's history.

use serde_json::{Value, json};

use crate::cloudwatch::evaluate::{
    self, AlarmDefinition, ComparisonOperator, StateValue, Statistic, TreatMissingData,
};
use crate::cloudwatch::limits;
use crate::protocol::{Input, Output, ServiceError, ServiceId, ts};
use crate::service::{Ctx, Service, unknown_operation};
use crate::store::{Documents, Tx};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

mod dashboards;
mod metrics;

use metrics::{dimensions, metric_key, samples};

const SVC: &str = "cloudwatch";

fn invalid(message: impl Into<String>) -> ServiceError {
    ServiceError::new("InvalidParameterValue", message)
}

fn missing(name: &str) -> ServiceError {
    ServiceError::new(
        "MissingParameter",
        format!("The parameter {name} is required."),
    )
}

fn not_found(message: impl Into<String>) -> ServiceError {
    ServiceError::new("ResourceNotFound", message).with_status(404)
}

/// AlarmName is 1 to 255 characters, "and can't contain ASCII control characters" (the
/// PutMetricAlarm reference); such a name would also be unwritable in awsQuery's XML.
fn check_alarm_name(name: &str) -> Result<(), ServiceError> {
    let len = name.chars().count();
    if !(1..=255).contains(&len) {
        return Err(ServiceError::validation(format!(
            "1 validation error detected: Value at 'alarmName' failed to satisfy constraint: Member must have length {}",
            if len == 0 {
                "greater than or equal to 1"
            } else {
                "less than or equal to 255"
            }
        )));
    }
    if name.chars().any(|c| c.is_ascii_control()) {
        return Err(invalid(
            "The value for parameter AlarmName must not contain ASCII control characters.",
        ));
    }
    Ok(())
}

fn definition(alarm: &Value) -> Option<AlarmDefinition> {
    let a = Input(alarm);
    let statistic = match (a.str("Statistic"), a.str("ExtendedStatistic")) {
        (Some(s), _) | (None, Some(s)) => Statistic::parse(s).ok()?,
        _ => return None,
    };
    Some(AlarmDefinition {
        statistic,
        period: a.i64("Period")?,
        evaluation_periods: a.i64("EvaluationPeriods")? as u32,
        datapoints_to_alarm: a.i64("DatapointsToAlarm").map(|d| d as u32),
        threshold: a.f64("Threshold")?,
        comparison: ComparisonOperator::parse(a.str("ComparisonOperator")?).ok()?,
        treat_missing_data: TreatMissingData::parse(a.str("TreatMissingData")).ok()?,
    })
}

fn history(
    tx: &Tx<'_>,
    now: f64,
    alarm: &str,
    kind: &str,
    summary: &str,
    data: Value,
) -> Result<(), ServiceError> {
    let item = json!({
        "AlarmName": alarm,
        "AlarmType": "MetricAlarm",
        "Timestamp": now,
        "HistoryItemType": kind,
        "HistorySummary": summary,
        "HistoryData": data.to_string(),
    });
    tx.append(SVC, "history", now, &item).map(|_| ())
}

/// Sets an alarm's state, writing history when it changes.
fn transition(
    tx: &Tx<'_>,
    now: f64,
    alarm: &mut Value,
    state: &str,
    reason: &str,
    reason_data: Option<&str>,
) -> Result<bool, ServiceError> {
    let old = alarm["StateValue"]
        .as_str()
        .unwrap_or("INSUFFICIENT_DATA")
        .to_string();
    let old_reason = alarm["StateReason"].as_str().unwrap_or("").to_string();
    alarm["StateReason"] = json!(reason);
    match reason_data {
        Some(d) => alarm["StateReasonData"] = json!(d),
        None => {
            if let Some(o) = alarm.as_object_mut() {
                o.remove("StateReasonData");
            }
        }
    }
    if old == state {
        return Ok(false);
    }
    alarm["StateValue"] = json!(state);
    alarm["StateUpdatedTimestamp"] = json!(now);
    alarm["StateTransitionedTimestamp"] = json!(now);
    let name = alarm["AlarmName"].as_str().unwrap_or("").to_string();
    let data = json!({
        "version": "1.0",
        "oldState": {"stateValue": old, "stateReason": old_reason},
        "newState": {"stateValue": state, "stateReason": reason},
    });
    history(
        tx,
        now,
        &name,
        "StateUpdate",
        &format!("Alarm updated from {old} to {state}"),
        data,
    )?;
    Ok(true)
}

/// Re-evaluates one stored alarm at `now`; returns the (possibly updated) alarm.
fn evaluate_alarm(tx: &Tx<'_>, now: f64, mut alarm: Value) -> Result<Value, ServiceError> {
    let Some(def) = definition(&alarm) else {
        return Ok(alarm);
    };
    // A state set by SetAlarmState holds until the next evaluation tick, as on AWS.
    if alarm["ManualUntil"].as_f64().is_some_and(|t| now < t) {
        return Ok(alarm);
    }
    let key = alarm["MetricKey"].as_str().unwrap_or("").to_string();
    let window = def.period as f64 * (f64::from(def.evaluation_periods) + 3.0);
    let points = samples(tx, &key, now - window, now + 1.0)?;
    let current = StateValue::parse(alarm["StateValue"].as_str().unwrap_or("INSUFFICIENT_DATA"))
        .unwrap_or(StateValue::InsufficientData);
    let Ok(e) = evaluate::evaluate(&def, &points, now, current) else {
        return Ok(alarm);
    };
    let changed = transition(
        tx,
        now,
        &mut alarm,
        e.state.as_str(),
        &e.reason,
        Some(&e.reason_data),
    )?;
    let tick = tick(now, def.period);
    if changed || alarm["EvaluatedTick"].as_i64() != Some(tick) {
        alarm["EvaluatedTick"] = json!(tick);
        let name = alarm["AlarmName"].as_str().unwrap_or("").to_string();
        tx.put(SVC, "alarm", &name, &alarm)?;
    }
    Ok(alarm)
}

/// The period an instant falls in; an alarm's verdict can only change when it changes or when
/// its metric receives data (which re-evaluates it at once).
fn tick(now: f64, period: i64) -> i64 {
    (now / period.max(1) as f64).floor() as i64
}

/// Whether a stored alarm needs evaluating at `now`.
fn is_due(alarm: &Value, now: f64) -> bool {
    if alarm["ManualUntil"].as_f64().is_some_and(|t| now < t) {
        return false;
    }
    let period = alarm["Period"].as_i64().unwrap_or(60);
    alarm["EvaluatedTick"].as_i64() != Some(tick(now, period))
}

/// The alarm as DescribeAlarms returns it (timestamps marked, internal keys removed).
fn public_alarm(alarm: &Value) -> Value {
    const INTERNAL: [&str; 3] = ["MetricKey", "ManualUntil", "EvaluatedTick"];
    const TIMESTAMPS: [&str; 3] = [
        "AlarmConfigurationUpdatedTimestamp",
        "StateUpdatedTimestamp",
        "StateTransitionedTimestamp",
    ];
    let Some(source) = alarm.as_object() else {
        return alarm.clone();
    };
    // One pass over the stored map: internal keys skipped, timestamps marked, no clone-then-edit.
    let mut out = serde_json::Map::new();
    for (k, v) in source {
        if INTERNAL.contains(&k.as_str()) {
            continue;
        }
        let value = match v.as_f64() {
            Some(t) if TIMESTAMPS.contains(&k.as_str()) => ts(t),
            Some(t) if k == "Threshold" => json!(t),
            _ => v.clone(),
        };
        out.insert(k.clone(), value);
    }
    Value::Object(out)
}

fn page<T: Clone>(
    items: Vec<T>,
    input: &Input<'_>,
    max_default: i64,
    max: i64,
) -> Result<(Vec<T>, Option<String>), ServiceError> {
    let limit = input.i64("MaxRecords").unwrap_or(max_default);
    if !(1..=max).contains(&limit) {
        return Err(invalid(format!(
            "The parameter MaxRecords must be between 1 and {max}."
        )));
    }
    let start = match input.str("NextToken") {
        Some(t) => crate::logs::tokens::decode_offset(t).map_err(|_| {
            ServiceError::new(
                "InvalidNextToken",
                "The service returned an invalid next token.",
            )
        })?,
        None => 0,
    };
    let end = (start + limit as usize).min(items.len());
    let next = (end < items.len()).then(|| crate::logs::tokens::encode_offset(end));
    Ok((items.get(start..end).unwrap_or_default().to_vec(), next))
}

/// (stored document it was made from, public form)
type PublicForm = (Arc<Value>, Arc<Value>);

/// Deletes every named document of `kind`, or none when one of them does not exist.
fn delete_all(
    ctx: &Ctx<'_>,
    kind: &str,
    names: &[String],
    missing: impl Fn(&str) -> String,
) -> Result<Value, ServiceError> {
    ctx.store.write(|tx| {
        for n in names {
            if tx.get(SVC, kind, n)?.is_none() {
                return Err(not_found(missing(n)));
            }
        }
        for n in names {
            tx.delete(SVC, kind, n)?;
        }
        Ok(())
    })?;
    Ok(json!({}))
}

/// (stored document it was made from, public form), so its work is remembered between calls.
#[derive(Default)]
pub struct CloudWatch {
    /// Each alarm's public form, tagged with the stored document it was made from (a write
    /// replaces the document's `Arc`, which invalidates the entry).
    public: Mutex<HashMap<String, PublicForm>>,
    /// No alarm is due before this instant, as long as the alarm documents are these.
    quiet_until: Mutex<Option<(Documents, f64)>>,
}

impl CloudWatch {
    /// The alarm's public form, made once per stored version.
    fn public(&self, name: &str, stored: &Arc<Value>) -> Arc<Value> {
        let mut cache = self.public.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((source, public)) = cache.get(name)
            && Arc::ptr_eq(source, stored)
        {
            return public.clone();
        }
        let public = Arc::new(public_alarm(stored));
        cache.insert(name.to_string(), (stored.clone(), public.clone()));
        public
    }

    /// True when no alarm can be due: same documents as the last full scan, before the earliest
    /// next period boundary.
    fn quiet(&self, docs: &Documents, now: f64) -> bool {
        let q = self.quiet_until.lock().unwrap_or_else(|p| p.into_inner());
        q.as_ref()
            .is_some_and(|(seen, until)| Arc::ptr_eq(seen, docs) && now < *until)
    }

    fn remember_quiet(&self, docs: &Documents) {
        let until = docs
            .values()
            .filter_map(|a| {
                let period = a["Period"].as_i64()?.max(1);
                let manual = a["ManualUntil"].as_f64().unwrap_or(f64::MIN);
                let next_tick = (a["EvaluatedTick"].as_i64()? + 1) as f64 * period as f64;
                Some(next_tick.max(manual))
            })
            .fold(f64::INFINITY, f64::min);
        *self.quiet_until.lock().unwrap_or_else(|p| p.into_inner()) = Some((docs.clone(), until));
    }

    fn put_metric_alarm(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
        let name = input.str("AlarmName").ok_or_else(|| missing("AlarmName"))?;
        check_alarm_name(name)?;
        let namespace = input.str("Namespace").unwrap_or("");
        let metric = input.str("MetricName").unwrap_or("");
        if input.list("Metrics").is_empty() && (namespace.is_empty() || metric.is_empty()) {
            return Err(missing("MetricName"));
        }
        if input.str("Statistic").is_some() == input.str("ExtendedStatistic").is_some()
            && input.list("Metrics").is_empty()
        {
            return Err(ServiceError::new(
                "InvalidParameterCombination",
                "Exactly one of Statistic or ExtendedStatistic must be specified.",
            ));
        }
        let period = input.i64("Period").unwrap_or(60);
        if !(period == 10 || period == 30 || (period > 0 && period % 60 == 0)) {
            return Err(invalid("Period must be 10, 30 or a multiple of 60."));
        }
        let evaluation = input
            .i64("EvaluationPeriods")
            .ok_or_else(|| missing("EvaluationPeriods"))?;
        limits::evaluation_range(period, evaluation)?;
        let datapoints = input.i64("DatapointsToAlarm");
        if datapoints.is_some_and(|d| d < 1 || d > evaluation) {
            return Err(invalid(
                "DatapointsToAlarm must be between 1 and EvaluationPeriods.",
            ));
        }
        let comparison = input
            .str("ComparisonOperator")
            .ok_or_else(|| missing("ComparisonOperator"))?;
        ComparisonOperator::parse(comparison).map_err(|e| invalid(e.to_string()))?;
        TreatMissingData::parse(input.str("TreatMissingData"))
            .map_err(|e| invalid(e.to_string()))?;
        let dims = dimensions(&input);
        let now = ctx.clock.now();
        let mut alarm = json!({
            "AlarmName": name,
            "AlarmArn": ctx.arn("cloudwatch", &format!("alarm:{name}")),
            "AlarmConfigurationUpdatedTimestamp": now,
            "ActionsEnabled": input.bool("ActionsEnabled").unwrap_or(true),
            "OKActions": input.strings("OKActions"),
            "AlarmActions": input.strings("AlarmActions"),
            "InsufficientDataActions": input.strings("InsufficientDataActions"),
            "MetricName": metric,
            "Namespace": namespace,
            "Dimensions": dims,
            "Period": period,
            "EvaluationPeriods": evaluation,
            "Threshold": input.f64("Threshold").unwrap_or(0.0),
            "ComparisonOperator": comparison,
            "TreatMissingData": input.str("TreatMissingData").unwrap_or("missing"),
            "MetricKey": metric_key(namespace, metric, &dims),
        });
        for k in [
            "AlarmDescription",
            "Statistic",
            "ExtendedStatistic",
            "Unit",
            "EvaluateLowSampleCountPercentile",
        ] {
            if let Some(v) = input.str(k) {
                alarm[k] = json!(v);
            }
        }
        if let Some(d) = datapoints {
            alarm["DatapointsToAlarm"] = json!(d);
        }
        if let Some(m) = input.get("Metrics") {
            alarm["Metrics"] = m.clone();
        }
        ctx.store.write(|tx| {
            let mut verb = "updated";
            match tx.get(SVC, "alarm", name)? {
                Some(old) => {
                    for k in [
                        "StateValue",
                        "StateReason",
                        "StateReasonData",
                        "StateUpdatedTimestamp",
                        "StateTransitionedTimestamp",
                    ] {
                        if let Some(v) = old.get(k) {
                            alarm[k] = v.clone();
                        }
                    }
                }
                None => {
                    verb = "created";
                    alarm["StateValue"] = json!("INSUFFICIENT_DATA");
                    alarm["StateReason"] = json!("Unchecked: Initial alarm creation");
                    alarm["StateUpdatedTimestamp"] = json!(now);
                    alarm["StateTransitionedTimestamp"] = json!(now);
                }
            }
            history(
                tx,
                now,
                name,
                "ConfigurationUpdate",
                &format!("Alarm \"{name}\" {verb}"),
                json!({"type": if verb == "created" { "Create" } else { "Update" }}),
            )?;
            tx.put(SVC, "alarm", name, &alarm)?;
            evaluate_alarm(tx, now, alarm.clone())?;
            Ok(())
        })?;
        Ok(json!({}))
    }

    fn describe_alarms(&self, ctx: &Ctx<'_>, input: Input<'_>) -> Result<Output, ServiceError> {
        let names = input.strings("AlarmNames");
        let prefix = input.str("AlarmNamePrefix");
        if !names.is_empty() && prefix.is_some() {
            return Err(ServiceError::new(
                "InvalidParameterCombination",
                "AlarmNames and AlarmNamePrefix cannot be used together.",
            ));
        }
        let state = input.str("StateValue");
        if let Some(s) = state {
            StateValue::parse(s).map_err(|e| invalid(e.to_string()))?;
        }
        let types = input.strings("AlarmTypes");
        let want_metric = types.is_empty() || types.iter().any(|t| t == "MetricAlarm");
        let action_prefix = input.str("ActionPrefix");
        let now = ctx.clock.now();
        let selected = |name: &str| {
            (names.is_empty() || names.iter().any(|n| n == name))
                && prefix.is_none_or(|p| name.starts_with(p))
        };
        // Reads come from the store's cache; only alarms whose period has turned are evaluated.
        let mut docs = ctx.store.documents(SVC, "alarm")?;
        if !self.quiet(&docs, now) {
            let due: Vec<String> = docs
                .iter()
                .filter(|(name, alarm)| selected(name) && is_due(alarm, now))
                .map(|(name, _)| name.clone())
                .collect();
            if !due.is_empty() {
                ctx.store.write(|tx| {
                    for name in &due {
                        if let Some(alarm) = tx.get(SVC, "alarm", name)? {
                            evaluate_alarm(tx, now, alarm)?;
                        }
                    }
                    Ok(())
                })?;
                docs = ctx.store.documents(SVC, "alarm")?;
            }
            if names.is_empty() && prefix.is_none() {
                self.remember_quiet(&docs);
            }
        }
        let alarms: Vec<(&String, &Arc<Value>)> = docs
            .iter()
            .filter(|(name, _)| selected(name))
            .filter(|(_, alarm)| state.is_none_or(|s| alarm["StateValue"] == s))
            .filter(|(_, alarm)| {
                action_prefix.is_none_or(|p| {
                    Input(alarm)
                        .strings("AlarmActions")
                        .iter()
                        .any(|a| a.starts_with(p))
                })
            })
            .collect();
        let alarms = if want_metric { alarms } else { Vec::new() };
        let (items, next) = page(alarms, &input, 50, 100)?;
        // The alarms' public forms are shared with the encoder, not copied into the answer.
        let shared = items
            .into_iter()
            .map(|(name, a)| self.public(name, a))
            .collect();
        let mut out = json!({"CompositeAlarms": []});
        if let Some(n) = next {
            out["NextToken"] = Value::String(n);
        }
        Ok(Output {
            value: out,
            shared: Some(("MetricAlarms", shared)),
        })
    }

    fn set_alarm_state(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
        let name = input.str("AlarmName").ok_or_else(|| missing("AlarmName"))?;
        let state = input
            .str("StateValue")
            .ok_or_else(|| missing("StateValue"))?;
        StateValue::parse(state).map_err(|e| invalid(e.to_string()))?;
        let reason = input
            .str("StateReason")
            .ok_or_else(|| missing("StateReason"))?;
        if let Some(d) = input.str("StateReasonData")
            && serde_json::from_str::<Value>(d).is_err()
        {
            return Err(ServiceError::new(
                "InvalidFormat",
                "StateReasonData is not valid JSON.",
            ));
        }
        let now = ctx.clock.now();
        ctx.store.write(|tx| {
            let mut alarm = tx
                .get(SVC, "alarm", name)?
                .ok_or_else(|| not_found(format!("Alarm {name} not found")))?;
            transition(
                tx,
                now,
                &mut alarm,
                state,
                reason,
                input.str("StateReasonData"),
            )?;
            // Metric alarms are evaluated once a minute (every period if shorter).
            let tick = alarm["Period"].as_f64().unwrap_or(60.0).clamp(1.0, 60.0);
            alarm["ManualUntil"] = json!(((now / tick).floor() + 1.0) * tick);
            tx.put(SVC, "alarm", name, &alarm)
        })?;
        Ok(json!({}))
    }

    fn describe_alarm_history(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
        let name = input.str("AlarmName");
        let kind = input.str("HistoryItemType");
        let start = input.timestamp("StartDate").unwrap_or(f64::MIN);
        let end = input.timestamp("EndDate").unwrap_or(f64::MAX);
        let mut items: Vec<Value> = ctx
            .store
            .read(|tx| tx.records(SVC, "history", start, end))?
            .into_iter()
            .map(|r| r.body)
            .filter(|h| {
                name.is_none_or(|n| h["AlarmName"] == n)
                    && kind.is_none_or(|k| h["HistoryItemType"] == k)
            })
            .map(|mut h| {
                if let Some(t) = h["Timestamp"].as_f64() {
                    h["Timestamp"] = ts(t);
                }
                h
            })
            .collect();
        if input.str("ScanBy") != Some("TimestampAscending") {
            items.reverse();
        }
        let (items, next) = page(items, &input, 100, 100)?;
        let mut out = json!({"AlarmHistoryItems": items});
        if let Some(n) = next {
            out["NextToken"] = json!(n);
        }
        Ok(out)
    }

    fn set_actions(ctx: &Ctx<'_>, input: Input<'_>, enabled: bool) -> Result<Value, ServiceError> {
        let names = input.strings("AlarmNames");
        ctx.store.write(|tx| {
            for name in &names {
                if let Some(mut a) = tx.get(SVC, "alarm", name)? {
                    a["ActionsEnabled"] = json!(enabled);
                    tx.put(SVC, "alarm", name, &a)?;
                }
            }
            Ok(())
        })?;
        Ok(json!({}))
    }

    fn delete_alarms(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
        let names = input.strings("AlarmNames");
        delete_all(ctx, "alarm", &names, |n| format!("Alarm {n} not found"))
    }
}

impl Service for CloudWatch {
    fn id(&self) -> ServiceId {
        ServiceId::CloudWatch
    }

    fn call_output(
        &self,
        ctx: &Ctx<'_>,
        operation: &str,
        input: Input<'_>,
    ) -> Result<Output, ServiceError> {
        match operation {
            "DescribeAlarms" => self.describe_alarms(ctx, input),
            op => self.call(ctx, op, input).map(Output::from),
        }
    }

    fn call(
        &self,
        ctx: &Ctx<'_>,
        operation: &str,
        input: Input<'_>,
    ) -> Result<Value, ServiceError> {
        match operation {
            "PutMetricAlarm" => Self::put_metric_alarm(ctx, input),
            "DescribeAlarms" => self.describe_alarms(ctx, input).map(Output::into_value),
            "DeleteAlarms" => Self::delete_alarms(ctx, input),
            "SetAlarmState" => Self::set_alarm_state(ctx, input),
            "DescribeAlarmHistory" => Self::describe_alarm_history(ctx, input),
            "EnableAlarmActions" => Self::set_actions(ctx, input, true),
            "DisableAlarmActions" => Self::set_actions(ctx, input, false),
            "PutMetricData" => Self::put_metric_data(ctx, input),
            "GetMetricStatistics" => Self::get_metric_statistics(ctx, input),
            "GetMetricData" => Self::get_metric_data(ctx, input),
            "ListMetrics" => Self::list_metrics(ctx, input),
            "PutDashboard" | "GetDashboard" | "ListDashboards" | "DeleteDashboards" => {
                Self::dashboards(ctx, operation, input)
            }
            op => Err(unknown_operation(op)),
        }
    }
}
