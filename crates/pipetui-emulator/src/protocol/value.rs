//! Protocol-neutral values. Service output is JSON in which a timestamp is marked by
//! [`ts`], so each protocol can write it its own way (epoch seconds in JSON, ISO-8601 in XML,
//! tag 1 in CBOR). Input accessors accept what any protocol delivers (awsQuery sends every
//! scalar as text).

use std::sync::Arc;

use serde_json::{Map, Value};

use super::ServiceError;

const TS_KEY: &str = "$timestamp";

/// A timestamp in service output, in epoch seconds.
pub fn ts(epoch_seconds: f64) -> Value {
    let mut m = Map::new();
    m.insert(TS_KEY.to_string(), Value::from(epoch_seconds));
    Value::Object(m)
}

/// The epoch seconds of a value made by [`ts`].
pub fn as_timestamp(v: &Value) -> Option<f64> {
    match v {
        Value::Object(m) if m.len() == 1 => m.get(TS_KEY).and_then(Value::as_f64),
        _ => None,
    }
}

/// A service's answer: JSON, plus optionally one top-level list whose items are shared with a
/// cache and written by the encoders without being copied (DescribeAlarms' hot path).
#[derive(Debug, Clone, Default)]
pub struct Output {
    pub value: Value,
    pub shared: Option<(&'static str, Vec<Arc<Value>>)>,
}

impl From<Value> for Output {
    fn from(value: Value) -> Self {
        Self {
            value,
            shared: None,
        }
    }
}

impl Output {
    /// The whole answer as one JSON value (copies the shared items).
    pub fn into_value(self) -> Value {
        let mut value = self.value;
        if let (Some((key, items)), Some(o)) = (self.shared, value.as_object_mut()) {
            let items = items.into_iter().map(|a| (*a).clone()).collect();
            o.insert(key.to_string(), Value::Array(items));
        }
        value
    }

    /// True when the answer has no members (awsQuery then writes no `<Result>`).
    pub fn is_empty(&self) -> bool {
        self.shared.is_none() && self.value.as_object().is_none_or(|o| o.is_empty())
    }
}

/// [`WireJson`] for a whole [`Output`].
pub struct WireOutput<'a>(pub &'a Output);

impl serde::Serialize for WireOutput<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let Some((key, items)) = &self.0.shared else {
            return WireJson(&self.0.value).serialize(s);
        };
        let mut map = s.serialize_map(None)?;
        if let Some(o) = self.0.value.as_object() {
            for (k, v) in o.iter().filter(|(_, v)| !v.is_null()) {
                map.serialize_entry(k, &WireJson(v))?;
            }
        }
        let list: Vec<WireJson<'_>> = items.iter().map(|a| WireJson(a)).collect();
        map.serialize_entry(key, &list)?;
        map.end()
    }
}

/// Serialises output as awsJson without copying it: timestamps become epoch-second numbers and
/// nulls are left out.
pub struct WireJson<'a>(pub &'a Value);

impl serde::Serialize for WireJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        if let Some(t) = as_timestamp(self.0) {
            return s.serialize_f64(t);
        }
        match self.0 {
            Value::Object(m) => {
                let mut map = s.serialize_map(None)?;
                for (k, v) in m.iter().filter(|(_, v)| !v.is_null()) {
                    map.serialize_entry(k, &WireJson(v))?;
                }
                map.end()
            }
            Value::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a {
                    seq.serialize_element(&WireJson(v))?;
                }
                seq.end()
            }
            other => other.serialize(s),
        }
    }
}

/// awsJson: timestamps become epoch-second numbers.
pub fn to_wire_json(v: &Value) -> Value {
    if let Some(t) = as_timestamp(v) {
        return Value::from(t);
    }
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), to_wire_json(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(to_wire_json).collect()),
        other => other.clone(),
    }
}

/// ISO-8601 with milliseconds, as awsQuery responses carry timestamps.
pub fn iso8601(epoch_seconds: f64) -> String {
    // Rounded to the millisecond: f64 seconds cannot hold nanoseconds exactly.
    let nanos = (epoch_seconds * 1000.0).round() as i128 * 1_000_000;
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&fmt).unwrap_or_default()
}

fn parse_iso8601(s: &str) -> Option<f64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    Some(t.unix_timestamp_nanos() as f64 / 1e9)
}

/// Typed reads of a request's input, whatever protocol delivered it.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a>(pub &'a Value);

impl<'a> Input<'a> {
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    pub fn str(&self, key: &str) -> Option<&'a str> {
        self.get(key).and_then(Value::as_str)
    }

    /// A required string member; missing gives the service's validation error.
    pub fn required_str(&self, key: &str) -> Result<&'a str, ServiceError> {
        self.str(key).filter(|s| !s.is_empty()).ok_or_else(|| {
            ServiceError::new(
                "ValidationException",
                format!("1 validation error detected: Value null at '{key}' failed to satisfy constraint: Member must not be null"),
            )
        })
    }

    pub fn i64(&self, key: &str) -> Option<i64> {
        match self.get(key)? {
            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub fn f64(&self, key: &str) -> Option<f64> {
        match self.get(key)? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub fn bool(&self, key: &str) -> Option<bool> {
        match self.get(key)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) => match s.as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// Epoch seconds from a JSON/CBOR number or an ISO-8601 string.
    pub fn timestamp(&self, key: &str) -> Option<f64> {
        match self.get(key)? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok().or_else(|| parse_iso8601(s)),
            v => as_timestamp(v),
        }
    }

    pub fn list(&self, key: &str) -> Vec<Input<'a>> {
        match self.get(key) {
            Some(Value::Array(items)) => items.iter().map(Input).collect(),
            _ => Vec::new(),
        }
    }

    pub fn strings(&self, key: &str) -> Vec<String> {
        self.list(key)
            .into_iter()
            .filter_map(|v| match v.0 {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect()
    }

    pub fn object(&self, key: &str) -> Option<Input<'a>> {
        self.get(key).filter(|v| v.is_object()).map(Input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_through_iso() {
        let s = iso8601(1_767_225_600.123);
        assert_eq!(s, "2026-01-01T00:00:00.123Z");
        let v = serde_json::json!({ "t": s });
        let t = Input(&v).timestamp("t").unwrap_or_default();
        assert!((t - 1_767_225_600.123).abs() < 1e-6);
    }

    #[test]
    fn wire_json_unwraps_timestamps() {
        let v = serde_json::json!({ "a": ts(5.5), "b": [ts(1.0)], "c": null });
        assert_eq!(
            to_wire_json(&v),
            serde_json::json!({ "a": 5.5, "b": [1.0] })
        );
    }
}
