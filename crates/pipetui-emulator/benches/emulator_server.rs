//! Throughput and latency of the emulator's TCP server (`pipetui_emulator::serve`) under 64
//! concurrent keep-alive connections, for two read-heavy calls:
//!
//! * DescribeAlarms (RPC v2 CBOR, default MaxRecords 50) with 200 metric alarms stored;
//! * GetLogEvents (awsJson 1.1, limit 50, from the head) on a stream of 100,000 events.
//!
//! The store is seeded through the real protocol (the AWS SDK on the in-process transport), then
//! raw HTTP/1.1 clients written on tokio's `TcpStream` send pre-encoded requests, so the figures
//! measure the server rather than the SDK. Server and clients share the process (and the
//! machine's cores) but run on separate tokio runtimes.
//!
//! `cargo bench --bench emulator_server`; environment knobs:
//! `BENCH_SECONDS` (measured seconds per scenario, default 10), `BENCH_WARMUP` (default 2),
//! `BENCH_CONNECTIONS` (default 64), `BENCH_SERVER_THREADS` / `BENCH_CLIENT_THREADS` (tokio worker
//! threads of each runtime, default: the core count), `BENCH_ONLY` (run only the scenarios whose
//! name contains this text, e.g. `describe` or `getlog`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_cloudwatch::config::{Credentials, SharedCredentialsProvider};
use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, Statistic};
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use pipetui_emulator::protocol::HttpRequest;
use pipetui_emulator::{Clock, Emulator, InProcessClient, ServiceId, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The manual clock's instant, 2026-01-01T00:00:00Z.
const NOW_SECS: f64 = 1_767_225_600.0;
const ALARMS: usize = 200;
const EVENTS: usize = 100_000;
const BATCH: usize = 10_000;
const GROUP: &str = "/bench/server";
const STREAM: &str = "app/0001";

fn env_f64(name: &str, default: f64) -> f64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, got {v:?}")),
        Err(_) => default,
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a whole number, got {v:?}")),
        Err(_) => default,
    }
}

/// One request to replay: its wire bytes and the same request for the in-process path.
struct Scenario {
    name: &'static str,
    wire: Arc<Vec<u8>>,
    in_process: HttpRequest,
    service: ServiceId,
    operation: &'static str,
    input: serde_json::Value,
}

/// The SigV4 headers an AWS client sends; the server checks their form, not the signature.
const SIGNED: [(&str, &str); 2] = [
    (
        "Authorization",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/monitoring/aws4_request, \
         SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000",
    ),
    ("X-Amz-Date", "20260101T000000Z"),
];

fn encode(addr: SocketAddr, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

#[allow(clippy::too_many_arguments)]
fn scenario(
    addr: SocketAddr,
    name: &'static str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
    service: ServiceId,
    operation: &'static str,
    input: serde_json::Value,
) -> Scenario {
    let headers: Vec<(&str, &str)> = SIGNED.iter().chain(headers).copied().collect();
    let headers = headers.as_slice();
    let wire = Arc::new(encode(addr, path, headers, &body));
    let mut all: Vec<(String, String)> = vec![
        ("host".into(), addr.to_string()),
        ("content-length".into(), body.len().to_string()),
    ];
    all.extend(
        headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_string())),
    );
    Scenario {
        name,
        wire,
        in_process: HttpRequest {
            method: "POST".into(),
            path: path.into(),
            headers: all,
            body,
        },
        service,
        operation,
        input,
    }
}

fn scenarios(addr: SocketAddr) -> Vec<Scenario> {
    let logs_input = serde_json::json!({
        "logGroupName": GROUP,
        "logStreamName": STREAM,
        "limit": 50,
        "startFromHead": true,
    });
    vec![
        scenario(
            addr,
            "DescribeAlarms (CBOR, 200 alarms)",
            "/service/GraniteServiceVersion20100801/operation/DescribeAlarms",
            &[
                ("Content-Type", "application/cbor"),
                ("Accept", "application/cbor"),
                ("smithy-protocol", "rpc-v2-cbor"),
            ],
            vec![0xa0],
            ServiceId::CloudWatch,
            "DescribeAlarms",
            serde_json::json!({}),
        ),
        scenario(
            addr,
            "GetLogEvents (JSON, 100k events)",
            "/",
            &[
                ("X-Amz-Target", "Logs_20140328.GetLogEvents"),
                ("Content-Type", "application/x-amz-json-1.1"),
            ],
            logs_input.to_string().into_bytes(),
            ServiceId::Logs,
            "GetLogEvents",
            logs_input,
        ),
    ]
}

/// Stores 200 alarms and 100,000 log events through the SDK on the in-process transport.
async fn seed(emu: Arc<Emulator>) {
    let conf = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url("http://emulator.internal")
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "AKIDEXAMPLE",
            "bench",
            None,
            None,
            "bench",
        )))
        .http_client(InProcessClient::new(emu))
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(120))
                .build(),
        )
        .build();
    let cw = aws_sdk_cloudwatch::Client::new(&conf);
    for i in 0..ALARMS {
        cw.put_metric_alarm()
            .alarm_name(format!("bench-alarm-{i:04}"))
            .alarm_description("seeded by the emulator_server bench")
            .namespace("Bench/Server")
            .metric_name(format!("Latency{}", i % 10))
            .dimensions(
                Dimension::builder()
                    .name("Service")
                    .value(format!("svc-{i}"))
                    .build(),
            )
            .statistic(Statistic::Average)
            .period(60)
            .evaluation_periods(3)
            .threshold(100.0 + i as f64)
            .comparison_operator(ComparisonOperator::GreaterThanThreshold)
            .alarm_actions("arn:aws:sns:us-east-1:000000000000:bench")
            .send()
            .await
            .expect("PutMetricAlarm while seeding");
    }

    let logs = aws_sdk_cloudwatchlogs::Client::new(&conf);
    logs.create_log_group()
        .log_group_name(GROUP)
        .send()
        .await
        .expect("CreateLogGroup while seeding");
    logs.create_log_stream()
        .log_group_name(GROUP)
        .log_stream_name(STREAM)
        .send()
        .await
        .expect("CreateLogStream while seeding");
    // One event a second, ending one second before the clock: all within the 14-day window.
    let now_ms = (NOW_SECS as i64) * 1000;
    let first_ms = now_ms - (EVENTS as i64) * 1000;
    for batch in 0..EVENTS / BATCH {
        let events: Vec<InputLogEvent> = (batch * BATCH..(batch + 1) * BATCH)
            .map(|i| {
                InputLogEvent::builder()
                    .timestamp(first_ms + i as i64 * 1000)
                    .message(format!(
                        "2025-12-31 level=INFO request_id={i:08} path=/api/items status=200 took_ms={}",
                        i % 97
                    ))
                    .build()
                    .expect("log event has a timestamp and a message")
            })
            .collect();
        let out = logs
            .put_log_events()
            .log_group_name(GROUP)
            .log_stream_name(STREAM)
            .set_log_events(Some(events))
            .send()
            .await
            .expect("PutLogEvents while seeding");
        assert!(
            out.rejected_log_events_info().is_none(),
            "the emulator rejected seeded events: {:?}",
            out.rejected_log_events_info()
        );
    }

    // Check the seed through the same protocol.
    let pages = cw
        .describe_alarms()
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("DescribeAlarms while checking the seed");
    let alarms: usize = pages.iter().map(|p| p.metric_alarms().len()).sum();
    assert_eq!(alarms, ALARMS, "alarms stored");
    let stream = logs
        .describe_log_streams()
        .log_group_name(GROUP)
        .send()
        .await
        .expect("DescribeLogStreams while checking the seed");
    let s = stream.log_streams().first().expect("the seeded stream");
    assert_eq!(s.first_event_timestamp(), Some(first_ms));
    assert_eq!(
        s.last_event_timestamp(),
        Some(first_ms + (EVENTS as i64 - 1) * 1000)
    );
}

/// A failure seen by a client connection.
#[derive(Debug)]
enum Failure {
    Io(std::io::Error),
    Status(u16),
    Protocol(&'static str),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Io(e) => write!(f, "I/O error: {e}"),
            Failure::Status(s) => write!(f, "HTTP {s}"),
            Failure::Protocol(m) => write!(f, "protocol: {m}"),
        }
    }
}

/// Reads one HTTP/1.1 response with a Content-Length body; returns (status, body length).
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<(u16, usize), Failure> {
    buf.clear();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await.map_err(Failure::Io)?;
        if n == 0 {
            return Err(Failure::Protocol(
                "connection closed before the response head",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..head_end])
        .map_err(|_| Failure::Protocol("head is not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or(Failure::Protocol("bad status line"))?;
    let mut length = None;
    for line in lines {
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse::<usize>().ok();
            } else if k.eq_ignore_ascii_case("transfer-encoding") {
                return Err(Failure::Protocol("chunked responses are not expected"));
            }
        }
    }
    let length = length.ok_or(Failure::Protocol("no Content-Length"))?;
    let total = head_end + length;
    while buf.len() < total {
        let n = stream.read(&mut chunk).await.map_err(Failure::Io)?;
        if n == 0 {
            return Err(Failure::Protocol("connection closed inside the body"));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    if buf.len() > total {
        return Err(Failure::Protocol(
            "bytes after the response (none were requested)",
        ));
    }
    if status != 200 {
        return Err(Failure::Status(status));
    }
    Ok((status, length))
}

/// What one connection saw while measuring.
#[derive(Default)]
struct ConnStats {
    latencies_ns: Vec<u64>,
    errors: u64,
    last_error: Option<String>,
}

/// Sends `wire` back to back on one keep-alive connection until `end`; records the requests
/// that complete inside [measure_from, end).
async fn connection(
    addr: SocketAddr,
    wire: Arc<Vec<u8>>,
    measure_from: Instant,
    end: Instant,
) -> ConnStats {
    let mut stats = ConnStats {
        latencies_ns: Vec::with_capacity(32 * 1024),
        ..Default::default()
    };
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut stream: Option<TcpStream> = None;
    loop {
        let started = Instant::now();
        if started >= end {
            break;
        }
        let s = match stream.as_mut() {
            Some(s) => s,
            None => match TcpStream::connect(addr).await {
                Ok(s) => {
                    s.set_nodelay(true).expect("TCP_NODELAY on a client socket");
                    stream.insert(s)
                }
                Err(e) => {
                    if started >= measure_from {
                        stats.errors += 1;
                        stats.last_error = Some(format!("connect: {e}"));
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let result = match s.write_all(&wire).await {
            Ok(()) => read_response(s, &mut buf).await,
            Err(e) => Err(Failure::Io(e)),
        };
        let done = Instant::now();
        let counted = done >= measure_from && done < end;
        match result {
            Ok(_) => {
                if counted {
                    stats.latencies_ns.push((done - started).as_nanos() as u64);
                }
            }
            Err(f) => {
                if counted {
                    stats.errors += 1;
                    stats.last_error = Some(f.to_string());
                }
                // Non-200 answers leave the connection usable; anything else does not.
                if !matches!(f, Failure::Status(_)) {
                    stream = None;
                }
            }
        }
    }
    stats
}

struct Figures {
    name: &'static str,
    requests: usize,
    seconds: f64,
    p50: Duration,
    p99: Duration,
    p999: Duration,
    max: Duration,
    errors: u64,
    last_error: Option<String>,
}

fn percentile(sorted: &[u64], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Duration::from_nanos(sorted[rank.clamp(1, sorted.len()) - 1])
}

fn run_load(
    client_rt: &tokio::runtime::Runtime,
    addr: SocketAddr,
    s: &Scenario,
    connections: usize,
    warmup: Duration,
    measured: Duration,
) -> Figures {
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + measured;
    let stats: Vec<ConnStats> = client_rt.block_on(async {
        let tasks: Vec<_> = (0..connections)
            .map(|_| tokio::spawn(connection(addr, s.wire.clone(), measure_from, end)))
            .collect();
        let mut out = Vec::with_capacity(tasks.len());
        for t in tasks {
            out.push(t.await.expect("a client connection task panicked"));
        }
        out
    });
    let mut all: Vec<u64> = stats
        .iter()
        .flat_map(|c| c.latencies_ns.iter().copied())
        .collect();
    all.sort_unstable();
    Figures {
        name: s.name,
        requests: all.len(),
        seconds: measured.as_secs_f64(),
        p50: percentile(&all, 50.0),
        p99: percentile(&all, 99.0),
        p999: percentile(&all, 99.9),
        max: all
            .last()
            .map_or(Duration::ZERO, |n| Duration::from_nanos(*n)),
        errors: stats.iter().map(|c| c.errors).sum(),
        last_error: stats.iter().find_map(|c| c.last_error.clone()),
    }
}

/// Mean serial cost of `f` over `iterations` calls.
fn serial_cost(iterations: u32, mut f: impl FnMut()) -> Duration {
    for _ in 0..iterations.div_ceil(10) {
        f();
    }
    let t = Instant::now();
    for _ in 0..iterations {
        f();
    }
    t.elapsed() / iterations
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse beyond ignoring it.
    let measured = Duration::from_secs_f64(env_f64("BENCH_SECONDS", 10.0));
    let warmup = Duration::from_secs_f64(env_f64("BENCH_WARMUP", 2.0));
    let connections = env_usize("BENCH_CONNECTIONS", 64);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let server_threads = env_usize("BENCH_SERVER_THREADS", cores);
    let client_threads = env_usize("BENCH_CLIENT_THREADS", cores);

    let dir = tempfile::tempdir().expect("a temporary directory for the emulator's SQLite file");
    let emu = Emulator::open(dir.path(), Clock::manual(NOW_SECS)).expect("open the emulator store");

    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(server_threads)
        .thread_name("emu-server")
        .enable_all()
        .build()
        .expect("the server runtime");
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(client_threads)
        .thread_name("bench-client")
        .enable_all()
        .build()
        .expect("the client runtime");

    let t = Instant::now();
    server_rt.block_on(seed(emu.clone()));
    println!(
        "seeded {ALARMS} alarms and {EVENTS} log events (SDK, in-process transport) in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let server = server_rt
        .block_on(serve(emu.clone(), 0))
        .expect("serve the emulator on 127.0.0.1");
    let addr = server.addr;

    let only = std::env::var("BENCH_ONLY")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let scenarios: Vec<Scenario> = scenarios(addr)
        .into_iter()
        .filter(|s| s.name.to_ascii_lowercase().contains(&only))
        .collect();

    // One request of each over TCP: must be a 200 with a body of the expected shape.
    for s in &scenarios {
        let (status, len, body) = client_rt.block_on(async {
            let mut stream = TcpStream::connect(addr)
                .await
                .expect("connect to the emulator");
            stream.write_all(&s.wire).await.expect("send a request");
            let mut buf = Vec::new();
            let (status, len) = read_response(&mut stream, &mut buf)
                .await
                .unwrap_or_else(|f| panic!("{}: first request failed: {f}", s.name));
            let body = buf[buf.len() - len..].to_vec();
            (status, len, body)
        });
        assert_eq!(status, 200);
        if s.service == ServiceId::Logs {
            let v: serde_json::Value =
                serde_json::from_slice(&body).expect("GetLogEvents answers JSON");
            let n = v["events"].as_array().map_or(0, Vec::len);
            assert_eq!(n, 50, "GetLogEvents returns a page of 50 events");
        } else {
            let v = pipetui_emulator::protocol::cbor::decode(&body)
                .expect("DescribeAlarms answers CBOR");
            let n = v["MetricAlarms"].as_array().map_or(0, Vec::len);
            assert_eq!(n, 50, "DescribeAlarms returns a page of 50 alarms");
        }
        println!("  {:<36} response: {len} bytes", s.name);
    }

    println!();
    println!(
        "machine: {cores} core(s); server: tokio multi-thread runtime, {server_threads} worker(s); \
         clients: separate tokio multi-thread runtime, {client_threads} worker(s), same process"
    );
    println!(
        "(client work competes with the server for the same {cores} core(s); the figures include it)"
    );
    println!(
        "load: {connections} keep-alive HTTP/1.1 connections, one request in flight each; \
         {:.0} s warm-up, {:.0} s measured per scenario",
        warmup.as_secs_f64(),
        measured.as_secs_f64()
    );
    println!();

    let mut results = Vec::new();
    for s in &scenarios {
        results.push(run_load(&client_rt, addr, s, connections, warmup, measured));
    }

    println!(
        "{:<36} {:>12} {:>10} {:>10} {:>10} {:>10} {:>8}  target (>= 10,000 req/s, p99 <= 10 ms)",
        "scenario", "requests/s", "p50", "p99", "p99.9", "max", "errors"
    );
    for f in &results {
        let rps = f.requests as f64 / f.seconds;
        let ok = rps >= 10_000.0 && f.p99 <= Duration::from_millis(10) && f.errors == 0;
        println!(
            "{:<36} {:>12.0} {:>10} {:>10} {:>10} {:>10} {:>8}  {}",
            f.name,
            rps,
            ms(f.p50),
            ms(f.p99),
            ms(f.p999),
            ms(f.max),
            f.errors,
            if ok { "met" } else { "MISSED" }
        );
        if let Some(e) = &f.last_error {
            println!("    last error: {e}");
        }
    }

    // Where the time goes: the same requests without the network, serially on this thread.
    println!();
    println!("serial in-process cost per request (no TCP/hyper; one thread):");
    println!(
        "(cores / handle is an upper bound only if requests ran in parallel; the store's one \
         SQLite connection sits behind a mutex, so store work is serialized)"
    );
    println!(
        "{:<36} {:>16} {:>18} {:>22}",
        "scenario", "Emulator::handle", "service dispatch", "cores / handle"
    );
    for s in &scenarios {
        let iterations = 300;
        let handle = serial_cost(iterations, || {
            let resp = server_rt
                .block_on(emu.handle(s.in_process.clone()))
                .expect("no injected faults");
            assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
        });
        let dispatch = serial_cost(iterations, || {
            emu.dispatch(s.service, s.operation, &s.input)
                .expect("the service answers");
        });
        println!(
            "{:<36} {:>16} {:>18} {:>16.0} req/s",
            s.name,
            ms(handle),
            ms(dispatch),
            cores as f64 / handle.as_secs_f64()
        );
    }

    server.abort();
    drop(server_rt);
    drop(client_rt);
}
