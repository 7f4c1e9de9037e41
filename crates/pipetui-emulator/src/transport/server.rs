//! The HTTP/1.1 server on 127.0.0.1: it admits only what looks like an AWS client, bounds how
//! many connections it holds and how long each may stall, and runs the emulator's work on the
//! blocking pool so one slow request does not hold the threads that serve sockets.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::timeout;

use super::guard;
use super::limits::{AcceptBackoff, LogLimiter, ServerLimits, StallGuard};
use crate::core::{Begun, Emulator};
use crate::protocol::{self, HttpRequest, HttpResponse, MAX_BODY, ServiceError};

/// The first and longest pause after a failed accept.
const ACCEPT_PAUSE: (Duration, Duration) = (Duration::from_millis(10), Duration::from_secs(1));

/// How much of a refused request's body is read, so the answer is not lost to a reset.
const REFUSED_BODY_READ: usize = 64 * 1024;

/// The answer to a connection over the cap, written without reading its request.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\
Retry-After: 1\r\nContent-Length: 0\r\n\r\n";

/// A running TCP server; dropping the handle does not stop it, `abort` does.
#[derive(Debug)]
pub struct Server {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    pub fn abort(&self) {
        self.task.abort();
    }

    /// Waits until the server stops (it runs until aborted).
    pub async fn join(self) {
        let _ = self.task.await;
    }
}

/// What every connection of one server shares.
struct Shared {
    emulator: Arc<Emulator>,
    limits: ServerLimits,
    port: u16,
}

/// Serves the emulator on 127.0.0.1:`port` (0 picks a free port) with the default
/// [`ServerLimits`]. Never binds other addresses.
pub async fn serve(emulator: Arc<Emulator>, port: u16) -> std::io::Result<Server> {
    serve_with(emulator, port, ServerLimits::default()).await
}

/// [`serve`] with explicit limits.
pub async fn serve_with(
    emulator: Arc<Emulator>,
    port: u16,
    limits: ServerLimits,
) -> std::io::Result<Server> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared {
        emulator,
        limits,
        port: addr.port(),
    });
    let task = tokio::spawn(accept_loop(listener, shared));
    Ok(Server { addr, task })
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let slots = Arc::new(Semaphore::new(shared.limits.max_connections));
    let mut backoff = AcceptBackoff::new(ACCEPT_PAUSE.0, ACCEPT_PAUSE.1);
    let mut accept_log = LogLimiter::new(shared.limits.log_interval);
    let mut busy_log = LogLimiter::new(shared.limits.log_interval);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => {
                backoff.succeeded();
                stream
            }
            Err(e) => {
                let pause = backoff.failed();
                if let Some(held) = accept_log.allow(Instant::now()) {
                    tracing::warn!(error = %e, held_back = held, pause_ms = pause.as_millis() as u64, "accepting a connection failed; pausing");
                }
                tokio::time::sleep(pause).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // Best effort and without waiting: the client may already be gone.
            let _ = stream.try_write(BUSY);
            if let Some(held) = busy_log.allow(Instant::now()) {
                tracing::warn!(
                    max = shared.limits.max_connections,
                    held_back = held,
                    "connection refused: the emulator serves its maximum of connections"
                );
            }
            continue;
        };
        tokio::spawn(connection(shared.clone(), stream, slot));
    }
}

/// Serves one connection; its slot is given back when it ends.
async fn connection(shared: Arc<Shared>, stream: TcpStream, _slot: OwnedSemaphorePermit) {
    let _ = stream.set_nodelay(true);
    let io = TokioIo::new(StallGuard::new(stream, shared.limits.write_timeout));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(shared.limits.header_timeout);
    let service = {
        let shared = shared.clone();
        hyper::service::service_fn(move |req| handle(shared.clone(), req))
    };
    if let Err(e) = http.serve_connection(io, service).await {
        tracing::debug!(error = %e, "connection closed");
    }
}

type Body = Full<bytes::Bytes>;

async fn handle(
    shared: Arc<Shared>,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Body>, std::io::Error> {
    let (parts, body) = req.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| "/".to_string(), |p| p.as_str().to_string());
    let headers = parts
        .headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let mut req = HttpRequest {
        method: parts.method.as_str().to_string(),
        path,
        headers,
        body: Vec::new(),
    };
    let authority = parts.uri.authority().map(|a| a.as_str());
    if let Err(refusal) = guard::admit(&req, authority, shared.port) {
        tracing::debug!(code = %refusal.error.code, message = %refusal.error.message, "refused request");
        let drain = Limited::new(body, REFUSED_BODY_READ).collect();
        let _ = timeout(shared.limits.body_timeout, drain).await;
        let request_id = uuid::Uuid::new_v4().to_string();
        let resp = protocol::encode_err(
            refusal.protocol,
            refusal.service,
            &refusal.error,
            &request_id,
        );
        return to_hyper(resp);
    }
    // One byte over the limit is enough for the protocol layer to refuse the request.
    let read = Limited::new(body, MAX_BODY + 1).collect();
    req.body = match timeout(shared.limits.body_timeout, read).await {
        Ok(Ok(b)) => b.to_bytes().to_vec(),
        Ok(Err(_)) => vec![0; MAX_BODY + 1],
        Err(_) => return to_hyper(timed_out(&req, shared.limits.body_timeout)),
    };
    let Some(resp) = respond(shared.emulator.clone(), req).await else {
        // An injected dropped connection: fail the connection without an answer.
        return Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "injected fault",
        ));
    };
    to_hyper(resp)
}

/// The emulator's answer, computed on the blocking pool (decoding, the service's work and
/// encoding are CPU and SQLite work); an injected latency waits without holding a thread.
async fn respond(emulator: Arc<Emulator>, req: HttpRequest) -> Option<HttpResponse> {
    let emu = emulator.clone();
    let begun = tokio::task::spawn_blocking(move || match emu.begin(&req) {
        Begun::Pending(p) if p.latency.is_zero() => Begun::Answered(emu.finish(p)),
        begun => begun,
    })
    .await;
    let pending = match begun {
        Ok(Begun::Answered(resp)) => return resp,
        Ok(Begun::Pending(p)) => p,
        Err(e) => {
            tracing::warn!(error = %e, "the emulator failed to answer a request");
            return None;
        }
    };
    tokio::time::sleep(pending.latency).await;
    match tokio::task::spawn_blocking(move || emulator.finish(pending)).await {
        Ok(resp) => resp,
        Err(e) => {
            tracing::warn!(error = %e, "the emulator failed to answer a request");
            None
        }
    }
}

/// The answer to a request whose body did not arrive in time; the connection then closes.
fn timed_out(req: &HttpRequest, limit: Duration) -> HttpResponse {
    let (protocol, service) = protocol::detect(req);
    let error = ServiceError::new(
        "RequestTimeout",
        format!(
            "The request body did not arrive within {} s",
            limit.as_secs_f64()
        ),
    )
    .with_status(408);
    let mut resp =
        protocol::encode_err(protocol, service, &error, &uuid::Uuid::new_v4().to_string());
    resp.headers.push(("Connection".into(), "close".into()));
    resp
}

fn to_hyper(resp: HttpResponse) -> Result<hyper::Response<Body>, std::io::Error> {
    let mut out = hyper::Response::builder().status(resp.status);
    for (k, v) in &resp.headers {
        out = out.header(k, v);
    }
    out.body(Full::new(bytes::Bytes::from(resp.body)))
        .map_err(std::io::Error::other)
}
