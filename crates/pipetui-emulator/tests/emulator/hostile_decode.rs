//! Hostile input: requests and templates nested deep enough to overflow a thread's stack, an
//! over-long TemplateBody, names XML cannot carry and wrongly typed members. Each is answered
//! with the protocol's own error, and the emulator keeps serving. Deep inputs run on threads
//! with the 2 MiB stack of the server's workers, so an unbounded recursion would abort the test.

use std::sync::Arc;

use aws_sdk_cloudformation::Client as Cfn;
use aws_sdk_cloudwatch::Client as Cw;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
use pipetui_emulator::cloudformation::engine::{
    Context, MAX_CONDITION_CHAIN, MAX_TEMPLATE_DEPTH, evaluate_conditions, parse_template,
    resolve_parameters,
};
use pipetui_emulator::logs::filter;
use pipetui_emulator::protocol::query::MAX_KEY_SEGMENTS;
use pipetui_emulator::protocol::{self, HttpRequest, HttpResponse};
use pipetui_emulator::{Emulator, serve};
use serde_json::{Value, json};

use crate::common::{code, emulator, raw, sdk_config};

/// Runs `f` on a thread with the server workers' 2 MiB stack.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("the thread ended without a panic")
}

fn request(path: &str, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> HttpRequest {
    HttpRequest {
        method: "POST".into(),
        path: path.into(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.into(),
    }
}

fn form(body: impl Into<Vec<u8>>) -> HttpRequest {
    request(
        "/",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        body,
    )
}

fn json_request(target: &str, body: impl Into<Vec<u8>>) -> HttpRequest {
    request(
        "/",
        &[
            ("Content-Type", "application/x-amz-json-1.0"),
            ("X-Amz-Target", target),
        ],
        body,
    )
}

fn cbor_request(op: &str, body: &Value) -> HttpRequest {
    request(
        &format!("/service/GraniteServiceVersion20100801/operation/{op}"),
        &[
            ("Content-Type", "application/cbor"),
            ("smithy-protocol", "rpc-v2-cbor"),
        ],
        protocol::cbor::encode(body),
    )
}

async fn send(emu: &Arc<Emulator>, req: HttpRequest) -> HttpResponse {
    emu.handle(req).await.expect("an answer")
}

fn text(r: &HttpResponse) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

/// The code of a CBOR error body (`__type` is `namespace#Code`).
fn cbor_code(r: &HttpResponse) -> String {
    let v = protocol::cbor::decode(&r.body).expect("a CBOR error body");
    let t = v["__type"].as_str().unwrap_or_default();
    t.rsplit('#').next().unwrap_or_default().to_string()
}

/// `Prefix.a.a.a…=1` with `segments` dot-separated segments in the key.
fn nested_key_form(segments: usize) -> String {
    let key = vec!["a"; segments].join(".");
    format!("Action=DescribeStacks&Version=2010-05-15&{key}=1")
}

#[tokio::test(flavor = "multi_thread")]
async fn query_form_nested_3000_deep_is_a_validation_error_and_the_server_survives() {
    let server = serve(emulator(), 0).await.expect("serve");
    let addr = server.addr;
    let headers = [("Content-Type", "application/x-www-form-urlencoded")];
    let (deep, deeper, after) = tokio::task::spawn_blocking(move || {
        let deep = raw(addr, "/", &headers, nested_key_form(3_000).as_bytes());
        let deeper = raw(addr, "/", &headers, nested_key_form(100_000).as_bytes());
        let after = raw(
            addr,
            "/",
            &headers,
            b"Action=DescribeStacks&Version=2010-05-15",
        );
        (deep, deeper, after)
    })
    .await
    .expect("join");
    for (status, _, body) in [&deep, &deeper] {
        let body = String::from_utf8_lossy(body);
        assert_eq!(*status, 400, "{body}");
        assert!(body.contains("<Code>ValidationError</Code>"), "{body}");
        assert!(body.contains("<ErrorResponse"), "{body}");
    }
    assert_eq!(after.0, 200, "{}", String::from_utf8_lossy(&after.2));
    server.abort();
}

#[test]
fn query_keys_are_accepted_up_to_the_limit_and_refused_past_it() {
    let (at, past) = on_small_stack(|| {
        let at = protocol::decode(&form(nested_key_form(MAX_KEY_SEGMENTS)));
        let past = protocol::decode(&form(nested_key_form(MAX_KEY_SEGMENTS + 1)));
        (at.map(|c| c.operation), past.map_err(|r| r.error.code))
    });
    assert_eq!(at.ok().as_deref(), Some("DescribeStacks"));
    assert_eq!(past.err().as_deref(), Some("ValidationError"));
}

/// `{"Conditions": {C0: {Fn::Not: [{Condition: C1}]}, …, Cn-1: {Fn::Equals: [a, a]}}}`.
fn chained_conditions(n: usize) -> String {
    let mut conditions = serde_json::Map::new();
    for i in 0..n {
        let expr = if i + 1 < n {
            json!({"Fn::Not": [{"Condition": format!("C{}", i + 1)}]})
        } else {
            json!({"Fn::Equals": ["a", "a"]})
        };
        conditions.insert(format!("C{i}"), expr);
    }
    json!({
        "Conditions": conditions,
        "Resources": {"B": {"Type": "AWS::S3::Bucket", "Condition": "C0"}}
    })
    .to_string()
}

fn conditions_of(body: String) -> Result<Option<bool>, (String, String)> {
    let t = parse_template(&body).map_err(|e| (e.code, e.message))?;
    let params = resolve_parameters(&t, &[]).map_err(|e| (e.code, e.message))?;
    let c =
        evaluate_conditions(&t, &params, &Context::default()).map_err(|e| (e.code, e.message))?;
    Ok(c.get("C0"))
}

#[test]
fn conditions_chained_10000_deep_are_a_validation_error() {
    let far = on_small_stack(|| conditions_of(chained_conditions(10_000)));
    let (code, message) = far.expect_err("refused");
    assert_eq!(code, "ValidationError");
    assert!(message.contains("levels deep"), "{message}");
    // A chain as long as the limit evaluates: C0 = not(not(…(a == a))).
    let at = on_small_stack(|| conditions_of(chained_conditions(MAX_CONDITION_CHAIN)));
    assert_eq!(at, Ok(Some(MAX_CONDITION_CHAIN % 2 == 1)));
    let past = on_small_stack(|| conditions_of(chained_conditions(MAX_CONDITION_CHAIN + 1)));
    assert_eq!(past.map_err(|(c, _)| c), Err("ValidationError".into()));
}

/// A template whose `Metadata` holds lists nested until the whole body is `depth` deep.
fn template_of_depth(depth: usize, yaml: bool) -> String {
    // Body → Resources → B → Metadata is three levels; the lists make up the rest.
    let mut v = json!("x");
    for _ in 3..depth {
        v = json!([v]);
    }
    let t = json!({"Resources": {"B": {"Type": "AWS::S3::Bucket", "Metadata": v}}});
    if yaml {
        serde_yaml_ng::to_string(&t).expect("yaml")
    } else {
        t.to_string()
    }
}

#[test]
fn templates_deeper_than_the_limit_are_refused_in_json_and_yaml() {
    for yaml in [false, true] {
        let at = template_of_depth(MAX_TEMPLATE_DEPTH, yaml);
        let past = template_of_depth(MAX_TEMPLATE_DEPTH + 1, yaml);
        let (at, past) = on_small_stack(move || (parse_template(&at), parse_template(&past)));
        assert!(at.is_ok(), "yaml={yaml}: {at:?}");
        let e = past.expect_err("refused");
        assert_eq!(e.code, "ValidationError");
        assert!(
            e.message.contains("levels deep"),
            "yaml={yaml}: {}",
            e.message
        );
    }
}

#[test]
fn yaml_and_json_templates_100000_levels_deep_are_refused_as_too_deep() {
    let bodies = [
        format!("Resources: {}x", "[".repeat(100_000)),
        format!(
            "Resources:\n  B:\n    Metadata:\n      {}x\n",
            "- ".repeat(100_000)
        ),
        format!("{{\"Resources\": {}1", "[".repeat(100_000)),
    ];
    for body in bodies {
        let shown = body[..40].to_string();
        let e = on_small_stack(move || parse_template(&body)).expect_err("refused");
        assert_eq!(e.code, "ValidationError", "{shown}");
        // The JSON body reports its JSON error; the YAML ones say why they were refused.
        if !shown.starts_with('{') {
            assert!(e.message.contains("levels deep"), "{shown}: {}", e.message);
        }
    }
}

#[test]
fn filter_patterns_with_deep_parentheses_are_invalid_not_fatal() {
    let nested = |n: usize| format!("{{ {}$.a = 1{} }}", "(".repeat(n), ")".repeat(n));
    let (at, past, far) = on_small_stack(move || {
        (
            filter::parse(&nested(filter::MAX_NESTING)).map(|p| p.matches(r#"{"a": 1}"#)),
            filter::parse(&nested(filter::MAX_NESTING + 1)).is_err(),
            filter::parse(&nested(10_000)).is_err(),
        )
    });
    assert_eq!(at, Ok(true));
    assert!(past);
    assert!(far);
}

#[tokio::test]
async fn template_body_longer_than_51200_bytes_is_refused_as_aws_does() {
    let emu = emulator();
    let cfn = Cfn::new(&sdk_config(&emu));
    let head = "Resources:\n  B:\n    Type: AWS::S3::Bucket\n#";
    let body = |len: usize| format!("{head}{}", "x".repeat(len - head.len()));
    let e = cfn
        .create_stack()
        .stack_name("big")
        .template_body(body(51_201))
        .send()
        .await
        .expect_err("refused");
    let e = e.into_service_error();
    assert_eq!(e.meta().code(), Some("ValidationError"));
    assert_eq!(
        e.meta().message(),
        Some(
            "1 validation error detected: Value at 'templateBody' failed to satisfy constraint: Member must have length less than or equal to 51200"
        )
    );
    let v = cfn
        .validate_template()
        .template_body(body(51_201))
        .send()
        .await;
    assert_eq!(code(v), "ValidationError");
    cfn.create_stack()
        .stack_name("fits")
        .template_body(body(51_200))
        .send()
        .await
        .expect("a body of exactly 51,200 bytes is accepted");
}

fn alarm(
    cw: &Cw,
    name: &str,
) -> aws_sdk_cloudwatch::operation::put_metric_alarm::builders::PutMetricAlarmFluentBuilder {
    cw.put_metric_alarm()
        .alarm_name(name)
        .namespace("App")
        .metric_name("Errors")
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
}

#[tokio::test]
async fn alarm_names_aws_refuses_are_refused_and_query_answers_stay_well_formed() {
    let emu = emulator();
    let cw = Cw::new(&sdk_config(&emu));
    assert_eq!(
        code(alarm(&cw, "bad\u{1}name").send().await),
        "InvalidParameterValue"
    );
    assert_eq!(
        code(alarm(&cw, &"n".repeat(256)).send().await),
        "ValidationError"
    );
    alarm(&cw, &"n".repeat(255))
        .send()
        .await
        .expect("255 is fine");
    // Over awsQuery too, and DescribeAlarms' XML has nothing XML cannot carry.
    let put = send(
        &emu,
        form(
            "Action=PutMetricAlarm&Version=2010-08-01&AlarmName=q%01x&Namespace=App\
             &MetricName=Errors&Statistic=Sum&Period=60&EvaluationPeriods=1&Threshold=5\
             &ComparisonOperator=GreaterThanThreshold",
        ),
    )
    .await;
    assert_eq!(put.status, 400, "{}", text(&put));
    assert!(text(&put).contains("<Code>InvalidParameterValue</Code>"));
    let list = send(&emu, form("Action=DescribeAlarms&Version=2010-08-01")).await;
    assert_eq!(list.status, 200);
    let xml = text(&list);
    assert!(
        !xml.chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')),
        "{xml:?}"
    );
}

#[tokio::test]
async fn control_characters_and_line_breaks_round_trip_through_query_xml() {
    let emu = emulator();
    let cfn = Cfn::new(&sdk_config(&emu));
    let description = "line one\r\nline two\u{1}\u{85}<&>\u{2028}end";
    let body = json!({
        "Description": description,
        "Resources": {"B": {"Type": "AWS::S3::Bucket"}}
    });
    cfn.create_stack()
        .stack_name("esc")
        .template_body(body.to_string())
        .send()
        .await
        .expect("create");
    let stacks = cfn
        .describe_stacks()
        .stack_name("esc")
        .send()
        .await
        .expect("the XML answer parses");
    assert_eq!(stacks.stacks()[0].description(), Some(description));
    // An error message that quotes the caller's input stays readable too.
    let bad = cfn
        .create_stack()
        .stack_name("bad\u{7}name")
        .template_body(body.to_string())
        .send()
        .await;
    assert_eq!(code(bad), "ValidationError");
}

#[tokio::test]
async fn wrongly_typed_members_are_serialization_exceptions_in_json_and_cbor() {
    let emu = emulator();
    let put = |threshold: Value| {
        json!({
            "AlarmName": "t", "Namespace": "App", "MetricName": "Errors", "Statistic": "Sum",
            "Period": 60, "EvaluationPeriods": 1, "Threshold": threshold,
            "ComparisonOperator": "GreaterThanThreshold"
        })
    };
    let target = "GraniteServiceVersion20100801.PutMetricAlarm";
    let bad = send(&emu, json_request(target, put(json!("high")).to_string())).await;
    assert_eq!(bad.status, 400, "{}", text(&bad));
    let v: Value = serde_json::from_slice(&bad.body).expect("json error");
    assert_eq!(v["__type"], "SerializationException");
    let good = send(&emu, json_request(target, put(json!(5.0)).to_string())).await;
    assert_eq!(good.status, 200, "{}", text(&good));

    let mut cbor = put(json!(5.0));
    cbor["Period"] = json!("sixty");
    let bad = send(&emu, cbor_request("PutMetricAlarm", &cbor)).await;
    assert_eq!(bad.status, 400);
    assert_eq!(cbor_code(&bad), "SerializationException");

    // A body that is not a structure at all.
    let list = send(&emu, json_request("Logs_20140328.DescribeLogGroups", "[]")).await;
    assert_eq!(list.status, 400, "{}", text(&list));
    assert!(text(&list).contains("SerializationException"));
    let limit = send(
        &emu,
        json_request("Logs_20140328.DescribeLogGroups", r#"{"limit": "ten"}"#),
    )
    .await;
    assert_eq!(limit.status, 400, "{}", text(&limit));
    assert!(text(&limit).contains("SerializationException"));
}

#[tokio::test]
async fn query_numbers_that_are_not_numbers_are_validation_errors() {
    let emu = emulator();
    let r = send(
        &emu,
        form("Action=DescribeAlarms&Version=2010-08-01&MaxRecords=lots"),
    )
    .await;
    assert_eq!(r.status, 400, "{}", text(&r));
    assert!(
        text(&r).contains("<Code>ValidationError</Code>"),
        "{}",
        text(&r)
    );
    let ok = send(
        &emu,
        form("Action=DescribeAlarms&Version=2010-08-01&MaxRecords=10"),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", text(&ok));
}

/// A buildspec is YAML input too: 100,000 nested levels fail the build with CodeBuild's YAML
/// error at once instead of keeping libyaml (and the engine's tick) busy for tens of seconds.
#[tokio::test]
async fn a_buildspec_nested_100000_deep_fails_the_build_as_invalid_yaml() {
    use crate::emulator_codebuild::support::{finished, inline_project, setup, start};
    let env = setup();
    let mut spec = String::from("version: 0.2\nphases:\n  build:\n    commands:\n      - ");
    spec.push_str(&"[".repeat(100_000));
    spec.push_str(&"]".repeat(100_000));
    spec.push('\n');
    inline_project(&env, "deep", &spec).await;
    let id = start(&env, "deep").await;
    let build = finished(&env, &id).await;
    assert_eq!(
        build.build_status(),
        Some(&aws_sdk_codebuild::types::StatusType::Failed)
    );
    let messages: Vec<String> = build
        .phases()
        .iter()
        .flat_map(|p| p.contexts())
        .filter_map(|c| c.message().map(str::to_string))
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("nests too deeply")),
        "{messages:?}"
    );
}

#[test]
fn an_appspec_nested_100000_deep_is_invalid_at_once() {
    let mut spec = String::from("version: 0.0\nResources: ");
    spec.push_str(&"[".repeat(100_000));
    spec.push_str(&"]".repeat(100_000));
    let err = pipetui_emulator::services::codedeploy::parse_appspec(&spec).expect_err("too deep");
    assert!(err.contains("nests too deeply"), "{err}");
}

/// Templates over the inline limit come by `TemplateURL` from S3 (1 MB at most); a URL that is
/// not an S3 object URL, or names no object, is refused as CloudFormation refuses it.
#[tokio::test]
async fn templates_by_url_are_read_from_s3_up_to_one_megabyte() {
    let emu = emulator();
    let cfn = Cfn::new(&sdk_config(&emu));
    let mut resources = serde_json::Map::new();
    for i in 0..700 {
        resources.insert(
            format!("Topic{i:03}"),
            json!({ "Type": "AWS::SNS::Topic", "Properties": { "TopicName": format!("a-rather-long-topic-name-{i:03}") } }),
        );
    }
    let body = json!({ "Resources": resources }).to_string();
    assert!(body.len() > 51_200, "{} bytes", body.len());
    let inline = cfn
        .create_stack()
        .stack_name("big")
        .template_body(&body)
        .send()
        .await;
    assert_eq!(code(inline), "ValidationError");
    let url = emu
        .put_object("templates", "big/stack.json", body.as_bytes())
        .expect("staged");
    cfn.create_stack()
        .stack_name("big")
        .template_url(&url)
        .send()
        .await
        .expect("created from the URL");
    let missing = cfn
        .create_stack()
        .stack_name("other")
        .template_url("https://templates.s3.amazonaws.com/nope.json")
        .send()
        .await;
    assert_eq!(code(missing), "ValidationError");
    let foreign = cfn
        .create_stack()
        .stack_name("other")
        .template_url("https://example.com/stack.json")
        .send()
        .await;
    assert_eq!(code(foreign), "ValidationError");
    let huge = format!(
        "{{\"Resources\": {{}}, \"Description\": \"{}\"}}",
        "x".repeat(1_100_000)
    );
    let url = emu
        .put_object("templates", "huge.json", huge.as_bytes())
        .expect("staged");
    let too_big = cfn
        .create_stack()
        .stack_name("huge")
        .template_url(&url)
        .send()
        .await;
    assert_eq!(code(too_big), "ValidationError");
}
