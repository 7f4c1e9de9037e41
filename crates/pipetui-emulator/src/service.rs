//! The service side: one implementation per AWS service, with no HTTP types, answering
//! protocol-neutral JSON or a [`ServiceError`].

use serde_json::Value;

use super::clock::Clock;
use super::protocol::{Input, Output, ServiceError, ServiceId};
use super::store::Store;

/// What a service sees of the emulator while answering one call.
pub struct Ctx<'a> {
    pub store: &'a Store,
    pub clock: &'a Clock,
    pub account_id: &'a str,
    pub region: &'a str,
    pub emulator: &'a super::Emulator,
}

impl Ctx<'_> {
    /// Calls another service (CloudFormation materialising a log group, say). Never call it
    /// inside `store.write`: the store's connection is held there.
    pub fn call(
        &self,
        service: ServiceId,
        operation: &str,
        input: &Value,
    ) -> Result<Value, ServiceError> {
        self.emulator.dispatch(service, operation, input)
    }

    /// `arn:aws:{service}:{region}:{account}:{resource}`.
    pub fn arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:aws:{service}:{}:{}:{resource}",
            self.region, self.account_id
        )
    }
}

/// Code a service returns for an operation it does not implement; the protocol layer turns it
/// into the protocol's own unknown-operation error.
pub const UNKNOWN_OPERATION: &str = "UnknownOperation";

pub fn unknown_operation(op: &str) -> ServiceError {
    ServiceError::new(UNKNOWN_OPERATION, format!("Unknown operation {op}"))
}

pub trait Service: Send + Sync {
    fn id(&self) -> ServiceId;
    fn call(&self, ctx: &Ctx<'_>, operation: &str, input: Input<'_>)
    -> Result<Value, ServiceError>;

    /// The answer for the wire; a service overrides it to share cached items with the encoder.
    fn call_output(
        &self,
        ctx: &Ctx<'_>,
        operation: &str,
        input: Input<'_>,
    ) -> Result<Output, ServiceError> {
        self.call(ctx, operation, input).map(Output::from)
    }

    /// Moves background work forward (executions, builds, deployments) to the emulator's now.
    /// Returns whether anything changed, so [`super::Emulator::settle`] knows when to stop.
    fn tick(&self, _ctx: &Ctx<'_>) -> Result<bool, ServiceError> {
        Ok(false)
    }

    /// Whether work is under way outside the store (a child process running), which a later
    /// tick will pick up.
    fn busy(&self) -> bool {
        false
    }

    /// Called once when the emulator opens: resolves work a previous process left running,
    /// visibly (failed with a reason saying the emulator restarted).
    fn recover(&self, _ctx: &Ctx<'_>) -> Result<(), ServiceError> {
        Ok(())
    }
}
