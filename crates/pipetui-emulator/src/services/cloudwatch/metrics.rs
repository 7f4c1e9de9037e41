//! Metric data: PutMetricData within CloudWatch's bounds, GetMetricStatistics, GetMetricData
//! (paged at MaxDatapoints) and ListMetrics.

use serde_json::{Value, json};

use super::{CloudWatch, SVC, evaluate_alarm, invalid, missing};
use crate::cloudwatch::evaluate::{self, Sample, Statistic};
use crate::cloudwatch::limits;
use crate::protocol::{Input, ServiceError, ts};
use crate::service::Ctx;
use crate::store::Tx;

/// Dimensions as sorted `[{Name, Value}]`, so equal sets compare equal.
pub(super) fn dimensions(input: &Input<'_>) -> Vec<Value> {
    let mut d: Vec<(String, String)> = input
        .list("Dimensions")
        .iter()
        .filter_map(|d| Some((d.str("Name")?.to_string(), d.str("Value")?.to_string())))
        .collect();
    d.sort();
    d.into_iter()
        .map(|(n, v)| json!({"Name": n, "Value": v}))
        .collect()
}

/// One MetricDatum within CloudWatch's bounds: its timestamp, its values (finite, at most 150,
/// as many counts as values) and its dimensions.
fn check_datum(member: usize, d: &Input<'_>, now: f64) -> Result<(), ServiceError> {
    if let Some(t) = d.timestamp("Timestamp") {
        limits::timestamp(member, t, now)?;
    }
    limits::size(
        &format!("MetricData.member.{member}.Dimensions"),
        d.list("Dimensions").len(),
        limits::MAX_DIMENSIONS,
    )?;
    match d.0.get("Value") {
        // The decoder turns NaN and the infinities, which JSON cannot hold, into null.
        Some(Value::Null) => limits::value(member, "Value", f64::NAN)?,
        Some(_) => limits::value(member, "Value", d.f64("Value").unwrap_or(f64::NAN))?,
        None => {}
    }
    if let Some(s) = d.object("StatisticValues") {
        for field in ["SampleCount", "Sum", "Minimum", "Maximum"] {
            if let Some(v) = s.f64(field) {
                limits::value(member, &format!("StatisticValues.{field}"), v)?;
            }
        }
    }
    let (values, counts) = (d.list("Values"), d.list("Counts"));
    limits::size(
        &format!("MetricData.member.{member}.Values"),
        values.len(),
        limits::MAX_VALUES,
    )?;
    if !counts.is_empty() && counts.len() != values.len() {
        return Err(invalid(format!(
            "The parameters MetricData.member.{member}.Values and MetricData.member.{member}.Counts must be of the same size."
        )));
    }
    for v in values.iter().chain(counts.iter()) {
        let x = v.0.as_f64().or_else(|| v.0.as_str()?.parse().ok());
        limits::value(member, "Values", x.unwrap_or(f64::NAN))?;
    }
    Ok(())
}

pub(super) fn metric_key(namespace: &str, name: &str, dims: &[Value]) -> String {
    format!("{namespace}|{name}|{}", Value::Array(dims.to_vec()))
}

pub(super) fn samples(
    tx: &Tx<'_>,
    key: &str,
    from: f64,
    to: f64,
) -> Result<Vec<Sample>, ServiceError> {
    Ok(tx
        .records(SVC, key, from, to)?
        .into_iter()
        .filter_map(|r| {
            let b = &r.body;
            match b.get("v").and_then(Value::as_f64) {
                Some(v) => Some(Sample::repeated(
                    r.ts,
                    v,
                    b.get("c").and_then(Value::as_f64).unwrap_or(1.0),
                )),
                None => Some(Sample::statistic_set(
                    r.ts,
                    b.get("n")?.as_f64()?,
                    b.get("s")?.as_f64()?,
                    b.get("lo")?.as_f64()?,
                    b.get("hi")?.as_f64()?,
                )),
            }
        })
        .collect())
}

impl CloudWatch {
    pub(super) fn put_metric_data(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
        let namespace = input.str("Namespace").ok_or_else(|| missing("Namespace"))?;
        if namespace.starts_with("AWS/") {
            return Err(invalid(
                "The value AWS/ for parameter Namespace is invalid.",
            ));
        }
        let data = input.list("MetricData");
        if data.is_empty() {
            return Err(missing("MetricData"));
        }
        limits::size("MetricData", data.len(), limits::MAX_METRIC_DATA)?;
        let now = ctx.clock.now();
        for (i, d) in data.iter().enumerate() {
            check_datum(i + 1, d, now)?;
        }
        ctx.store.write(|tx| {
            let mut touched = Vec::new();
            for d in &data {
                let name = d
                    .str("MetricName")
                    .ok_or_else(|| missing("MetricData.member.N.MetricName"))?;
                let dims = dimensions(d);
                let key = metric_key(namespace, name, &dims);
                let t = d.timestamp("Timestamp").unwrap_or(now);
                if let Some(v) = d.f64("Value") {
                    tx.append(SVC, &key, t, &json!({"v": v}))?;
                } else if let Some(s) = d.object("StatisticValues") {
                    let (n, sum, lo, hi) = (
                        s.f64("SampleCount"),
                        s.f64("Sum"),
                        s.f64("Minimum"),
                        s.f64("Maximum"),
                    );
                    let (Some(n), Some(sum), Some(lo), Some(hi)) = (n, sum, lo, hi) else {
                        return Err(missing("StatisticValues"));
                    };
                    tx.append(SVC, &key, t, &json!({"n": n, "s": sum, "lo": lo, "hi": hi}))?;
                } else {
                    let values: Vec<f64> = d
                        .list("Values")
                        .iter()
                        .filter_map(|v| v.0.as_f64().or_else(|| v.0.as_str()?.parse().ok()))
                        .collect();
                    let counts: Vec<f64> = d
                        .list("Counts")
                        .iter()
                        .filter_map(|v| v.0.as_f64().or_else(|| v.0.as_str()?.parse().ok()))
                        .collect();
                    if values.is_empty() {
                        return Err(ServiceError::new(
                            "InvalidParameterCombination",
                            "One of Value, Values or StatisticValues is required.",
                        ));
                    }
                    for (i, v) in values.iter().enumerate() {
                        tx.append(
                            SVC,
                            &key,
                            t,
                            &json!({"v": v, "c": counts.get(i).copied().unwrap_or(1.0)}),
                        )?;
                    }
                }
                tx.put(
                    SVC,
                    "metric",
                    &key,
                    &json!({"Namespace": namespace, "MetricName": name, "Dimensions": dims}),
                )?;
                touched.push(key);
            }
            for (_, alarm) in tx.list(SVC, "alarm")? {
                if alarm["MetricKey"]
                    .as_str()
                    .is_some_and(|k| touched.iter().any(|t| t == k))
                {
                    evaluate_alarm(tx, now, alarm)?;
                }
            }
            Ok(())
        })?;
        Ok(json!({}))
    }

    pub(super) fn get_metric_statistics(
        ctx: &Ctx<'_>,
        input: Input<'_>,
    ) -> Result<Value, ServiceError> {
        let namespace = input.str("Namespace").ok_or_else(|| missing("Namespace"))?;
        let name = input
            .str("MetricName")
            .ok_or_else(|| missing("MetricName"))?;
        let start = input
            .timestamp("StartTime")
            .ok_or_else(|| missing("StartTime"))?;
        let end = input
            .timestamp("EndTime")
            .ok_or_else(|| missing("EndTime"))?;
        let period = input.i64("Period").ok_or_else(|| missing("Period"))?;
        limits::period("Period", period)?;
        limits::range(start, end)?;
        limits::datapoints(start, end, period)?;
        let mut stats = Vec::new();
        for s in input
            .strings("Statistics")
            .iter()
            .chain(input.strings("ExtendedStatistics").iter())
        {
            stats.push((
                s.clone(),
                Statistic::parse(s).map_err(|e| invalid(e.to_string()))?,
            ));
        }
        if stats.is_empty() {
            return Err(missing("Statistics"));
        }
        let key = metric_key(namespace, name, &dimensions(&input));
        let points = ctx.store.read(|tx| samples(tx, &key, start, end))?;
        let only: Vec<Statistic> = stats.iter().map(|(_, s)| *s).collect();
        let datapoints: Vec<Value> = evaluate::aggregate(&points, start, end, period, &only)
            .iter()
            .map(|dp| {
                let mut o = json!({"Timestamp": ts(dp.timestamp)});
                let mut ext = serde_json::Map::new();
                for (label, s) in &stats {
                    if let Some(v) = dp.get(s) {
                        match s {
                            Statistic::Percentile(_) => {
                                ext.insert(label.clone(), json!(v));
                            }
                            _ => o[label.as_str()] = json!(v),
                        }
                    }
                }
                if !ext.is_empty() {
                    o["ExtendedStatistics"] = Value::Object(ext);
                }
                if let Some(u) = input.str("Unit") {
                    o["Unit"] = json!(u);
                }
                o
            })
            .collect();
        Ok(json!({"Label": name, "Datapoints": datapoints}))
    }

    pub(super) fn get_metric_data(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
        let start = input
            .timestamp("StartTime")
            .ok_or_else(|| missing("StartTime"))?;
        let end = input
            .timestamp("EndTime")
            .ok_or_else(|| missing("EndTime"))?;
        limits::range(start, end)?;
        let queries = input.list("MetricDataQueries");
        if queries.is_empty() {
            return Err(missing("MetricDataQueries"));
        }
        limits::size("MetricDataQueries", queries.len(), limits::MAX_QUERIES)?;
        let descending = input.str("ScanBy") != Some("TimestampAscending");
        // Datapoints are numbered across the queries in order; a page holds MaxDatapoints of them.
        let max = input.i64("MaxDatapoints").unwrap_or(100_800);
        if max < 1 {
            return Err(invalid(
                "The parameter MaxDatapoints must be greater than 0.",
            ));
        }
        let skip = match input.str("NextToken") {
            Some(t) => crate::logs::tokens::decode_offset(t).map_err(|_| {
                ServiceError::new(
                    "InvalidNextToken",
                    "The service returned an invalid next token.",
                )
            })?,
            None => 0,
        };
        let page_end = skip.saturating_add(usize::try_from(max).unwrap_or(usize::MAX));
        let mut seen = 0usize;
        let mut results = Vec::new();
        for q in queries {
            let id = q
                .str("Id")
                .ok_or_else(|| missing("MetricDataQueries.member.N.Id"))?;
            if q.bool("ReturnData") == Some(false) {
                continue;
            }
            let Some(ms) = q.object("MetricStat") else {
                results.push(json!({"Id": id, "Label": q.str("Label").unwrap_or(id), "Timestamps": [], "Values": [], "StatusCode": "InternalError"}));
                continue;
            };
            let metric = ms
                .object("Metric")
                .ok_or_else(|| missing("MetricStat.Metric"))?;
            let (ns, name) = (
                metric.str("Namespace").unwrap_or(""),
                metric.str("MetricName").unwrap_or(""),
            );
            let period = ms
                .i64("Period")
                .ok_or_else(|| missing("MetricStat.Period"))?;
            limits::period("MetricStat.Period", period)?;
            let stat = Statistic::parse(ms.str("Stat").unwrap_or(""))
                .map_err(|e| invalid(e.to_string()))?;
            let key = metric_key(ns, name, &dimensions(&metric));
            let points = ctx.store.read(|tx| samples(tx, &key, start, end))?;
            let mut dps: Vec<(f64, f64)> =
                evaluate::aggregate(&points, start, end, period, std::slice::from_ref(&stat))
                    .iter()
                    .filter_map(|d| Some((d.timestamp, d.get(&stat)?)))
                    .collect();
            if descending {
                dps.reverse();
            }
            let lo = skip.saturating_sub(seen).min(dps.len());
            let hi = page_end.saturating_sub(seen).min(dps.len()).max(lo);
            seen += dps.len();
            let shown = &dps[lo..hi];
            results.push(json!({
                "Id": id,
                "Label": q.str("Label").unwrap_or(name),
                "Timestamps": shown.iter().map(|d| ts(d.0)).collect::<Vec<_>>(),
                "Values": shown.iter().map(|d| json!(d.1)).collect::<Vec<_>>(),
                "StatusCode": if hi < dps.len() { "PartialData" } else { "Complete" },
            }));
        }
        let mut out = json!({"MetricDataResults": results, "Messages": []});
        if page_end < seen {
            out["NextToken"] = json!(crate::logs::tokens::encode_offset(page_end));
        }
        Ok(out)
    }

    pub(super) fn list_metrics(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
        let ns = input.str("Namespace");
        let name = input.str("MetricName");
        let want = dimensions(&input);
        let metrics: Vec<Value> = ctx
            .store
            .read(|tx| tx.list(SVC, "metric"))?
            .into_iter()
            .map(|(_, m)| m)
            .filter(|m| {
                ns.is_none_or(|n| m["Namespace"] == n) && name.is_none_or(|n| m["MetricName"] == n)
            })
            .filter(|m| {
                want.iter()
                    .all(|d| m["Dimensions"].as_array().is_some_and(|a| a.contains(d)))
            })
            .collect();
        let (start, limit) = (
            input
                .str("NextToken")
                .map(crate::logs::tokens::decode_offset),
            500usize,
        );
        let start = match start {
            Some(Ok(s)) => s,
            Some(Err(_)) => {
                return Err(ServiceError::new(
                    "InvalidNextToken",
                    "The service returned an invalid next token.",
                ));
            }
            None => 0,
        };
        let end = (start + limit).min(metrics.len());
        let mut out = json!({"Metrics": metrics.get(start..end).unwrap_or_default()});
        if end < metrics.len() {
            out["NextToken"] = json!(crate::logs::tokens::encode_offset(end));
        }
        Ok(out)
    }
}
