//! Type checks of request members, as AWS's deserialisers make them before any service logic: a
//! JSON or CBOR member of the wrong type is a `SerializationException`; a query member whose text
//! is not a number or boolean where one is expected is a `ValidationError`.
//!
//! The tables list the top-level input members of the operations in the AWS models (extracted
//! from `aws-fidelity/shapes/*.txt`); names with one type across a service's operations only, so
//! operations the tables do not cover are checked by name too. Members not listed pass unchecked.

use serde_json::Value;

use super::{Protocol, ServiceError, ServiceId};

/// A member's wire type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Str,
    /// `integer` or `long`.
    Int,
    /// `double` or `float`.
    Num,
    Bool,
    /// Epoch seconds (JSON, CBOR) or an ISO-8601 string (query, some clients).
    Time,
    List,
    /// A structure or a map.
    Obj,
}

use Kind::{Bool, Int, List, Num, Obj, Str, Time};

const CLOUDFORMATION: &[(&str, Kind)] = &[
    ("Capabilities", List),
    ("ChangeSetName", Str),
    ("ChangeSetType", Str),
    ("ClientRequestToken", Str),
    ("ClientToken", Str),
    ("DeletionMode", Str),
    ("DeploymentConfig", Obj),
    ("DeploymentMode", Str),
    ("Description", Str),
    ("DisableRollback", Bool),
    ("DisableValidation", Bool),
    ("EnableTerminationProtection", Bool),
    ("ImportExistingResources", Bool),
    ("IncludeNestedStacks", Bool),
    ("IncludePropertyValues", Bool),
    ("LogicalResourceId", Str),
    ("NextToken", Str),
    ("NotificationARNs", List),
    ("OnFailure", Str),
    ("OnStackFailure", Str),
    ("Parameters", List),
    ("PhysicalResourceId", Str),
    ("ResourceTypes", List),
    ("ResourcesToImport", List),
    ("RetainExceptOnCreate", Bool),
    ("RetainResources", List),
    ("RoleARN", Str),
    ("RollbackConfiguration", Obj),
    ("StackName", Str),
    ("StackPolicyBody", Str),
    ("StackPolicyDuringUpdateBody", Str),
    ("StackPolicyDuringUpdateURL", Str),
    ("StackPolicyURL", Str),
    ("StackStatusFilter", List),
    ("Tags", List),
    ("TemplateBody", Str),
    ("TemplateURL", Str),
    ("TimeoutInMinutes", Int),
    ("UsePreviousTemplate", Bool),
];
const CLOUDWATCH: &[(&str, Kind)] = &[
    ("ActionConfiguration", Obj),
    ("ActionPrefix", Str),
    ("ActionsEnabled", Bool),
    ("AlarmActions", List),
    ("AlarmContributorId", Str),
    ("AlarmDescription", Str),
    ("AlarmName", Str),
    ("AlarmNamePrefix", Str),
    ("AlarmNames", List),
    ("AlarmTypes", List),
    ("ChildrenOfAlarmName", Str),
    ("ComparisonOperator", Str),
    ("DatapointsToAlarm", Int),
    ("Dimensions", List),
    ("EndDate", Time),
    ("EndTime", Time),
    ("EvaluateLowSampleCountPercentile", Str),
    ("EvaluationCriteria", Obj),
    ("EvaluationInterval", Int),
    ("EvaluationPeriods", Int),
    ("EvaluationWindow", Obj),
    ("ExtendedStatistic", Str),
    ("HistoryItemType", Str),
    ("InsufficientDataActions", List),
    ("LabelOptions", Obj),
    ("MaxDatapoints", Int),
    ("MaxRecords", Int),
    ("MetricDataQueries", List),
    ("MetricName", Str),
    ("Metrics", List),
    ("Namespace", Str),
    ("NextToken", Str),
    ("OKActions", List),
    ("ParentsOfAlarmName", Str),
    ("Period", Int),
    ("ScanBy", Str),
    ("StartDate", Time),
    ("StartTime", Time),
    ("StateReason", Str),
    ("StateReasonData", Str),
    ("StateValue", Str),
    ("Statistic", Str),
    ("Tags", List),
    ("Threshold", Num),
    ("ThresholdMetricId", Str),
    ("TreatMissingData", Str),
    ("Unit", Str),
    ("WarmUpConfiguration", Obj),
];
const CODEBUILD: &[(&str, Kind)] = &[
    ("artifacts", Obj),
    ("artifactsOverride", Obj),
    ("autoRetryLimit", Int),
    ("autoRetryLimitOverride", Int),
    ("badgeEnabled", Bool),
    ("buildBatchConfig", Obj),
    ("buildStatusConfigOverride", Obj),
    ("buildspecOverride", Str),
    ("cache", Obj),
    ("cacheOverride", Obj),
    ("certificateOverride", Str),
    ("computeTypeOverride", Str),
    ("concurrentBuildLimit", Int),
    ("debugSessionEnabled", Bool),
    ("description", Str),
    ("encryptionKey", Str),
    ("encryptionKeyOverride", Str),
    ("environment", Obj),
    ("environmentTypeOverride", Str),
    ("environmentVariablesOverride", List),
    ("fileSystemLocations", List),
    ("fleetOverride", Obj),
    ("gitCloneDepthOverride", Int),
    ("gitSubmodulesConfigOverride", Obj),
    ("id", Str),
    ("idempotencyToken", Str),
    ("ids", List),
    ("imageOverride", Str),
    ("imagePullCredentialsTypeOverride", Str),
    ("insecureSslOverride", Bool),
    ("logsConfig", Obj),
    ("logsConfigOverride", Obj),
    ("name", Str),
    ("names", List),
    ("nextToken", Str),
    ("privilegedModeOverride", Bool),
    ("projectName", Str),
    ("queuedTimeoutInMinutes", Int),
    ("queuedTimeoutInMinutesOverride", Int),
    ("registryCredentialOverride", Obj),
    ("reportBuildStatusOverride", Bool),
    ("secondaryArtifacts", List),
    ("secondaryArtifactsOverride", List),
    ("secondarySourceVersions", List),
    ("secondarySources", List),
    ("secondarySourcesOverride", List),
    ("secondarySourcesVersionOverride", List),
    ("serviceRole", Str),
    ("serviceRoleOverride", Str),
    ("sortBy", Str),
    ("sortOrder", Str),
    ("source", Obj),
    ("sourceAuthOverride", Obj),
    ("sourceLocationOverride", Str),
    ("sourceTypeOverride", Str),
    ("sourceVersion", Str),
    ("tags", List),
    ("timeoutInMinutes", Int),
    ("timeoutInMinutesOverride", Int),
    ("vpcConfig", Obj),
];
const CODEDEPLOY: &[(&str, Kind)] = &[
    ("applicationName", Str),
    ("autoRollbackConfiguration", Obj),
    ("autoRollbackEnabled", Bool),
    ("createTimeRange", Obj),
    ("deploymentConfigName", Str),
    ("deploymentGroupName", Str),
    ("deploymentId", Str),
    ("deploymentIds", List),
    ("deploymentMode", Str),
    ("deploymentWaitType", Str),
    ("description", Str),
    ("ec2DeploymentOptions", Obj),
    ("externalId", Str),
    ("fileExistsBehavior", Str),
    ("ignoreApplicationStopFailures", Bool),
    ("includeOnlyStatuses", List),
    ("instanceStatusFilter", List),
    ("instanceTypeFilter", List),
    ("nextToken", Str),
    ("overrideAlarmConfiguration", Obj),
    ("revision", Obj),
    ("targetFilters", Obj),
    ("targetId", Str),
    ("targetIds", List),
    ("targetInstances", Obj),
    ("updateOutdatedInstancesOnly", Bool),
];
const CODEPIPELINE: &[(&str, Kind)] = &[
    ("abandon", Bool),
    ("actionName", Str),
    ("clientRequestToken", Str),
    ("filter", Obj),
    ("maxResults", Int),
    ("name", Str),
    ("nextToken", Str),
    ("pipelineExecutionId", Str),
    ("pipelineName", Str),
    ("reason", Str),
    ("result", Obj),
    ("retryMode", Str),
    ("sourceRevisions", List),
    ("stageName", Str),
    ("targetPipelineExecutionId", Str),
    ("token", Str),
    ("transitionType", Str),
    ("variables", List),
    ("version", Int),
];
const LOGS: &[(&str, Kind)] = &[
    ("accountIdentifiers", List),
    ("deletionProtectionEnabled", Bool),
    ("descending", Bool),
    ("endTime", Int),
    ("entity", Obj),
    ("filterPattern", Str),
    ("includeLinkedAccounts", Bool),
    ("interleaved", Bool),
    ("kmsKeyId", Str),
    ("limit", Int),
    ("logEventFilterPattern", Str),
    ("logEvents", List),
    ("logGroupClass", Str),
    ("logGroupIdentifier", Str),
    ("logGroupIdentifiers", List),
    ("logGroupName", Str),
    ("logGroupNamePattern", Str),
    ("logGroupNamePrefix", Str),
    ("logStreamName", Str),
    ("logStreamNamePrefix", Str),
    ("logStreamNamePrefixes", List),
    ("logStreamNames", List),
    ("nextToken", Str),
    ("orderBy", Str),
    ("sequenceToken", Str),
    ("startFromHead", Bool),
    ("startTime", Int),
    ("tags", Obj),
    ("unmask", Bool),
];
const STS: &[(&str, Kind)] = &[
    ("DurationSeconds", Int),
    ("ExternalId", Str),
    ("Policy", Str),
    ("PolicyArns", List),
    ("ProvidedContexts", List),
    ("RoleArn", Str),
    ("RoleSessionName", Str),
    ("SerialNumber", Str),
    ("SourceIdentity", Str),
    ("Tags", List),
    ("TokenCode", Str),
    ("TransitiveTagKeys", List),
];

fn table(service: ServiceId) -> &'static [(&'static str, Kind)] {
    match service {
        ServiceId::CloudFormation => CLOUDFORMATION,
        ServiceId::CloudWatch => CLOUDWATCH,
        ServiceId::CodeBuild => CODEBUILD,
        ServiceId::CodeDeploy => CODEDEPLOY,
        ServiceId::CodePipeline => CODEPIPELINE,
        ServiceId::Logs => LOGS,
        ServiceId::Sts => STS,
    }
}

fn kind_of(service: ServiceId, member: &str) -> Option<Kind> {
    let t = table(service);
    t.binary_search_by(|(k, _)| (*k).cmp(member))
        .ok()
        .map(|i| t[i].1)
}

/// Whether a JSON/CBOR value has the wire type; `null` is an absent member.
fn fits(kind: Kind, v: &Value) -> bool {
    match (kind, v) {
        (_, Value::Null) => true,
        (Str, Value::String(_)) | (Bool, Value::Bool(_)) | (Num, Value::Number(_)) => true,
        (Int, Value::Number(n)) => {
            n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        (Time, Value::Number(_) | Value::String(_)) => true,
        (List, Value::Array(_)) | (Obj, Value::Object(_)) => true,
        _ => false,
    }
}

/// Whether a query member's text parses as the wire type (only scalars are checked: an empty
/// list is sent as `Name=` and structures arrive as nested members).
fn fits_text(kind: Kind, v: &Value) -> bool {
    let Value::String(s) = v else {
        return true;
    };
    match kind {
        Int => s.trim().parse::<i64>().is_ok(),
        Num => s.trim().parse::<f64>().is_ok_and(f64::is_finite),
        Bool => s == "true" || s == "false",
        _ => true,
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Str => "a string",
        Int => "an integer",
        Num => "a number",
        Bool => "a boolean",
        Time => "a timestamp",
        List => "a list",
        Obj => "a structure",
    }
}

/// Checks the top-level members of a decoded input against the service's member types.
pub(super) fn check(
    service: ServiceId,
    operation: &str,
    protocol: Protocol,
    input: &Value,
) -> Result<(), ServiceError> {
    let Value::Object(members) = input else {
        return Err(ServiceError::new(
            "SerializationException",
            format!("The input of {operation} must be a structure"),
        ));
    };
    for (name, v) in members {
        let Some(kind) = kind_of(service, name) else {
            continue;
        };
        if protocol == Protocol::AwsQuery {
            if !fits_text(kind, v) {
                let shown: String = v.as_str().unwrap_or("").chars().take(64).collect();
                return Err(ServiceError::validation(format!(
                    "1 validation error detected: Value '{shown}' at '{name}' failed to satisfy constraint: Member must be {}",
                    kind_name(kind)
                )));
            }
        } else if !fits(kind, v) {
            return Err(ServiceError::new(
                "SerializationException",
                format!(
                    "Cannot deserialize {operation}: member '{name}' must be {}",
                    kind_name(kind)
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_for_binary_search() {
        for t in [
            CLOUDFORMATION,
            CLOUDWATCH,
            CODEBUILD,
            CODEDEPLOY,
            CODEPIPELINE,
            LOGS,
            STS,
        ] {
            assert!(t.windows(2).all(|w| w[0].0 < w[1].0));
        }
    }
}
