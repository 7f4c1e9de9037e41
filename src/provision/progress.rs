//! The progress of one stack operation, folded from the event stream. Both front-ends (plain
//! lines and the inline terminal view) read it; nothing here does I/O.

use std::time::Duration;

/// What the operation does to the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
}

impl Operation {
    pub fn verb(self) -> &'static str {
        match self {
            Operation::Create => "Creating",
            Operation::Update => "Updating",
            Operation::Delete => "Deleting",
        }
    }
}

/// One planned change of a change set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// "Add", "Modify", "Remove" (CloudFormation's `Action`).
    pub action: String,
    pub logical_id: String,
    pub resource_type: String,
    /// "True", "Conditional" or "False" for a Modify; empty otherwise.
    pub replacement: String,
}

impl Change {
    /// The one-line form both front-ends print: `+ Add  Pipeline  AWS::CodePipeline::Pipeline`.
    pub fn line(&self) -> String {
        let sign = match self.action.as_str() {
            "Add" => "+",
            "Remove" => "-",
            _ => "~",
        };
        let replace = match self.replacement.as_str() {
            "True" => "  (replacement)",
            "Conditional" => "  (may be replaced)",
            _ => "",
        };
        format!(
            "{sign} {:<7}{:<34}{}{replace}",
            self.action, self.logical_id, self.resource_type
        )
    }
}

/// A status change of one resource or of the stack itself (the stack's logical id is its name).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceEvent {
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
    /// Seconds since the epoch, as the service stamped the event.
    pub timestamp: f64,
}

impl ResourceEvent {
    pub fn is_stack(&self) -> bool {
        self.resource_type == "AWS::CloudFormation::Stack"
    }
}

/// Where a resource stands in the operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Pending,
    InProgress,
    Complete,
    Failed,
}

/// Classifies a CloudFormation status for counting.
pub fn phase(status: &str) -> Phase {
    if status.ends_with("_FAILED") {
        Phase::Failed
    } else if status.ends_with("_IN_PROGRESS") {
        Phase::InProgress
    } else if status.ends_with("_COMPLETE") || status.ends_with("_SKIPPED") {
        Phase::Complete
    } else {
        Phase::Pending
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResourceRow {
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
    pub started: Option<f64>,
    pub finished: Option<f64>,
}

impl ResourceRow {
    pub fn phase(&self) -> Phase {
        phase(&self.status)
    }

    /// Time the resource took, or has taken so far by `now` (event time, seconds).
    pub fn elapsed(&self, now: f64) -> Option<Duration> {
        let start = self.started?;
        let end = self.finished.unwrap_or(now);
        Some(Duration::from_secs_f64((end - start).max(0.0)))
    }
}

/// The first failing resource and why: what the user needs, rather than ROLLBACK_COMPLETE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub stack: String,
    pub operation: Operation,
    /// Resources the operation touches (from the change set, or the stack's resources on delete).
    pub expected: Vec<(String, String)>,
    pub rows: Vec<ResourceRow>,
    pub stack_status: Option<String>,
    pub first_failure: Option<Failure>,
    /// The newest event time seen: "now" for rows still in progress.
    pub latest: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub pending: usize,
    pub in_progress: usize,
    pub complete: usize,
    pub failed: usize,
    pub total: usize,
}

impl Progress {
    pub fn new(stack: &str, operation: Operation, expected: Vec<(String, String)>) -> Self {
        let rows = expected
            .iter()
            .map(|(id, kind)| ResourceRow {
                logical_id: id.clone(),
                resource_type: kind.clone(),
                status: "PENDING".into(),
                reason: None,
                started: None,
                finished: None,
            })
            .collect();
        Self {
            stack: stack.to_string(),
            operation,
            expected,
            rows,
            stack_status: None,
            first_failure: None,
            latest: 0.0,
        }
    }

    /// Folds one event in; returns whether it changed what a user sees.
    pub fn apply(&mut self, e: &ResourceEvent) -> bool {
        self.latest = self.latest.max(e.timestamp);
        if e.is_stack() {
            let changed = self.stack_status.as_deref() != Some(e.status.as_str());
            self.stack_status = Some(e.status.clone());
            return changed;
        }
        if phase(&e.status) == Phase::Failed
            && self.first_failure.is_none()
            && !is_cancellation(e.reason.as_deref())
        {
            self.first_failure = Some(Failure {
                logical_id: e.logical_id.clone(),
                resource_type: e.resource_type.clone(),
                status: e.status.clone(),
                reason: e.reason.clone().unwrap_or_default(),
            });
        }
        let idx = match self.rows.iter().position(|r| r.logical_id == e.logical_id) {
            Some(i) => i,
            None => {
                self.rows.push(ResourceRow {
                    logical_id: e.logical_id.clone(),
                    resource_type: e.resource_type.clone(),
                    status: "PENDING".into(),
                    reason: None,
                    started: None,
                    finished: None,
                });
                self.rows.len() - 1
            }
        };
        let row = &mut self.rows[idx];
        let changed = row.status != e.status;
        row.status = e.status.clone();
        row.reason = e.reason.clone();
        match phase(&e.status) {
            Phase::InProgress => {
                // A rollback restarts the clock of a resource that had finished.
                if row.started.is_none() || row.finished.is_some() {
                    row.started = Some(e.timestamp);
                    row.finished = None;
                }
            }
            Phase::Complete | Phase::Failed => {
                row.started.get_or_insert(e.timestamp);
                row.finished = Some(e.timestamp);
            }
            Phase::Pending => {}
        }
        changed
    }

    pub fn counts(&self) -> Counts {
        let mut c = Counts {
            total: self.rows.len(),
            ..Counts::default()
        };
        for r in &self.rows {
            match r.phase() {
                Phase::Pending => c.pending += 1,
                Phase::InProgress => c.in_progress += 1,
                Phase::Complete => c.complete += 1,
                Phase::Failed => c.failed += 1,
            }
        }
        c
    }

    /// Completed share of the work, 0.0 to 1.0, for the bar.
    pub fn ratio(&self) -> f64 {
        let c = self.counts();
        if c.total == 0 {
            return if self.is_done() { 1.0 } else { 0.0 };
        }
        (c.complete + c.failed) as f64 / c.total as f64
    }

    /// The stack reached a status with nothing in progress.
    pub fn is_done(&self) -> bool {
        self.stack_status.as_deref().is_some_and(is_terminal)
    }

    pub fn succeeded(&self) -> bool {
        self.stack_status
            .as_deref()
            .is_some_and(|s| matches!(s, "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "DELETE_COMPLETE"))
    }
}

/// A status after which CloudFormation does nothing more on its own.
pub fn is_terminal(status: &str) -> bool {
    !status.ends_with("_IN_PROGRESS") && status != "REVIEW_IN_PROGRESS"
}

/// Resources CloudFormation stops because another one failed are not the cause.
fn is_cancellation(reason: Option<&str>) -> bool {
    reason.is_some_and(|r| r.contains("cancelled") || r.contains("canceled"))
}

/// `1m 05s` / `12s`.
pub fn format_elapsed(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: &str, status: &str, t: f64, reason: Option<&str>) -> ResourceEvent {
        ResourceEvent {
            logical_id: id.into(),
            resource_type: if id == "stack" {
                "AWS::CloudFormation::Stack".into()
            } else {
                "AWS::S3::Bucket".into()
            },
            status: status.into(),
            reason: reason.map(str::to_string),
            timestamp: t,
        }
    }

    #[test]
    fn counts_elapsed_and_the_first_real_failure() {
        let mut p = Progress::new(
            "stack",
            Operation::Create,
            vec![
                ("A".into(), "AWS::S3::Bucket".into()),
                ("B".into(), "AWS::S3::Bucket".into()),
                ("C".into(), "AWS::S3::Bucket".into()),
            ],
        );
        assert_eq!(p.counts().pending, 3);
        p.apply(&ev("stack", "CREATE_IN_PROGRESS", 0.0, None));
        p.apply(&ev("A", "CREATE_IN_PROGRESS", 1.0, None));
        p.apply(&ev("A", "CREATE_COMPLETE", 4.0, None));
        p.apply(&ev("B", "CREATE_IN_PROGRESS", 4.0, None));
        let c = p.counts();
        assert_eq!((c.pending, c.in_progress, c.complete), (1, 1, 1));
        assert_eq!(p.rows[0].elapsed(10.0), Some(Duration::from_secs(3)));
        assert_eq!(p.rows[1].elapsed(10.0), Some(Duration::from_secs(6)));
        p.apply(&ev(
            "C",
            "CREATE_FAILED",
            5.0,
            Some("Resource creation cancelled"),
        ));
        p.apply(&ev("B", "CREATE_FAILED", 6.0, Some("bad property")));
        let f = p.first_failure.clone().expect("failure");
        assert_eq!(
            (f.logical_id.as_str(), f.reason.as_str()),
            ("B", "bad property")
        );
        assert!(!p.is_done());
        p.apply(&ev("stack", "ROLLBACK_COMPLETE", 9.0, None));
        assert!(p.is_done() && !p.succeeded());
        assert_eq!(format_elapsed(Duration::from_secs(65)), "1m 05s");
    }
}
