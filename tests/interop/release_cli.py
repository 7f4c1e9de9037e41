"""Issue 4's "done means", driven by the aws CLI against `pipetui emulator serve`.

A pipeline whose source is the bundled sample app is created through the CodePipeline,
CodeBuild and CodeDeploy APIs; a commit to the sample repository starts it; its build and tests
really run; it waits at the approval; `aws codepipeline put-approval-result` releases it; the
production deployment finishes with every host's lifecycle events recorded.

usage: release_cli.py http://127.0.0.1:PORT STATE_DIR
"""

import json
import os
import subprocess
import sys
import time

ENDPOINT, STATE_DIR = sys.argv[1], sys.argv[2]
ROLE = "arn:aws:iam::000000000000:role/orders-release"
PIPELINE = "orders-release"
REPO = "orders-cli-demo"
ENV = dict(
    os.environ,
    AWS_ACCESS_KEY_ID="test",
    AWS_SECRET_ACCESS_KEY="test",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_PAGER="",
)


def aws(*args, parse=True):
    cmd = ["aws", "--endpoint-url", ENDPOINT, "--output", "json", *args]
    out = subprocess.run(cmd, env=ENV, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"FAILED: {' '.join(cmd)}\n{out.stderr}")
    return json.loads(out.stdout) if parse and out.stdout.strip() else None


def wait(what, probe, timeout=240):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = probe()
        if got:
            return got
        time.sleep(0.5)
    sys.exit(f"FAILED: timed out waiting for {what}")


def ok(msg):
    print(f"ok   {msg}", flush=True)


# --- the pipeline's parts -------------------------------------------------------------------
for name, spec in (("orders-build", "buildspec.yml"), ("orders-test", "buildspec-test.yml")):
    aws("codebuild", "create-project", "--name", name, "--service-role", ROLE,
        "--source", json.dumps({"type": "CODEPIPELINE", "buildspec": spec}),
        "--artifacts", json.dumps({"type": "CODEPIPELINE"}),
        "--environment", json.dumps({"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
                                     "computeType": "BUILD_GENERAL1_SMALL"}))
aws("deploy", "create-application", "--application-name", "orders", "--compute-platform", "Server")
for env in ("staging", "production"):
    aws("deploy", "create-deployment-group", "--application-name", "orders",
        "--deployment-group-name", f"orders-{env}", "--service-role-arn", ROLE,
        "--deployment-config-name", "CodeDeployDefault.OneAtATime",
        "--ec2-tag-filters", f"Key=Environment,Value={env},Type=KEY_AND_VALUE")
ok("CodeBuild projects and CodeDeploy groups created")


def action(name, category, provider, configuration, inputs=(), outputs=(), owner="AWS"):
    return {"name": name, "actionTypeId": {"category": category, "owner": owner,
                                           "provider": provider, "version": "1"},
            "configuration": configuration, "runOrder": 1,
            "inputArtifacts": [{"name": i} for i in inputs],
            "outputArtifacts": [{"name": o} for o in outputs]}


deploy = lambda env: action("Deploy", "Deploy", "CodeDeploy", {  # noqa: E731
    "ApplicationName": "orders", "DeploymentGroupName": f"orders-{env}"}, inputs=["BuildOutput"])
pipeline = {
    "name": PIPELINE, "roleArn": ROLE, "pipelineType": "V2", "executionMode": "QUEUED",
    "artifactStore": {"type": "S3", "location": "orders-artifacts"},
    "stages": [
        {"name": "Source", "actions": [action("Source", "Source", "CodeCommit", {
            "RepositoryName": REPO, "BranchName": "main", "PollForSourceChanges": "false"},
            outputs=["SourceOutput"])]},
        {"name": "Build", "actions": [action("Build", "Build", "CodeBuild", {"ProjectName": "orders-build"},
                                             inputs=["SourceOutput"], outputs=["BuildOutput"])]},
        {"name": "Test", "actions": [action("Test", "Test", "CodeBuild", {"ProjectName": "orders-test"},
                                            inputs=["SourceOutput"])]},
        {"name": "DeployStaging", "actions": [deploy("staging")]},
        {"name": "Approval", "actions": [action("Approve", "Approval", "Manual", {
            "CustomData": "Check staging before production"})]},
        {"name": "DeployProduction", "actions": [deploy("production")]},
    ],
}
aws("codepipeline", "create-pipeline", "--pipeline", json.dumps(pipeline))
ok("pipeline created with the sample app as its source")

# The creation itself starts a first execution (which also materialises the sample repository);
# it runs to the approval, where the aws CLI rejects it.
first = wait("the first execution", lambda: aws(
    "codepipeline", "list-pipeline-executions", "--pipeline-name", PIPELINE)["pipelineExecutionSummaries"])
first_id = first[-1]["pipelineExecutionId"]
repo = os.path.join(STATE_DIR, "repos", REPO)
def stage(state, name):
    return next(s for s in state["stageStates"] if s["stageName"] == name)


def approval_token():
    state = aws("codepipeline", "get-pipeline-state", "--name", PIPELINE)
    for name in ("Build", "Test", "DeployStaging"):
        s = stage(state, name)
        if s.get("latestExecution", {}).get("status") == "Failed":
            sys.exit(f"FAILED: stage {name} failed: {json.dumps(s, default=str)}")
    a = stage(state, "Approval")["actionStates"][0]
    return a.get("latestExecution", {}).get("token")


first_token = wait("the first execution's approval", approval_token)
aws("codepipeline", "put-approval-result", "--pipeline-name", PIPELINE, "--stage-name", "Approval",
    "--action-name", "Approve", "--token", first_token,
    "--result", "summary=Not this one,status=Rejected")
status = aws("codepipeline", "get-pipeline-execution", "--pipeline-name", PIPELINE,
             "--pipeline-execution-id", first_id)["pipelineExecution"]["status"]
assert status == "Failed", status
ok(f"the first execution reached the approval and the aws CLI rejected it ({status})")

# --- a commit starts it ---------------------------------------------------------------------
git = ["git", "-C", repo, "-c", "user.name=Release Demo", "-c", "user.email=demo@example.com"]
with open(os.path.join(repo, "CHANGELOG.md"), "a") as f:
    f.write("- price bread correctly\n")
subprocess.run([*git, "add", "-A"], check=True)
subprocess.run([*git, "commit", "-q", "-m", "Price bread correctly"], check=True)
commit = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()


def triggered():
    for e in aws("codepipeline", "list-pipeline-executions", "--pipeline-name", PIPELINE)["pipelineExecutionSummaries"]:
        if any(r.get("revisionId") == commit for r in e.get("sourceRevisions", [])):
            return e
    return None


execution = wait("an execution of the new commit", triggered)
exec_id = execution["pipelineExecutionId"]
ok(f"commit {commit[:8]} started execution {exec_id} (trigger {execution.get('trigger', {}).get('triggerType')})")


token = wait("the approval", approval_token)
assert token != first_token, "the new execution reuses the rejected approval's token"
actions = aws("codepipeline", "list-action-executions", "--pipeline-name", PIPELINE,
              "--filter", json.dumps({"pipelineExecutionId": exec_id}))["actionExecutionDetails"]
for name in ("Build", "Test"):
    detail = next(a for a in actions if a["stageName"] == name)
    assert detail["status"] == "Succeeded", detail
    build_id = detail["output"]["executionResult"]["externalExecutionId"]
    build = aws("codebuild", "batch-get-builds", "--ids", build_id)["builds"][0]
    assert build["buildStatus"] == "SUCCEEDED", build
    assert build.get("resolvedSourceVersion", commit) == commit, build
    events = aws("logs", "get-log-events", "--log-group-name", build["logs"]["groupName"],
                 "--log-stream-name", build["logs"]["streamName"], "--start-from-head")["events"]
    text = "\n".join(e["message"] for e in events)
    needle = "all tests passed" if name == "Test" else "Building orders"
    assert needle in text, text[-2000:]
    ok(f"{name}: build {build_id} really ran ({len(events)} log lines, found '{needle}')")
ok("the execution waits at the approval")

aws("codepipeline", "put-approval-result", "--pipeline-name", PIPELINE, "--stage-name", "Approval",
    "--action-name", "Approve", "--token", token,
    "--result", "summary=Staging looks good,status=Approved")
ok("aws codepipeline put-approval-result released it")


def finished():
    e = aws("codepipeline", "get-pipeline-execution", "--pipeline-name", PIPELINE,
            "--pipeline-execution-id", exec_id)["pipelineExecution"]
    if e["status"] in ("Failed", "Stopped", "Superseded"):
        sys.exit(f"FAILED: execution ended {e['status']}: {json.dumps(e, default=str)}")
    return e if e["status"] == "Succeeded" else None


wait("the production deployment", finished)
deployments = aws("deploy", "list-deployments", "--application-name", "orders",
                  "--deployment-group-name", "orders-production")["deployments"]
deployment = aws("deploy", "get-deployment", "--deployment-id", deployments[0])["deploymentInfo"]
assert deployment["status"] == "Succeeded", deployment
targets = aws("deploy", "list-deployment-targets", "--deployment-id", deployments[0])["targetIds"]
details = aws("deploy", "batch-get-deployment-targets", "--deployment-id", deployments[0],
              "--target-ids", *targets)["deploymentTargets"]
for t in details:
    events = t["instanceTarget"]["lifecycleEvents"]
    names = [e["lifecycleEventName"] for e in events]
    assert "ValidateService" in names and all(e["status"] == "Succeeded" for e in events), t
ok(f"production deployment {deployments[0]} succeeded on {len(details)} hosts, "
   f"each with {len(names)} lifecycle events recorded")
print("release via the aws CLI: all checks passed")
