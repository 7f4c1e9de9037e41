//! CodeDeploy's checks of names and traffic routing, with the exceptions the service names.

use super::model::err;
use crate::protocol::{Input, ServiceError};

pub fn app_name<'a>(input: &Input<'a>) -> Result<&'a str, ServiceError> {
    let name = input
        .str("applicationName")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            err(
                "ApplicationNameRequiredException",
                "Application name is required",
            )
        })?;
    if name.chars().count() > 100 {
        return Err(err(
            "InvalidApplicationNameException",
            "Application name is longer than 100 characters",
        ));
    }
    Ok(name)
}

pub fn group_name<'a>(input: &Input<'a>) -> Result<&'a str, ServiceError> {
    let name = input
        .str("deploymentGroupName")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            err(
                "DeploymentGroupNameRequiredException",
                "Deployment Group name is required",
            )
        })?;
    valid_group_name(name)
}

/// Deployment group names are 1 to 100 characters, as application names are.
pub fn valid_group_name(name: &str) -> Result<&str, ServiceError> {
    if name.chars().count() > 100 {
        return Err(err(
            "InvalidDeploymentGroupNameException",
            "Deployment group name is longer than 100 characters",
        ));
    }
    Ok(name)
}

/// Canary and linear shifts move 1–99 percent every whole number of minutes; anything else
/// would never reach (or would overshoot) full traffic.
pub fn valid_traffic_routing(t: &Input<'_>) -> Result<(), ServiceError> {
    let step = |o: Option<Input<'_>>, pct: &str, interval: &str| {
        let o = o.ok_or(())?;
        let p = o.i64(pct).ok_or(())?;
        let i = o.i64(interval).ok_or(())?;
        ((1..=99).contains(&p) && i >= 1).then_some(()).ok_or(())
    };
    let ok = match t.str("type") {
        Some("AllAtOnce") | None => Ok(()),
        Some("TimeBasedCanary") => step(
            t.object("timeBasedCanary"),
            "canaryPercentage",
            "canaryInterval",
        ),
        Some("TimeBasedLinear") => step(
            t.object("timeBasedLinear"),
            "linearPercentage",
            "linearInterval",
        ),
        Some(_) => Err(()),
    };
    ok.map_err(|_| {
        err(
            "InvalidTrafficRoutingConfigurationException",
            "The configuration that specifies how traffic is routed during a deployment is invalid.",
        )
    })
}
