//! CloudWatch alarms and metrics, CloudWatch Logs and CloudFormation reads.

use std::time::Duration;

use aws_sdk_cloudwatch::types as cw;
use aws_smithy_types::DateTime;

use super::{owned, ts};
use crate::aws::{AwsError, Clients, SdkResultExt};
use crate::model::{
    Alarm, AlarmHistoryItem, AlarmState, LogGroupInfo, LogLine, LogPage, LogStreamInfo,
    MetricPoint, StackEvent, StackOutput, StackResource, StackView, Timestamp,
};

/// GetMetricStatistics answers at most 1,440 datapoints per call.
const MAX_POINTS: u64 = 1_440;
/// Alarm history entries shown (newest first).
const HISTORY_LIMIT: i32 = 100;
/// Streams listed per group (most recent first); older ones are reachable by filter.
const STREAM_LIMIT: usize = 200;
/// Stack events shown (DescribeStackEvents pages of 100, newest first).
const STACK_EVENT_LIMIT: usize = 200;

/// Every metric alarm (all pages of `DescribeAlarms`).
pub async fn alarms(clients: &Clients) -> Result<Vec<Alarm>, AwsError> {
    let pages: Vec<_> = clients
        .cloudwatch
        .describe_alarms()
        .into_paginator()
        .send()
        .try_collect()
        .await
        .or_aws("DescribeAlarms", &clients.endpoint())?;
    Ok(pages
        .iter()
        .flat_map(|p| p.metric_alarms())
        .map(alarm)
        .collect())
}

fn alarm(a: &cw::MetricAlarm) -> Alarm {
    Alarm {
        name: a.alarm_name().unwrap_or_default().to_string(),
        state: a.state_value().map_or(AlarmState::InsufficientData, |s| {
            AlarmState::parse(s.as_str())
        }),
        reason: owned(a.state_reason()),
        updated: ts(a.state_updated_timestamp()),
        namespace: owned(a.namespace()),
        metric: owned(a.metric_name()),
        dimensions: a
            .dimensions()
            .iter()
            .map(|d| {
                (
                    d.name().unwrap_or_default().to_string(),
                    d.value().unwrap_or_default().to_string(),
                )
            })
            .collect(),
        threshold: a.threshold(),
        comparison: a.comparison_operator().map(|c| c.as_str().to_string()),
        period: a.period(),
        evaluation_periods: a.evaluation_periods(),
        datapoints_to_alarm: a.datapoints_to_alarm(),
        statistic: a
            .statistic()
            .map(|s| s.as_str().to_string())
            .or_else(|| owned(a.extended_statistic())),
    }
}

/// The newest state changes and actions of one alarm.
pub async fn alarm_history(
    clients: &Clients,
    name: &str,
) -> Result<Vec<AlarmHistoryItem>, AwsError> {
    let out = clients
        .cloudwatch
        .describe_alarm_history()
        .alarm_name(name)
        .scan_by(cw::ScanBy::TimestampDescending)
        .max_records(HISTORY_LIMIT)
        .send()
        .await
        .or_aws("DescribeAlarmHistory", &clients.endpoint())?;
    Ok(out
        .alarm_history_items()
        .iter()
        .map(|h| AlarmHistoryItem {
            t: ts(h.timestamp()).unwrap_or_default(),
            kind: h
                .history_item_type()
                .map_or_else(String::new, |k| k.as_str().to_string()),
            summary: h.history_summary().unwrap_or_default().to_string(),
        })
        .collect())
}

/// The span an alarm evaluates: `period × evaluation periods`.
pub fn evaluation_window(alarm: &Alarm) -> Duration {
    let period = u64::try_from(alarm.period.unwrap_or(60))
        .unwrap_or(60)
        .max(1);
    let periods = u64::try_from(alarm.evaluation_periods.unwrap_or(1))
        .unwrap_or(1)
        .max(1);
    Duration::from_secs(period * periods)
}

/// The alarm's metric, one point per alarm period, over `window` ending now — or at the newest
/// datapoint or the alarm's last change when later (a sped-up emulator clock runs ahead of the
/// wall clock, and the window must follow the emulated time the data carries).
pub async fn metric_series(
    clients: &Clients,
    alarm: &Alarm,
    window: Duration,
) -> Result<Vec<MetricPoint>, AwsError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let anchor = now.max(alarm.updated.unwrap_or(0.0));
    let newest = newest_datapoint(clients, alarm, anchor).await?;
    // The newest datapoint's period is the last one shown.
    let period = f64::from(alarm.period.unwrap_or(60).max(1));
    let end = newest.map_or(anchor, |t| anchor.max(t + period));
    metric_series_until(clients, alarm, window, end).await
}

/// How far around the anchor the newest datapoint is looked for (6 days of 1-minute periods
/// stay well under GetMetricData's 100,800 datapoints per call).
const PROBE_SPAN_SECONDS: f64 = 3.0 * 86_400.0;

/// The time of the alarm metric's newest datapoint near `anchor` (`GetMetricData`, newest first,
/// one datapoint).
async fn newest_datapoint(
    clients: &Clients,
    alarm: &Alarm,
    anchor: Timestamp,
) -> Result<Option<Timestamp>, AwsError> {
    let (Some(namespace), Some(metric)) = (&alarm.namespace, &alarm.metric) else {
        return Ok(None);
    };
    let mut m = cw::Metric::builder()
        .namespace(namespace)
        .metric_name(metric);
    for (name, value) in &alarm.dimensions {
        m = m.dimensions(cw::Dimension::builder().name(name).value(value).build());
    }
    let query = cw::MetricDataQuery::builder()
        .id("newest")
        .metric_stat(
            cw::MetricStat::builder()
                .metric(m.build())
                .period(alarm.period.unwrap_or(60).max(1))
                .stat("SampleCount")
                .build(),
        )
        .build();
    let out = clients
        .cloudwatch
        .get_metric_data()
        .metric_data_queries(query)
        .start_time(DateTime::from_secs_f64(anchor - PROBE_SPAN_SECONDS))
        .end_time(DateTime::from_secs_f64(anchor + PROBE_SPAN_SECONDS))
        .scan_by(cw::ScanBy::TimestampDescending)
        .max_datapoints(1)
        .send()
        .await
        .or_aws("GetMetricData", &clients.endpoint())?;
    Ok(out
        .metric_data_results()
        .iter()
        .flat_map(|r| r.timestamps())
        .map(DateTime::as_secs_f64)
        .reduce(f64::max))
}

/// [`metric_series`] with an explicit end (epoch seconds).
pub async fn metric_series_until(
    clients: &Clients,
    alarm: &Alarm,
    window: Duration,
    end: Timestamp,
) -> Result<Vec<MetricPoint>, AwsError> {
    let (Some(namespace), Some(metric)) = (&alarm.namespace, &alarm.metric) else {
        // Metric-math alarms have no single metric to chart.
        return Ok(Vec::new());
    };
    let period = alarm.period.unwrap_or(60).max(1);
    let period_secs = u64::try_from(period).unwrap_or(60);
    let window = window
        .as_secs()
        .clamp(period_secs, period_secs * MAX_POINTS);
    let statistic = alarm.statistic.as_deref().unwrap_or("Average");
    let mut request = clients
        .cloudwatch
        .get_metric_statistics()
        .namespace(namespace)
        .metric_name(metric)
        .start_time(DateTime::from_secs_f64(end - window as f64))
        .end_time(DateTime::from_secs_f64(end))
        .period(period);
    for (name, value) in &alarm.dimensions {
        request = request.dimensions(cw::Dimension::builder().name(name).value(value).build());
    }
    // `p99`, `tm90`, ... are extended statistics; the five standard ones are `Statistic`s.
    let extended = !cw::Statistic::values().contains(&statistic);
    let standard = cw::Statistic::from(statistic);
    request = if extended {
        request.extended_statistics(statistic)
    } else {
        request.statistics(standard.clone())
    };
    let out = request
        .send()
        .await
        .or_aws("GetMetricStatistics", &clients.endpoint())?;
    let mut points: Vec<MetricPoint> = out
        .datapoints()
        .iter()
        .filter_map(|d| {
            let value = match &standard {
                cw::Statistic::Average => d.average(),
                cw::Statistic::Sum => d.sum(),
                cw::Statistic::Minimum => d.minimum(),
                cw::Statistic::Maximum => d.maximum(),
                cw::Statistic::SampleCount => d.sample_count(),
                _ => d
                    .extended_statistics()
                    .and_then(|e| e.get(statistic).copied()),
            }?;
            Some(MetricPoint {
                t: ts(d.timestamp())?,
                value,
            })
        })
        .collect();
    // CloudWatch does not promise any order.
    points.sort_by(|a, b| a.t.total_cmp(&b.t));
    Ok(points)
}

/// Log groups whose name starts with `prefix` (all of them when empty), all pages.
pub async fn log_groups(clients: &Clients, prefix: &str) -> Result<Vec<LogGroupInfo>, AwsError> {
    let mut request = clients.logs.describe_log_groups();
    if !prefix.is_empty() {
        request = request.log_group_name_prefix(prefix);
    }
    let groups: Vec<_> = request
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .or_aws("DescribeLogGroups", &clients.endpoint())?;
    Ok(groups
        .iter()
        .map(|g| LogGroupInfo {
            name: g.log_group_name().unwrap_or_default().to_string(),
            stored_bytes: g.stored_bytes(),
            retention_days: g.retention_in_days(),
            created: millis(g.creation_time()),
        })
        .collect())
}

/// The streams of a group, most recent event first (at most 200).
pub async fn log_streams(clients: &Clients, group: &str) -> Result<Vec<LogStreamInfo>, AwsError> {
    let endpoint = clients.endpoint();
    let mut pages = clients
        .logs
        .describe_log_streams()
        .log_group_name(group)
        .order_by(aws_sdk_cloudwatchlogs::types::OrderBy::LastEventTime)
        .descending(true)
        .into_paginator()
        .items()
        .send();
    let mut streams = Vec::new();
    while streams.len() < STREAM_LIMIT {
        let Some(next) = pages.next().await else {
            break;
        };
        let s = next.or_aws("DescribeLogStreams", &endpoint)?;
        streams.push(LogStreamInfo {
            name: s.log_stream_name().unwrap_or_default().to_string(),
            last_event: millis(s.last_event_timestamp()),
            created: millis(s.creation_time()),
        });
    }
    Ok(streams)
}

/// What to read from a log group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogSource {
    /// One stream in order (`GetLogEvents`, oldest first).
    Stream(String),
    /// Events matching a CloudWatch filter pattern (empty = every event) in the given streams
    /// (all streams when empty), interleaved by time (`FilterLogEvents`).
    Filter {
        pattern: String,
        streams: Vec<String>,
    },
}

/// One page of events between `start` and `end` (epoch seconds, both optional), continuing from
/// `token` (the previous page's `next_token`).
///
/// For a stream, `next_token` is the forward token while the page had events, and `None` when it
/// was empty — a follower keeps its previous token and asks again later.
pub async fn log_events(
    clients: &Clients,
    group: &str,
    source: &LogSource,
    start: Option<Timestamp>,
    end: Option<Timestamp>,
    token: Option<&str>,
) -> Result<LogPage, AwsError> {
    let to_millis = |t: Timestamp| (t * 1000.0) as i64;
    let endpoint = clients.endpoint();
    match source {
        LogSource::Stream(stream) => {
            let out = clients
                .logs
                .get_log_events()
                .log_group_name(group)
                .log_stream_name(stream)
                .start_from_head(true)
                .set_start_time(start.map(to_millis))
                .set_end_time(end.map(to_millis))
                .set_next_token(token.map(str::to_string))
                .send()
                .await
                .or_aws("GetLogEvents", &endpoint)?;
            let lines: Vec<LogLine> = out
                .events()
                .iter()
                .map(|e| LogLine {
                    t: millis(e.timestamp()).unwrap_or_default(),
                    ingested: millis(e.ingestion_time()),
                    stream: stream.clone(),
                    message: e.message().unwrap_or_default().to_string(),
                })
                .collect();
            let next_token = if lines.is_empty() {
                None
            } else {
                owned(out.next_forward_token())
            };
            Ok(LogPage {
                group: group.to_string(),
                lines,
                next_token,
            })
        }
        LogSource::Filter { pattern, streams } => {
            let out = clients
                .logs
                .filter_log_events()
                .log_group_name(group)
                .set_filter_pattern(Some(pattern.clone()).filter(|p| !p.is_empty()))
                .set_log_stream_names(Some(streams.clone()).filter(|s| !s.is_empty()))
                .set_start_time(start.map(to_millis))
                .set_end_time(end.map(to_millis))
                .set_next_token(token.map(str::to_string))
                .send()
                .await
                .or_aws("FilterLogEvents", &endpoint)?;
            Ok(LogPage {
                group: group.to_string(),
                lines: out
                    .events()
                    .iter()
                    .map(|e| LogLine {
                        t: millis(e.timestamp()).unwrap_or_default(),
                        ingested: millis(e.ingestion_time()),
                        stream: e.log_stream_name().unwrap_or_default().to_string(),
                        message: e.message().unwrap_or_default().to_string(),
                    })
                    .collect(),
                next_token: owned(out.next_token()),
            })
        }
    }
}

/// A stack's status, newest events, resources and outputs.
pub async fn stack(clients: &Clients, name: &str) -> Result<StackView, AwsError> {
    let endpoint = clients.endpoint();
    let cfn = &clients.cloudformation;
    let described = cfn
        .describe_stacks()
        .stack_name(name)
        .send()
        .await
        .or_aws("DescribeStacks", &endpoint)?;
    let Some(stack) = described.stacks().first() else {
        return Err(AwsError::Service {
            code: "ValidationError".to_string(),
            message: format!("Stack with id {name} does not exist"),
            operation: "DescribeStacks",
        });
    };
    let mut event_pages = cfn
        .describe_stack_events()
        .stack_name(name)
        .into_paginator()
        .items()
        .send();
    let mut events = Vec::new();
    while events.len() < STACK_EVENT_LIMIT {
        let Some(next) = event_pages.next().await else {
            break;
        };
        let e = next.or_aws("DescribeStackEvents", &endpoint)?;
        events.push(StackEvent {
            t: ts(e.timestamp()).unwrap_or_default(),
            logical_id: e.logical_resource_id().unwrap_or_default().to_string(),
            resource_type: e.resource_type().unwrap_or_default().to_string(),
            status: e
                .resource_status()
                .map_or_else(String::new, |s| s.as_str().to_string()),
            reason: owned(e.resource_status_reason()),
        });
    }
    let resources = cfn
        .describe_stack_resources()
        .stack_name(name)
        .send()
        .await
        .or_aws("DescribeStackResources", &endpoint)?;
    Ok(StackView {
        name: stack.stack_name().unwrap_or(name).to_string(),
        status: stack
            .stack_status()
            .map_or_else(String::new, |s| s.as_str().to_string()),
        reason: owned(stack.stack_status_reason()),
        events,
        resources: resources
            .stack_resources()
            .iter()
            .map(|r| StackResource {
                logical_id: r.logical_resource_id().unwrap_or_default().to_string(),
                physical_id: owned(r.physical_resource_id()),
                resource_type: r.resource_type().unwrap_or_default().to_string(),
                status: r
                    .resource_status()
                    .map_or_else(String::new, |s| s.as_str().to_string()),
                reason: owned(r.resource_status_reason()),
            })
            .collect(),
        outputs: stack
            .outputs()
            .iter()
            .map(|o| StackOutput {
                key: o.output_key().unwrap_or_default().to_string(),
                value: o.output_value().unwrap_or_default().to_string(),
                description: owned(o.description()),
            })
            .collect(),
        updated: ts(stack.last_updated_time()).or(ts(stack.creation_time())),
    })
}

/// Epoch milliseconds (CloudWatch Logs) to epoch seconds.
fn millis(t: Option<i64>) -> Option<Timestamp> {
    t.map(|ms| ms as f64 / 1000.0)
}
