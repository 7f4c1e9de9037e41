//! Two transports, one emulator: an in-process HTTP client the AWS SDK uses directly (no
//! socket), and an HTTP/1.1 server bound to 127.0.0.1 for any other client.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest as SdkRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::{Response as SdkResponse, StatusCode};
use aws_smithy_types::body::SdkBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use tokio::net::TcpListener;

use super::core::Emulator;
use super::protocol::{HttpRequest, MAX_BODY};

/// The SDK's HTTP client for the embedded emulator: requests never leave the process.
#[derive(Debug, Clone)]
pub struct InProcessClient {
    emulator: Arc<Emulator>,
}

impl InProcessClient {
    pub fn new(emulator: Arc<Emulator>) -> Self {
        Self { emulator }
    }
}

impl HttpClient for InProcessClient {
    fn http_connector(
        &self,
        _: &HttpConnectorSettings,
        _: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

impl HttpConnector for InProcessClient {
    fn call(&self, request: SdkRequest) -> HttpConnectorFuture {
        let emulator = self.emulator.clone();
        HttpConnectorFuture::new(async move {
            let req = from_sdk(request).await?;
            let Some(resp) = emulator.handle(req).await else {
                return Err(ConnectorError::io(
                    "connection dropped by the emulator (injected fault)".into(),
                ));
            };
            let status = StatusCode::try_from(resp.status)
                .map_err(|e| ConnectorError::other(e.into(), None))?;
            let mut out = SdkResponse::new(status, SdkBody::from(resp.body));
            for (k, v) in resp.headers {
                let _ = out.headers_mut().try_append(k, v);
            }
            Ok(out)
        })
    }
}

async fn from_sdk(request: SdkRequest) -> Result<HttpRequest, ConnectorError> {
    let method = request.method().to_string();
    let uri = request.uri().to_string();
    // The path and query only: the emulator routes by path, never by host.
    let path = match uri.find("://") {
        Some(i) => uri[i + 3..]
            .find('/')
            .map_or("/".to_string(), |j| uri[i + 3 + j..].to_string()),
        None => uri,
    };
    let headers = request
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let body = request.into_body();
    let body = match body.bytes() {
        Some(b) => b.to_vec(),
        None => body
            .collect()
            .await
            .map_err(|e| ConnectorError::other(e, None))?
            .to_bytes()
            .to_vec(),
    };
    Ok(HttpRequest {
        method,
        path,
        headers,
        body,
    })
}

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

/// Serves the emulator on 127.0.0.1:`port` (0 picks a free port). Never binds other addresses.
pub async fn serve(emulator: Arc<Emulator>, port: u16) -> std::io::Result<Server> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let emulator = emulator.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| handle(emulator.clone(), req));
                let io = hyper_util::rt::TokioIo::new(stream);
                if let Err(e) = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await
                {
                    tracing::debug!(error = %e, "connection closed");
                }
            });
        }
    });
    Ok(Server { addr, task })
}

type Body = Full<bytes::Bytes>;

async fn handle(
    emulator: Arc<Emulator>,
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
    // One byte over the limit is enough for the protocol layer to refuse the request.
    let body = match Limited::new(body, MAX_BODY + 1).collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(_) => vec![0; MAX_BODY + 1],
    };
    let req = HttpRequest {
        method: parts.method.as_str().to_string(),
        path,
        headers,
        body,
    };
    let Some(resp) = emulator.handle(req).await else {
        // An injected dropped connection: fail the connection without an answer.
        return Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "injected fault",
        ));
    };
    let mut out = hyper::Response::builder().status(resp.status);
    for (k, v) in &resp.headers {
        out = out.header(k, v);
    }
    out.body(Full::new(bytes::Bytes::from(resp.body)))
        .map_err(std::io::Error::other)
}
