//! The CloudFormation template engine of the emulator: pure functions over `serde_json::Value`.
//!
//! No I/O, no clock, no randomness of its own (callers pass a seeded [`Random`]), so the service
//! layer can replay any operation in tests. Error messages copy AWS's wording, because SDK users
//! and pipetui itself match on them.
//!
//! Flow for CreateStack/UpdateStack:
//! [`parse_template`] → [`resolve_parameters`] → [`evaluate_conditions`] → [`dependency_order`]
//! → per resource: [`evaluate`] its properties, [`resource_spec`] + [`provision`] →
//! [`evaluate_outputs`]. Change sets: [`snapshot`] old and new, then [`diff`].

mod changeset;
mod conditions;
mod encode;
mod graph;
mod intrinsics;
mod outputs;
mod params;
mod pattern;
mod registry;
mod registry_table;
mod sub;
mod template;
#[cfg(test)]
mod tests;
mod validate;
pub(crate) mod yaml;

pub use yaml::{MAX_TEMPLATE_BYTES, MAX_TEMPLATE_DEPTH};

use std::collections::HashMap;
use std::fmt;

pub use changeset::{
    Change, ChangeAction, ChangeDetail, Evaluation, Replacement, RequiresRecreation,
    ResourceSnapshot, diff, no_changes, snapshot,
};
pub use conditions::{Conditions, MAX_CONDITION_CHAIN, evaluate_conditions};
pub use graph::{dependencies, dependency_order, references};
pub use intrinsics::{NoResources, ResourceLookup, Scope, evaluate, evaluate_properties};
pub use outputs::{EvaluatedOutput, evaluate_outputs};
pub use params::{MASK, ResolvedParam, ResolvedParams, resolve_parameters};
pub use registry::{
    NameStyle, Provisioned, Random, RefKind, ResourceSpec, provision, resource_spec,
};
pub use template::{OutputDecl, ParameterDecl, ResourceDecl, Template, parse_template};

/// The code every template problem gets from CloudFormation.
pub const VALIDATION_ERROR: &str = "ValidationError";

/// An error as CloudFormation reports it: the query-protocol `Code` and `Message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineError {
    pub code: String,
    pub message: String,
}

impl EngineError {
    /// A `ValidationError`, the code of every template, parameter and intrinsic problem.
    pub fn validation(message: impl Into<String>) -> Self {
        Self {
            code: VALIDATION_ERROR.into(),
            message: message.into(),
        }
    }

    /// `Template format error: ...`, what AWS says about a template's structure.
    pub(crate) fn format(message: impl fmt::Display) -> Self {
        Self::validation(format!("Template format error: {message}"))
    }

    /// `Template error: ...`, what AWS says when an intrinsic cannot be evaluated.
    pub(crate) fn template(message: impl fmt::Display) -> Self {
        Self::validation(format!("Template error: {message}"))
    }

    /// AWS's message for a Ref/GetAtt/Sub/DependsOn naming nothing.
    pub(crate) fn unresolved(names: &[String], block: &str) -> Self {
        Self::format(format!(
            "Unresolved resource dependencies [{}] in the {block} block of the template",
            names.join(", ")
        ))
    }
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for EngineError {}

/// Where a stack lives: the values of the pseudo parameters and the exports of other stacks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    pub account_id: String,
    pub region: String,
    pub stack_name: String,
    /// The stack ARN, `arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>`.
    pub stack_id: String,
    /// `AWS::NotificationARNs`; empty unless the stack was created with notification ARNs.
    pub notification_arns: Vec<String>,
    /// Export name → value, of every other stack in the account and region (`Fn::ImportValue`).
    pub exports: HashMap<String, String>,
}

impl Context {
    /// Always "aws": the emulator only speaks the commercial partition.
    pub fn partition(&self) -> &'static str {
        "aws"
    }

    pub fn url_suffix(&self) -> &'static str {
        "amazonaws.com"
    }
}
