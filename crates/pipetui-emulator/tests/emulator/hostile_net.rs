//! The TCP server against hostile clients: a web page posting to 127.0.0.1 (directly or after a
//! DNS rebinding) is refused before anything runs, and slow or many clients cannot hold the
//! server (`slow`); a slow request does not hold up the others.

mod fds;
mod slow;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::common::{self, SIGNED, raw, raw_unsigned};
use pipetui_emulator::protocol::cbor;
use pipetui_emulator::{Clock, Emulator, EngineSettings, serve};

/// STS GetCallerIdentity as a form: touches nothing, so it answers whatever else is going on.
const IDENTITY: &[u8] = b"Action=GetCallerIdentity&Version=2011-06-15";
const FORM: (&str, &str) = (
    "Content-Type",
    "application/x-www-form-urlencoded; charset=utf-8",
);

/// Request headers, and the status and error code they must be refused with.
type Case<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str);

/// An SDK configuration that reaches `addr` over TCP, one attempt per call.
async fn sdk_over_tcp(addr: SocketAddr) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(format!("http://{addr}"))
        .test_credentials()
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(20))
                .build(),
        )
        .load()
        .await
}

/// An emulator working in a temporary directory (builds really run there).
fn emulator_in(dir: &std::path::Path) -> Arc<Emulator> {
    Emulator::in_memory_with(
        Clock::manual(common::START),
        EngineSettings::new(dir.join("work")),
    )
    .expect("emulator")
}

fn project(name: &str, marker: &std::path::Path) -> serde_json::Value {
    json!({
        "name": name,
        "source": {
            "type": "NO_SOURCE",
            "buildspec": format!(
                "version: 0.2\nphases:\n  build:\n    commands:\n      - touch '{}'\n",
                marker.display()
            ),
        },
        "artifacts": {"type": "NO_ARTIFACTS"},
        "environment": {
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/standard:7.0",
            "computeType": "BUILD_GENERAL1_SMALL",
        },
        "serviceRole": "arn:aws:iam::000000000000:role/build",
    })
}

/// The error code in a refused answer: awsJson and CBOR carry `__type`, awsQuery `<Code>`.
fn error_code(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if let Some(rest) = text.split("<Code>").nth(1) {
        return rest.split("</Code>").next().unwrap_or("").to_string();
    }
    let v = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .or_else(|| cbor::decode(body).ok())
        .unwrap_or_default();
    let t = v["__type"].as_str().unwrap_or("");
    t.rsplit('#').next().unwrap_or(t).to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_web_page_cannot_create_a_project_and_start_a_build() {
    let dir = tempfile::tempdir().expect("temp dir");
    let emu = emulator_in(dir.path());
    let server = serve(emu.clone(), 0).await.expect("serve");
    let addr = server.addr;
    let marker = dir.path().join("pwned");
    let create = cbor::encode(&project("pwn", &marker));
    let start = cbor::encode(&json!({"projectName": "pwn"}));
    // What `fetch(url, {method: "POST", mode: "no-cors", body})` sends from any page.
    let page = [
        ("Content-Type", "text/plain;charset=UTF-8"),
        ("Origin", "https://attacker.example"),
        ("Sec-Fetch-Site", "cross-site"),
        ("Sec-Fetch-Mode", "no-cors"),
    ];
    let (created, started) = tokio::task::spawn_blocking(move || {
        let path = |op: &str| format!("/service/CodeBuild_20161006/operation/{op}");
        (
            raw_unsigned(addr, &path("CreateProject"), &page, &create),
            raw_unsigned(addr, &path("StartBuild"), &page, &start),
        )
    })
    .await
    .expect("join");
    for (status, head, body) in [&created, &started] {
        assert_eq!(*status, 403, "{head}");
        assert_eq!(error_code(body), "AccessDeniedException", "{head}");
    }
    let cb = aws_sdk_codebuild::Client::new(&common::sdk_config(&emu));
    let projects = cb.list_projects().send().await.expect("list");
    assert!(projects.projects().is_empty(), "{projects:?}");
    emu.settle(Duration::from_secs(5));
    assert!(!marker.exists(), "the page's buildspec ran");
    server.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_that_do_not_look_like_an_aws_clients_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let emu = emulator_in(dir.path());
    let server = serve(emu.clone(), 0).await.expect("serve");
    let addr = server.addr;
    let marker = dir.path().join("pwned");
    let body = serde_json::to_vec(&project("pwn", &marker)).expect("json");
    let target = ("X-Amz-Target", "CodeBuild_20161006.CreateProject");
    let json11 = ("Content-Type", "application/x-amz-json-1.1");
    let [auth, date] = SIGNED;
    let other_port = format!("127.0.0.1:{}", addr.port().wrapping_add(1));
    let cases: Vec<Case<'_>> = vec![
        // A page's simple request: no signature, a content type a page may send.
        (
            vec![target, ("Content-Type", "text/plain")],
            403,
            "MissingAuthenticationTokenException",
        ),
        // Signed but in a content type no AWS client sends.
        (
            vec![target, auth, date, ("Content-Type", "text/plain")],
            415,
            "UnsupportedMediaTypeException",
        ),
        (
            vec![target, json11],
            403,
            "MissingAuthenticationTokenException",
        ),
        (
            vec![target, json11, ("Authorization", "Bearer x"), date],
            400,
            "IncompleteSignatureException",
        ),
        (
            vec![
                target,
                json11,
                (
                    "Authorization",
                    "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/codebuild/aws4_request",
                ),
                date,
            ],
            400,
            "IncompleteSignatureException",
        ),
        (
            vec![target, json11, auth],
            400,
            "IncompleteSignatureException",
        ),
        // Anything from a browser, however well formed.
        (
            vec![target, json11, auth, date, ("Origin", "null")],
            403,
            "AccessDeniedException",
        ),
        (
            vec![target, json11, auth, date, ("Sec-Fetch-Site", "same-site")],
            403,
            "AccessDeniedException",
        ),
        // A name rebound to 127.0.0.1, or another port.
        (
            vec![target, json11, auth, date, ("Host", "attacker.example")],
            403,
            "AccessDeniedException",
        ),
        (
            vec![target, json11, auth, date, ("Host", other_port.as_str())],
            403,
            "AccessDeniedException",
        ),
    ];
    let requests: Vec<Vec<(String, String)>> = cases
        .iter()
        .map(|(h, _, _)| {
            h.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .collect();
    let answers = tokio::task::spawn_blocking(move || {
        requests
            .iter()
            .map(|h| {
                let h: Vec<(&str, &str)> =
                    h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                raw_unsigned(addr, "/", &h, &body)
            })
            .collect::<Vec<_>>()
    })
    .await
    .expect("join");
    for ((status, head, body), (_, want_status, want_code)) in answers.iter().zip(&cases) {
        assert_eq!(status, want_status, "{head}");
        assert_eq!(error_code(body), *want_code, "{head}");
    }
    let cb = aws_sdk_codebuild::Client::new(&common::sdk_config(&emu));
    assert!(
        cb.list_projects()
            .send()
            .await
            .expect("list")
            .projects()
            .is_empty()
    );
    server.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn each_protocol_refuses_in_its_own_envelope() {
    let server = serve(common::emulator(), 0).await.expect("serve");
    let addr = server.addr;
    let (query, query_text, cbor_plain, cbor_no_header, cbor_ok, localhost) =
        tokio::task::spawn_blocking(move || {
            let cw = "/service/GraniteServiceVersion20100801/operation/DescribeAlarms";
            let [auth, date] = SIGNED;
            let local = format!("localhost:{}", addr.port());
            (
                raw_unsigned(addr, "/", &[FORM], IDENTITY),
                raw(addr, "/", &[("Content-Type", "text/plain")], IDENTITY),
                raw(
                    addr,
                    cw,
                    &[
                        ("Content-Type", "text/plain"),
                        ("smithy-protocol", "rpc-v2-cbor"),
                    ],
                    &[0xa0],
                ),
                raw(addr, cw, &[("Content-Type", "application/cbor")], &[0xa0]),
                raw(
                    addr,
                    cw,
                    &[
                        ("Content-Type", "application/cbor"),
                        ("smithy-protocol", "rpc-v2-cbor"),
                    ],
                    &[0xa0],
                ),
                raw_unsigned(
                    addr,
                    "/",
                    &[FORM, auth, date, ("Host", local.as_str())],
                    IDENTITY,
                ),
            )
        })
        .await
        .expect("join");
    assert_eq!(query.0, 403, "{}", query.1);
    let xml = String::from_utf8_lossy(&query.2);
    assert!(
        xml.contains("<ErrorResponse") && xml.contains("<Code>MissingAuthenticationToken</Code>"),
        "{xml}"
    );
    assert_eq!(query_text.0, 400, "{}", query_text.1);
    assert_eq!(error_code(&query_text.2), "MissingAction");
    // CloudWatch is query-compatible: the query code rides in x-amzn-query-error.
    for (status, head, body) in [&cbor_plain, &cbor_no_header] {
        assert_eq!(*status, 415, "{head}");
        assert!(
            head.to_ascii_lowercase()
                .contains("x-amzn-query-error: unsupportedmediatype;sender"),
            "{head}"
        );
        assert_eq!(error_code(body), "UnsupportedMediaType");
    }
    assert_eq!(cbor_ok.0, 200, "{}", cbor_ok.1);
    assert_eq!(localhost.0, 200, "{}", localhost.1);
    server.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn presigned_queries_pass_unless_a_browser_sends_them() {
    let server = serve(common::emulator(), 0).await.expect("serve");
    let addr = server.addr;
    let url = "/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256\
               &X-Amz-Credential=AKIDEXAMPLE%2F20260101%2Fus-east-1%2Fsts%2Faws4_request\
               &X-Amz-Date=20260101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host\
               &X-Amz-Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";
    let (tool, page) = tokio::task::spawn_blocking(move || {
        let get = |extra: &str| {
            let request =
                format!("GET {url} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{extra}\r\n");
            slow::exchange(addr, request.as_bytes(), Duration::from_secs(10))
        };
        (
            get(""),
            get("Sec-Fetch-Site: cross-site\r\nSec-Fetch-Mode: no-cors\r\n"),
        )
    })
    .await
    .expect("join");
    let tool = tool.expect("answer");
    let text = String::from_utf8_lossy(&tool);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("<Account>000000000000</Account>"), "{text}");
    let page = page.expect("answer");
    let text = String::from_utf8_lossy(&page);
    assert!(text.starts_with("HTTP/1.1 403"), "{text}");
    assert!(text.contains("<Code>AccessDenied</Code>"), "{text}");
    server.abort();
}
