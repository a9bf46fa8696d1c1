"""AutomationStackRunner against a fake `pulumi` executable: the CLI calls, their environment, and every fault."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from lambda_src.provisioner.errors import AssumeRoleDenied, DeploymentFailed, PulumiUnavailable, StackBusy
from lambda_src.provisioner.runner import AutomationStackRunner, RetryPolicy, RunnerConfig

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
PENDING = (
    "error: the current deployment has 1 resource(s) with pending operations:\n"
    "  * urn:pulumi:churn-dev::mlops-pipelines::aws:sagemaker/endpoint:Endpoint::churn, interrupted while creating"
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
    assert commands[first_up : first_up + 4] == ["up", "cancel", "refresh", "stack history"]
    assert commands.count("up") == 2
    refresh = next(c["argv"] for c in fake_pulumi.calls() if "refresh" in c["argv"])
    assert "--clear-pending-creates" in refresh
    cancel = next(c["argv"] for c in fake_pulumi.calls() if "cancel" in c["argv"])
    assert cancel[cancel.index("--stack") + 1] == "churn-dev"
    assert runner.sleeps == []


def test_pending_operations_left_by_a_killed_run_are_cleared_by_a_refresh(make_runner: Any, fake_pulumi: Any):
    fake_pulumi.fail_next("up", PENDING)
    runner = make_runner()
    runner.select_or_create("churn-dev", program)

    runner.up()

    commands = fake_pulumi.commands()
    assert "refresh" in commands and "cancel" not in commands
    assert commands.count("up") == 2


def test_recovery_is_tried_once_only(make_runner: Any, fake_pulumi: Any):
    fake_pulumi.fail_next("up", PENDING, PENDING)
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
