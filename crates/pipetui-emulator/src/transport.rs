//! Two transports, one emulator: an in-process HTTP client the AWS SDK uses directly (no
//! socket), and an HTTP/1.1 server bound to 127.0.0.1 for any other client. Only the server
//! checks who is asking (`guard`): any local process or web page can reach a socket, while the
//! in-process client is reachable only by the code that holds it.

mod guard;
mod limits;
mod server;

use std::sync::Arc;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest as SdkRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::{Response as SdkResponse, StatusCode};
use aws_smithy_types::body::SdkBody;
use http_body_util::BodyExt;

pub use limits::{AcceptBackoff, LogLimiter, ServerLimits, StallGuard};
pub use server::{Server, serve, serve_with};

use super::core::Emulator;
use super::protocol::HttpRequest;

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
