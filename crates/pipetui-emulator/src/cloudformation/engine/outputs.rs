//! The Outputs section, evaluated once every resource exists.

use serde_json::Value;

use super::EngineError;
use super::intrinsics::{Scope, evaluate};
use super::template::{Template, scalar_text};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluatedOutput {
    pub key: String,
    pub value: String,
    pub description: Option<String>,
    pub export_name: Option<String>,
}

/// Values and export names of the outputs whose Condition holds, in template order.
///
/// Export names are not checked for uniqueness: that is account-wide state, so the service must
/// refuse an export name another stack already exports ("Export with name X is already exported
/// by stack Y") and an import of this stack's exports when deleting it.
pub fn evaluate_outputs(
    template: &Template,
    scope: &Scope<'_>,
) -> Result<Vec<EvaluatedOutput>, EngineError> {
    let mut out = Vec::new();
    for (key, o) in &template.outputs {
        if !scope.conditions.is_active(o.condition.as_deref()) {
            continue;
        }
        let value = text(&evaluate(&o.value, scope)?).ok_or_else(|| {
            EngineError::template(format!("Output {key} must evaluate to a string"))
        })?;
        let export_name = match &o.export_name {
            None => None,
            Some(e) => Some(
                evaluate(e, scope)?
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| {
                        EngineError::template(format!(
                            "Export name of output {key} must evaluate to a string"
                        ))
                    })?,
            ),
        };
        out.push(EvaluatedOutput {
            key: key.clone(),
            value,
            description: o.description.clone(),
            export_name,
        });
    }
    Ok(out)
}

/// Outputs are strings; a list (e.g. a `CommaDelimitedList` Ref) is shown comma-joined, as AWS does.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(scalar_text)
            .collect::<Option<Vec<_>>>()
            .map(|parts| parts.join(",")),
        other => scalar_text(other),
    }
}
