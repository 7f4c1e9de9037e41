//! `init` and `destroy` orchestration: change set → review → execute → watch, and DeleteStack →
//! watch. Used by the CLI and the console alike; front-ends fold the same events into a
//! [`Progress`] and draw it their way.

pub mod front;
mod progress;
mod stack_ops;
pub mod view;

use std::sync::Arc;
use std::time::Duration;

pub use progress::{
    Change, Counts, Failure, Operation, Phase, Progress, ResourceEvent, ResourceRow,
    format_elapsed, is_terminal, phase,
};
pub use stack_ops::Provisioner;

use crate::aws::{AwsError, Target};
use crate::config::{Config, NameKind};
use crate::stack::CICD;

/// CloudFormation takes at most this many bytes as an inline TemplateBody.
pub const MAX_INLINE_TEMPLATE: usize = 51_200;

/// The stack `init` creates and `destroy` deletes, named like everything else.
pub fn stack_name(config: &Config) -> String {
    let naming = crate::config::validate::naming(config);
    match naming.name(NameKind::Stack, CICD, "stack") {
        Ok(n) => n,
        Err(e) => e.name,
    }
}

/// What `init` would do, after the change set was reviewed by CloudFormation.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// The template and parameters match the stack: nothing to execute.
    UpToDate,
    /// The stack failed its creation and can only be deleted and created again.
    Recreate { status: String },
    /// A change set ready to execute.
    Changes(ChangeSetPlan),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChangeSetPlan {
    pub change_set: String,
    pub operation: Operation,
    pub changes: Vec<Change>,
}

impl ChangeSetPlan {
    /// `3 to add, 1 to modify (1 replaced), 0 to remove`.
    pub fn summary(&self) -> String {
        let count = |a: &str| self.changes.iter().filter(|c| c.action == a).count();
        let replaced = self
            .changes
            .iter()
            .filter(|c| c.replacement == "True")
            .count();
        let replaced = if replaced > 0 {
            format!(" ({replaced} replaced)")
        } else {
            String::new()
        };
        format!(
            "{} to add, {} to modify{replaced}, {} to remove",
            count("Add"),
            count("Modify"),
            count("Remove")
        )
    }
}

/// How an operation ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub progress: Progress,
    /// Stack outputs (key, value, description); empty after a delete or a failure.
    pub outputs: Vec<(String, String, String)>,
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        self.progress.succeeded()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(
        "the template is {bytes} bytes; CloudFormation accepts at most {MAX_INLINE_TEMPLATE} bytes \
         inline and larger templates must be uploaded to S3 first (TemplateURL). Disable features \
         you do not need (dashboard, alarms, notifier) or deploy the rendered template \
         (`pipetui template -o stack.json`) with `aws cloudformation deploy --s3-bucket …`"
    )]
    TemplateTooLarge { bytes: usize },
    #[error(
        "stack {stack} is {status}: wait until it finishes (a *_FAILED state needs fixing in the \
         CloudFormation console first) and run this again"
    )]
    Busy { stack: String, status: String },
    #[error("the change set {change_set} failed: {reason}")]
    ChangeSetFailed { change_set: String, reason: String },
    #[error("stack {stack} does not exist")]
    NoStack { stack: String },
}

/// How often to poll, and an optional hook run before each wait (tests advance a manual clock).
#[derive(Clone)]
pub struct Pace {
    pub interval: Duration,
    pub hook: Option<Arc<dyn Fn() + Send + Sync>>,
}

impl std::fmt::Debug for Pace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pace")
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

impl Pace {
    /// The emulator answers at once; real CloudFormation is polled like the console does.
    pub fn for_target(target: &Target) -> Self {
        let interval = match target {
            Target::Emulator => Duration::from_millis(200),
            _ => Duration::from_secs(3),
        };
        Self {
            interval,
            hook: None,
        }
    }

    async fn wait(&self) {
        if let Some(h) = &self.hook {
            h();
        }
        tokio::time::sleep(self.interval).await;
    }
}
