//! How a build's document moves through CodeBuild's phases, and its log lines on their way to
//! CloudWatch Logs. Shared by the process runner, the simulated replay and restart recovery.

use std::sync::{Arc, Weak};

use serde_json::{Value, json};

use super::SVC;
use crate::Emulator;
use crate::protocol::{ServiceError, ServiceId, ts};

/// Where a build's log lines go.
#[derive(Debug, Clone, PartialEq)]
pub struct LogTarget {
    pub group: String,
    pub stream: String,
}

impl LogTarget {
    /// The target recorded in a build document, if CloudWatch Logs is enabled for it.
    pub fn of(build: &Value) -> Option<Self> {
        let logs = &build["logs"];
        if logs["cloudWatchLogs"]["status"].as_str() == Some("DISABLED") {
            return None;
        }
        Some(Self {
            group: logs["groupName"].as_str()?.to_string(),
            stream: logs["streamName"].as_str()?.to_string(),
        })
    }
}

/// `[Container] 2026/01/01 00:00:00.000 <text>`, CodeBuild's agent line, on the emulated clock.
pub fn container_line(epoch_seconds: f64, text: &str) -> String {
    let nanos = (epoch_seconds * 1000.0).round() as i128 * 1_000_000;
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!(
        "[year]/[month]/[day] [hour]:[minute]:[second].[subsecond digits:3]"
    );
    format!("[Container] {} {text}", t.format(&fmt).unwrap_or_default())
}

/// Largest message CloudWatch Logs takes in one event (256 KiB less its 26-byte overhead).
const MAX_MESSAGE: usize = 256 * 1024 - 26;

/// A line cut to what one log event holds, on a character boundary.
fn cap(mut line: String) -> String {
    if line.len() > MAX_MESSAGE {
        let mut end = MAX_MESSAGE;
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        line.truncate(end);
    }
    line
}

/// Creates the log group and stream a build writes to; existing ones are fine.
pub fn open_log(emu: &Emulator, target: &LogTarget) {
    let _ = emu.dispatch(
        ServiceId::Logs,
        "CreateLogGroup",
        &json!({ "logGroupName": target.group }),
    );
    if let Err(e) = emu.dispatch(
        ServiceId::Logs,
        "CreateLogStream",
        &json!({ "logGroupName": target.group, "logStreamName": target.stream }),
    ) && e.code != "ResourceAlreadyExistsException"
    {
        tracing::warn!(group = %target.group, code = %e.code, "cannot create a build's log stream");
    }
}

/// Appends lines (epoch milliseconds, message) to the build's stream, in order.
pub fn put_lines(emu: &Emulator, target: &LogTarget, lines: &[(i64, String)]) {
    if lines.is_empty() {
        return;
    }
    let events: Vec<Value> = lines
        .iter()
        .map(|(t, m)| json!({ "timestamp": t, "message": m }))
        .collect();
    let input = json!({
        "logGroupName": target.group,
        "logStreamName": target.stream,
        "logEvents": events,
    });
    if let Err(e) = emu.dispatch(ServiceId::Logs, "PutLogEvents", &input) {
        tracing::warn!(group = %target.group, code = %e.code, "cannot write a build's log lines");
    }
}

/// A phase context: `{statusCode, message}`, empty strings when the phase went well.
pub fn context(code: &str, message: &str) -> Value {
    json!([{ "statusCode": code, "message": message }])
}

/// Opens `phase` as the build's current phase.
pub fn start_phase(build: &mut Value, phase: &str, now: f64) {
    build["currentPhase"] = json!(phase);
    if let Some(phases) = build["phases"].as_array_mut() {
        phases.push(json!({ "phaseType": phase, "startTime": ts(now) }));
    } else {
        build["phases"] = json!([{ "phaseType": phase, "startTime": ts(now) }]);
    }
}

/// Closes the open phase with `status` and its contexts.
pub fn end_phase(build: &mut Value, status: &str, contexts: Value, now: f64) {
    let Some(last) = build["phases"].as_array_mut().and_then(|p| p.last_mut()) else {
        return;
    };
    if last.get("phaseStatus").is_some() {
        return;
    }
    let started = super::ts_of(&last["startTime"]);
    last["phaseStatus"] = json!(status);
    last["endTime"] = ts(now);
    last["durationInSeconds"] = json!((now - started).max(0.0).round() as i64);
    last["contexts"] = contexts;
}

/// The phase that is open (started, not yet ended), if any.
pub fn open_phase(build: &Value) -> Option<&str> {
    let last = build["phases"].as_array()?.last()?;
    if last.get("phaseStatus").is_some() {
        return None;
    }
    last["phaseType"].as_str()
}

/// Ends the build: the open phase (if any) closes with `status`, FINALIZING runs, COMPLETED.
pub fn complete(build: &mut Value, status: &str, now: f64) {
    if open_phase(build).is_some() {
        end_phase(build, status, context("", ""), now);
    }
    start_phase(build, "FINALIZING", now);
    end_phase(build, "SUCCEEDED", context("", ""), now);
    start_phase(build, "COMPLETED", now);
    build["buildStatus"] = json!(status);
    build["buildComplete"] = json!(true);
    build["endTime"] = ts(now);
}

/// Fails a build whose process is gone: its open phase (or, between two phases, FINALIZING)
/// fails with `code`/`message`, then the build completes FAILED. Returns the failed phase.
pub fn fail_open_phase(build: &mut Value, code: &str, message: &str, now: f64) -> String {
    let phase = match open_phase(build) {
        Some(p) => p.to_string(),
        None => {
            start_phase(build, "FINALIZING", now);
            "FINALIZING".to_string()
        }
    };
    end_phase(build, "FAILED", context(code, message), now);
    if phase != "FINALIZING" {
        start_phase(build, "FINALIZING", now);
        end_phase(build, "SUCCEEDED", context("", ""), now);
    }
    start_phase(build, "COMPLETED", now);
    build["buildStatus"] = json!("FAILED");
    build["buildComplete"] = json!(true);
    build["endTime"] = ts(now);
    phase
}

/// Writes one build's document and its log from a thread that does not own the emulator: it
/// holds the emulator only while writing, so dropping the emulator ends the build's work.
#[derive(Debug, Clone)]
pub struct Recorder {
    pub emu: Weak<Emulator>,
    pub build_id: String,
    pub log: Option<LogTarget>,
}

/// The emulator was dropped while the build ran; the thread stops writing.
#[derive(Debug)]
pub struct Gone;

impl Recorder {
    fn emulator(&self) -> Result<Arc<Emulator>, Gone> {
        self.emu.upgrade().ok_or(Gone)
    }

    /// Read-modify-write of the build document in one transaction.
    pub fn update(&self, f: impl FnOnce(&mut Value, f64)) -> Result<(), Gone> {
        let emu = self.emulator()?;
        let now = emu.clock.now();
        let r = emu.store.write(|tx| {
            let mut b = tx
                .get(SVC, "build", &self.build_id)?
                .ok_or_else(|| ServiceError::internal("build vanished"))?;
            // A build already complete (failed by a newer emulator's recovery) stays as it is.
            if b["buildComplete"] == serde_json::json!(true) {
                return Ok(());
            }
            f(&mut b, now);
            tx.put(SVC, "build", &self.build_id, &b)
        });
        if let Err(e) = r {
            tracing::warn!(build = %self.build_id, error = %e, "cannot record a build's progress");
        }
        Ok(())
    }

    /// Output lines already waiting, stamped now, in one PutLogEvents call.
    pub fn output(&self, lines: Vec<String>) -> Result<(), Gone> {
        let emu = self.emulator()?;
        if let Some(t) = &self.log {
            let now = emu.clock.now_millis();
            let events: Vec<(i64, String)> = lines.into_iter().map(|l| (now, cap(l))).collect();
            put_lines(&emu, t, &events);
        }
        Ok(())
    }

    /// One `[Container]` agent line, stamped now.
    pub fn agent(&self, text: &str) -> Result<(), Gone> {
        let emu = self.emulator()?;
        if let Some(t) = &self.log {
            let now = emu.clock.now();
            put_lines(
                &emu,
                t,
                &[((now * 1000.0) as i64, container_line(now, text))],
            );
        }
        Ok(())
    }

    pub fn phase_complete(
        &self,
        phase: &str,
        status: &str,
        code: &str,
        message: &str,
    ) -> Result<(), Gone> {
        self.update(|b, now| end_phase(b, status, context(code, message), now))?;
        self.agent(&format!("Phase complete: {phase} State: {status}"))?;
        self.agent(&format!(
            "Phase context status code: {code} Message: {message}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(b: &Value) -> Vec<(String, String)> {
        b["phases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let s = |k: &str| p[k].as_str().unwrap_or("").to_string();
                (s("phaseType"), s("phaseStatus"))
            })
            .collect()
    }

    #[test]
    fn an_interrupted_build_fails_its_open_phase_or_finalizing() {
        let mut b = json!({ "phases": [] });
        start_phase(&mut b, "BUILD", 1.0);
        assert_eq!(fail_open_phase(&mut b, "X", "gone", 2.0), "BUILD");
        assert_eq!(
            types(&b),
            [
                ("BUILD", "FAILED"),
                ("FINALIZING", "SUCCEEDED"),
                ("COMPLETED", "")
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        assert_eq!(b["phases"][0]["contexts"][0]["message"], "gone");
        assert_eq!(b["buildStatus"], "FAILED");

        let mut between = json!({ "phases": [] });
        start_phase(&mut between, "PROVISIONING", 1.0);
        end_phase(&mut between, "SUCCEEDED", context("", ""), 1.0);
        assert_eq!(
            fail_open_phase(&mut between, "X", "gone", 2.0),
            "FINALIZING"
        );
        assert_eq!(
            types(&between),
            [
                ("PROVISIONING", "SUCCEEDED"),
                ("FINALIZING", "FAILED"),
                ("COMPLETED", "")
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        assert_eq!(between["buildComplete"], true);
    }

    #[test]
    fn long_lines_are_cut_to_one_event() {
        assert_eq!(cap("short".into()), "short");
        let long = "é".repeat(MAX_MESSAGE);
        let cut = cap(long);
        assert!(cut.len() <= MAX_MESSAGE && cut.len() >= MAX_MESSAGE - 1);
    }

    #[test]
    fn container_lines_carry_the_emulated_time() {
        assert_eq!(
            container_line(1_767_225_600.25, "Entering phase BUILD"),
            "[Container] 2026/01/01 00:00:00.250 Entering phase BUILD"
        );
    }
}
