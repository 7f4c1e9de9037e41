//! CodeDeploy's stored shapes and the helpers every operation shares: document kinds, ids, the
//! built-in deployment configurations, error constructors and wire rendering of timestamps.

use serde_json::{Map, Value, json};

use crate::protocol::{ServiceError, ts};
use crate::store::Tx;

pub const SVC: &str = "codedeploy";
pub const APP: &str = "application";
pub const GROUP: &str = "group";
pub const CONFIG: &str = "config";
pub const DEPLOYMENT: &str = "deployment";

/// Statuses of a deployment that still holds its group (one active deployment per group).
pub const ACTIVE: &[&str] = &["Created", "Queued", "InProgress", "Baking", "Ready"];

pub fn err(code: &str, message: impl Into<String>) -> ServiceError {
    ServiceError::new(code, message)
}

pub fn group_key(app: &str, group: &str) -> String {
    format!("{app}/{group}")
}

/// `d-` + 9 upper-case alphanumerics, like AWS.
pub fn new_deployment_id() -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
    format!("d-{}", &hex[..9])
}

/// FNV-1a: stable across processes and Rust versions, so host names survive restarts.
pub fn fnv(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// An EC2-looking instance id derived from `seed` (group, or group + deployment for green hosts).
pub fn host_name(seed: &str, index: usize) -> String {
    format!("i-0{:016x}", fnv(&format!("{seed}#{index}")))
}

/// Deployment ids must look like AWS's before they are looked up.
pub fn check_deployment_id(id: &str) -> Result<(), ServiceError> {
    let ok = id.len() == 11
        && id.starts_with("d-")
        && id[2..]
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(err(
            "InvalidDeploymentIdException",
            format!("Specified DeploymentId is not in the valid format: {id}"),
        ))
    }
}

pub fn deployment_id<'a>(input: &crate::protocol::Input<'a>) -> Result<&'a str, ServiceError> {
    let id = input
        .str("deploymentId")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| err("DeploymentIdRequiredException", "Deployment Id is required"))?;
    check_deployment_id(id)?;
    Ok(id)
}

pub fn load_deployment(tx: &Tx<'_>, id: &str) -> Result<Value, ServiceError> {
    tx.get(SVC, DEPLOYMENT, id)?.ok_or_else(|| {
        err(
            "DeploymentDoesNotExistException",
            format!("The deployment {id} could not be found"),
        )
    })
}

pub fn load_app(tx: &Tx<'_>, name: &str) -> Result<Value, ServiceError> {
    tx.get(SVC, APP, name)?.ok_or_else(|| {
        err(
            "ApplicationDoesNotExistException",
            format!("No application found for name: {name}"),
        )
    })
}

pub fn load_group(tx: &Tx<'_>, app: &str, group: &str) -> Result<Value, ServiceError> {
    tx.get(SVC, GROUP, &group_key(app, group))?.ok_or_else(|| {
        err(
            "DeploymentGroupDoesNotExistException",
            format!("No Deployment Group found for name: {group}"),
        )
    })
}

pub fn load_config(tx: &Tx<'_>, name: &str) -> Result<Value, ServiceError> {
    if let Some(c) = builtin_config(name) {
        return Ok(c);
    }
    tx.get(SVC, CONFIG, name)?.ok_or_else(|| {
        err(
            "DeploymentConfigDoesNotExistException",
            format!("No deployment configuration found for name: {name}"),
        )
    })
}

/// Names of the configurations every account has.
pub const BUILTIN_CONFIGS: &[&str] = &[
    "CodeDeployDefault.OneAtATime",
    "CodeDeployDefault.HalfAtATime",
    "CodeDeployDefault.AllAtOnce",
    "CodeDeployDefault.ECSAllAtOnce",
    "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
    "CodeDeployDefault.ECSLinear10PercentEvery3Minutes",
    "CodeDeployDefault.ECSCanary10Percent5Minutes",
    "CodeDeployDefault.ECSCanary10Percent15Minutes",
    "CodeDeployDefault.LambdaAllAtOnce",
    "CodeDeployDefault.LambdaCanary10Percent5Minutes",
    "CodeDeployDefault.LambdaCanary10Percent10Minutes",
    "CodeDeployDefault.LambdaCanary10Percent15Minutes",
    "CodeDeployDefault.LambdaCanary10Percent30Minutes",
    "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
    "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes",
    "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes",
    "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes",
];

/// A built-in configuration as GetDeploymentConfig shows it (ids are stable per name).
pub fn builtin_config(name: &str) -> Option<Value> {
    if !BUILTIN_CONFIGS.contains(&name) {
        return None;
    }
    let rest = name.strip_prefix("CodeDeployDefault.")?;
    let (platform, routing) = if let Some(r) = rest.strip_prefix("ECS") {
        ("ECS", r)
    } else if let Some(r) = rest.strip_prefix("Lambda") {
        ("Lambda", r)
    } else {
        ("Server", rest)
    };
    let mut c = json!({
        "deploymentConfigId": uuid_from(name),
        "deploymentConfigName": name,
        "createTime": 1_420_070_400.0,
        "computePlatform": platform,
    });
    if platform == "Server" {
        c["minimumHealthyHosts"] = match routing {
            // AWS reports this type, which no caller may set: one host at a time.
            "OneAtATime" => json!({"type": "MOST_CONCURRENCY", "value": 1}),
            "HalfAtATime" => json!({"type": "FLEET_PERCENT", "value": 50}),
            _ => json!({"type": "FLEET_PERCENT", "value": 0}),
        };
        return Some(c);
    }
    let number = |s: &str| -> i64 {
        s.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap_or(0)
    };
    c["trafficRoutingConfig"] = if routing == "AllAtOnce" {
        json!({"type": "AllAtOnce"})
    } else if let Some(r) = routing.strip_prefix("Canary") {
        let pct = number(r);
        let after = r.split("Percent").nth(1).unwrap_or("");
        json!({"type": "TimeBasedCanary",
               "timeBasedCanary": {"canaryPercentage": pct, "canaryInterval": number(after)}})
    } else {
        let r = routing.strip_prefix("Linear").unwrap_or(routing);
        let pct = number(r);
        let after = r.split("Every").nth(1).unwrap_or("");
        json!({"type": "TimeBasedLinear",
               "timeBasedLinear": {"linearPercentage": pct, "linearInterval": number(after)}})
    };
    Some(c)
}

fn uuid_from(name: &str) -> String {
    let a = fnv(name);
    let b = fnv(&format!("{name}!"));
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

/// Copies `src` to the wire, turning the named epoch-second members into timestamps.
pub fn with_timestamps(src: &Value, keys: &[&str]) -> Value {
    let Some(o) = src.as_object() else {
        return src.clone();
    };
    let mut out = Map::new();
    for (k, v) in o {
        if k.starts_with('_') || v.is_null() {
            continue;
        }
        if keys.contains(&k.as_str())
            && let Some(t) = v.as_f64()
        {
            out.insert(k.clone(), ts(t));
        } else {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

/// Pages `items` with an opaque numeric token (CodeDeploy lists return up to 100 per page).
pub fn page(
    items: Vec<Value>,
    token: Option<&str>,
    size: usize,
) -> Result<(Vec<Value>, Option<String>), ServiceError> {
    let start = match token {
        Some(t) => t
            .parse::<usize>()
            .ok()
            .filter(|s| *s <= items.len())
            .ok_or_else(|| err("InvalidNextTokenException", "The next token is invalid."))?,
        None => 0,
    };
    let end = (start + size).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    Ok((items[start..end].to_vec(), next))
}
