//! CloudWatch Logs (awsJson 1.1, `Logs_20140328`): groups, streams, events, retention, and
//! FilterLogEvents with the filter-pattern syntax.
//!
//! Events are stored in SQLite and also kept per stream in memory, sorted by (timestamp, seq),
//! so paging 100,000 events does not re-read the database on every call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::logs::{filter, tokens};
use crate::protocol::{Input, ServiceError, ServiceId};
use crate::service::{Ctx, Service, unknown_operation};

const SVC: &str = "logs";
const RETENTION_DAYS: &[i64] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

#[derive(Debug, Clone)]
struct Event {
    ts: i64,
    seq: i64,
    ingestion: i64,
    message: Arc<str>,
}

/// A stream's events and their (timestamp, seq) keys, which paging searches.
#[derive(Debug, Clone, Default)]
struct StreamEvents {
    keys: Vec<(i64, i64)>,
    events: Vec<Event>,
}

impl StreamEvents {
    fn new(events: Vec<Event>) -> Self {
        Self {
            keys: events.iter().map(|e| (e.ts, e.seq)).collect(),
            events,
        }
    }
}

type Cache = HashMap<String, Arc<StreamEvents>>;

#[derive(Default)]
pub struct Logs {
    /// Stream key → events sorted by (ts, seq); loaded from the store on first use. Held across
    /// a load or a PutLogEvents' commit and cache update, so no write is lost between the two.
    cache: Mutex<Cache>,
}

fn not_found(what: &str) -> ServiceError {
    ServiceError::new(
        "ResourceNotFoundException",
        format!("The specified {what} does not exist."),
    )
}

fn invalid(message: impl Into<String>) -> ServiceError {
    ServiceError::new("InvalidParameterException", message)
}

fn stream_key(group: &str, stream: &str) -> String {
    format!("{group}:{stream}")
}

fn group_name<'a>(input: &Input<'a>) -> Result<&'a str, ServiceError> {
    // logGroupIdentifier may be a name or an ARN (`…:log-group:NAME` or `…:log-group:NAME:*`).
    if let Some(id) = input.str("logGroupIdentifier") {
        let name = id.split(":log-group:").nth(1).unwrap_or(id);
        return Ok(name.trim_end_matches(":*"));
    }
    input.required_str("logGroupName")
}

fn valid_group_name(name: &str) -> bool {
    (1..=512).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/#".contains(c))
}

impl Logs {
    fn events(&self, ctx: &Ctx<'_>, key: &str) -> Result<Arc<StreamEvents>, ServiceError> {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        Self::load(&mut cache, ctx, key)
    }

    /// The stream's cached events, read from the store first when not cached yet.
    fn load(
        cache: &mut Cache,
        ctx: &Ctx<'_>,
        key: &str,
    ) -> Result<Arc<StreamEvents>, ServiceError> {
        if let Some(e) = cache.get(key) {
            return Ok(e.clone());
        }
        let records = ctx
            .store
            .read(|tx| tx.records(SVC, key, f64::MIN, f64::MAX))?;
        let events: Vec<Event> = records
            .into_iter()
            .map(|r| Event {
                ts: r.ts as i64,
                seq: r.seq,
                ingestion: r
                    .body
                    .get("i")
                    .and_then(Value::as_i64)
                    .unwrap_or(r.ts as i64),
                message: Arc::from(r.body.get("m").and_then(Value::as_str).unwrap_or("")),
            })
            .collect();
        let events = Arc::new(StreamEvents::new(events));
        cache.insert(key.to_string(), events.clone());
        Ok(events)
    }

    fn forget(&self, prefix: &str) {
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|k, _| !k.starts_with(prefix));
    }

    fn group(ctx: &Ctx<'_>, name: &str) -> Result<Arc<Value>, ServiceError> {
        ctx.store
            .document(SVC, "group", name)?
            .ok_or_else(|| not_found("log group"))
    }

    /// The oldest timestamp (ms) the group's retention keeps, if it has one.
    fn retention_floor(ctx: &Ctx<'_>, group: &Value) -> Option<i64> {
        let days = group.get("retentionInDays")?.as_i64()?;
        Some(ctx.clock.now_millis() - days * 86_400_000)
    }

    fn create_log_group(&self, ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
        let name = input.required_str("logGroupName")?;
        if !valid_group_name(name) {
            return Err(invalid(format!("Invalid log group name {name}")));
        }
        let now = ctx.clock.now_millis();
        let arn = ctx.arn("logs", &format!("log-group:{name}"));
        let mut group = json!({
            "logGroupName": name,
            "creationTime": now,
            "metricFilterCount": 0,
            "arn": format!("{arn}:*"),
            "logGroupArn": arn,
            "storedBytes": 0,
            "logGroupClass": input.str("logGroupClass").unwrap_or("STANDARD"),
        });
        if let Some(k) = input.str("kmsKeyId") {
            group["kmsKeyId"] = json!(k);
        }
        ctx.store.write(|tx| {
            if tx.get(SVC, "group", name)?.is_some() {
                return Err(ServiceError::new(
                    "ResourceAlreadyExistsException",
                    "The specified log group already exists",
                ));
            }
            tx.put(SVC, "group", name, &group)
        })?;
        Ok(json!({}))
    }

    fn delete_log_group(&self, ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
        let name = group_name(&input)?;
        let prefix = format!("{name}:");
        ctx.store.write(|tx| {
            if !tx.delete(SVC, "group", name)? {
                return Err(not_found("log group"));
            }
            for (id, _) in tx.list(SVC, "stream")? {
                if id.starts_with(&prefix) {
                    tx.delete(SVC, "stream", &id)?;
                    tx.delete_records(SVC, &id, None)?;
                }
            }
            Ok(())
        })?;
        self.forget(&prefix);
        Ok(json!({}))
    }

    fn describe_log_groups(&self, ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
        let limit = input.i64("limit").unwrap_or(50);
        if !(1..=50).contains(&limit) {
            return Err(invalid("limit must be between 1 and 50"));
        }
        let prefix = input.str("logGroupNamePrefix").unwrap_or("");
        let pattern = input.str("logGroupNamePattern");
        if input.str("logGroupNamePrefix").is_some() && pattern.is_some() {
            return Err(invalid(
                "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.",
            ));
        }
        let groups: Vec<Value> = ctx
            .store
            .read(|tx| tx.list(SVC, "group"))?
            .into_iter()
            .filter(|(name, _)| {
                name.starts_with(prefix) && pattern.is_none_or(|p| name.contains(p))
            })
            .map(|(_, g)| g)
            .collect();
        let (range, next) = tokens::page_by_key(
            &groups,
            |g| g["logGroupName"].as_str().unwrap_or("").to_string(),
            input.str("nextToken"),
            limit as usize,
        )
        .map_err(|e| invalid(e.to_string()))?;
        let mut out = json!({ "logGroups": groups[range].to_vec() });
        if let Some(n) = next {
            out["nextToken"] = json!(n);
        }
        Ok(out)
    }

    fn put_retention_policy(&self, ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
        let name = group_name(&input)?;
        let days = input.i64("retentionInDays").unwrap_or(0);
        if !RETENTION_DAYS.contains(&days) {
            return Err(invalid(format!(
                "1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: {RETENTION_DAYS:?}"
            )));
        }
        self.update_group(ctx, name, |g| g["retentionInDays"] = json!(days))
    }

    fn update_group(
        &self,
        ctx: &Ctx<'_>,
        name: &str,
        f: impl FnOnce(&mut Value),
    ) -> Result<Value, ServiceError> {
        ctx.store.write(|tx| {
            let mut g = tx
                .get(SVC, "group", name)?
                .ok_or_else(|| not_found("log group"))?;
            f(&mut g);
            tx.put(SVC, "group", name, &g)
        })?;
        Ok(json!({}))
    }

    fn create_log_stream(&self, ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
        let group = group_name(&input)?;
        let stream = input.required_str("logStreamName")?;
        if stream.contains(':') || stream.contains('*') || stream.len() > 512 {
            return Err(invalid(format!("Invalid log stream name {stream}")));
        }
        let key = stream_key(group, stream);
        let doc = json!({
            "logStreamName": stream,
            "creationTime": ctx.clock.now_millis(),
            "arn": ctx.arn("logs", &format!("log-group:{group}:log-stream:{stream}")),
            "storedBytes": 0,
        });
        ctx.store.write(|tx| {
            if tx.get(SVC, "group", group)?.is_none() {
                return Err(not_found("log group"));
            }
            if tx.get(SVC, "stream", &key)?.is_some() {
                return Err(ServiceError::new(
                    "ResourceAlreadyExistsException",
                    "The specified log stream already exists",
                ));
            }
            tx.put(SVC, "stream", &key, &doc)
        })?;
        Ok(json!({}))
    }

    fn describe_log_streams(&self, ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
        let group = group_name(&input)?;
        Self::group(ctx, group)?;
        let limit = input.i64("limit").unwrap_or(50);
        if !(1..=50).contains(&limit) {
            return Err(invalid("limit must be between 1 and 50"));
        }
        let prefix = input.str("logStreamNamePrefix").unwrap_or("");
        let by_time = input.str("orderBy") == Some("LastEventTime");
        if by_time && !prefix.is_empty() {
            return Err(invalid(
                "Cannot order by LastEventTime with a logStreamNamePrefix.",
            ));
        }
        let key_prefix = format!("{group}:");
        let mut streams: Vec<Value> = ctx
            .store
            .read(|tx| tx.list(SVC, "stream"))?
            .into_iter()
            .filter(|(k, _)| k.starts_with(&key_prefix))
            .map(|(_, s)| s)
            .filter(|s| {
                s["logStreamName"]
                    .as_str()
                    .is_some_and(|n| n.starts_with(prefix))
            })
            .collect();
        if by_time {
            streams.sort_by_key(|s| {
                s.get("lastEventTimestamp")
                    .and_then(Value::as_i64)
                    .unwrap_or(0)
            });
        }
        if input.bool("descending") == Some(true) {
            streams.reverse();
        }
        let (range, next) = tokens::page_by_key(
            &streams.iter().enumerate().collect::<Vec<_>>(),
            |(i, _)| format!("{i:012}"),
            input.str("nextToken"),
            limit as usize,
        )
        .map_err(|e| invalid(e.to_string()))?;
        let mut out = json!({ "logStreams": streams[range].to_vec() });
        if let Some(n) = next {
            out["nextToken"] = json!(n);
        }
        Ok(out)
    }

    fn put_log_events(&self, ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
        let group = group_name(&input)?;
        let stream = input.required_str("logStreamName")?;
        let key = stream_key(group, stream);
        let items = input.list("logEvents");
        if items.is_empty() || items.len() > 10_000 {
            return Err(invalid("logEvents must contain between 1 and 10000 events"));
        }
        let now = ctx.clock.now_millis();
        let mut batch: Vec<(i64, String)> = Vec::with_capacity(items.len());
        for e in &items {
            let ts = e
                .i64("timestamp")
                .ok_or_else(|| invalid("Each log event needs a timestamp"))?;
            batch.push((ts, e.str("message").unwrap_or("").to_string()));
        }
        if batch.windows(2).any(|w| w[1].0 < w[0].0) {
            return Err(invalid(
                "Log events in a single PutLogEvents request must be in chronological order.",
            ));
        }
        let group_doc = Self::group(ctx, group)?;
        // Older than 14 days: "too old"; older than the group's retention: "expired".
        let too_old = batch
            .iter()
            .rposition(|(ts, _)| *ts < now - 14 * 86_400_000);
        let expired = Self::retention_floor(ctx, &group_doc)
            .and_then(|floor| batch.iter().rposition(|(ts, _)| *ts < floor));
        let too_new = batch.iter().position(|(ts, _)| *ts > now + 2 * 3_600_000);
        let accepted_from = too_old.max(expired).map_or(0, |i| i + 1);
        let accepted_to = too_new.unwrap_or(batch.len());
        let accepted = batch
            .get(accepted_from..accepted_to.max(accepted_from))
            .unwrap_or_default();
        if let (Some(first), Some(last)) = (accepted.first(), accepted.last())
            && last.0 - first.0 > 86_400_000
        {
            return Err(invalid(
                "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.",
            ));
        }
        // One writer at a time: two writers each adding to the same cached copy would keep
        // only the last one's events.
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let mut current = Self::load(&mut cache, ctx, &key)?;
        let mut appended = Vec::with_capacity(accepted.len());
        ctx.store.write(|tx| {
            let mut s = tx
                .get(SVC, "stream", &key)?
                .ok_or_else(|| not_found("log stream"))?;
            for (ts, message) in accepted {
                let seq = tx.append(SVC, &key, *ts as f64, &json!({"m": message, "i": now}))?;
                appended.push(Event {
                    ts: *ts,
                    seq,
                    ingestion: now,
                    message: Arc::from(message.as_str()),
                });
            }
            if let (Some(first), Some(last)) = (accepted.first(), accepted.last()) {
                let first_ts = s
                    .get("firstEventTimestamp")
                    .and_then(Value::as_i64)
                    .map_or(first.0, |f| f.min(first.0));
                let last_ts = s
                    .get("lastEventTimestamp")
                    .and_then(Value::as_i64)
                    .map_or(last.0, |l| l.max(last.0));
                s["firstEventTimestamp"] = json!(first_ts);
                s["lastEventTimestamp"] = json!(last_ts);
                s["lastIngestionTime"] = json!(now);
                tx.put(SVC, "stream", &key, &s)?;
            }
            Ok(())
        })?;
        // Copied only when a reader still holds the previous version.
        cache.remove(&key);
        let stream = Arc::make_mut(&mut current);
        for e in appended {
            let at = stream.keys.partition_point(|k| *k <= (e.ts, e.seq));
            stream.keys.insert(at, (e.ts, e.seq));
            stream.events.insert(at, e);
        }
        cache.insert(key, current);
        drop(cache);
        let mut out = json!({ "nextSequenceToken": format!("{:056}", now) });
        if too_old.is_some() || expired.is_some() || too_new.is_some() {
            let mut info = json!({});
            if let Some(i) = too_old {
                info["tooOldLogEventEndIndex"] = json!(i);
            }
            if let Some(i) = expired {
                info["expiredLogEventEndIndex"] = json!(i);
            }
            if let Some(i) = too_new {
                info["tooNewLogEventStartIndex"] = json!(i);
            }
            out["rejectedLogEventsInfo"] = info;
        }
        Ok(out)
    }

    fn get_log_events(&self, ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
        let group = group_name(&input)?;
        let stream = input.required_str("logStreamName")?;
        let key = stream_key(group, stream);
        let group_doc = Self::group(ctx, group)?;
        if ctx.store.document(SVC, "stream", &key)?.is_none() {
            return Err(not_found("log stream"));
        }
        let all = self.events(ctx, &key)?;
        let floor = Self::retention_floor(ctx, &group_doc);
        let start = match (input.i64("startTime"), floor) {
            (Some(s), Some(f)) => Some(s.max(f)),
            (s, f) => s.or(f),
        };
        let page = tokens::page(
            &all.keys,
            start,
            input.i64("endTime"),
            input.str("nextToken"),
            input.i64("limit").map(|l| l.max(0) as usize),
            input.bool("startFromHead").unwrap_or(false),
        )
        .map_err(|e| invalid(e.to_string()))?;
        let events: Vec<Value> = all.events[page.range]
            .iter()
            .map(|e| json!({"timestamp": e.ts, "message": &*e.message, "ingestionTime": e.ingestion}))
            .collect();
        // Moved in, not through `json!`, which would deep-copy the events once more.
        let mut out = serde_json::Map::new();
        out.insert("events".into(), Value::Array(events));
        out.insert(
            "nextForwardToken".into(),
            Value::String(page.next_forward_token),
        );
        out.insert(
            "nextBackwardToken".into(),
            Value::String(page.next_backward_token),
        );
        Ok(Value::Object(out))
    }

    fn filter_log_events(&self, ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
        let group = group_name(&input)?;
        let group_doc = Self::group(ctx, group)?;
        let pattern = filter::parse(input.str("filterPattern").unwrap_or(""))
            .map_err(|_| invalid("Invalid filter pattern"))?;
        let names = input.strings("logStreamNames");
        let prefix = input.str("logStreamNamePrefix");
        if !names.is_empty() && prefix.is_some() {
            return Err(invalid(
                "Cannot specify both logStreamNames and logStreamNamePrefix",
            ));
        }
        let limit = input.i64("limit").unwrap_or(10_000);
        if !(1..=10_000).contains(&limit) {
            return Err(invalid("limit must be between 1 and 10000"));
        }
        let floor = Self::retention_floor(ctx, &group_doc).unwrap_or(i64::MIN);
        let start = input.i64("startTime").unwrap_or(i64::MIN).max(floor);
        let end = input.i64("endTime").unwrap_or(i64::MAX);
        let key_prefix = format!("{group}:");
        let streams: Vec<String> = ctx
            .store
            .read(|tx| tx.list(SVC, "stream"))?
            .into_iter()
            .filter_map(|(k, _)| k.strip_prefix(&key_prefix).map(str::to_string))
            .filter(|s| names.is_empty() || names.contains(s))
            .filter(|s| prefix.is_none_or(|p| s.starts_with(p)))
            .collect();
        let mut matched: Vec<(i64, i64, String, Event)> = Vec::new();
        for s in &streams {
            for e in self.events(ctx, &stream_key(group, s))?.events.iter() {
                if e.ts >= start && e.ts < end && pattern.matches(&e.message) {
                    matched.push((e.ts, e.seq, s.clone(), e.clone()));
                }
            }
        }
        matched.sort_by_key(|m| (m.0, m.1));
        // The first request's startFromHead fixes the direction; descending keys start with 'd'.
        let descending = match input.str("nextToken") {
            Some(t) => tokens::decode_opaque(t)
                .map_err(|e| invalid(e.to_string()))?
                .starts_with('d'),
            None => input.bool("startFromHead") == Some(false),
        };
        if descending {
            matched.reverse();
        }
        let (range, next) = tokens::page_by_key(
            &matched,
            |m| match descending {
                true => format!(
                    "d{:020}-{:020}",
                    i64::MAX.saturating_sub(m.0),
                    i64::MAX.saturating_sub(m.1)
                ),
                false => format!("{:020}-{:020}", m.0, m.1),
            },
            input.str("nextToken"),
            limit as usize,
        )
        .map_err(|e| invalid(e.to_string()))?;
        let events: Vec<Value> = matched[range]
            .iter()
            .map(|(ts, seq, s, e)| {
                json!({
                    "logStreamName": s,
                    "timestamp": ts,
                    "message": &*e.message,
                    "ingestionTime": e.ingestion,
                    "eventId": format!("{seq:056}"),
                })
            })
            .collect();
        // AWS has returned an empty searchedLogStreams since 2020-05-15.
        let mut out = json!({ "searchedLogStreams": [] });
        out["events"] = Value::Array(events);
        if let Some(n) = next {
            out["nextToken"] = json!(n);
        }
        Ok(out)
    }
}

impl Service for Logs {
    fn id(&self) -> ServiceId {
        ServiceId::Logs
    }

    fn call(
        &self,
        ctx: &Ctx<'_>,
        operation: &str,
        input: Input<'_>,
    ) -> Result<Value, ServiceError> {
        match operation {
            "CreateLogGroup" => self.create_log_group(ctx, input),
            "DeleteLogGroup" => self.delete_log_group(ctx, input),
            "DescribeLogGroups" => self.describe_log_groups(ctx, input),
            "PutRetentionPolicy" => self.put_retention_policy(ctx, input),
            "DeleteRetentionPolicy" => {
                let name = group_name(&input)?;
                self.update_group(ctx, name, |g| {
                    if let Some(o) = g.as_object_mut() {
                        o.remove("retentionInDays");
                    }
                })
            }
            "CreateLogStream" => self.create_log_stream(ctx, input),
            "DescribeLogStreams" => self.describe_log_streams(ctx, input),
            "PutLogEvents" => self.put_log_events(ctx, input),
            "GetLogEvents" => self.get_log_events(ctx, input),
            "FilterLogEvents" => self.filter_log_events(ctx, input),
            op => Err(unknown_operation(op)),
        }
    }
}
