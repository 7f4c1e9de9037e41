//! Helpers shared by the emulator tests: an emulator on a manual clock, SDK settings for it, and
//! a raw HTTP/1.1 request for protocols the Rust SDK does not speak.
// Each test crate uses a different subset of these helpers.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use pipetui_emulator::{Clock, Emulator, InProcessClient};

/// 2026-01-01T00:00:00Z, a period boundary.
pub const START: f64 = 1_767_225_600.0;

/// An in-memory emulator whose clock stands at [`START`] until a test advances it.
pub fn emulator() -> Arc<Emulator> {
    Emulator::in_memory(Clock::manual(START)).expect("emulator")
}

/// The SDK configuration that reaches `emu` in process with `attempts` tries per call (the
/// SDK's standard retry mode: throttling and 5xx answers are retried as on AWS).
pub fn sdk_config_with(emu: &Arc<Emulator>, attempts: u32) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url("http://emulator.internal")
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "AKIDEXAMPLE",
            "emulator-secret",
            None,
            None,
            "tests",
        )))
        .http_client(InProcessClient::new(emu.clone()))
        .retry_config(RetryConfig::standard().with_max_attempts(attempts.max(1)))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_timeout(Duration::from_secs(30))
                .build(),
        )
        .build()
}

/// The SDK configuration that reaches `emu` in process, one attempt per call.
pub fn sdk_config(emu: &Arc<Emulator>) -> SdkConfig {
    sdk_config_with(emu, 1)
}

/// The error code of a call that must fail with a service error.
pub fn code<T, E, R>(r: Result<T, SdkError<E, R>>) -> String
where
    T: std::fmt::Debug,
    E: ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    let e = r.expect_err("the call should fail");
    e.as_service_error()
        .and_then(|s| s.code())
        .unwrap_or_else(|| panic!("not a service error: {e:?}"))
        .to_string()
}

/// The SigV4 headers an AWS client sends (the emulator checks their form, not the signature).
pub const SIGNED: [(&str, &str); 2] = [
    (
        "Authorization",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/emulator/aws4_request, \
         SignedHeaders=content-type;host;x-amz-date, \
         Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
    ),
    ("X-Amz-Date", "20260101T000000Z"),
];

/// Sends one raw HTTP/1.1 POST as an AWS client would (Host `addr`, a SigV4 `Authorization`)
/// and returns (status, head, body).
pub fn raw(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, Vec<u8>) {
    let mut all = SIGNED.to_vec();
    all.extend_from_slice(headers);
    raw_unsigned(addr, path, &all, body)
}

/// Sends one raw HTTP/1.1 POST with only Host, Connection, Content-Length and `headers`.
pub fn raw_unsigned(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, Vec<u8>) {
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let mut s = TcpStream::connect(addr).expect("connect");
    s.write_all(req.as_bytes()).expect("write");
    let _ = s.write_all(body);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(out.len());
    let head = String::from_utf8_lossy(&out[..split]).to_string();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (
        status,
        head,
        out.get(split + 4..).unwrap_or_default().to_vec(),
    )
}
