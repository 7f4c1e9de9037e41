//! The emulator: routes each decoded call to its service, injects faults, encodes the answer.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use super::clock::Clock;
use super::engine::{self, EngineHandle, EngineSettings};
use super::faults::{Faults, Injected};
use super::protocol::{
    self, HttpRequest, HttpResponse, Input, Output, Protocol, ServiceError, ServiceId,
};
use super::service::{Ctx, Service, UNKNOWN_OPERATION};
use super::services;
use super::store::Store;

/// Where the emulated time reached is kept, so a scaled clock resumes from it after a restart.
const CLOCK: (&str, &str, &str) = ("emulator", "clock", "now");

/// Ticks between two saves of the emulated time (about a second of real time).
const CLOCK_SAVE_EVERY: u64 = 10;

/// The account every emulated resource belongs to.
pub const ACCOUNT_ID: &str = "000000000000";

pub struct Emulator {
    pub store: Store,
    pub clock: Clock,
    pub faults: Faults,
    pub region: String,
    /// Requests received, faults included (tests observe the SDK's retries with it).
    pub requests: AtomicU64,
    /// Where the engine works on disk, the sources, the fleet size.
    pub settings: EngineSettings,
    services: HashMap<ServiceId, Box<dyn Service>>,
    /// Services in the order each tick visits them: pipelines start work the others then run.
    order: Vec<ServiceId>,
    /// One tick at a time, whoever drives it (the background thread or a test).
    ticking: Mutex<u64>,
    me: Weak<Emulator>,
}

/// Where [`Emulator::begin`] left a request.
#[derive(Debug)]
pub enum Begun {
    /// Answered already (it could not be decoded).
    Answered(Option<HttpResponse>),
    /// Decoded: [`Emulator::finish`] answers it once `latency` has passed.
    Pending(Pending),
}

/// A decoded request and the fault decided for it.
#[derive(Debug)]
pub struct Pending {
    call: protocol::Call,
    injected: Injected,
    request_id: String,
    /// Injected latency to wait before [`Emulator::finish`].
    pub latency: Duration,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// An emulator whose state lives in `state_dir/emulator.db`, working in `state_dir`.
    pub fn open(state_dir: &Path, clock: Clock) -> Result<Arc<Self>, rusqlite::Error> {
        Self::open_with(
            state_dir,
            clock,
            EngineSettings::new(state_dir.to_path_buf()),
        )
    }

    /// [`Emulator::open`] with explicit engine settings. Work a previous process left running
    /// is resolved before this returns.
    pub fn open_with(
        state_dir: &Path,
        clock: Clock,
        settings: EngineSettings,
    ) -> Result<Arc<Self>, rusqlite::Error> {
        if let Err(e) = std::fs::create_dir_all(state_dir) {
            return Err(rusqlite::Error::InvalidPath(
                state_dir.join(format!("({e})")),
            ));
        }
        let emu = Self::with_store(
            Store::open(&state_dir.join("emulator.db"))?,
            clock,
            settings,
        );
        emu.recover();
        Ok(emu)
    }

    /// An emulator with a throwaway in-memory store, working in a fresh temporary directory.
    pub fn in_memory(clock: Clock) -> Result<Arc<Self>, rusqlite::Error> {
        Self::in_memory_with(clock, EngineSettings::new(engine::scratch_dir()))
    }

    /// [`Emulator::in_memory`] with explicit engine settings.
    pub fn in_memory_with(
        clock: Clock,
        settings: EngineSettings,
    ) -> Result<Arc<Self>, rusqlite::Error> {
        Ok(Self::with_store(Store::in_memory()?, clock, settings))
    }

    fn with_store(store: Store, clock: Clock, settings: EngineSettings) -> Arc<Self> {
        let list: Vec<Box<dyn Service>> = vec![
            Box::new(services::codepipeline::CodePipeline::default()),
            Box::new(services::codebuild::CodeBuild::default()),
            Box::new(services::codedeploy::CodeDeploy::default()),
            Box::new(services::sts::Sts),
            Box::new(services::logs::Logs::default()),
            Box::new(services::cloudwatch::CloudWatch::default()),
            Box::new(services::cloudformation::CloudFormation::default()),
        ];
        let order = list.iter().map(|s| s.id()).collect();
        let services = list.into_iter().map(|s| (s.id(), s)).collect();
        Arc::new_cyclic(|me| Self {
            store,
            clock,
            faults: Faults::default(),
            region: "us-east-1".to_string(),
            requests: AtomicU64::new(0),
            settings,
            services,
            order,
            ticking: Mutex::new(0),
            me: me.clone(),
        })
    }

    /// Stores `body` as the S3 object `bucket/key` of the emulator's S3 model (a file under the
    /// work directory), where a `TemplateURL` reads it: a stand-in for PutObject until the
    /// emulator speaks S3's REST protocol. Returns the object's URL.
    pub fn put_object(&self, bucket: &str, key: &str, body: &[u8]) -> std::io::Result<String> {
        let path = self
            .settings
            .s3_path(bucket, key)
            .map_err(|e| std::io::Error::other(e.message))?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, body)?;
        Ok(format!("https://{bucket}.s3.amazonaws.com/{key}"))
    }

    /// This emulator as an `Arc`, for work that outlives one call (a build's process thread).
    pub fn arc(&self) -> Option<Arc<Emulator>> {
        self.me.upgrade()
    }

    /// Ticks in a background thread every [`engine::TICK`] until the handle is dropped.
    pub fn start_engine(self: &Arc<Self>) -> EngineHandle {
        engine::start(self)
    }

    /// Moves every service's background work to the clock's now; whether anything changed.
    /// A failing service is logged and the others still tick.
    pub fn tick(&self) -> bool {
        let mut ticks = self.ticking.lock().unwrap_or_else(|p| p.into_inner());
        *ticks += 1;
        if *ticks % CLOCK_SAVE_EVERY == 1 && matches!(self.clock, Clock::Scaled { .. }) {
            let now = serde_json::json!(self.clock.now());
            if let Err(e) = self
                .store
                .write(|tx| tx.put(CLOCK.0, CLOCK.1, CLOCK.2, &now))
            {
                tracing::warn!(code = %e.code, "saving the emulated time");
            }
        }
        let mut changed = false;
        for id in &self.order {
            match self.with_service(*id, |svc, ctx| svc.tick(ctx)) {
                Ok(c) => changed |= c,
                Err(e) => {
                    tracing::warn!(service = ?id, code = %e.code, message = %e.message, "tick failed")
                }
            }
        }
        changed
    }

    /// Whether a service has work running outside the store (a child process).
    pub fn busy(&self) -> bool {
        self.services.values().any(|s| s.busy())
    }

    /// Ticks until nothing changes and nothing runs, or `max` real time passes; whether it
    /// settled. Tests with a manual clock use it after each `clock.advance`, instead of sleeping.
    pub fn settle(&self, max: Duration) -> bool {
        let deadline = Instant::now() + max;
        loop {
            let changed = self.tick();
            if !changed && !self.busy() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            if !changed {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }

    fn recover(&self) {
        for id in &self.order {
            if let Err(e) = self.with_service(*id, |svc, ctx| svc.recover(ctx)) {
                tracing::warn!(service = ?id, code = %e.code, message = %e.message, "recovery failed");
            }
        }
    }

    /// Answers one HTTP request; `None` means drop the connection (an injected fault).
    pub async fn handle(&self, req: HttpRequest) -> Option<HttpResponse> {
        match self.begin(&req) {
            Begun::Answered(resp) => resp,
            Begun::Pending(p) => {
                if !p.latency.is_zero() {
                    tokio::time::sleep(p.latency).await;
                }
                self.finish(p)
            }
        }
    }

    /// The first half of [`Emulator::handle`]: decodes the request and decides its fault. CPU
    /// work without waiting, so a server can run it off the threads that serve sockets.
    pub fn begin(&self, req: &HttpRequest) -> Begun {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let request_id = uuid::Uuid::new_v4().to_string();
        let call = match protocol::decode(req) {
            Ok(c) => c,
            Err(r) => {
                let error = protocol_error(r.protocol, r.error);
                tracing::debug!(operation = %r.operation, code = %error.code, "rejected request");
                return Begun::Answered(Some(protocol::encode_err(
                    r.protocol,
                    r.service,
                    &error,
                    &request_id,
                )));
            }
        };
        let (latency, injected) = self.faults.decide(call.service, &call.operation);
        Begun::Pending(Pending {
            call,
            injected,
            request_id,
            latency,
        })
    }

    /// The second half of [`Emulator::handle`], once any injected latency has passed: the
    /// service's answer (or the injected fault), encoded; `None` means drop the connection.
    pub fn finish(&self, pending: Pending) -> Option<HttpResponse> {
        let Pending {
            call,
            injected,
            request_id,
            ..
        } = pending;
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
