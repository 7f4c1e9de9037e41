//! The emulator: routes each decoded call to its service, injects faults, encodes the answer.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::clock::Clock;
use super::faults::{Faults, Injected};
use super::protocol::{
    self, HttpRequest, HttpResponse, Input, Output, Protocol, ServiceError, ServiceId,
};
use super::service::{Ctx, Service, UNKNOWN_OPERATION};
use super::services;
use super::store::Store;

/// The account every emulated resource belongs to.
pub const ACCOUNT_ID: &str = "000000000000";

pub struct Emulator {
    pub store: Store,
    pub clock: Clock,
    pub faults: Faults,
    pub region: String,
    /// Requests received, faults included (tests observe the SDK's retries with it).
    pub requests: AtomicU64,
    services: HashMap<ServiceId, Box<dyn Service>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// An emulator whose state lives in `state_dir/emulator.db`.
    pub fn open(state_dir: &Path, clock: Clock) -> Result<Arc<Self>, rusqlite::Error> {
        if let Err(e) = std::fs::create_dir_all(state_dir) {
            return Err(rusqlite::Error::InvalidPath(
                state_dir.join(format!("({e})")),
            ));
        }
        Ok(Self::with_store(
            Store::open(&state_dir.join("emulator.db"))?,
            clock,
        ))
    }

    /// An emulator with a throwaway in-memory store.
    pub fn in_memory(clock: Clock) -> Result<Arc<Self>, rusqlite::Error> {
        Ok(Self::with_store(Store::in_memory()?, clock))
    }

    fn with_store(store: Store, clock: Clock) -> Arc<Self> {
        let list: Vec<Box<dyn Service>> = vec![
            Box::new(services::sts::Sts),
            Box::new(services::logs::Logs::default()),
            Box::new(services::cloudwatch::CloudWatch::default()),
            Box::new(services::cloudformation::CloudFormation::default()),
        ];
        let services = list.into_iter().map(|s| (s.id(), s)).collect();
        Arc::new(Self {
            store,
            clock,
            faults: Faults::default(),
            region: "us-east-1".to_string(),
            requests: AtomicU64::new(0),
            services,
        })
    }

    /// Answers one HTTP request; `None` means drop the connection (an injected fault).
    pub async fn handle(&self, req: HttpRequest) -> Option<HttpResponse> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let request_id = uuid::Uuid::new_v4().to_string();
        let call = match protocol::decode(&req) {
            Ok(c) => c,
            Err(r) => {
                let error = protocol_error(r.protocol, r.error);
                tracing::debug!(operation = %r.operation, code = %error.code, "rejected request");
                return Some(protocol::encode_err(
                    r.protocol,
                    r.service,
                    &error,
                    &request_id,
                ));
            }
        };
        let (latency, injected) = self.faults.decide(call.service, &call.operation);
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let result = match injected {
            Injected::Drop => return None,
            Injected::Error(e) => Err(e),
            Injected::None => self.answer(call.service, &call.operation, &call.input),
        };
        Some(match result {
            Ok(output) => protocol::encode_ok(&call, &output, &request_id),
            Err(e) => {
                let e = protocol_error(call.protocol, e);
                tracing::debug!(service = ?call.service, operation = %call.operation, code = %e.code, "service error");
                protocol::encode_err(call.protocol, Some(call.service), &e, &request_id)
            }
        })
    }

    /// Calls a service directly (the engine uses this between services).
    pub fn dispatch(
        &self,
        service: ServiceId,
        operation: &str,
        input: &serde_json::Value,
    ) -> Result<serde_json::Value, ServiceError> {
        self.with_service(service, |svc, ctx| svc.call(ctx, operation, Input(input)))
    }

    /// A service's answer for the wire.
    fn answer(
        &self,
        service: ServiceId,
        operation: &str,
        input: &serde_json::Value,
    ) -> Result<Output, ServiceError> {
        self.with_service(service, |svc, ctx| {
            svc.call_output(ctx, operation, Input(input))
        })
    }

    fn with_service<T>(
        &self,
        service: ServiceId,
        f: impl FnOnce(&dyn Service, &Ctx<'_>) -> Result<T, ServiceError>,
    ) -> Result<T, ServiceError> {
        let Some(svc) = self.services.get(&service) else {
            return Err(ServiceError::new(
                UNKNOWN_OPERATION,
                format!("the emulator does not serve {service:?} yet"),
            ));
        };
        let ctx = Ctx {
            store: &self.store,
            clock: &self.clock,
            account_id: ACCOUNT_ID,
            region: &self.region,
            emulator: self,
        };
        f(svc.as_ref(), &ctx)
    }
}

/// The unknown-operation error each protocol defines.
fn protocol_error(protocol: Protocol, e: ServiceError) -> ServiceError {
    if e.code != UNKNOWN_OPERATION
        && e.code != "UnknownOperationException"
        && e.code != "InvalidAction"
    {
        return e;
    }
    match protocol {
        Protocol::AwsQuery => ServiceError::new("InvalidAction", e.message),
        Protocol::RpcV2Cbor => {
            ServiceError::new("UnknownOperationException", e.message).with_status(404)
        }
        Protocol::AwsJson10 | Protocol::AwsJson11 => {
            ServiceError::new("UnknownOperationException", e.message)
        }
    }
}
