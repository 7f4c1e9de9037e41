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

/// CloudFormation's resource handler: creates (or, with `update`, updates in place) the live
/// CodeBuild object behind a stack resource of `resource_type` from its evaluated `props`
/// (CloudFormation's PascalCase property names).
pub fn cfn_put(
    _ctx: &Ctx<'_>,
    _resource_type: &str,
    _physical_id: &str,
    _props: &Value,
    _update: bool,
) -> Result<(), ServiceError> {
    Ok(())
}

/// CloudFormation's resource handler: deletes the live object; one already gone is not an error.
pub fn cfn_delete(
    _ctx: &Ctx<'_>,
    _resource_type: &str,
    _physical_id: &str,
    _props: &Value,
) -> Result<(), ServiceError> {
    Ok(())
}
