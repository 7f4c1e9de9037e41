//! Smithy RPC v2 CBOR bodies ↔ protocol-neutral JSON. Accepts indefinite-length maps, arrays
//! and strings (the Rust SDK writes indefinite maps); writes timestamps as tag 1 + float64 and
//! every JSON float as a CBOR double, as the SDK's decoder requires.

use minicbor::data::{Tag, Type};
use minicbor::{Decoder, Encoder};
use serde_json::{Map, Number, Value};

use super::value::{Output, as_timestamp};

const EPOCH_TAG: u64 = 1;
const MAX_DEPTH: usize = 64;

/// Decodes exactly one CBOR data item; trailing bytes are an error.
pub fn decode(bytes: &[u8]) -> Result<Value, String> {
    let mut d = Decoder::new(bytes);
    let v = item(&mut d, 0)?;
    if d.position() != bytes.len() {
        return Err("trailing bytes after the CBOR body".into());
    }
    Ok(v)
}

fn err(e: minicbor::decode::Error) -> String {
    format!("malformed CBOR: {e}")
}

fn item(d: &mut Decoder<'_>, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err("CBOR nesting too deep".into());
    }
    let t = d.datatype().map_err(err)?;
    Ok(match t {
        Type::Bool => Value::Bool(d.bool().map_err(err)?),
        Type::Null | Type::Undefined => {
            d.skip().map_err(err)?;
            Value::Null
        }
        Type::U8 | Type::U16 | Type::U32 | Type::U64 => Value::from(d.u64().map_err(err)?),
        Type::I8 | Type::I16 | Type::I32 | Type::I64 => Value::from(d.i64().map_err(err)?),
        Type::Int => {
            let i: i128 = d.int().map_err(err)?.into();
            Value::from(i as f64)
        }
        Type::F16 | Type::F32 | Type::F64 => {
            let f = d.f64().map_err(err)?;
            Number::from_f64(f).map_or(Value::Null, Value::Number)
        }
        Type::String => Value::String(d.str().map_err(err)?.to_string()),
        Type::StringIndef => {
            let mut s = String::new();
            for part in d.str_iter().map_err(err)? {
                s.push_str(part.map_err(err)?);
            }
            Value::String(s)
        }
        Type::Bytes | Type::BytesIndef => {
            let mut b = Vec::new();
            for part in d.bytes_iter().map_err(err)? {
                b.extend_from_slice(part.map_err(err)?);
            }
            Value::String(String::from_utf8_lossy(&b).into_owned())
        }
        Type::Array | Type::ArrayIndef => {
            let len = d.array().map_err(err)?;
            let mut out = Vec::new();
            match len {
                Some(n) => {
                    for _ in 0..n {
                        out.push(item(d, depth + 1)?);
                    }
                }
                None => loop {
                    if d.datatype().map_err(err)? == Type::Break {
                        d.skip().map_err(err)?;
                        break;
                    }
                    out.push(item(d, depth + 1)?);
                },
            }
            Value::Array(out)
        }
        Type::Map | Type::MapIndef => {
            let len = d.map().map_err(err)?;
            let mut out = Map::new();
            let mut entry = |d: &mut Decoder<'_>| -> Result<(), String> {
                let k = match item(d, depth + 1)? {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                let v = item(d, depth + 1)?;
                out.insert(k, v);
                Ok(())
            };
            match len {
                Some(n) => {
                    for _ in 0..n {
                        entry(d)?;
                    }
                }
                None => loop {
                    if d.datatype().map_err(err)? == Type::Break {
                        d.skip().map_err(err)?;
                        break;
                    }
                    entry(d)?;
                },
            }
            Value::Object(out)
        }
        Type::Tag => {
            // Tag 1 (epoch seconds) and any other tag: services read the tagged value itself.
            d.tag().map_err(err)?;
            item(d, depth + 1)?
        }
        other => return Err(format!("unsupported CBOR type {other:?}")),
    })
}

/// Encodes a service's [`Output`], writing shared items in place.
pub fn encode_output(out: &Output) -> Vec<u8> {
    let Some((key, items)) = &out.shared else {
        return encode(&out.value);
    };
    let mut e = Encoder::new(Vec::new());
    let empty = serde_json::Map::new();
    let fields = out.value.as_object().unwrap_or(&empty);
    let present = fields.values().filter(|v| !v.is_null()).count() as u64;
    // Writing into a Vec cannot fail.
    let _ = (|| -> Result<(), minicbor::encode::Error<std::convert::Infallible>> {
        e.map(present + 1)?;
        for (k, v) in fields.iter().filter(|(_, v)| !v.is_null()) {
            e.str(k)?;
            write(&mut e, v)?;
        }
        e.str(key)?.array(items.len() as u64)?;
        for item in items {
            write(&mut e, item)?;
        }
        Ok(())
    })();
    e.into_writer()
}

/// Encodes protocol-neutral JSON output as CBOR.
pub fn encode(v: &Value) -> Vec<u8> {
    let mut e = Encoder::new(Vec::new());
    // Writing into a Vec cannot fail.
    let _ = write(&mut e, v);
    e.into_writer()
}

fn write(
    e: &mut Encoder<Vec<u8>>,
    v: &Value,
) -> Result<(), minicbor::encode::Error<std::convert::Infallible>> {
    if let Some(t) = as_timestamp(v) {
        e.tag(Tag::new(EPOCH_TAG))?.f64(t)?;
        return Ok(());
    }
    match v {
        Value::Null => {
            e.null()?;
        }
        Value::Bool(b) => {
            e.bool(*b)?;
        }
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                e.i64(i)?;
            } else if let Some(u) = n.as_u64() {
                e.u64(u)?;
            } else {
                e.f64(n.as_f64().unwrap_or(0.0))?;
            }
        }
        Value::String(s) => {
            e.str(s)?;
        }
        Value::Array(items) => {
            e.array(items.len() as u64)?;
            for i in items {
                write(e, i)?;
            }
        }
        Value::Object(m) => {
            e.map(m.values().filter(|v| !v.is_null()).count() as u64)?;
            for (k, v) in m.iter().filter(|(_, v)| !v.is_null()) {
                e.str(k)?;
                write(e, v)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ts;

    #[test]
    fn indefinite_map_decodes() {
        // {_ "MaxRecords": 5, "AlarmNames": ["a"]}
        let mut e = Encoder::new(Vec::new());
        let _ = e
            .begin_map()
            .and_then(|e| e.str("MaxRecords"))
            .and_then(|e| e.u8(5));
        let _ = e
            .str("AlarmNames")
            .and_then(|e| e.array(1))
            .and_then(|e| e.str("a"))
            .and_then(|e| e.end());
        let v = decode(&e.into_writer()).unwrap_or_default();
        assert_eq!(v, serde_json::json!({"MaxRecords": 5, "AlarmNames": ["a"]}));
    }

    #[test]
    fn doubles_stay_doubles_and_timestamps_are_tagged() {
        let bytes = encode(&serde_json::json!({"Threshold": 5.0, "When": ts(10.5)}));
        let mut d = Decoder::new(&bytes);
        assert_eq!(d.map().ok().flatten(), Some(2));
        assert_eq!(d.str().ok(), Some("Threshold"));
        assert_eq!(d.datatype().ok(), Some(Type::F64));
        let _ = d.f64();
        assert_eq!(d.str().ok(), Some("When"));
        assert_eq!(d.tag().ok(), Some(Tag::new(1)));
        assert_eq!(d.f64().ok(), Some(10.5));
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let mut bytes = encode(&serde_json::json!({}));
        bytes.push(0);
        assert!(decode(&bytes).is_err());
    }
}
