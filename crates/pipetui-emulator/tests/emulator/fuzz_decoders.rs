//! Property tests of every wire decoder (awsQuery forms, awsJson, RPC v2 CBOR) and of the
//! template parser (JSON and YAML): arbitrary bytes and arbitrarily nested documents never panic
//! or overflow the stack, and always give either a value or the protocol's validation error;
//! documents round-trip where the emulator has an encoder. The seed and the number of cases are
//! fixed, so every run tries the same inputs in a bounded time.

use std::collections::BTreeMap;

use pipetui_emulator::cloudformation::engine::{MAX_TEMPLATE_DEPTH, parse_template};
use pipetui_emulator::logs::filter;
use pipetui_emulator::protocol::{self, HttpRequest, cbor, query};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use serde_json::{Map, Value};

fn config() -> Config {
    Config {
        cases: 256,
        rng_seed: RngSeed::Fixed(0x0011_2358),
        failure_persistence: None,
        ..Config::default()
    }
}

fn request(path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> HttpRequest {
    HttpRequest {
        method: "POST".into(),
        path: path.into(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body,
    }
}

fn form(body: Vec<u8>) -> HttpRequest {
    request(
        "/",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        body,
    )
}

fn json(body: Vec<u8>) -> HttpRequest {
    request(
        "/",
        &[
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", "Logs_20140328.DescribeLogGroups"),
        ],
        body,
    )
}

fn cbor_request(body: Vec<u8>) -> HttpRequest {
    request(
        "/service/GraniteServiceVersion20100801/operation/DescribeAlarms",
        &[
            ("Content-Type", "application/cbor"),
            ("smithy-protocol", "rpc-v2-cbor"),
        ],
        body,
    )
}

/// The decoder's answer: the operation, or the error code it was refused with.
fn decoded(req: &HttpRequest) -> Result<String, String> {
    protocol::decode(req)
        .map(|c| c.operation)
        .map_err(|r| r.error.code)
}

/// JSON values as services exchange them: no nulls in objects (encoders leave them out), keys
/// that cannot be mistaken for a timestamp marker, finite numbers.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // Decimals of up to 15 digits: serde_json's default float parsing is exact for those.
        (-1_000_000_000_000_000i64..1_000_000_000_000_000)
            .prop_map(|i| Value::from(i as f64 / 1000.0)),
        "[ -~]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[A-Za-z][a-z]{0,5}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// `[`, `{"a":`, `- ` or indented `a:` nesting `n` deep, in JSON or YAML.
fn nested_template(style: u8, n: usize) -> String {
    match style % 4 {
        0 => format!("{{\"Resources\": {}1{}}}", "[".repeat(n), "]".repeat(n)),
        1 => format!("Resources: {}1{}", "{a: ".repeat(n), "}".repeat(n)),
        2 => format!(
            "Resources:\n  B:\n    Metadata:\n      {}x\n",
            "- ".repeat(n)
        ),
        _ => {
            let mut s = String::from("Resources:\n");
            for i in 0..n {
                s.push_str(&" ".repeat(2 * (i + 1)));
                s.push_str("a:\n");
            }
            s.push_str(&" ".repeat(2 * (n + 1)));
            s.push_str("x\n");
            s
        }
    }
}

/// Every byte but letters and digits percent-encoded.
fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A query member: text, a list of texts, or a list of structures of texts.
#[derive(Debug, Clone)]
enum Member {
    Text(String),
    Texts(Vec<String>),
    Structs(Vec<BTreeMap<String, String>>),
}

fn member() -> impl Strategy<Value = Member> {
    let text = "[ -~]{0,10}";
    prop_oneof![
        text.prop_map(Member::Text),
        prop::collection::vec(text, 1..4).prop_map(Member::Texts),
        prop::collection::vec(prop::collection::btree_map("M[a-z]{0,4}", text, 1..3), 1..3)
            .prop_map(Member::Structs),
    ]
}

/// The form the SDK's query writer sends for `members`, and the JSON the decoder should give.
fn form_and_json(members: &BTreeMap<String, Member>) -> (String, Value) {
    let mut pairs = vec![
        "Action=DescribeStacks".to_string(),
        "Version=2010-05-15".into(),
    ];
    let mut out = Map::new();
    for (name, m) in members {
        let v = match m {
            Member::Text(t) => {
                pairs.push(format!("{name}={}", url_encode(t)));
                Value::String(t.clone())
            }
            Member::Texts(items) => {
                for (i, t) in items.iter().enumerate() {
                    pairs.push(format!("{name}.member.{}={}", i + 1, url_encode(t)));
                }
                Value::Array(items.iter().cloned().map(Value::String).collect())
            }
            Member::Structs(items) => {
                for (i, s) in items.iter().enumerate() {
                    for (k, t) in s {
                        pairs.push(format!("{name}.member.{}.{k}={}", i + 1, url_encode(t)));
                    }
                }
                Value::Array(
                    items
                        .iter()
                        .map(|s| {
                            Value::Object(
                                s.iter()
                                    .map(|(k, t)| (k.clone(), Value::String(t.clone())))
                                    .collect(),
                            )
                        })
                        .collect(),
                )
            }
        };
        out.insert(name.clone(), v);
    }
    (pairs.join("&"), Value::Object(out))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn query_forms_of_any_bytes_decode_or_are_refused(body in prop::collection::vec(any::<u8>(), 0..512)) {
        let r = decoded(&form(body));
        prop_assert!(
            matches!(r.as_ref().map_err(String::as_str), Ok(_) | Err("InvalidAction" | "ValidationError")),
            "{r:?}"
        );
    }

    #[test]
    fn query_keys_of_any_depth_decode_or_are_refused(depth in 1usize..400, lists in any::<bool>()) {
        let key = vec!["a"; depth].join(if lists { ".member.1." } else { "." });
        let body = format!("Action=DescribeStacks&Version=2010-05-15&{key}=1");
        let r = decoded(&form(body.into_bytes()));
        let segments = key.split('.').count();
        if segments <= query::MAX_KEY_SEGMENTS {
            prop_assert_eq!(r, Ok("DescribeStacks".to_string()));
        } else {
            prop_assert_eq!(r, Err("ValidationError".to_string()));
        }
    }

    #[test]
    fn query_forms_round_trip(members in prop::collection::btree_map("M[a-z]{0,5}", member(), 0..6)) {
        let (body, expected) = form_and_json(&members);
        let f = query::decode_form(body.as_bytes()).map_err(TestCaseError::fail)?;
        prop_assert_eq!(f.action.as_deref(), Some("DescribeStacks"));
        prop_assert_eq!(f.input, expected);
    }

    #[test]
    fn json_bodies_of_any_bytes_decode_or_are_serialization_errors(body in prop::collection::vec(any::<u8>(), 0..512)) {
        let r = decoded(&json(body));
        prop_assert!(
            matches!(r.as_ref().map_err(String::as_str), Ok(_) | Err("SerializationException")),
            "{r:?}"
        );
    }

    #[test]
    fn json_bodies_of_any_nesting_decode_or_are_serialization_errors(depth in 0usize..2000, list in any::<bool>()) {
        let (open, close) = if list { ("[", "]") } else { ("{\"a\":", "}") };
        let body = format!("{{\"x\": {}1{}}}", open.repeat(depth), close.repeat(depth));
        let r = decoded(&json(body.into_bytes()));
        prop_assert!(
            matches!(r.as_ref().map_err(String::as_str), Ok(_) | Err("SerializationException")),
            "{r:?}"
        );
    }

    #[test]
    fn cbor_bodies_of_any_bytes_decode_or_are_serialization_errors(body in prop::collection::vec(any::<u8>(), 1..512)) {
        let r = decoded(&cbor_request(body));
        prop_assert!(
            matches!(r.as_ref().map_err(String::as_str), Ok(_) | Err("SerializationException")),
            "{r:?}"
        );
    }

    #[test]
    fn cbor_arrays_of_any_nesting_decode_up_to_the_limit(depth in 0usize..2000, indefinite in any::<bool>()) {
        let mut body = Vec::new();
        for _ in 0..depth {
            body.push(if indefinite { 0x9f } else { 0x81 });
        }
        body.push(0x01);
        if indefinite {
            body.extend(std::iter::repeat_n(0xff, depth));
        }
        let v = cbor::decode(&body);
        prop_assert_eq!(v.is_ok(), depth <= 64, "{:?}", v.err());
    }

    #[test]
    fn cbor_round_trips(v in json_value()) {
        prop_assert_eq!(cbor::decode(&cbor::encode(&v)), Ok(v));
    }

    #[test]
    fn templates_of_any_text_parse_or_are_validation_errors(body in "[-:\\[\\]{}, \n\ta-z0-9!&*'\"#|>%@`?]{0,300}") {
        if let Err(e) = parse_template(&body) {
            prop_assert_eq!(e.code, "ValidationError");
        }
    }

    #[test]
    fn templates_of_any_nesting_parse_or_are_refused(style in any::<u8>(), depth in 0usize..1500) {
        let body = nested_template(style, depth);
        match parse_template(&body) {
            Ok(_) => prop_assert!(depth < MAX_TEMPLATE_DEPTH),
            Err(e) => prop_assert_eq!(e.code, "ValidationError"),
        }
    }

    #[test]
    fn json_and_yaml_templates_round_trip(metadata in json_value(), yaml in any::<bool>()) {
        let value = serde_json::json!({
            "Resources": {"B": {"Type": "AWS::S3::Bucket", "Metadata": metadata}}
        });
        let body = if yaml {
            serde_yaml_ng::to_string(&value).map_err(|e| TestCaseError::fail(e.to_string()))?
        } else {
            value.to_string()
        };
        let t = parse_template(&body).map_err(|e| TestCaseError::fail(e.message))?;
        prop_assert_eq!(t.body, value);
    }

    #[test]
    fn filter_patterns_of_any_text_parse_or_are_invalid(
        pattern in "[{}()\\[\\]$.a-z0-9=!<>&|\"%*?, -]{0,120}",
        message in "[ -~]{0,60}",
    ) {
        if let Ok(p) = filter::parse(&pattern) {
            let _ = p.matches(&message);
            let _ = p.matches(r#"{"a": [1, {"b": null}], "c": "x y"}"#);
        }
    }
}
