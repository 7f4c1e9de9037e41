//! `Fn::Base64` and `Fn::Cidr`: small enough to write out rather than add dependencies.

use serde_json::Value;

use super::EngineError;
use super::template::scalar_text;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding, as `Fn::Base64` gives.
pub(crate) fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `Fn::Cidr [ipBlock, count, cidrBits]` for IPv4: the first `count` subnets with
/// `32 - cidrBits` prefix bits inside `ipBlock`.
pub(crate) fn cidr(args: &[Value]) -> Result<Value, EngineError> {
    let bad = |why: &str| EngineError::template(format!("Fn::Cidr {why}"));
    let [block, count, bits] = args else {
        return Err(bad("requires three parameters"));
    };
    let block = scalar_text(block).ok_or_else(|| bad("ipBlock must be a string"))?;
    let (addr, prefix) = block
        .split_once('/')
        .ok_or_else(|| bad("ipBlock must be in CIDR notation"))?;
    let octets: Vec<u32> = addr
        .split('.')
        .map(|o| o.parse::<u8>().map(u32::from))
        .collect::<Result<_, _>>()
        .map_err(|_| bad("supports IPv4 blocks only"))?;
    let [a, b, c, d] = octets.as_slice() else {
        return Err(bad("supports IPv4 blocks only"));
    };
    let prefix: u32 = prefix.parse().map_err(|_| bad("has an invalid prefix"))?;
    let count: u32 = scalar_text(count)
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| bad("count must be a number"))?;
    let bits: u32 = scalar_text(bits)
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| bad("cidrBits must be a number"))?;
    if prefix > 32 || bits == 0 || bits > 32 - prefix || !(1..=256).contains(&count) {
        return Err(bad("parameters do not fit the ipBlock"));
    }
    let available = 1u64 << (32 - prefix - bits);
    if u64::from(count) > available {
        return Err(bad(
            "count is larger than the number of subnets in the ipBlock",
        ));
    }
    let base = (a << 24) | (b << 16) | (c << 8) | d;
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    let network = u64::from(base & mask);
    let subnets = (0..u64::from(count))
        .map(|i| {
            let n = network + (i << bits);
            let ip = format!(
                "{}.{}.{}.{}",
                (n >> 24) & 255,
                (n >> 16) & 255,
                (n >> 8) & 255,
                n & 255
            );
            Value::String(format!("{ip}/{}", 32 - bits))
        })
        .collect();
    Ok(Value::Array(subnets))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn base64_pads() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"hello world"), "aGVsbG8gd29ybGQ=");
    }

    #[test]
    fn cidr_splits_a_block() {
        let got = cidr(&[json!("10.0.0.0/16"), json!(3), json!(8)]).map_err(|e| e.message);
        assert_eq!(
            got,
            Ok(json!(["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]))
        );
        assert!(cidr(&[json!("10.0.0.0/30"), json!(3), json!(1)]).is_err());
    }
}
