"""AutomationStackRunner against a fake `pulumi` executable: the CLI calls, their environment, and every fault."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from lambda_src.provisioner.errors import (
    AssumeRoleDenied,
    DeploymentFailed,
    PendingCreates,
    PulumiUnavailable,
    StackBusy,
)
from lambda_src.provisioner.runner import (
    AutomationStackRunner,
    PendingOperation,
    RetryPolicy,
    RunnerConfig,
    pending_creates_error,
    pending_operations,
)

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
BACKEND = "s3://mlops-pulumi-state-111111111111-us-east-1?region=us-east-1"
SECRETS = "awskms://alias/mlops-pulumi-secrets?region=us-east-1"


def lock_message(created: datetime) -> str:
    """What the S3 backend prints when another update holds the stack's lock."""
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end "
        "or delete the lock file with `pulumi cancel`.\n"
        "  s3://mlops-pulumi-state-111111111111-us-east-1/.pulumi/locks/organization/mlops-pipelines/x/"
        f"0b6c.json: created by sbx_user1051@169.254.10.1 (pid 12) at {stamp}"
    )


ASSUME_ROLE_DENIED = (
    "error: pulumi:providers:aws resource 'dev-deploy' has a problem: operation error STS: AssumeRole, "
    "https response error StatusCode: 403, api error AccessDenied: User: arn:aws:sts::111111111111:assumed-role/"
    "mlops-orch-provisioner/x is not authorized to perform: sts:AssumeRole on resource: "
    "arn:aws:iam::222222222222:role/mlops-staging-deploy"
)
ENDPOINT = "urn:pulumi:churn-dev::mlops-pipelines::aws:sagemaker/endpoint:Endpoint::churn"
CONFIG = "urn:pulumi:churn-dev::mlops-pipelines::aws:sagemaker/endpointConfiguration:EndpointConfiguration::churn"
PENDING_CREATE = (
    "error: the current deployment has 1 resource(s) with pending operations:\n"
    f"  * {ENDPOINT}, interrupted while creating"
)
PENDING = (
    "error: the current deployment has 1 resource(s) with pending operations:\n"
    f"  * {ENDPOINT}, interrupted while updating"
)


def program() -> None:
    """The fake CLI never calls back into the program; the programs are tested under the mock engine."""


@pytest.fixture
def make_runner(fake_pulumi: Any, tmp_path: Path) -> Any:
    sleeps: list[float] = []

    def build(root: Path | None = None, **retry: Any) -> AutomationStackRunner:
        config = RunnerConfig(
            backend_url=BACKEND,
            secrets_provider=SECRETS,
            pulumi_home=str(tmp_path / "home"),
            baked_pulumi_home=str(baked),
            pulumi_root=str(root or fake_pulumi.root),
        )
        runner = AutomationStackRunner(
            config, retry=RetryPolicy(**retry), sleep=sleeps.append, clock=lambda: NOW, work_dir=str(tmp_path / "ws")
        )
        runner.sleeps = sleeps  # type: ignore[attr-defined]
        return runner

    baked = tmp_path / "baked"
    (baked / "plugins" / "resource-aws-v7.51.1").mkdir(parents=True)
    (tmp_path / "ws").mkdir()
    return build


def test_a_new_stack_is_created_configured_and_updated_through_the_cli(
    make_runner: Any, fake_pulumi: Any, tmp_path: Path
):
    fake_pulumi.set(outputs={"endpoint_name": "churn-xgb"}, changes={"create": 5})
    runner = make_runner()

    runner.select_or_create("churn-dev", program)
    runner.set_config({"aws:region": "us-east-1", "mlops:pipelineId": "churn-xgb-realtime-builtin"})
    outcome = runner.up()

    assert outcome.outputs == {"endpoint_name": "churn-xgb"}
    assert outcome.created == 5
    assert fake_pulumi.commands() == [
        "stack select",
        "stack init",
        "config set-all",
        "up",
        "stack output",
        "stack output",
        "stack history",
    ]
    calls = {" ".join(c["argv"][1:3]): c for c in fake_pulumi.calls()}
    init = calls["stack init"]
    assert init["argv"][init["argv"].index("--secrets-provider") + 1] == SECRETS
    assert f"url: {BACKEND}" in init["project"]
    assert "name: mlops-pipelines" in init["project"] and "runtime: python" in init["project"]
    config = calls["config set-all"]["argv"]
    assert "aws:region=us-east-1" in config and "--plaintext" in config and "--secret" not in config
    up = next(c["argv"] for c in fake_pulumi.calls() if c["argv"][1:2] == ["up"])
    assert {"--yes", "--skip-preview"} <= set(up)
    assert up[up.index("--exec-kind") + 1] == "auto.inline"
    assert any(arg.startswith("--client=127.0.0.1:") for arg in up)
    assert up[-2:] == ["--stack", "churn-dev"]
    for call in fake_pulumi.calls():
        if call["argv"] == ["version"]:
            continue  # the SDK's own probe, before any workspace exists
        env = call["env"]
        assert env["PULUMI_HOME"] == str(tmp_path / "home")
        assert env["PULUMI_SKIP_UPDATE_CHECK"] == "true"
        assert env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] == "true"
        assert env["PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER"] == "true"
    assert not any("plugin" in call["argv"] for call in fake_pulumi.calls())
    # The image's plugins are linked into the writable home, never copied or fetched.
    assert (tmp_path / "home" / "plugins").resolve() == (tmp_path / "baked" / "plugins").resolve()


def test_a_held_lock_is_waited_for_then_reported_as_stack_busy(make_runner: Any, fake_pulumi: Any):
    fresh = lock_message(NOW - timedelta(minutes=1))
    fake_pulumi.fail_next("up", fresh, fresh, fresh, fresh)
    runner = make_runner(attempts=4, base_delay_seconds=5, max_delay_seconds=30)
    runner.select_or_create("churn-dev", program)

    with pytest.raises(StackBusy) as caught:
        runner.up()

    assert caught.value.retryable and caught.value.reason == "stack-busy"
    assert fake_pulumi.commands().count("up") == 4
    assert runner.sleeps == [5, 10, 20]
    assert "cancel" not in fake_pulumi.commands()  # a live run's lock is never broken


def test_a_stale_lock_of_a_killed_run_is_cancelled_refreshed_and_the_update_retried_once(
    make_runner: Any, fake_pulumi: Any
):
    fake_pulumi.fail_next("up", lock_message(NOW - timedelta(hours=2)))
    runner = make_runner(stale_lock_after=timedelta(minutes=20))
    runner.select_or_create("churn-dev", program)

    runner.up()

    commands = fake_pulumi.commands()
    first_up = commands.index("up")
    assert commands[first_up : first_up + 5] == ["up", "cancel", "stack export", "refresh", "stack history"]
    assert commands.count("up") == 2
    [refresh] = fake_pulumi.argv_of("refresh")
    assert "--clear-pending-creates" not in refresh
    cancel = next(c["argv"] for c in fake_pulumi.calls() if "cancel" in c["argv"])
    assert cancel[cancel.index("--stack") + 1] == "churn-dev"
    assert runner.sleeps == []


def test_pending_updates_and_deletes_left_by_a_killed_run_are_settled_by_a_refresh(make_runner: Any, fake_pulumi: Any):
    fake_pulumi.fail_next("up", PENDING)
    fake_pulumi.leave_pending("updating", ENDPOINT, "churn")
    fake_pulumi.leave_pending("deleting", CONFIG, "churn-config-old")
    runner = make_runner()
    runner.select_or_create("churn-dev", program)

    runner.up()

    commands = fake_pulumi.commands()
    assert "cancel" not in commands
    assert commands[commands.index("up") :][:4] == ["up", "stack export", "refresh", "stack history"]
    assert commands.count("up") == 2
    [export] = fake_pulumi.argv_of("stack export")
    assert export[export.index("--stack") + 1] == "churn-dev"
    [refresh] = fake_pulumi.argv_of("refresh")
    assert "--clear-pending-creates" not in refresh
    assert fake_pulumi.state()["pending_operations"] == []


def test_pending_creates_are_never_cleared_but_left_to_an_operator(make_runner: Any, fake_pulumi: Any):
    """AWS may have finished them: dropping them from the state would make every later `up` fail
    with "already exists" on the fixed-name resource (endpoint, state machine, log group, ...)."""
    fake_pulumi.fail_next("up", PENDING_CREATE)
    fake_pulumi.leave_pending("creating", ENDPOINT)
    fake_pulumi.leave_pending("updating", CONFIG, "churn-config")
    runner = make_runner()
    runner.select_or_create("churn-dev", program)

    with pytest.raises(PendingCreates) as caught:
        runner.up()

    error = caught.value
    assert error.reason == "pending-creates" and not error.retryable
    assert ENDPOINT in error.message and CONFIG not in error.message
    assert "--import-pending-creates" in error.message and "pulumi stack export" in error.message
    assert "churn-dev" in error.message
    assert "refresh" not in fake_pulumi.commands()
    assert fake_pulumi.commands().count("up") == 1
    assert len(fake_pulumi.state()["pending_operations"]) == 2  # the state is left as the killed run left it


def test_a_stale_lock_over_pending_creates_is_cancelled_but_the_creates_are_kept(make_runner: Any, fake_pulumi: Any):
    fake_pulumi.fail_next("up", lock_message(NOW - timedelta(hours=2)))
    fake_pulumi.leave_pending("creating", ENDPOINT)
    runner = make_runner(stale_lock_after=timedelta(minutes=20))
    runner.select_or_create("churn-dev", program)

    with pytest.raises(PendingCreates, match="1 pending create"):
        runner.up()

    commands = fake_pulumi.commands()
    assert commands[commands.index("up") :] == ["up", "cancel", "stack export"]
    assert not any("--clear-pending-creates" in call["argv"] for call in fake_pulumi.calls())


def test_a_pending_creates_error_names_a_few_urns_and_counts_the_rest():
    creates = [
        PendingOperation(f"urn:pulumi:churn-dev::p::aws:logs/logGroup:LogGroup::g{i}", "creating") for i in range(8)
    ]

    message = pending_creates_error("churn-dev", creates).message

    assert "g0" in message and "g4" in message and "g5" not in message and "(and 3 more)" in message
    assert len(message) < 1000


def test_a_pending_creates_error_keeps_its_stack_and_way_out_however_long_the_urns():
    nested = "mlops:pipelines:RealtimeInference$mlops:pipelines:ServedModel$aws:sagemaker/endpoint:Endpoint"
    creates = [
        PendingOperation(f"urn:pulumi:churn-dev::mlops-pipelines::{nested}::{'x' * 150}{i}", "creating")
        for i in range(6)
    ]

    message = pending_creates_error("churn-dev", creates).message

    assert message.startswith("stack churn-dev has 6 pending create(s)")
    assert message.endswith("send the request again.") and "--import-pending-creates" in message
    assert "x0" in message and "more)" in message and len(message) <= 1000


def test_pending_operations_are_read_from_the_exported_deployment():
    deployment = {
        "resources": [],
        "pending_operations": [
            {"resource": {"urn": ENDPOINT, "type": "aws:sagemaker/endpoint:Endpoint"}, "type": "creating"},
            {"resource": {"urn": CONFIG, "id": "c", "type": "x"}, "type": "deleting"},
        ],
    }

    assert [(op.urn, op.kind) for op in pending_operations(deployment)] == [
        (ENDPOINT, "creating"),
        (CONFIG, "deleting"),
    ]
    assert pending_operations({"resources": []}) == [] and pending_operations(None) == []


def test_recovery_is_tried_once_only(make_runner: Any, fake_pulumi: Any):
    fake_pulumi.fail_next("up", PENDING, PENDING)
    fake_pulumi.leave_pending("updating", ENDPOINT, "churn")
    runner = make_runner()
    runner.select_or_create("churn-dev", program)

    with pytest.raises(DeploymentFailed):
        runner.up()
    assert fake_pulumi.commands().count("refresh") == 1


def test_a_denied_assume_role_is_reported_as_such_without_retrying(make_runner: Any, fake_pulumi: Any):
    fake_pulumi.fail_next("up", ASSUME_ROLE_DENIED)
    runner = make_runner()
    runner.select_or_create("churn-staging", program)

    with pytest.raises(AssumeRoleDenied) as caught:
        runner.up()

    assert not caught.value.retryable
    assert "mlops-staging-deploy" in caught.value.message
    assert fake_pulumi.commands().count("up") == 1


def test_other_failures_are_deployment_failures_with_the_cli_output(make_runner: Any, fake_pulumi: Any):
    fake_pulumi.fail_next("up", "error: creating SageMaker Endpoint: ResourceLimitExceeded")
    runner = make_runner()
    runner.select_or_create("churn-dev", program)

    with pytest.raises(DeploymentFailed) as caught:
        runner.up()
    assert "ResourceLimitExceeded" in caught.value.message and caught.value.retryable


def test_a_missing_cli_is_one_clear_error(make_runner: Any, tmp_path: Path):
    empty = tmp_path / "no-cli"
    (empty / "bin").mkdir(parents=True)
    runner = make_runner(root=empty)

    with pytest.raises(PulumiUnavailable) as caught:
        runner.select_or_create("churn-dev", program)
    assert not caught.value.retryable and "pulumi CLI" in caught.value.message


def test_destroy_and_remove_destroys_then_removes_the_stack(make_runner: Any, fake_pulumi: Any):
    fake_pulumi.set(stacks=["churn-dev"])
    runner = make_runner()

    assert runner.select_existing("churn-dev", program)
    runner.destroy_and_remove()

    assert fake_pulumi.commands()[-3:] == ["destroy", "stack history", "stack rm"]
    assert fake_pulumi.state()["stacks"] == []
    # The providers take the program's settings (rotated external id, changed role), not those in state.
    assert "--run-program=true" in fake_pulumi.argv_of("destroy")[-1]


def test_selecting_a_missing_stack_for_deletion_creates_nothing(make_runner: Any, fake_pulumi: Any):
    runner = make_runner()

    assert not runner.select_existing("churn-prod", program)
    assert fake_pulumi.commands() == ["stack select"]


def test_a_stack_created_concurrently_is_selected(make_runner: Any, fake_pulumi: Any):
    fake_pulumi.fail_next("stack select", "error: no stack named 'churn-dev' found")
    fake_pulumi.fail_next("stack init", "error: stack 'churn-dev' already exists")
    fake_pulumi.set(stacks=["churn-dev"], faults=fake_pulumi.state()["faults"])
    runner = make_runner()

    runner.select_or_create("churn-dev", program)

    assert fake_pulumi.commands() == ["stack select", "stack init", "stack select"]


def test_the_default_command_is_found_on_the_path(fake_pulumi: Any, monkeypatch: pytest.MonkeyPatch):
    """Production passes no command: the SDK runs `pulumi` from PATH (the image puts the CLI there)."""
    monkeypatch.setenv("PATH", f"{fake_pulumi.root / 'bin'}:/usr/bin:/bin")
    command = auto.PulumiCommand(skip_version_check=True)
    assert str(command.version) == "3.272.0"
