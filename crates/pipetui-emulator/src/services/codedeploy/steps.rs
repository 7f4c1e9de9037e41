//! One target's lifecycle events, moved forward at a tick: scripts started and collected,
//! bundles downloaded and installed, hook functions invoked, traffic shifted in steps.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::host::{self, Poll, Runner, Script};
use super::plan::{self, FROM_LAST};
use crate::protocol::{ServiceError, ServiceId};
use crate::service::Ctx;

/// Every lifecycle event lasts at least this long on the emulated clock, so timestamps show
/// the order and batches of a deployment even when the scripts finish at once.
pub const MIN_EVENT_SECS: f64 = 1.0;

/// The deployment facts a target's events need.
pub struct Scope<'a> {
    pub deployment: &'a str,
    pub app: &'a str,
    pub group: &'a str,
    pub config: &'a Value,
    pub ignore_stop_failures: bool,
    pub bundle: Option<PathBuf>,
    pub messages: Vec<String>,
}

fn done(status: &Value) -> bool {
    !matches!(status.as_str(), Some("Pending") | Some("InProgress"))
}

/// The status a target shows, from its events.
pub fn target_status(t: &Value, ready: bool) -> &'static str {
    let events = t["lifecycleEvents"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if events
        .iter()
        .any(|e| e["status"] == "Failed" && e["_ignored"] != true)
    {
        return "Failed";
    }
    if events.iter().all(|e| e["status"] == "Skipped") && !events.is_empty() {
        return "Skipped";
    }
    if events.iter().all(|e| done(&e["status"])) {
        return "Succeeded";
    }
    if events.iter().all(|e| e["status"] == "Pending") {
        return "Pending";
    }
    if ready { "Ready" } else { "InProgress" }
}

/// Whether the target still has unfinished events of `phase` or earlier.
pub fn busy_in(t: &Value, phase: u64) -> bool {
    t["lifecycleEvents"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|e| !done(&e["status"]) && e["_phase"].as_u64().unwrap_or(0) <= phase)
}

fn diagnostics(code: &str, script: &str, message: &str, tail: &str) -> Value {
    json!({"errorCode": code, "scriptName": script, "message": message, "logTail": tail})
}

/// Moves a target's events of `phase` forward; whether anything changed.
pub fn step(
    ctx: &Ctx<'_>,
    runner: &Runner,
    scope: &mut Scope<'_>,
    t: &mut Value,
    phase: u64,
    now: f64,
) -> bool {
    let mut changed = false;
    while let Some(events) = t["lifecycleEvents"].as_array() {
        let Some(i) = events.iter().position(|e| !done(&e["status"])) else {
            break;
        };
        if events[i]["_phase"].as_u64().unwrap_or(0) > phase {
            break;
        }
        if events[i]["status"] == "Pending" {
            let mut ev = events[i].clone();
            start(ctx, scope, t, &mut ev, now);
            t["lifecycleEvents"][i] = ev;
            t["lastUpdatedAt"] = json!(now);
            changed = true;
        }
        let mut ev = t["lifecycleEvents"][i].clone();
        let outcome = progress(ctx, runner, scope, t, &mut ev, now);
        if ev != t["lifecycleEvents"][i] {
            changed = true;
        }
        t["lifecycleEvents"][i] = ev;
        let Some(ok) = outcome else { break };
        changed = true;
        t["lastUpdatedAt"] = json!(now);
        let name = t["lifecycleEvents"][i]["lifecycleEventName"]
            .as_str()
            .unwrap_or("")
            .to_string();
        t["lifecycleEvents"][i]["status"] = json!(if ok { "Succeeded" } else { "Failed" });
        t["lifecycleEvents"][i]["endTime"] = json!(now);
        if ok
            && name == "ValidateService"
            && let Some(dir) = t["_hostDir"].as_str()
        {
            let dir = PathBuf::from(dir);
            let _ = host::set_last_archive(&dir, &host::archive_dir(&dir, scope.deployment));
        }
        if !ok {
            if scope.ignore_stop_failures && FROM_LAST.contains(&name.as_str()) {
                t["lifecycleEvents"][i]["_ignored"] = json!(true);
                continue;
            }
            skip_rest(t);
            break;
        }
    }
    changed
}

/// Marks every event not yet run as Skipped.
pub fn skip_rest(t: &mut Value) {
    if let Some(events) = t["lifecycleEvents"].as_array_mut() {
        for e in events.iter_mut().filter(|e| e["status"] == "Pending") {
            e["status"] = json!("Skipped");
        }
    }
}

fn host_dir(ctx: &Ctx<'_>, scope: &Scope<'_>, t: &Value) -> Result<PathBuf, ServiceError> {
    plan::host_dir(
        &ctx.emulator.settings,
        scope.app,
        scope.group,
        t["targetId"].as_str().unwrap_or("host"),
    )
}

fn start(ctx: &Ctx<'_>, scope: &mut Scope<'_>, t: &mut Value, ev: &mut Value, now: f64) {
    ev["status"] = json!("InProgress");
    ev["startTime"] = json!(now);
    let name = ev["lifecycleEventName"].as_str().unwrap_or("").to_string();
    let kind = ev["_kind"].as_str().unwrap_or("").to_string();
    let dir = match host_dir(ctx, scope, t) {
        Ok(d) => d,
        Err(e) => {
            ev["_result"] = json!({"ok": false, "message": e.message});
            return;
        }
    };
    if t["_type"] == "InstanceTarget" {
        let _ = std::fs::create_dir_all(&dir);
        t["_hostDir"] = json!(dir.to_string_lossy());
    }
    let archive = host::archive_dir(&dir, scope.deployment);
    let result = match kind.as_str() {
        "script" => {
            let base = if FROM_LAST.contains(&name.as_str()) {
                let last = host::last_archive(&dir);
                ev["_hooks"] = last
                    .as_ref()
                    .and_then(|a| plan::read_appspec(a).ok())
                    .map(|s| plan::server_hooks(&s, &name))
                    .unwrap_or(json!([]));
                last
            } else {
                Some(archive.clone())
            };
            ev["_base"] = json!(base.map(|b| b.to_string_lossy().into_owned()));
            ev["_script"] = json!(0);
            None
        }
        "download" => Some(match &scope.bundle {
            Some(b) => host::copy_dir(b, &archive)
                .map(|_| format!("Downloaded the bundle into {}", archive.display()))
                .map_err(|e| format!("The bundle could not be downloaded: {e}")),
            None => Err("The revision has no bundle".to_string()),
        }),
        "install" => {
            Some(plan::read_appspec(&archive).and_then(|spec| host::install(&spec, &archive, &dir)))
        }
        "hook" => Some(Ok(invoke_hook(ctx, scope, ev, now))),
        "shift" => {
            start_shift(scope, t, ev, now);
            None
        }
        _ => Some(Ok(builtin(scope, t, &name))),
    };
    if let Some(r) = result {
        ev["_result"] = match r {
            Ok(m) => json!({"ok": true, "message": m}),
            Err(m) => json!({"ok": false, "message": m}),
        };
    }
}

/// What the built-in (non-hook) events do to the emulated ECS/EC2 world.
fn builtin(scope: &mut Scope<'_>, t: &mut Value, name: &str) -> String {
    match (t["_type"].as_str(), name) {
        (Some("ECSTarget"), "Install") => {
            let green = t["_greenTaskSet"].clone();
            if let Some(sets) = t["taskSetsInfo"].as_array_mut() {
                sets.push(public_task_set(&green));
            }
            "Created the replacement task set".to_string()
        }
        (Some("ECSTarget"), "AllowTestTraffic") => {
            t["_testTraffic"] = json!(true);
            let m = "Test traffic routed to the replacement task set".to_string();
            scope.messages.push(m.clone());
            m
        }
        (_, "BlockTraffic") => "Deregistered from the load balancer".to_string(),
        (_, "AllowTraffic") => "Registered with the load balancer".to_string(),
        _ => "Succeeded".to_string(),
    }
}

fn public_task_set(ts: &Value) -> Value {
    let mut v = ts.clone();
    if let Some(o) = v.as_object_mut() {
        o.retain(|k, _| !k.starts_with('_'));
    }
    v
}

/// A hook function "invoked": its invocation is logged to `/aws/lambda/<function>` and it
/// reports success, as a hook calling PutLifecycleEventHookExecutionStatus would.
fn invoke_hook(ctx: &Ctx<'_>, scope: &Scope<'_>, ev: &mut Value, now: f64) -> String {
    let Some(function) = ev["_fn"].as_str().map(str::to_string) else {
        return "No hook function for this event".to_string();
    };
    let name = ev["lifecycleEventName"].as_str().unwrap_or("").to_string();
    let request = uuid::Uuid::new_v4().to_string();
    let group = format!("/aws/lambda/{function}");
    let day = crate::protocol::value::iso8601(now);
    let stream = format!(
        "{}/{}/{}/[$LATEST]{}",
        &day[0..4],
        &day[5..7],
        &day[8..10],
        &request.replace('-', "")[..16]
    );
    let _ = ctx.call(
        ServiceId::Logs,
        "CreateLogGroup",
        &json!({"logGroupName": group}),
    );
    let _ = ctx.call(
        ServiceId::Logs,
        "CreateLogStream",
        &json!({"logGroupName": group, "logStreamName": stream}),
    );
    let ms = (now * 1000.0) as i64;
    let lines = [
        format!("START RequestId: {request} Version: $LATEST"),
        format!(
            "CodeDeploy {name} hook for deployment {} ({}/{})",
            scope.deployment, scope.app, scope.group
        ),
        format!("PutLifecycleEventHookExecutionStatus {name}: Succeeded"),
        format!("END RequestId: {request}"),
        format!("REPORT RequestId: {request}\tDuration: 12.00 ms\tBilled Duration: 13 ms"),
    ];
    let events: Vec<Value> = lines
        .iter()
        .map(|m| json!({"timestamp": ms, "message": m}))
        .collect();
    let _ = ctx.call(
        ServiceId::Logs,
        "PutLogEvents",
        &json!({"logGroupName": group, "logStreamName": stream, "logEvents": events}),
    );
    ev["_invoked"] = json!({"function": function, "requestId": request, "at": now});
    format!("Invoked {function} (request {request}); it reported Succeeded")
}

/// The traffic steps of the deployment config: (first weight, step, interval in seconds).
fn shift_plan(config: &Value) -> (f64, f64, f64) {
    let r = &config["trafficRoutingConfig"];
    match r["type"].as_str() {
        Some("TimeBasedCanary") => {
            let c = &r["timeBasedCanary"];
            let pct = c["canaryPercentage"].as_f64().unwrap_or(10.0);
            (
                pct,
                100.0,
                c["canaryInterval"].as_f64().unwrap_or(5.0) * 60.0,
            )
        }
        Some("TimeBasedLinear") => {
            let l = &r["timeBasedLinear"];
            let pct = l["linearPercentage"].as_f64().unwrap_or(10.0);
            (pct, pct, l["linearInterval"].as_f64().unwrap_or(1.0) * 60.0)
        }
        _ => (100.0, 100.0, 0.0),
    }
}

fn start_shift(scope: &mut Scope<'_>, t: &mut Value, ev: &mut Value, now: f64) {
    let (first, _, interval) = shift_plan(scope.config);
    ev["_nextStep"] = json!(now + interval);
    set_weight(scope, t, first.min(100.0), now);
}

/// Puts `weight` percent of production traffic on the new version / replacement task set.
fn set_weight(scope: &mut Scope<'_>, t: &mut Value, weight: f64, now: f64) {
    let shifts = t["_shifts"].as_array().cloned().unwrap_or_default();
    let mut shifts = shifts;
    shifts.push(json!({"at": now, "weight": weight}));
    t["_shifts"] = json!(shifts);
    if t["_type"] == "LambdaTarget" {
        t["lambdaFunctionInfo"]["targetVersionWeight"] = json!(weight / 100.0);
        let f = &t["lambdaFunctionInfo"];
        scope.messages.push(format!(
            "Shifted {weight}% of traffic on {}:{} to version {}",
            f["functionName"].as_str().unwrap_or(""),
            f["functionAlias"].as_str().unwrap_or(""),
            f["targetVersion"].as_str().unwrap_or("")
        ));
    } else if let Some(sets) = t["taskSetsInfo"].as_array_mut() {
        for s in sets.iter_mut() {
            let green = s["taskSetLabel"] == "Green";
            s["trafficWeight"] = json!(if green { weight } else { 100.0 - weight });
        }
        scope.messages.push(format!(
            "Shifted {weight}% of production traffic to the replacement task set"
        ));
    }
}

/// How an in-progress event stands: `Some(ok)` once it ended.
fn progress(
    ctx: &Ctx<'_>,
    runner: &Runner,
    scope: &mut Scope<'_>,
    t: &mut Value,
    ev: &mut Value,
    now: f64,
) -> Option<bool> {
    let started = ev["startTime"].as_f64().unwrap_or(now);
    let min_over = now >= started + MIN_EVENT_SECS;
    match ev["_kind"].as_str() {
        Some("script") => progress_script(ctx, runner, scope, t, ev, now, min_over),
        Some("shift") => {
            let (_, step, interval) = shift_plan(scope.config);
            let mut weight = current_weight(t);
            while weight < 100.0 && now >= ev["_nextStep"].as_f64().unwrap_or(now) {
                weight = (weight + step).min(100.0);
                set_weight(scope, t, weight, now);
                ev["_nextStep"] =
                    json!(ev["_nextStep"].as_f64().unwrap_or(now) + interval.max(1.0));
            }
            (weight >= 100.0 && min_over).then(|| {
                ev["diagnostics"] =
                    diagnostics("Success", "", "Traffic shifted to the new version", "");
                true
            })
        }
        _ => {
            if !min_over {
                return None;
            }
            let ok = ev["_result"]["ok"].as_bool().unwrap_or(true);
            let message = ev["_result"]["message"].as_str().unwrap_or("").to_string();
            ev["diagnostics"] = if ok {
                diagnostics("Success", "", "Succeeded", &message)
            } else {
                diagnostics("UnknownError", "", &message, "")
            };
            Some(ok)
        }
    }
}

fn current_weight(t: &Value) -> f64 {
    t["_shifts"]
        .as_array()
        .and_then(|s| s.last())
        .and_then(|s| s["weight"].as_f64())
        .unwrap_or(0.0)
}

#[allow(clippy::too_many_arguments)]
fn progress_script(
    ctx: &Ctx<'_>,
    runner: &Runner,
    scope: &Scope<'_>,
    t: &Value,
    ev: &mut Value,
    now: f64,
    min_over: bool,
) -> Option<bool> {
    let key = format!(
        "{}/{}",
        scope.deployment,
        t["targetId"].as_str().unwrap_or("")
    );
    let hooks = ev["_hooks"].as_array().cloned().unwrap_or_default();
    loop {
        let index = ev["_script"].as_u64().unwrap_or(0) as usize;
        let location = hooks
            .get(index)
            .and_then(|h| h["location"].as_str())
            .unwrap_or("")
            .to_string();
        match runner.poll(ctx.store, &key, now) {
            Some(Poll::Running) => return None,
            Some(Poll::Exited {
                code: Some(0),
                tail,
            }) => {
                let mut all = ev["_tail"].as_str().unwrap_or("").to_string();
                all.push_str(&tail);
                let cut = all.len().saturating_sub(4096);
                let cut = (cut..=all.len())
                    .find(|i| all.is_char_boundary(*i))
                    .unwrap_or(all.len());
                ev["_tail"] = json!(&all[cut..]);
                ev["_lastScript"] = json!(location);
                ev["_script"] = json!(index + 1);
            }
            Some(Poll::Exited { code, tail }) => {
                let code = code.map_or("a signal".to_string(), |c| format!("exit code {c}"));
                ev["diagnostics"] = diagnostics(
                    "ScriptFailed",
                    &location,
                    &format!(
                        "Script at specified location: {location} run as user root failed with {code}"
                    ),
                    &tail,
                );
                return Some(false);
            }
            Some(Poll::TimedOut { tail }) => {
                let secs = hooks
                    .get(index)
                    .and_then(|h| h["timeout"].as_f64())
                    .unwrap_or(0.0);
                ev["diagnostics"] = diagnostics(
                    "ScriptTimedOut",
                    &location,
                    &format!(
                        "Script at specified location: {location} failed to complete in {secs} seconds"
                    ),
                    &tail,
                );
                return Some(false);
            }
            None => {
                let Some(h) = hooks.get(index) else {
                    if !min_over {
                        return None;
                    }
                    let tail = ev["_tail"].as_str().unwrap_or("").to_string();
                    let script = ev["_lastScript"].as_str().unwrap_or("").to_string();
                    ev["diagnostics"] = diagnostics("Success", &script, "Succeeded", &tail);
                    return Some(true);
                };
                let base = PathBuf::from(ev["_base"].as_str().unwrap_or(""));
                let path = base.join(&location);
                if !path.is_file() {
                    ev["diagnostics"] = diagnostics(
                        "ScriptMissing",
                        &location,
                        &format!(
                            "Script does not exist at specified location: {}",
                            path.display()
                        ),
                        "",
                    );
                    return Some(false);
                }
                let dir = match host_dir(ctx, scope, t) {
                    Ok(d) => d,
                    Err(e) => {
                        ev["diagnostics"] = diagnostics("UnknownError", &location, &e.message, "");
                        return Some(false);
                    }
                };
                let event = ev["lifecycleEventName"].as_str().unwrap_or("").to_string();
                let log = dir
                    .join(".codedeploy")
                    .join("logs")
                    .join(scope.deployment)
                    .join(format!("{event}-{index}.log"));
                let env = vec![
                    (
                        "HOST_NAME",
                        t["targetId"].as_str().unwrap_or("").to_string(),
                    ),
                    ("HOST_INDEX", t["_index"].as_u64().unwrap_or(0).to_string()),
                    ("LIFECYCLE_EVENT", event),
                    ("DEPLOYMENT_ID", scope.deployment.to_string()),
                    ("APPLICATION_NAME", scope.app.to_string()),
                    ("DEPLOYMENT_GROUP_NAME", scope.group.to_string()),
                ];
                let timeout = h["timeout"].as_f64().unwrap_or(3600.0);
                let script = Script {
                    path,
                    host_dir: &dir,
                    log,
                    env,
                    started: now,
                    timeout,
                };
                if let Err(e) = runner.start(ctx.store, &key, script) {
                    ev["diagnostics"] = diagnostics(
                        "UnknownError",
                        &location,
                        &format!("The script could not be started: {e}"),
                        "",
                    );
                    return Some(false);
                }
                return None;
            }
        }
    }
}
