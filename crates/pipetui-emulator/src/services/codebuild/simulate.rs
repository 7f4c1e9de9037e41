//! Simulated builds (project tag `pipetui:simulated` = `true`): nothing runs; the buildspec's
//! commands are replayed as log lines, a few emulated seconds apart, moved forward by ticks.
//! The plan is stored, so a simulated build survives an emulator restart.

use serde_json::{Value, json};

use super::SVC;
use super::buildspec::{Buildspec, COMMAND_PHASES};
use super::files;
use super::record::{self, LogTarget};
use crate::protocol::ServiceError;
use crate::service::Ctx;

/// Emulated seconds a replayed command takes.
const COMMAND_SECONDS: f64 = 3.0;

struct Steps {
    at: f64,
    steps: Vec<Value>,
}

impl Steps {
    fn push(&mut self, after: f64, step: Value) {
        self.at += after;
        let mut s = step;
        s["at"] = json!(self.at);
        self.steps.push(s);
    }
    fn agent(&mut self, after: f64, text: &str) {
        self.push(after, json!({ "agent": text }));
    }
    fn phase(&mut self, after: f64, phase: &str) {
        self.push(after, json!({ "end": true }));
        self.push(0.0, json!({ "start": phase }));
    }
}

/// The replay of `spec` (or of an empty buildspec when it could not be read, said in the log).
pub fn plan(start: f64, spec: Result<&Buildspec, &str>) -> Vec<Value> {
    let mut s = Steps {
        at: start,
        steps: Vec::new(),
    };
    s.agent(
        0.0,
        "This build is SIMULATED (project tag pipetui:simulated=true): commands are replayed, not run",
    );
    s.agent(0.0, "Running on CodeBuild On-demand (pipetui emulator)");
    s.phase(1.0, "QUEUED");
    s.phase(1.0, "PROVISIONING");
    s.agent(0.0, "Waiting for agent ping");
    s.phase(2.0, "DOWNLOAD_SOURCE");
    let empty = Buildspec::default();
    let spec = match spec {
        Ok(spec) => spec,
        Err(why) => {
            s.agent(
                0.0,
                &format!("Cannot read the buildspec ({why}); nothing to replay"),
            );
            &empty
        }
    };
    s.agent(
        1.0,
        &format!("Phases found in YAML: {}", spec.defined_phases()),
    );
    for (i, (_, phase)) in COMMAND_PHASES.iter().enumerate() {
        s.phase(1.0, phase);
        s.agent(0.0, &format!("Entering phase {phase}"));
        let p = &spec.phases[i];
        for cmd in p.commands.iter().chain(&p.finally) {
            s.agent(0.0, &format!("Running command {cmd}"));
            s.push(
                COMMAND_SECONDS,
                json!({ "output": format!("[simulated] {cmd}") }),
            );
        }
        s.agent(0.0, &format!("Phase complete: {phase} State: SUCCEEDED"));
    }
    s.phase(1.0, "UPLOAD_ARTIFACTS");
    s.push(1.0, json!({ "upload": true }));
    s.agent(0.0, "Phase complete: UPLOAD_ARTIFACTS State: SUCCEEDED");
    s.push(1.0, json!({ "end": true }));
    s.push(0.0, json!({ "finish": "SUCCEEDED" }));
    s.steps
}

/// Moves every simulated build to the clock's now; whether anything changed.
pub fn tick(ctx: &Ctx<'_>) -> Result<bool, ServiceError> {
    let now = ctx.clock.now();
    let sims = ctx.store.documents(SVC, "sim")?;
    let mut changed = false;
    for (id, sim) in sims.iter() {
        let next = sim["next"].as_u64().unwrap_or(0) as usize;
        let steps = sim["steps"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        let due = steps[next.min(steps.len())..]
            .iter()
            .take_while(|s| s["at"].as_f64().unwrap_or(0.0) <= now)
            .count();
        if due == 0 {
            continue;
        }
        let mut lines = Vec::new();
        let mut upload = false;
        let mut target = None;
        ctx.store.write(|tx| {
            let Some(mut build) = tx.get(SVC, "build", id)? else {
                tx.delete(SVC, "sim", id)?;
                return Ok(());
            };
            target = LogTarget::of(&build);
            for step in &steps[next..next + due] {
                let at = step["at"].as_f64().unwrap_or(now);
                let ms = (at * 1000.0) as i64;
                if let Some(text) = step["agent"].as_str() {
                    lines.push((ms, record::container_line(at, text)));
                } else if let Some(text) = step["output"].as_str() {
                    lines.push((ms, text.to_string()));
                } else if let Some(phase) = step["start"].as_str() {
                    record::start_phase(&mut build, phase, at);
                } else if step.get("end").is_some() {
                    record::end_phase(&mut build, "SUCCEEDED", record::context("", ""), at);
                } else if step.get("upload").is_some() {
                    upload = true;
                    if let Some(loc) = sim["output_location"].as_str() {
                        build["artifacts"]["location"] = json!(loc);
                    }
                } else if let Some(status) = step["finish"].as_str() {
                    record::complete(&mut build, status, at);
                    lines.push((ms, record::container_line(at, &format!("Build {status}"))));
                }
            }
            tx.put(SVC, "build", id, &build)?;
            if next + due >= steps.len() {
                tx.delete(SVC, "sim", id)?;
            } else {
                let mut s = (**sim).clone();
                s["next"] = json!(next + due);
                tx.put(SVC, "sim", id, &s)?;
            }
            Ok(())
        })?;
        changed = true;
        if let Some(t) = target {
            record::put_lines(ctx.emulator, &t, &lines);
        }
        if upload {
            pass_source_through(sim);
        }
    }
    Ok(changed)
}

/// A simulated build's output artifact is its input, so later stages have something to deploy.
fn pass_source_through(sim: &Value) {
    let Some(out) = sim["output_dir"].as_str().map(std::path::Path::new) else {
        return;
    };
    let _ = std::fs::remove_dir_all(out);
    let r = match (
        sim["input_dir"].as_str(),
        sim["repo"].as_str(),
        sim["commit"].as_str(),
    ) {
        (Some(dir), _, _) => files::copy_tree(std::path::Path::new(dir), out).map(|_| ()),
        (None, Some(repo), Some(commit)) => {
            files::checkout(std::path::Path::new(repo), commit, out)
        }
        _ => std::fs::create_dir_all(out),
    };
    if let Err(e) = r {
        tracing::warn!(error = %e, "simulated build could not pass its source through");
    }
}

/// StopBuild of a simulated build: it ends now, STOPPED.
pub fn stop(ctx: &Ctx<'_>, id: &str) -> Result<bool, ServiceError> {
    let now = ctx.clock.now();
    let mut target = None;
    let stopped = ctx.store.write(|tx| {
        if !tx.delete(SVC, "sim", id)? {
            return Ok(false);
        }
        if let Some(mut b) = tx.get(SVC, "build", id)? {
            record::complete(&mut b, "STOPPED", now);
            target = LogTarget::of(&b);
            tx.put(SVC, "build", id, &b)?;
        }
        Ok(true)
    })?;
    if let Some(t) = target {
        let line = record::container_line(now, "Build STOPPED");
        record::put_lines(ctx.emulator, &t, &[(ctx.clock.now_millis(), line)]);
    }
    Ok(stopped)
}
