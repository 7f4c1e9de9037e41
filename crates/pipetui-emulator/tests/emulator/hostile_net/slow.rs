//! Slow and many clients: stalled heads and bodies and idle connections are closed after their
//! timeout, connections over the cap are refused while held ones keep working, and a request
//! stuck in the emulator does not hold up the others.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{IDENTITY, sdk_over_tcp};
use crate::common::{self, SIGNED, raw};
use pipetui_emulator::protocol::ServiceError;
use pipetui_emulator::{ServerLimits, serve, serve_with};

/// A signed STS GetCallerIdentity, kept alive or not.
pub fn identity_request(addr: SocketAddr, keep_alive: bool) -> Vec<u8> {
    let mut head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\n",
        IDENTITY.len()
    );
    for (k, v) in SIGNED {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !keep_alive {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(IDENTITY);
    out
}

/// Sends `request` on a new connection and reads until the server closes it, waiting at most
/// `wait` for each read.
pub fn exchange(addr: SocketAddr, request: &[u8], wait: Duration) -> io::Result<Vec<u8>> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(wait))?;
    s.write_all(request)?;
    let mut out = Vec::new();
    s.read_to_end(&mut out)?;
    Ok(out)
}

/// Reads one answer (head and a Content-Length body) from a kept-alive connection; its status.
fn read_answer(s: &mut TcpStream) -> io::Result<u16> {
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    s.read_exact(&mut body)?;
    Ok(head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0))
}

/// Whether the server closes `s` by `deadline` (anything it sends first is read and dropped).
fn closed_by(s: &mut TcpStream, deadline: Instant) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        let left = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(10));
        if s.set_read_timeout(Some(left)).is_err() {
            return true;
        }
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return false;
            }
            Err(_) => return true,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn stalled_heads_are_cut_off_while_an_sdk_call_is_served() {
    let limits = ServerLimits {
        header_timeout: Duration::from_millis(500),
        ..Default::default()
    };
    let server = serve_with(common::emulator(), 0, limits)
        .await
        .expect("serve");
    let addr = server.addr;
    let mut stalled = tokio::task::spawn_blocking(move || {
        (0..100)
            .map(|_| {
                let mut s = TcpStream::connect(addr)?;
                s.write_all(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")?;
                Ok(s)
            })
            .collect::<io::Result<Vec<_>>>()
    })
    .await
    .expect("join")
    .expect("100 slow connections");
    let sts = aws_sdk_sts::Client::new(&sdk_over_tcp(addr).await);
    let id = sts
        .get_caller_identity()
        .send()
        .await
        .expect("an SDK call while 100 connections stall");
    assert_eq!(id.account(), Some("000000000000"));
    let closed = tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + Duration::from_secs(5);
        stalled
            .iter_mut()
            .map(|s| closed_by(s, deadline))
            .filter(|c| *c)
            .count()
    })
    .await
    .expect("join");
    assert_eq!(closed, 100, "every stalled connection is closed");
    server.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_body_is_answered_408_and_closed() {
    let limits = ServerLimits {
        body_timeout: Duration::from_millis(500),
        ..Default::default()
    };
    let server = serve_with(common::emulator(), 0, limits)
        .await
        .expect("serve");
    let addr = server.addr;
    let answer = tokio::task::spawn_blocking(move || {
        let mut head = format!(
            "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.1\r\n\
             X-Amz-Target: Logs_20140328.DescribeLogGroups\r\nContent-Length: 100\r\n"
        );
        for (k, v) in SIGNED {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n{\"limit\":");
        exchange(addr, head.as_bytes(), Duration::from_secs(5))
    })
    .await
    .expect("join")
    .expect("the server answers and closes");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("RequestTimeout"), "{text}");
    server.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_connections_are_closed() {
    let limits = ServerLimits {
        header_timeout: Duration::from_millis(500),
        ..Default::default()
    };
    let server = serve_with(common::emulator(), 0, limits)
        .await
        .expect("serve");
    let addr = server.addr;
    let (status, used_closed, silent_closed) = tokio::task::spawn_blocking(move || {
        let mut used = TcpStream::connect(addr).expect("connect");
        let mut silent = TcpStream::connect(addr).expect("connect");
        used.write_all(&identity_request(addr, true))
            .expect("write");
        let status = read_answer(&mut used).expect("an answer, connection kept alive");
        let deadline = Instant::now() + Duration::from_secs(5);
        let used_closed = closed_by(&mut used, deadline);
        let silent_closed = closed_by(&mut silent, deadline);
        (status, used_closed, silent_closed)
    })
    .await
    .expect("join");
    assert_eq!(status, 200);
    assert!(used_closed, "an idle keep-alive connection is closed");
    assert!(silent_closed, "a connection that never sends is closed");
    server.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_over_the_cap_are_refused_while_held_ones_work() {
    let limits = ServerLimits {
        max_connections: 4,
        ..Default::default()
    };
    let server = serve_with(common::emulator(), 0, limits)
        .await
        .expect("serve");
    let addr = server.addr;
    let (refused, held_status, after) = tokio::task::spawn_blocking(move || {
        let mut held: Vec<TcpStream> = (0..4)
            .map(|_| TcpStream::connect(addr).expect("connect"))
            .collect();
        let refused = exchange(addr, b"", Duration::from_secs(5));
        held[0]
            .write_all(&identity_request(addr, true))
            .expect("write");
        let held_status = read_answer(&mut held[0]);
        drop(held);
        // The slots come back once the server sees the connections close.
        let deadline = Instant::now() + Duration::from_secs(5);
        let after = loop {
            let r = exchange(addr, &identity_request(addr, false), Duration::from_secs(5));
            let ok = r.as_ref().is_ok_and(|a| a.starts_with(b"HTTP/1.1 200"));
            if ok || Instant::now() > deadline {
                break r;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        (refused, held_status, after)
    })
    .await
    .expect("join");
    let refused = refused.expect("the fifth connection is answered and closed at once");
    let text = String::from_utf8_lossy(&refused);
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert_eq!(held_status.expect("the held connection answers"), 200);
    let after = after.expect("answer");
    assert!(
        after.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&after)
    );
    server.abort();
}

/// The server runs on this test's only runtime thread: emulator work must not block it.
#[tokio::test]
async fn a_request_stuck_in_the_emulator_does_not_hold_up_others() {
    let emu = common::emulator();
    let server = serve(emu.clone(), 0).await.expect("serve");
    let addr = server.addr;
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let holder = {
        let emu = emu.clone();
        // Holds the store, as a long CloudFormation evaluation or a slow disk would.
        std::thread::spawn(move || {
            emu.store.write(|_| {
                let _ = locked_tx.send(());
                let _ = release_rx.recv_timeout(Duration::from_secs(10));
                Ok::<(), ServiceError>(())
            })
        })
    };
    let (stuck, other) = tokio::task::spawn_blocking(move || {
        locked_rx.recv().expect("the store is held");
        let stuck = std::thread::spawn(move || {
            raw(
                addr,
                "/",
                &[
                    ("X-Amz-Target", "Logs_20140328.CreateLogGroup"),
                    ("Content-Type", "application/x-amz-json-1.1"),
                ],
                br#"{"logGroupName":"held"}"#,
            )
        });
        let deadline = Instant::now() + Duration::from_secs(5);
        while emu.requests.load(Ordering::Relaxed) == 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        let other = exchange(addr, &identity_request(addr, false), Duration::from_secs(5));
        let _ = release_tx.send(());
        (stuck.join().expect("join"), other)
    })
    .await
    .expect("join");
    let other = other.expect("the other request is answered while the first is stuck");
    assert!(
        other.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&other)
    );
    assert_eq!(stuck.0, 200, "{}", stuck.1);
    holder.join().expect("join").expect("store");
    server.abort();
}
