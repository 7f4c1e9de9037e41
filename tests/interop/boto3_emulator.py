"""boto3 against `pipetui emulator serve`: the same results the Rust SDK gets in the tests.

Run by .ci/run with the emulator's URL as the only argument; exits non-zero on the first
difference. The emulator runs with a fast clock (PIPETUI_EMULATOR__CLOCK_SPEED) so alarm periods
pass in well under a second of real time.
"""

import json
import sys
import time

import boto3
import botocore

url = sys.argv[1]
session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
cfg = botocore.config.Config(retries={"max_attempts": 2, "mode": "standard"})


def client(name):
    return session.client(name, endpoint_url=url, config=cfg)


def check(cond, what):
    if not cond:
        print(f"FAIL: {what}")
        sys.exit(1)
    print(f"ok: {what}")


sts = client("sts")
check(sts.get_caller_identity()["Account"] == "000000000000", "sts get-caller-identity")

# Logs: write and filter.
logs = client("logs")
logs.create_log_group(logGroupName="/interop/app")
logs.put_retention_policy(logGroupName="/interop/app", retentionInDays=7)
logs.create_log_stream(logGroupName="/interop/app", logStreamName="web-1")
now_ms = int(time.time() * 1000)
messages = [
    '{"level": "INFO", "msg": "started"}',
    '{"level": "ERROR", "msg": "database timeout"}',
    "plain GET /health 200",
    "plain GET /orders 500",
]
logs.put_log_events(
    logGroupName="/interop/app",
    logStreamName="web-1",
    logEvents=[{"timestamp": now_ms + i, "message": m} for i, m in enumerate(messages)],
)
groups = logs.describe_log_groups(logGroupNamePrefix="/interop")["logGroups"]
check([g["logGroupName"] for g in groups] == ["/interop/app"] and groups[0]["retentionInDays"] == 7, "logs describe-log-groups")
events = logs.get_log_events(logGroupName="/interop/app", logStreamName="web-1", startFromHead=True)["events"]
check([e["message"] for e in events] == messages, "logs get-log-events returns every event in order")
found = logs.filter_log_events(logGroupName="/interop/app", filterPattern='{ $.level = "ERROR" }')["events"]
check([e["message"] for e in found] == [messages[1]], "logs filter-log-events with a JSON pattern")
found = logs.filter_log_events(logGroupName="/interop/app", filterPattern="?500 ?timeout")["events"]
check(len(found) == 2, "logs filter-log-events with ? alternatives")
try:
    logs.create_log_group(logGroupName="/interop/app")
    check(False, "duplicate log group refused")
except logs.exceptions.ResourceAlreadyExistsException:
    check(True, "duplicate log group refused with ResourceAlreadyExistsException")

# CloudWatch: create an alarm and watch it evaluate.
cw = client("cloudwatch")
cw.put_metric_alarm(
    AlarmName="interop-errors",
    Namespace="Interop",
    MetricName="Errors",
    Statistic="Sum",
    Period=10,
    EvaluationPeriods=1,
    Threshold=1.0,
    ComparisonOperator="GreaterThanOrEqualToThreshold",
)
alarm = cw.describe_alarms(AlarmNames=["interop-errors"])["MetricAlarms"][0]
check(alarm["StateValue"] == "INSUFFICIENT_DATA" and alarm["Threshold"] == 1.0, "cloudwatch put-metric-alarm starts INSUFFICIENT_DATA")
cw.put_metric_data(Namespace="Interop", MetricData=[{"MetricName": "Errors", "Value": 3.0}])
state = None
deadline = time.time() + 10
while time.time() < deadline:
    state = cw.describe_alarms(AlarmNames=["interop-errors"])["MetricAlarms"][0]
    if state["StateValue"] == "ALARM":
        break
    time.sleep(0.1)
check(state["StateValue"] == "ALARM" and state["StateReason"].startswith("Threshold Crossed"), "cloudwatch alarm evaluates to ALARM")
history = cw.describe_alarm_history(AlarmName="interop-errors", HistoryItemType="StateUpdate")["AlarmHistoryItems"]
check(any("to ALARM" in h["HistorySummary"] for h in history), "cloudwatch describe-alarm-history records the transition")
try:
    cw.set_alarm_state(AlarmName="missing", StateValue="OK", StateReason="x")
    check(False, "missing alarm refused")
except cw.exceptions.ResourceNotFound:
    check(True, "set-alarm-state on a missing alarm raises ResourceNotFound")

# CloudFormation: create a stack from a template, watch its events, read its outputs; a broken
# resource rolls the stack back with that resource's own reason.
cfn = client("cloudformation")
template = """
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Env:
    Type: String
    AllowedValues: [staging, production]
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub "/interop/${Env}/${AWS::StackName}"
      RetentionInDays: 14
  Errors:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: !Join ["-", [!Ref Env, "errors"]]
      Namespace: Interop
      MetricName: Errors
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
Outputs:
  LogGroupArn:
    Value: !GetAtt Logs.Arn
    Export:
      Name: interop-logs
"""
check(cfn.validate_template(TemplateBody=template)["Parameters"][0]["ParameterKey"] == "Env", "cloudformation validate-template")
stack_id = cfn.create_stack(StackName="interop", TemplateBody=template, Parameters=[{"ParameterKey": "Env", "ParameterValue": "staging"}])["StackId"]
stack = None
deadline = time.time() + 20
while time.time() < deadline:
    stack = cfn.describe_stacks(StackName="interop")["Stacks"][0]
    if not stack["StackStatus"].endswith("IN_PROGRESS"):
        break
    time.sleep(0.1)
check(stack["StackStatus"] == "CREATE_COMPLETE", "cloudformation create-stack reaches CREATE_COMPLETE")
events = cfn.describe_stack_events(StackName="interop")["StackEvents"]
check(events[0]["ResourceStatus"] == "CREATE_COMPLETE" and events[0]["LogicalResourceId"] == "interop", "stack events newest first")
check({e["LogicalResourceId"] for e in events if e["ResourceStatus"] == "CREATE_COMPLETE"} == {"interop", "Logs", "Errors"}, "every resource reported CREATE_COMPLETE")
outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
check(outputs["LogGroupArn"].endswith(":log-group:/interop/staging/interop:*"), "outputs evaluated (Fn::GetAtt, Fn::Sub)")
check(logs.describe_log_groups(logGroupNamePrefix="/interop/staging")["logGroups"][0]["retentionInDays"] == 14, "the stack's log group is live in Logs")
check(cw.describe_alarms(AlarmNames=["staging-errors"])["MetricAlarms"][0]["Threshold"] == 1.0, "the stack's alarm is live in CloudWatch")

broken = template.replace("      MetricName: Errors\n", "")
cfn.create_stack(StackName="interop-broken", TemplateBody=broken, Parameters=[{"ParameterKey": "Env", "ParameterValue": "production"}])
deadline = time.time() + 20
while time.time() < deadline:
    stack = cfn.describe_stacks(StackName="interop-broken")["Stacks"][0]
    if stack["StackStatus"] in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_COMPLETE"):
        break
    time.sleep(0.1)
check(stack["StackStatus"] == "ROLLBACK_COMPLETE", "a failing resource rolls the stack back")
failed = [e for e in cfn.describe_stack_events(StackName="interop-broken")["StackEvents"] if e["ResourceStatus"] == "CREATE_FAILED"]
check(failed and failed[0]["LogicalResourceId"] == "Errors" and "MetricName" in failed[0].get("ResourceStatusReason", ""), "CREATE_FAILED names the resource's own reason")
try:
    cfn.describe_stacks(StackName="nope")
    check(False, "missing stack refused")
except botocore.exceptions.ClientError as e:
    check(e.response["Error"]["Code"] == "ValidationError" and "does not exist" in e.response["Error"]["Message"], "describe-stacks of a missing stack: ValidationError")
cfn.delete_stack(StackName="interop")
deadline = time.time() + 20
while time.time() < deadline:
    stack = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
    if stack["StackStatus"] == "DELETE_COMPLETE":
        break
    time.sleep(0.1)
check(stack["StackStatus"] == "DELETE_COMPLETE", "delete-stack removes the stack")
check(not logs.describe_log_groups(logGroupNamePrefix="/interop/staging")["logGroups"], "and its log group")

print(json.dumps({"protocol_of_cloudwatch": cw.meta.service_model.protocol}))
