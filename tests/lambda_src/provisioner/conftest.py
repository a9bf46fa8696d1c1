"""Fixtures of the provisioning tests: a fake `pulumi` executable, provisioner settings, example specs."""

from __future__ import annotations

import json
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from moto import mock_aws

from lambda_src.provisioner.settings import ProvisionerSettings
from tests.support import moto_template
from tests.support.fake_codebuild import FakeCodeBuild
from tests.support.fake_quotas import FakeServiceQuotas
from tests.support.provisioner_settings import (  # noqa: F401  (fixtures and helpers the tests here use)
    ACCOUNTS_MULTI,
    ACCOUNTS_SINGLE,
    IMAGE,
    example_spec,
    load_example,
    make_settings,
    settings_for,
    spec_for,
)

# The fake answers what pulumi.automation asks of the CLI (pulumi 3.272), records each call, and
# fails a command on demand: state["faults"][<command>] is a queue of stderr texts ("" = succeed).
# state["pending_operations"] is what a killed run left in the state: `stack export` lists them, and
# `refresh` settles pending updates and deletes but drops pending creates only when told to.
FAKE_PULUMI = r"""#!{python} -S
import json, os, sys

WATCHED = [
    "PULUMI_HOME", "PULUMI_SKIP_UPDATE_CHECK", "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK",
    "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER",
    "PULUMI_AUTOMATION_API", "HOME",
]
STATE = os.environ["FAKE_PULUMI_STATE"]
args = sys.argv[1:]
with open(STATE) as f:
    state = json.load(f)
project = open("Pulumi.yaml").read() if os.path.exists("Pulumi.yaml") else None
with open(os.environ["FAKE_PULUMI_LOG"], "a") as f:
    f.write(json.dumps({{"argv": args, "env": {{k: os.environ.get(k) for k in WATCHED}}, "project": project}}) + "\n")
words = [a for a in args if a != "--non-interactive"]

def save():
    with open(STATE, "w") as f:
        json.dump(state, f)

def fail(text):
    save()
    sys.stderr.write(text + "\n")
    sys.exit(255)

def option(name):
    return words[words.index(name) + 1] if name in words else None

command = words[0] if words else ""
key = " ".join(words[:2]) if command in ("stack", "config") else command
queue = state.setdefault("faults", {{}}).get(key, [])
if queue:
    fault = queue.pop(0)
    if fault:
        fail(fault)
stack = option("--stack")
if command == "version":
    print("v3.272.0")
elif key == "stack select":
    if stack not in state["stacks"]:
        fail("error: no stack named '%s' found" % stack)
elif key == "stack init":
    if words[2] in state["stacks"]:
        fail("error: stack '%s' already exists" % words[2])
    state["stacks"].append(words[2])
    if option("--secrets-provider"):
        # As the CLI does: the provider and the data key it wrapped, in the stack's settings file.
        with open("Pulumi.%s.yaml" % words[2], "w") as f:
            f.write("secretsprovider: %s\nencryptedkey: a2V5LW9mLSVz\n" % option("--secrets-provider"))
elif key == "stack import":
    with open(option("--file")) as f:
        state.setdefault("imported", {{}})[stack] = json.load(f)
elif key == "stack output":
    print(json.dumps(state.get("outputs", {{}})))
elif key == "stack history":
    print(json.dumps([{{
        "kind": "update", "startTime": "2026-11-01T10:00:00.000Z", "endTime": "2026-11-01T10:01:00.000Z",
        "message": "", "environment": {{}}, "config": {{}}, "result": "succeeded", "version": 3,
        "resourceChanges": state.get("changes", {{"same": 4}}),
    }}]))
elif key == "stack rm":
    state["stacks"].remove(words[-1])
elif key == "stack export":
    deployment = {{
        "manifest": {{"time": "2026-11-01T10:00:00Z", "magic": "", "version": "v3.272.0"}},
        "secrets_providers": {{"type": "cloud", "state": {{"url": state.get("secrets_url", "awskms://alias/mlops-pulumi-secrets")}}}},
        "resources": [],
    }}
    if state.get("pending_operations"):
        deployment["pending_operations"] = state["pending_operations"]
    print(json.dumps({{"version": 3, "deployment": deployment}}))
elif key in ("config set-all", "up", "destroy", "refresh", "cancel"):
    if key == "refresh":
        drop_creates = "--clear-pending-creates" in words
        state["pending_operations"] = [
            op for op in state.get("pending_operations", []) if op["type"] == "creating" and not drop_creates
        ]
    print("fake pulumi: %s done" % key)
else:
    fail("fake pulumi: unexpected command %s" % args)
save()
"""


@dataclass
class FakePulumi:
    root: Path
    log: Path
    state_file: Path

    def state(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.state_file.read_text())
        return data

    def set(self, **values: Any) -> None:
        self.state_file.write_text(json.dumps({**self.state(), **values}))

    def leave_pending(self, kind: str, urn: str, resource_id: str | None = None) -> None:
        """A killed run's pending operation ("creating", "updating", "deleting") in the stack's state."""
        resource: dict[str, Any] = {"urn": urn, "custom": True, "type": urn.split("::")[-2]}
        if resource_id:
            resource["id"] = resource_id
        state = self.state()
        state.setdefault("pending_operations", []).append({"resource": resource, "type": kind})
        self.state_file.write_text(json.dumps(state))

    def argv_of(self, command: str) -> list[list[str]]:
        """The argument lists of every call of `command` ("refresh", "stack export", ...)."""
        return [
            c["argv"]
            for c in self.calls()
            if " ".join(a for a in c["argv"] if a != "--non-interactive").startswith(command)
        ]

    def fail_next(self, command: str, *stderr: str) -> None:
        """The next calls of `command` ("up", "stack select", ...) fail with these texts ("" succeeds)."""
        state = self.state()
        state.setdefault("faults", {})[command] = list(stderr)
        self.state_file.write_text(json.dumps(state))

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def commands(self) -> list[str]:
        """Each call as "<command> <subcommand>" without flags, version checks left out."""
        out = []
        for call in self.calls():
            words = [a for a in call["argv"] if a != "--non-interactive"]
            if words[0] == "version":
                continue
            out.append(" ".join(words[:2]) if words[0] in ("stack", "config") else words[0])
        return out


@pytest.fixture
def fake_pulumi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakePulumi:
    root = tmp_path / "pulumi-cli"
    (root / "bin").mkdir(parents=True)
    executable = root / "bin" / "pulumi"
    executable.write_text(FAKE_PULUMI.format(python=sys.executable))
    executable.chmod(executable.stat().st_mode | stat.S_IEXEC)
    fake = FakePulumi(root=root, log=tmp_path / "pulumi-calls.jsonl", state_file=tmp_path / "pulumi-state.json")
    fake.state_file.write_text(json.dumps({"stacks": [], "outputs": {}}))
    monkeypatch.setenv("FAKE_PULUMI_LOG", str(fake.log))
    monkeypatch.setenv("FAKE_PULUMI_STATE", str(fake.state_file))
    return fake


# -- an in-memory Pulumi backend and CodePipeline, for the provisioning flows ---------------------------
@dataclass
class FakeBackend:
    """Stacks as the S3 backend would hold them; `faults[op]` queues errors the runner raises instead."""

    outputs_for: Callable[[str], dict[str, Any]]
    on_create: Callable[[str], None] = lambda name: None
    stacks: dict[str, dict[str, Any]] = field(default_factory=dict)
    config: dict[str, dict[str, str]] = field(default_factory=dict)
    history: list[tuple[str, str]] = field(default_factory=list)
    faults: dict[str, list[Exception]] = field(default_factory=dict)
    block: Callable[[], None] = lambda: None
    retries: list[Any] = field(default_factory=list)
    # What a preview-only refresh of a stack finds (in sync when absent).
    drift: dict[str, Any] = field(default_factory=dict)
    # Exported states of stacks (`stack export`), where a test needs more than an empty one.
    exports: dict[str, dict[str, Any]] = field(default_factory=dict)

    def raise_fault(self, op: str) -> None:
        queue = self.faults.get(op, [])
        if queue:
            raise queue.pop(0)


class FakeStackRunner:
    """StackRunner in memory: programs are not run (the mock-engine tests cover them)."""

    def __init__(self, backend: FakeBackend, retry: Any = None):
        self.backend = backend
        self.name = ""
        backend.retries.append(retry)

    def select_or_create(self, stack_name: str, program: Callable[[], None]) -> None:
        self.backend.raise_fault("select")
        self.name = stack_name
        self.backend.history.append(("select", stack_name))

    def select_existing(self, stack_name: str, program: Callable[[], None]) -> bool:
        self.backend.raise_fault("select")
        self.name = stack_name
        return stack_name in self.backend.stacks

    def set_config(self, values: Any) -> None:
        self.backend.config[self.name] = dict(values)

    def up(self, on_output: Any = None) -> Any:
        from lambda_src.provisioner.runner import UpOutcome

        self.backend.block()
        self.backend.raise_fault("up")
        new = self.name not in self.backend.stacks
        outputs = self.backend.outputs_for(self.name)
        self.backend.stacks[self.name] = outputs
        self.backend.history.append(("up", self.name))
        if new:
            self.backend.on_create(self.name)
        return UpOutcome(outputs=outputs, resource_changes={"create": 5} if new else {"same": 5})

    def outputs(self) -> dict[str, Any]:
        return dict(self.backend.stacks.get(self.name, {}))

    def destroy_and_remove(self, on_output: Any = None) -> None:
        self.backend.raise_fault("destroy")
        del self.backend.stacks[self.name]
        self.backend.history.append(("destroy", self.name))

    def cancel(self) -> None:
        self.backend.history.append(("cancel", self.name))

    def export_deployment(self) -> dict[str, Any]:
        """The stack's state as `stack export` gives it (no provider unless a test plants one)."""
        return self.backend.exports.get(self.name, {"version": 3, "deployment": {"resources": []}})

    def drift(self, on_output: Any = None) -> Any:
        from lambda_src.provisioner.runner import DriftReport

        self.backend.raise_fault("drift")
        self.backend.history.append(("drift", self.name))
        return self.backend.drift.get(self.name, DriftReport(changes={"same": 5}))

    def refresh(self, clear_pending_creates: bool = False, on_output: Any = None) -> None:
        self.backend.history.append(("refresh", self.name))

    def close(self) -> None:
        pass


@dataclass
class FakeCodePipeline:
    """The CodePipeline calls the provisioner and status function make (moto lacks stop/approvals)."""

    clock: Callable[[], datetime]
    executions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    started: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)

    def create(self, name: str) -> str:
        """CodePipeline starts a new pipeline's first run by itself."""
        return self._run(name)

    def _run(self, name: str) -> str:
        runs = self.executions.setdefault(name, [])
        execution_id = f"{name}-run-{len(runs) + 1}"
        runs.insert(0, {"pipelineExecutionId": execution_id, "status": "InProgress", "startTime": self.clock()})
        return execution_id

    def finish(self, name: str, status: str) -> None:
        self.executions[name][0]["status"] = status

    def list_pipeline_executions(self, pipelineName: str, maxResults: int = 100) -> dict[str, Any]:
        return {"pipelineExecutionSummaries": list(self.executions.get(pipelineName, []))[:maxResults]}

    def start_pipeline_execution(self, name: str) -> dict[str, Any]:
        self.started.append(name)
        return {"pipelineExecutionId": self._run(name)}

    def get_pipeline_execution(self, pipelineName: str, pipelineExecutionId: str) -> dict[str, Any]:
        [run] = [r for r in self.executions[pipelineName] if r["pipelineExecutionId"] == pipelineExecutionId]
        return {"pipelineExecution": {"pipelineExecutionId": pipelineExecutionId, "status": run["status"]}}

    def stop_pipeline_execution(self, pipelineName: str, pipelineExecutionId: str, **_: Any) -> dict[str, Any]:
        self.stopped.append(pipelineExecutionId)
        self.finish(pipelineName, "Stopped")
        return {"pipelineExecutionId": pipelineExecutionId}


@pytest.fixture
def fakes() -> Any:
    return SimpleNamespace(Backend=FakeBackend, Runner=FakeStackRunner, CodePipeline=FakeCodePipeline)


# -- a moto account with the orchestrator's table, bucket and topic ------------------------------------
TABLE = "mlops-pipelines"
BUCKET = "mlops-assets-111111111111-us-east-1"
START = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def rest_event(method: str, path: str, body: Any = None) -> dict[str, Any]:
    """An API Gateway REST proxy event with IAM auth, as the API function receives it."""
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "path": f"/v1{path}",
            "stage": "v1",
            "accountId": "111111111111",
            "requestId": "req-1",
            "identity": {"userArn": "arn:aws:iam::111111111111:user/data-scientist", "sourceIp": "203.0.113.7"},
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


def codepipeline_event(name: str, execution_id: str, kind: str, state: str, **detail: Any) -> dict[str, Any]:
    """A CodePipeline EventBridge event as the orchestrator's rule forwards it."""
    detail_type = {
        "pipeline": "CodePipeline Pipeline Execution State Change",
        "stage": "CodePipeline Stage Execution State Change",
        "action": "CodePipeline Action Execution State Change",
    }[kind]
    return {
        "version": "0",
        "id": "e-1",
        "detail-type": detail_type,
        "source": "aws.codepipeline",
        "account": "111111111111",
        "time": "2026-11-01T09:00:00Z",
        "region": "us-east-1",
        "resources": [f"arn:aws:codepipeline:us-east-1:111111111111:{name}"],
        "detail": {"pipeline": name, "execution-id": execution_id, "state": state, "version": 1, **detail},
    }


@dataclass
class World:
    """The orchestrator's functions wired to moto (registry, bucket, topic) and in-memory Pulumi."""

    mode: str
    topic_arn: str
    queue_url: str
    settings: ProvisionerSettings
    backend: FakeBackend
    codepipeline: FakeCodePipeline
    now: list[datetime]
    invocations: list[dict[str, Any]] = field(default_factory=list)
    # CodeBuild as the provisioner sees it: deploy builds, and the teardown builds deletes start.
    codebuild: Any = field(default_factory=FakeCodeBuild)
    # Whether a delete's teardown build runs as soon as the provisioner has started it.
    run_teardowns: bool = True
    # Each environment's Service Quotas as the quota preflight reads them (none listed: nothing checked).
    quotas: dict[str, FakeServiceQuotas] = field(default_factory=dict)

    @property
    def registry(self) -> Any:
        from lambda_src.registry import Registry

        return Registry(TABLE)

    def provisioner(self) -> Any:
        from lambda_src.common import aws
        from lambda_src.provisioner.handler import Provisioner

        return Provisioner(
            settings=self.settings,
            registry=self.registry,
            runners=lambda retry: FakeStackRunner(self.backend, retry),
            s3=aws.client("s3"),
            codepipeline=self.codepipeline,
            clock=lambda: self.now[0],
            codebuild_client=self.codebuild,
            sleep=lambda seconds: self.advance_seconds(seconds),
            quotas_for=lambda env: self.quotas.setdefault(env, FakeServiceQuotas()),
        )

    def advance_seconds(self, seconds: float) -> None:
        self.now[0] = self.now[0] + timedelta(seconds=seconds)

    def advance(self, minutes: int = 10) -> None:
        self.now[0] = self.now[0] + timedelta(minutes=minutes)

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
        from lambda_src.api.handler import handler

        context = SimpleNamespace(
            function_name="mlops-orch-api",
            memory_limit_in_mb=256,
            invoked_function_arn="arn:aws:lambda:us-east-1:111111111111:function:mlops-orch-api",
            aws_request_id="req-1",
        )
        response = handler(rest_event(method, path, body), context)  # type: ignore[arg-type]
        return response["statusCode"], json.loads(response["body"])

    def run_provisioner(self, context: Any = None) -> dict[str, Any]:
        """Deliver the API's last async invoke to the provisioner, as Lambda would; a delete's
        teardown build then runs (unless `run_teardowns` is off) and its outcome is returned."""
        from lambda_src.provisioner.handler import run

        payload = self.invocations.pop(0)
        result: dict[str, Any] = run(self.provisioner(), payload, context)
        if "teardown_build" in result and self.run_teardowns:
            return self.run_teardown(result["teardown_build"])
        return result

    def run_teardown(self, build_id: str) -> dict[str, Any]:
        """Run a started teardown build as CodeBuild would (`mlops teardown` with its variables)."""
        from lambda_src.provisioner.teardown import TeardownRequest

        [build] = [b for b in self.codebuild.started if b["id"] == build_id]
        outcome: dict[str, Any] = self.provisioner().tear_down(TeardownRequest.from_env(build["variables"]))
        self.codebuild.finish(build_id, "FAILED" if outcome.get("status") == "FAILED" else "SUCCEEDED")
        return outcome

    def event(self, name: str, execution_id: str, kind: str, state: str, **detail: Any) -> dict[str, Any]:
        from lambda_src.common import aws
        from lambda_src.status_events.handler import StatusUpdater
        from lambda_src.status_events.transitions import PipelineEvent

        parsed = PipelineEvent.parse(codepipeline_event(name, execution_id, kind, state, **detail))
        assert parsed is not None
        updater = StatusUpdater(self.registry, self.codepipeline, aws.client("sns"), self.topic_arn, "us-east-1")
        result: dict[str, Any] = updater.apply(parsed)
        return result

    def record(self, pipeline_id: str) -> Any:
        return self.registry.get(pipeline_id)

    def emails(self) -> list[str]:
        from lambda_src.common import aws

        sqs = aws.client("sqs")
        messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
        for message in messages:
            sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return [json.loads(m["Body"])["Subject"] for m in messages]


def _stack_outputs(name: str) -> dict[str, Any]:
    from lambda_src.status_events.names import codepipeline_name

    if name.endswith("-delivery"):
        pipeline_id = name.removesuffix("-delivery")
        return {"pipeline_name": codepipeline_name(pipeline_id), "stages": ["Source", "Deploy"]}
    return {"endpoint_name": f"{name}-endpoint"}


# S3 in moto takes any key id; creating a real moto key would cost 0.1 s a test.
ASSETS_KEY = "arn:aws:kms:us-east-1:111111111111:key/00000000-0000-0000-0000-00000000aaaa"


def _create_world_resources() -> tuple[str, str]:
    """The orchestrator's table, versioned bucket, topic and a queue subscribed to it: (topic ARN, queue URL)."""
    from lambda_src.common import aws
    from tests.support.moto_orchestrator import create_registry_table

    dynamodb, s3, sns, sqs = (aws.client(s) for s in ("dynamodb", "s3", "sns", "sqs"))
    create_registry_table(dynamodb, TABLE)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    topic_arn = sns.create_topic(Name="mlops-notifications")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return topic_arn, queue_url


def start_world(mode: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """A fresh moto account per test; its resources are made through the API once per process and
    copied in afterwards (tests/support/moto_template.py)."""
    from lambda_src.common import aws
    from lambda_src.status_events.names import codepipeline_name

    with mock_aws():
        services = ("dynamodb", "s3", "sns", "sqs")
        topic_arn, queue_url = moto_template.install("provisioner-world", services, _create_world_resources)
        key = ASSETS_KEY
        for var, value in {
            "MLOPS_REGISTRY_TABLE": TABLE,
            "MLOPS_ASSETS_BUCKET": BUCKET,
            "MLOPS_TOPIC_ARN": topic_arn,
            "MLOPS_PROVISIONER_FUNCTION": "mlops-orch-provisioner",
            "MLOPS_MODE": mode,
            "MLOPS_ORCHESTRATOR_ENVIRONMENT": "dev",
        }.items():
            monkeypatch.setenv(var, value)
        now = [START]
        codepipeline = FakeCodePipeline(clock=lambda: now[0])

        def pipeline_created(stack: str) -> None:
            if stack.endswith("-delivery"):
                codepipeline.create(codepipeline_name(stack.removesuffix("-delivery")))

        backend = FakeBackend(outputs_for=_stack_outputs, on_create=pipeline_created)
        settings = make_settings(
            mode,
            assets_bucket=BUCKET,
            assets_kms_key_arn=key,
            registry_table=TABLE,
            notification_topic_arn=topic_arn,
        )
        world = World(mode, topic_arn, queue_url, settings, backend, codepipeline, now)

        def capture(params: dict[str, Any], **_: Any) -> Any:
            world.invocations.append(json.loads(params["body"]))
            return AWSResponse("https://lambda.local", 202, HTTPHeaders(), None), {"StatusCode": 202}

        events = aws.client("lambda").meta.events
        events.register("before-call.lambda.Invoke", capture)
        try:
            yield world
        finally:
            events.unregister("before-call.lambda.Invoke", capture)


@pytest.fixture
def single(aws_credentials: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    yield from start_world("single", monkeypatch)


@pytest.fixture
def multi(aws_credentials: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    yield from start_world("multi", monkeypatch)


@pytest.fixture
def example_body() -> Callable[..., dict[str, Any]]:
    return load_example
