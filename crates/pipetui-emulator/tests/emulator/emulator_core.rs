//! The emulator backbone through the real SDK: in-process and over TCP, each protocol's
//! unknown-operation error, the body limit, and injected faults seen through the SDK's retries.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::common;

use common::{emulator, raw, sdk_config_with};
use pipetui_emulator::{Fault, ServiceId, serve};

#[tokio::test]
async fn sts_answers_in_process() {
    let emu = emulator();
    let sts = aws_sdk_sts::Client::new(&sdk_config_with(&emu, 1));
    let id = sts.get_caller_identity().send().await.expect("identity");
    assert_eq!(id.account(), Some("000000000000"));
    assert_eq!(id.arn(), Some("arn:aws:iam::000000000000:user/pipetui"));
}

#[tokio::test]
async fn sts_answers_over_tcp_on_loopback_only() {
    let emu = emulator();
    let server = serve(emu, 0).await.expect("serve");
    assert!(server.addr.ip().is_loopback());
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(format!("http://{}", server.addr))
        .test_credentials()
        .load()
        .await;
    let sts = aws_sdk_sts::Client::new(&conf);
    let id = sts.get_caller_identity().send().await.expect("identity");
    assert_eq!(id.account(), Some("000000000000"));
    server.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_operations_get_each_protocols_error() {
    let server = serve(emulator(), 0).await.expect("serve");
    let addr = server.addr;
    let (json, query, cbor) = tokio::task::spawn_blocking(move || {
        let json = raw(
            addr,
            "/",
            &[
                ("X-Amz-Target", "Logs_20140328.Frobnicate"),
                ("Content-Type", "application/x-amz-json-1.1"),
            ],
            b"{}",
        );
        let query = raw(
            addr,
            "/",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            b"Action=Frobnicate&Version=2010-05-15",
        );
        let cbor = raw(
            addr,
            "/service/GraniteServiceVersion20100801/operation/Frobnicate",
            &[
                ("Content-Type", "application/cbor"),
                ("smithy-protocol", "rpc-v2-cbor"),
            ],
            &[0xa0],
        );
        (json, query, cbor)
    })
    .await
    .expect("join");
    assert_eq!(json.0, 400);
    assert!(String::from_utf8_lossy(&json.2).contains("\"__type\":\"UnknownOperationException\""));
    assert_eq!(query.0, 400);
    let q = String::from_utf8_lossy(&query.2);
    assert!(
        q.contains("<Code>InvalidAction</Code>") && q.contains("<ErrorResponse"),
        "{q}"
    );
    assert_eq!(cbor.0, 404);
    assert!(
        cbor.1
            .to_ascii_lowercase()
            .contains("smithy-protocol: rpc-v2-cbor"),
        "{}",
        cbor.1
    );
    assert!(String::from_utf8_lossy(&cbor.2).contains("UnknownOperationException"));
    server.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_bodies_are_refused() {
    let server = serve(emulator(), 0).await.expect("serve");
    let addr = server.addr;
    let big = vec![b' '; pipetui_emulator::protocol::MAX_BODY + 10];
    let resp = tokio::task::spawn_blocking(move || {
        raw(
            addr,
            "/",
            &[
                ("X-Amz-Target", "Logs_20140328.PutLogEvents"),
                ("Content-Type", "application/x-amz-json-1.1"),
            ],
            &big,
        )
    })
    .await
    .expect("join");
    assert_eq!(resp.0, 413);
    assert!(String::from_utf8_lossy(&resp.2).contains("RequestEntityTooLargeException"));
    server.abort();
}

#[tokio::test(start_paused = true)]
async fn dropped_connections_and_server_errors_are_retried() {
    let emu = emulator();
    emu.faults.seed(1);
    emu.faults.set(
        ServiceId::Sts,
        None,
        Fault {
            drop_connection: 0.3,
            server_error: 0.2,
            ..Default::default()
        },
    );
    let sts = aws_sdk_sts::Client::new(&sdk_config_with(&emu, 8));
    let mut failures = Vec::new();
    for _ in 0..5 {
        if let Err(e) = sts.get_caller_identity().send().await {
            failures.push(aws_smithy_types::error::display::DisplayErrorContext(&e).to_string());
        }
    }
    assert!(
        failures.is_empty(),
        "eight attempts ride out 50% faults: {failures:?}"
    );
    assert!(
        emu.requests.load(Ordering::Relaxed) > 5,
        "some attempts failed and were retried"
    );
}

#[tokio::test(start_paused = true)]
async fn latency_is_added() {
    let emu = emulator();
    emu.faults.set(
        ServiceId::Sts,
        None,
        Fault {
            latency: Duration::from_secs(3),
            ..Default::default()
        },
    );
    let sts = aws_sdk_sts::Client::new(&sdk_config_with(&emu, 1));
    let started = tokio::time::Instant::now();
    sts.get_caller_identity().send().await.expect("identity");
    assert!(started.elapsed() >= Duration::from_secs(3));
}
