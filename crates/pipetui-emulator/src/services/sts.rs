//! STS: GetCallerIdentity, so the console can say who is acting.

use serde_json::{Value, json};

use crate::protocol::{Input, ServiceError, ServiceId};
use crate::service::{Ctx, Service, unknown_operation};

pub struct Sts;

impl Service for Sts {
    fn id(&self) -> ServiceId {
        ServiceId::Sts
    }

    fn call(
        &self,
        ctx: &Ctx<'_>,
        operation: &str,
        _input: Input<'_>,
    ) -> Result<Value, ServiceError> {
        match operation {
            "GetCallerIdentity" => Ok(json!({
                "UserId": "AIDAPIPETUIEMULATOR01",
                "Account": ctx.account_id,
                "Arn": format!("arn:aws:iam::{}:user/pipetui", ctx.account_id),
            })),
            op => Err(unknown_operation(op)),
        }
    }
}
