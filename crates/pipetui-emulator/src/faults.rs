//! Fault injection per service and operation: throttling with the service's real code, 5xx
//! errors, added latency and dropped connections. Reliability tests drive the SDK's retries
//! with it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use super::protocol::{ServiceError, ServiceId};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fault {
    /// Probability (0..=1) of answering with the service's throttling error.
    pub throttle: f64,
    /// Probability of a 500 InternalFailure.
    pub server_error: f64,
    /// Probability of closing the connection without an answer.
    pub drop_connection: f64,
    /// Added before the answer.
    pub latency: Duration,
}

/// What to do with one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Injected {
    None,
    Error(ServiceError),
    Drop,
}

#[derive(Debug, Default)]
pub struct Faults {
    rules: Mutex<HashMap<(ServiceId, Option<String>), Fault>>,
    rng: Mutex<Option<fastrand::Rng>>,
}

impl Faults {
    /// Sets a fault for one operation (`Some("DescribeAlarms")`) or the whole service (`None`).
    pub fn set(&self, service: ServiceId, operation: Option<&str>, fault: Fault) {
        let mut rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        rules.insert((service, operation.map(str::to_string)), fault);
    }

    pub fn clear(&self) {
        self.rules.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// Seeds the random source so a test sees the same faults every run.
    pub fn seed(&self, seed: u64) {
        *self.rng.lock().unwrap_or_else(|p| p.into_inner()) = Some(fastrand::Rng::with_seed(seed));
    }

    fn roll(&self) -> f64 {
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        rng.get_or_insert_with(fastrand::Rng::new).f64()
    }

    /// Decides the fault for one request; returns the latency to add and what to inject.
    pub fn decide(&self, service: ServiceId, operation: &str) -> (Duration, Injected) {
        let fault = {
            let rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
            rules
                .get(&(service, Some(operation.to_string())))
                .or_else(|| rules.get(&(service, None)))
                .cloned()
        };
        let Some(f) = fault else {
            return (Duration::ZERO, Injected::None);
        };
        let r = self.roll();
        let injected = if r < f.drop_connection {
            Injected::Drop
        } else if r < f.drop_connection + f.throttle {
            Injected::Error(ServiceError::new(service.throttle_code(), "Rate exceeded"))
        } else if r < f.drop_connection + f.throttle + f.server_error {
            Injected::Error(ServiceError::internal("Injected internal failure"))
        } else {
            Injected::None
        };
        (f.latency, injected)
    }
}
