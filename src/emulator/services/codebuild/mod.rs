//! CodeBuild (awsJson 1.1).

use serde_json::Value;

use crate::emulator::protocol::{Input, ServiceError, ServiceId};
use crate::emulator::service::{Ctx, Service, unknown_operation};

#[derive(Debug, Default)]
pub struct CodeBuild;

impl Service for CodeBuild {
    fn id(&self) -> ServiceId {
        ServiceId::CodeBuild
    }

    fn call(
        &self,
        _ctx: &Ctx<'_>,
        operation: &str,
        _input: Input<'_>,
    ) -> Result<Value, ServiceError> {
        Err(unknown_operation(operation))
    }
}
