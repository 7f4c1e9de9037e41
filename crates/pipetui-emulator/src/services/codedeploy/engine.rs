//! Deployments moving on the emulated clock: Created → InProgress, hosts in batches honouring
//! the minimum healthy hosts, blue/green readiness and rerouting, the bake window watched by
//! the alarms, the end (Succeeded / Failed / Stopped) and automatic rollback.

use serde_json::{Value, json};

use super::CodeDeploy;
use super::health;
use super::model::*;
use super::plan;
use super::steps::{self, Scope};
use crate::protocol::ServiceError;
use crate::service::Ctx;

/// Why a deployment ended early.
pub struct Ending {
    pub status: &'static str,
    pub code: &'static str,
    pub message: String,
    /// The AutoRollbackEvent it counts as.
    pub event: &'static str,
}

pub const RESTART_MESSAGE: &str = "The emulator restarted during the deployment; the hook scripts that were running were interrupted.";

/// Hosts that must stay healthy, from the config's minimumHealthyHosts.
fn required_healthy(config: &Value, fleet: usize) -> usize {
    let m = &config["minimumHealthyHosts"];
    let v = m["value"].as_f64().unwrap_or(0.0).max(0.0);
    let n = match m["type"].as_str() {
        Some("HOST_COUNT") => v as usize,
        // OneAtATime keeps all hosts but one healthy.
        Some("MOST_CONCURRENCY") => fleet.saturating_sub(1),
        _ => (fleet as f64 * v / 100.0).ceil() as usize,
    };
    n.min(fleet)
}

impl CodeDeploy {
    /// Moves every active deployment forward; whether anything changed.
    pub(super) fn tick_deployments(&self, ctx: &Ctx<'_>) -> Result<bool, ServiceError> {
        let docs = ctx.store.documents(SVC, DEPLOYMENT)?;
        let active: Vec<Value> = docs
            .values()
            .filter(|d| d["status"].as_str().is_some_and(|s| ACTIVE.contains(&s)))
            .map(|d| (**d).clone())
            .collect();
        let mut changed = false;
        for before in active {
            let mut dep = before.clone();
            let ending = self.advance(ctx, &mut dep)?;
            if let Some(e) = &ending {
                self.conclude(ctx, &mut dep, e);
                crate::engine::groups::forget(
                    ctx.store,
                    &format!("codedeploy/{}", dep["deploymentId"].as_str().unwrap_or("")),
                );
            }
            if dep == before {
                continue;
            }
            let id = dep["deploymentId"].as_str().unwrap_or("").to_string();
            let written = ctx.store.write(|tx| {
                let Some(cur) = tx.get(SVC, DEPLOYMENT, &id)? else {
                    return Ok(false);
                };
                // A StopDeployment landed meanwhile: its write wins.
                if cur["_run"]["rev"] != before["_run"]["rev"] {
                    return Ok(false);
                }
                let rev = before["_run"]["rev"].as_u64().unwrap_or(0) + 1;
                dep["_run"]["rev"] = json!(rev);
                tx.put(SVC, DEPLOYMENT, &id, &dep)?;
                Ok(true)
            })?;
            changed |= written;
            if !written {
                // Stopped meanwhile: nothing this tick started for it may keep running.
                let now_active = ctx
                    .store
                    .document(SVC, DEPLOYMENT, &id)?
                    .is_some_and(|d| d["status"].as_str().is_some_and(|s| ACTIVE.contains(&s)));
                if !now_active {
                    self.runner.kill_all(Some(ctx.store), &format!("{id}/"));
                }
            }
            if written && let Some(e) = ending {
                self.roll_back(ctx, &id, e.event)?;
            }
            if written && dep["status"] == "Succeeded" {
                self.adopt_fleet(ctx, &dep)?;
            }
        }
        Ok(changed)
    }

    fn advance(&self, ctx: &Ctx<'_>, dep: &mut Value) -> Result<Option<Ending>, ServiceError> {
        let now = ctx.clock.now();
        let app = dep["applicationName"].as_str().unwrap_or("").to_string();
        let group_name = dep["deploymentGroupName"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let Some(group) = ctx
            .store
            .document(SVC, GROUP, &group_key(&app, &group_name))?
        else {
            return Ok(Some(Ending {
                status: "Failed",
                code: "DEPLOYMENT_GROUP_MISSING",
                message: "The deployment group was deleted during the deployment.".into(),
                event: "DEPLOYMENT_FAILURE",
            }));
        };
        if dep["status"] == "Created" || dep["status"] == "Queued" {
            dep["status"] = json!("InProgress");
            dep["startTime"] = json!(now);
        }
        let stage = dep["_run"]["stage"]
            .as_str()
            .unwrap_or("deploy")
            .to_string();
        if stage == "ready" {
            let wait = dep["blueGreenDeploymentConfiguration"]["deploymentReadyOption"]["waitTimeInMinutes"]
                .as_f64()
                .unwrap_or(0.0);
            let since = dep["_run"]["readySince"].as_f64().unwrap_or(now);
            if wait > 0.0 && now >= since + wait * 60.0 {
                return Ok(Some(Ending {
                    status: "Stopped",
                    code: "TIMEOUT",
                    message: format!(
                        "Traffic was not rerouted within the {wait} minute wait time."
                    ),
                    event: "DEPLOYMENT_STOP_ON_REQUEST",
                }));
            }
            return Ok(None);
        }
        // Health first, so the alarms read this tick's data points.
        if dep["computePlatform"] == "Server"
            && now - dep["_run"]["lastHealth"].as_f64().unwrap_or(0.0) >= health::HEALTH_EVERY
        {
            dep["_run"]["lastHealth"] = json!(now);
            health::publish(ctx, dep, &group, now);
        }
        if now > dep["_run"]["lastAlarm"].as_f64().unwrap_or(0.0) {
            dep["_run"]["lastAlarm"] = json!(now);
            let firing = health::firing(ctx, dep);
            if !firing.is_empty() {
                return Ok(Some(Ending {
                    status: "Stopped",
                    code: "ALARM_ACTIVE",
                    message: format!(
                        "One or more alarms have been activated according to the Amazon CloudWatch metrics. The alarm or alarms that were activated include: {}.",
                        firing.join(", ")
                    ),
                    event: "DEPLOYMENT_STOP_ON_ALARM",
                }));
            }
        }
        let mut stage = stage;
        // Stages that end within this tick hand over to the next one at once.
        for _ in 0..4 {
            let next = match stage.as_str() {
                "deploy" | "reroute" => {
                    let phase = u64::from(stage == "reroute");
                    if let Some(e) = self.step_targets(ctx, dep, phase, now) {
                        return Ok(Some(e));
                    }
                    let targets = dep["_targets"].as_array().cloned().unwrap_or_default();
                    if targets
                        .iter()
                        .any(|t| t["status"] != "Failed" && steps::busy_in(t, phase))
                    {
                        break;
                    }
                    let more = targets.iter().any(|t| steps::busy_in(t, 1));
                    if phase == 0 && more {
                        let ready =
                            &dep["blueGreenDeploymentConfiguration"]["deploymentReadyOption"];
                        if ready["actionOnTimeout"] == "STOP_DEPLOYMENT" {
                            dep["status"] = json!("Ready");
                            dep["_run"]["readySince"] = json!(now);
                            refresh(dep, true);
                            dep["_run"]["stage"] = json!("ready");
                            return Ok(None);
                        }
                        "reroute"
                    } else {
                        dep["_run"]["bakeUntil"] = json!(now + health::bake_seconds(ctx, dep));
                        "bake"
                    }
                }
                "bake" => {
                    if now < dep["_run"]["bakeUntil"].as_f64().unwrap_or(now) {
                        break;
                    }
                    if dep["deploymentStyle"]["deploymentType"] == "BLUE_GREEN"
                        && dep["computePlatform"] != "Lambda"
                    {
                        let term = &dep["blueGreenDeploymentConfiguration"]["terminateBlueInstancesOnDeploymentSuccess"];
                        let wait = term["terminationWaitTimeInMinutes"].as_f64().unwrap_or(0.0);
                        dep["instanceTerminationWaitTimeStarted"] = json!(true);
                        dep["_run"]["terminateAt"] = json!(now + wait * 60.0);
                        "terminate"
                    } else {
                        "done"
                    }
                }
                "terminate" => {
                    if now < dep["_run"]["terminateAt"].as_f64().unwrap_or(now) {
                        break;
                    }
                    self.retire_blue(ctx, dep);
                    "done"
                }
                _ => {
                    dep["status"] = json!("Succeeded");
                    dep["completeTime"] = json!(now);
                    refresh(dep, false);
                    break;
                }
            };
            dep["_run"]["stage"] = json!(next);
            stage = next.to_string();
        }
        Ok(None)
    }

    /// Steps the targets of `phase`; Server hosts of phase 0 start in batches.
    fn step_targets(&self, ctx: &Ctx<'_>, dep: &mut Value, phase: u64, now: f64) -> Option<Ending> {
        let id = dep["deploymentId"].as_str().unwrap_or("").to_string();
        let app = dep["applicationName"].as_str().unwrap_or("").to_string();
        let group = dep["deploymentGroupName"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let config = dep["_config"].clone();
        let mut scope = Scope {
            deployment: &id,
            app: &app,
            group: &group,
            config: &config,
            ignore_stop_failures: dep["ignoreApplicationStopFailures"] == true,
            bundle: plan::bundle_dir(&ctx.emulator.settings, &dep["revision"])
                .ok()
                .flatten(),
            messages: Vec::new(),
        };
        let mut targets = dep["_targets"].as_array().cloned().unwrap_or_default();
        let server = dep["computePlatform"] == "Server";
        let batched: Vec<usize> = (0..targets.len())
            .filter(|&i| server && phase == 0 && has_phase0(&targets[i]))
            .collect();
        let fleet = batched.len();
        let required = required_healthy(&config, fleet);
        let concurrency = fleet.saturating_sub(required).max(1);
        // Hosts already under way first, so the ones finishing free their slot this tick.
        for (i, t) in targets.iter_mut().enumerate() {
            let started = t["status"] != "Pending";
            if !batched.contains(&i) || started {
                steps::step(ctx, &self.runner, &mut scope, t, phase, now);
                let s = steps::target_status(t, false);
                t["status"] = json!(s);
            }
        }
        let failed = |targets: &[Value]| targets.iter().filter(|t| t["status"] == "Failed").count();
        let one_at_a_time = config["minimumHealthyHosts"]["type"] == "MOST_CONCURRENCY";
        let allowed = if !(server && phase == 0) {
            0
        } else if one_at_a_time {
            // A failure on the last host still lets a OneAtATime deployment succeed, as on AWS.
            // A fleet of one still needs its host.
            usize::from(fleet > 1 && batched.iter().all(|&i| targets[i]["status"] != "Pending"))
        } else {
            fleet.saturating_sub(required.max(1))
        };
        // No new host starts once too many have failed.
        let healthy = failed(&targets) <= allowed;
        let mut running = batched
            .iter()
            .filter(|&&i| targets[i]["status"] == "InProgress")
            .count();
        for &i in &batched {
            if healthy && targets[i]["status"] == "Pending" && running < concurrency {
                running += 1;
                steps::step(ctx, &self.runner, &mut scope, &mut targets[i], phase, now);
                let s = steps::target_status(&targets[i], false);
                targets[i]["status"] = json!(s);
            }
        }
        let failed = failed(&targets);
        let messages = std::mem::take(&mut scope.messages);
        dep["_targets"] = json!(targets);
        push_messages(dep, messages);
        refresh(dep, false);
        (failed > allowed).then(|| Ending {
            status: "Failed",
            code: if server { "HEALTH_CONSTRAINTS" } else { "HOOK_EXECUTION_FAILURE" },
            message: if server {
                "The overall deployment failed because too many individual instances failed deployment, too few healthy instances are available for deployment, or some instances in your deployment group are experiencing problems.".into()
            } else {
                "A lifecycle hook of the deployment failed.".into()
            },
            event: "DEPLOYMENT_FAILURE",
        })
    }

    /// Ends a deployment early: scripts killed, unfinished events Skipped, running ones Failed.
    pub(super) fn conclude(&self, ctx: &Ctx<'_>, dep: &mut Value, e: &Ending) {
        let now = ctx.clock.now();
        let id = dep["deploymentId"].as_str().unwrap_or("").to_string();
        // Called inside StopDeployment's write too, so the records are forgotten by the callers.
        self.runner.kill_all(None, &format!("{id}/"));
        interrupt(dep, now, &e.message);
        dep["status"] = json!(e.status);
        dep["errorInformation"] = json!({"code": e.code, "message": e.message});
        dep["completeTime"] = json!(now);
        dep["_run"]["stage"] = json!("ended");
    }

    /// After a deployment ended with `event`: a rollback deployment of the group's last good
    /// revision when its autoRollbackConfiguration asks for it.
    pub(super) fn roll_back(
        &self,
        ctx: &Ctx<'_>,
        id: &str,
        event: &str,
    ) -> Result<(), ServiceError> {
        let now = ctx.clock.now();
        let settings = &ctx.emulator.settings;
        ctx.store.write(|tx| {
            let mut dep = load_deployment(tx, id)?;
            let cfg = &dep["autoRollbackConfiguration"];
            let wanted = cfg["enabled"] == true
                && cfg["events"].as_array().is_some_and(|e| e.iter().any(|x| x == event));
            if !wanted || dep["creator"] == "codeDeployRollback" {
                return Ok(());
            }
            let app = dep["applicationName"].as_str().unwrap_or("").to_string();
            let group = dep["deploymentGroupName"].as_str().unwrap_or("").to_string();
            let Some((_, revision)) = plan::last_good_revision(tx, &app, &group)? else {
                dep["rollbackInfo"] = json!({"rollbackMessage":
                    "Automatic rollback was not performed: the deployment group has no previous successful deployment to roll back to."});
                return tx.put(SVC, DEPLOYMENT, id, &dep);
            };
            let req = plan::Request {
                app: &app,
                group: &group,
                revision,
                config: dep["deploymentConfigName"].as_str(),
                description: Some("Automatic rollback to the last successful revision"),
                creator: "codeDeployRollback",
                ignore_stop_failures: dep["ignoreApplicationStopFailures"] == true,
                auto_rollback: Some(dep["autoRollbackConfiguration"].clone()),
                // [CHOICE] A rollback does not watch the alarms that stopped the deployment it
                // undoes: they stay in ALARM until fresh data arrives and would stop it at once.
                alarms: Some(json!({"enabled": false, "ignorePollAlarmFailure": false, "alarms": []})),
                file_exists: None,
            };
            let new_id = match plan::create(tx, settings, now, &req) {
                Ok(id) => id,
                Err(e) => {
                    dep["rollbackInfo"] = json!({"rollbackMessage":
                        format!("Automatic rollback could not start: {}: {}", e.code, e.message)});
                    return tx.put(SVC, DEPLOYMENT, id, &dep);
                }
            };
            let mut new = load_deployment(tx, &new_id)?;
            new["rollbackInfo"] = json!({
                "rollbackTriggeringDeploymentId": id,
                "rollbackMessage": format!("Rolling back to the last successful revision after deployment {id} ended ({event})."),
            });
            tx.put(SVC, DEPLOYMENT, &new_id, &new)?;
            dep["rollbackInfo"] = json!({
                "rollbackDeploymentId": new_id,
                "rollbackMessage": format!("Automatic rollback deployment {new_id} was created ({event})."),
            });
            tx.put(SVC, DEPLOYMENT, id, &dep)
        })
    }

    /// After a blue/green success the replacement hosts are the group's fleet.
    fn adopt_fleet(&self, ctx: &Ctx<'_>, dep: &Value) -> Result<(), ServiceError> {
        if dep["deploymentStyle"]["deploymentType"] != "BLUE_GREEN"
            || dep["computePlatform"] != "Server"
        {
            return Ok(());
        }
        let green: Vec<Value> = dep["_targets"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| t["instanceLabel"] == "Green")
            .map(|t| t["targetId"].clone())
            .collect();
        let key = group_key(
            dep["applicationName"].as_str().unwrap_or(""),
            dep["deploymentGroupName"].as_str().unwrap_or(""),
        );
        ctx.store.write(|tx| {
            if let Some(mut g) = tx.get(SVC, GROUP, &key)? {
                g["_fleet"] = json!(green);
                tx.put(SVC, GROUP, &key, &g)?;
            }
            Ok(())
        })
    }

    /// The original environment after the termination wait: EC2 hosts terminated (their
    /// directories removed) unless KEEP_ALIVE; the original ECS task set drained.
    fn retire_blue(&self, ctx: &Ctx<'_>, dep: &mut Value) {
        let keep = dep["blueGreenDeploymentConfiguration"]["terminateBlueInstancesOnDeploymentSuccess"]
            ["action"]
            == "KEEP_ALIVE";
        let app = dep["applicationName"].as_str().unwrap_or("").to_string();
        let group = dep["deploymentGroupName"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let mut messages = Vec::new();
        for t in dep["_targets"].as_array_mut().into_iter().flatten() {
            if t["_type"] == "ECSTarget" {
                if let Some(sets) = t["taskSetsInfo"].as_array_mut() {
                    sets.retain(|s| s["taskSetLabel"] != "Blue");
                    for s in sets.iter_mut() {
                        s["status"] = json!("PRIMARY");
                    }
                }
                messages.push("The original task set was terminated".to_string());
            } else if t["instanceLabel"] == "Blue" && !keep {
                let host = t["targetId"].as_str().unwrap_or("");
                if let Ok(dir) = plan::host_dir(&ctx.emulator.settings, &app, &group, host) {
                    let _ = std::fs::remove_dir_all(dir);
                }
                messages.push(format!("Original instance {host} was terminated"));
            }
        }
        push_messages(dep, messages);
    }
}

fn has_phase0(t: &Value) -> bool {
    t["lifecycleEvents"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|e| e["_phase"].as_u64().unwrap_or(0) == 0)
}

fn push_messages(dep: &mut Value, messages: Vec<String>) {
    if messages.is_empty() {
        return;
    }
    let mut all = dep["deploymentStatusMessages"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    all.extend(messages.into_iter().map(Value::from));
    dep["deploymentStatusMessages"] = json!(all);
}

/// Target statuses and the deployment overview from the events.
pub fn refresh(dep: &mut Value, ready: bool) {
    let mut overview = json!({"Pending": 0, "InProgress": 0, "Succeeded": 0, "Failed": 0, "Skipped": 0, "Ready": 0});
    for t in dep["_targets"].as_array_mut().into_iter().flatten() {
        let s = steps::target_status(t, ready);
        t["status"] = json!(s);
        overview[s] = json!(overview[s].as_i64().unwrap_or(0) + 1);
    }
    dep["deploymentOverview"] = overview;
}

/// Running events Failed with `message`, pending ones Skipped.
pub fn interrupt(dep: &mut Value, now: f64, message: &str) {
    for t in dep["_targets"].as_array_mut().into_iter().flatten() {
        for e in t["lifecycleEvents"].as_array_mut().into_iter().flatten() {
            match e["status"].as_str() {
                Some("InProgress") => {
                    e["status"] = json!("Failed");
                    e["endTime"] = json!(now);
                    let tail = e["_tail"].as_str().unwrap_or("").to_string();
                    e["diagnostics"] = json!({"errorCode": "UnknownError", "scriptName": "", "message": message, "logTail": tail});
                }
                Some("Pending") => e["status"] = json!("Skipped"),
                _ => {}
            }
        }
    }
    refresh(dep, false);
}
