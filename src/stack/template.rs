//! A small typed model of a CloudFormation template, serialised with serde.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

/// A map that serialises in insertion order, so the template reads top-down like the pipeline;
/// a replaced entry keeps its original position.
pub type OrderedMap<V> = indexmap::IndexMap<String, V>;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Template {
    #[serde(rename = "AWSTemplateFormatVersion")]
    pub format_version: String,
    #[serde(rename = "Description")]
    pub description: String,
    #[serde(rename = "Parameters", skip_serializing_if = "OrderedMap::is_empty")]
    pub parameters: OrderedMap<Parameter>,
    #[serde(rename = "Conditions", skip_serializing_if = "BTreeMap::is_empty")]
    pub conditions: BTreeMap<String, Value>,
    #[serde(rename = "Resources")]
    pub resources: OrderedMap<Resource>,
    #[serde(rename = "Outputs", skip_serializing_if = "OrderedMap::is_empty")]
    pub outputs: OrderedMap<Output>,
}

impl Template {
    pub fn new(description: impl Into<String>) -> Self {
        Self {
            format_version: "2010-09-09".into(),
            description: description.into(),
            parameters: OrderedMap::default(),
            conditions: BTreeMap::new(),
            resources: OrderedMap::default(),
            outputs: OrderedMap::default(),
        }
    }

    /// The template as pretty JSON, the form `pipetui template` prints and CloudFormation takes.
    pub fn to_json_pretty(&self) -> String {
        // Serialising plain maps, strings and numbers cannot fail; fall back to compact just in case.
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// The whole template as a JSON value, for structural checks.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Parameter {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "Description")]
    pub description: String,
    #[serde(rename = "Default", skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(rename = "AllowedPattern", skip_serializing_if = "Option::is_none")]
    pub allowed_pattern: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Policy {
    Delete,
    Retain,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resource {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "Condition", skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(rename = "DependsOn", skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    #[serde(rename = "Properties")]
    pub properties: Value,
    #[serde(rename = "DeletionPolicy", skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<Policy>,
    #[serde(
        rename = "UpdateReplacePolicy",
        skip_serializing_if = "Option::is_none"
    )]
    pub update_replace_policy: Option<Policy>,
    /// Template metadata; today only the reasons a reviewer gets for a deliberately skipped
    /// checkov rule (`{"checkov": {"skip": [{"id", "comment"}]}}`).
    #[serde(rename = "Metadata", skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

impl Resource {
    /// A resource deleted with the stack (the default for everything but retained data).
    pub fn new(kind: &str, properties: Value) -> Self {
        Self {
            kind: kind.into(),
            condition: None,
            depends_on: Vec::new(),
            properties,
            deletion_policy: Some(Policy::Delete),
            update_replace_policy: Some(Policy::Delete),
            metadata: None,
        }
    }

    /// Records why a checkov rule does not apply to this resource, in the template itself, where
    /// checkov and a reviewer read it.
    pub fn checkov_skip(mut self, id: &str, reason: &str) -> Self {
        let metadata = self.metadata.get_or_insert_with(|| json!({}));
        let skips = &mut metadata["checkov"]["skip"];
        if !skips.is_array() {
            *skips = json!([]);
        }
        if let Some(list) = skips.as_array_mut() {
            list.push(json!({ "id": id, "comment": reason }));
        }
        self
    }

    pub fn depends_on(mut self, logical_id: &str) -> Self {
        if !self.depends_on.iter().any(|d| d == logical_id) {
            self.depends_on.push(logical_id.into());
        }
        self
    }

    /// Keeps the resource (and its replaced predecessors) when the stack goes.
    pub fn retained(mut self, retain: bool) -> Self {
        let p = if retain {
            Policy::Retain
        } else {
            Policy::Delete
        };
        self.deletion_policy = Some(p);
        self.update_replace_policy = Some(p);
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Output {
    #[serde(rename = "Condition", skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(rename = "Description")]
    pub description: String,
    #[serde(rename = "Value")]
    pub value: Value,
    #[serde(rename = "Export", skip_serializing_if = "Option::is_none")]
    pub export: Option<Value>,
}

/// Intrinsic functions as JSON values.
pub mod fns {
    use super::*;

    pub fn r#ref(logical_id: &str) -> Value {
        json!({ "Ref": logical_id })
    }

    pub fn get_att(logical_id: &str, attribute: &str) -> Value {
        json!({ "Fn::GetAtt": [logical_id, attribute] })
    }

    pub fn sub(text: impl Into<String>) -> Value {
        json!({ "Fn::Sub": text.into() })
    }

    pub fn sub_with(text: impl Into<String>, vars: Value) -> Value {
        json!({ "Fn::Sub": [text.into(), vars] })
    }

    pub fn join(separator: &str, parts: Vec<Value>) -> Value {
        json!({ "Fn::Join": [separator, parts] })
    }

    pub fn if_(condition: &str, then: Value, otherwise: Value) -> Value {
        json!({ "Fn::If": [condition, then, otherwise] })
    }

    /// The ARN of a resource of this stack's account, region and partition.
    pub fn arn(service: &str, rest: &str) -> Value {
        sub(format!(
            "arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{rest}"
        ))
    }
}
