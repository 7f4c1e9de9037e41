//! CodeDeploy (awsJson 1.1): applications, deployment groups and configurations, and
//! deployments that really run on an emulated fleet (host directories running the appspec's
//! hook scripts), Lambda/ECS traffic shifting, health-driven alarms and automatic rollback.

mod deployments;
mod engine;
mod health;
mod host;
mod model;
mod names;
mod plan;
mod resources;
mod steps;

use serde_json::{Value, json};

use crate::protocol::{Input, ServiceError, ServiceId};
use crate::service::{Ctx, Service, unknown_operation};
use model::{ACTIVE, DEPLOYMENT, SVC};

/// Reads an AppSpec file's text as CodeDeploy does (for white-box tests of hostile input).
pub use plan::parse_spec as parse_appspec;

#[derive(Debug, Default)]
pub struct CodeDeploy {
    /// Hook scripts running now; they outlive the call that started them.
    runner: host::Runner,
}

impl Service for CodeDeploy {
    fn id(&self) -> ServiceId {
        ServiceId::CodeDeploy
    }

    fn call(
        &self,
        ctx: &Ctx<'_>,
        operation: &str,
        input: Input<'_>,
    ) -> Result<Value, ServiceError> {
        use deployments as d;
        use resources as r;
        match operation {
            "CreateApplication" => r::create_application(ctx, input),
            "GetApplication" => r::get_application(ctx, input),
            "ListApplications" => r::list_applications(ctx, input),
            "BatchGetApplications" => r::batch_get_applications(ctx, input),
            "BatchGetDeploymentGroups" => r::batch_get_deployment_groups(ctx, input),
            "DeleteApplication" => r::delete_application(ctx, input),
            "CreateDeploymentGroup" => r::create_deployment_group(ctx, input),
            "UpdateDeploymentGroup" => r::update_deployment_group(ctx, input),
            "GetDeploymentGroup" => r::get_deployment_group(ctx, input),
            "ListDeploymentGroups" => r::list_deployment_groups(ctx, input),
            "DeleteDeploymentGroup" => r::delete_deployment_group(ctx, input),
            "CreateDeploymentConfig" => r::create_deployment_config(ctx, input),
            "GetDeploymentConfig" => r::get_deployment_config(ctx, input),
            "ListDeploymentConfigs" => r::list_deployment_configs(ctx, input),
            "DeleteDeploymentConfig" => r::delete_deployment_config(ctx, input),
            "CreateDeployment" => self.create_deployment(ctx, input),
            "GetDeployment" => d::get_deployment(ctx, input),
            "BatchGetDeployments" => d::batch_get_deployments(ctx, input),
            "ListDeployments" => d::list_deployments(ctx, input),
            "StopDeployment" => self.stop_deployment(ctx, input),
            "ContinueDeployment" => self.continue_deployment(ctx, input),
            "ListDeploymentTargets" => d::list_deployment_targets(ctx, input),
            "BatchGetDeploymentTargets" => d::batch_get_deployment_targets(ctx, input),
            "GetDeploymentTarget" => d::get_deployment_target(ctx, input),
            "ListDeploymentInstances" => d::list_deployment_instances(ctx, input),
            "BatchGetDeploymentInstances" => d::batch_get_deployment_instances(ctx, input),
            op => Err(unknown_operation(op)),
        }
    }

    fn tick(&self, ctx: &Ctx<'_>) -> Result<bool, ServiceError> {
        self.tick_deployments(ctx)
    }

    fn busy(&self) -> bool {
        self.runner.busy()
    }

    /// Deployments a previous process left running fail visibly: their scripts died with it.
    /// Ready deployments run nothing and keep waiting for ContinueDeployment.
    fn recover(&self, ctx: &Ctx<'_>) -> Result<(), ServiceError> {
        // Scripts the previous process started die before their deployments are failed.
        crate::engine::groups::kill_recorded(ctx.store, "codedeploy/");
        let now = ctx.clock.now();
        ctx.store.write(|tx| {
            for (id, mut dep) in tx.list(SVC, DEPLOYMENT)? {
                let status = dep["status"].as_str().unwrap_or("");
                if !ACTIVE.contains(&status) || status == "Ready" {
                    continue;
                }
                engine::interrupt(&mut dep, now, engine::RESTART_MESSAGE);
                dep["status"] = json!("Failed");
                dep["errorInformation"] =
                    json!({"code": "INTERNAL_ERROR", "message": engine::RESTART_MESSAGE});
                dep["completeTime"] = json!(now);
                dep["_run"]["stage"] = json!("ended");
                dep["_run"]["rev"] = json!(dep["_run"]["rev"].as_u64().unwrap_or(0) + 1);
                tx.put(SVC, DEPLOYMENT, &id, &dep)?;
            }
            Ok(())
        })
    }
}

/// CloudFormation's resource handler: creates (or, with `update`, updates in place) the live
/// CodeDeploy object behind a stack resource of `resource_type` from its evaluated `props`
/// (CloudFormation's PascalCase property names).
pub fn cfn_put(
    ctx: &Ctx<'_>,
    resource_type: &str,
    physical_id: &str,
    props: &Value,
    update: bool,
) -> Result<(), ServiceError> {
    resources::cfn_put(ctx, resource_type, physical_id, props, update)
}

/// CloudFormation's resource handler: deletes the live object; one already gone is not an error.
pub fn cfn_delete(
    ctx: &Ctx<'_>,
    resource_type: &str,
    physical_id: &str,
    props: &Value,
) -> Result<(), ServiceError> {
    resources::cfn_delete(ctx, resource_type, physical_id, props)
}
