"""Long deletes run in a teardown build, not in the 15-minute provisioner run (issue 11, case 6)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from lambda_src.provisioner.runner import (
    TEARDOWN_DELIVERY_RETRY,
    AutomationStackRunner,
    Failure,
    FailureKind,
    Remedy,
    RetryPolicy,
    RunnerConfig,
    locks_dead_before,
    remedy_for,
)
from lambda_src.provisioner.settings import SettingsError
from lambda_src.provisioner.teardown import TeardownRequest
from lambda_src.registry import Status
from lambda_src.status_events import sweeper
from mlops_spec.env_vars import TEARDOWN_VARIABLE_PATTERN
from tests.lambda_src.provisioner.test_races import provisioned

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


def lock_message(created: datetime) -> str:
    return (
        "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end "
        "or delete the lock file with `pulumi cancel`.\n  s3://state/.pulumi/locks/x.json: "
        f"created by root@codebuild (pid 7) at {created.strftime('%Y-%m-%dT%H:%M:%SZ')}"
    )


# -- decisions ---------------------------------------------------------------------------------------------
@pytest.mark.fast
def test_a_teardown_cancels_target_locks_taken_before_the_door_closed_and_waits_for_younger_ones():
    fresh = Failure(FailureKind.LOCKED, lock_message(NOW - timedelta(minutes=1)))
    before_the_door_closed = Failure(FailureKind.LOCKED, lock_message(NOW - timedelta(minutes=3)))
    older_than_a_lambda_run = Failure(FailureKind.LOCKED, lock_message(NOW - timedelta(minutes=17)))

    def remedy(failure: Failure, retry: RetryPolicy) -> Remedy:
        return remedy_for(failure, can_recover=True, now=NOW, stale_after=retry.stale_lock_after)

    # Nothing of the pipeline could deploy from 2 minutes ago: a lock taken before is a stopped run's,
    # one taken since is someone's live deploy (e.g. `mlops deploy` by hand).
    assert remedy(before_the_door_closed, locks_dead_before(timedelta(minutes=2))) is Remedy.CLEAR_STALE_LOCK
    assert remedy(fresh, locks_dead_before(timedelta(minutes=2))) is Remedy.WAIT
    assert locks_dead_before(timedelta(seconds=-5)).stale_lock_after == timedelta(0)
    assert remedy(fresh, TEARDOWN_DELIVERY_RETRY) is Remedy.WAIT
    assert remedy(older_than_a_lambda_run, TEARDOWN_DELIVERY_RETRY) is Remedy.CLEAR_STALE_LOCK
    # It waits longer than a provisioner run may hold the lock, so the lock is broken, not reported busy.
    assert sum(TEARDOWN_DELIVERY_RETRY.delays()) > 16 * 60


@pytest.mark.fast
def test_a_teardown_request_travels_as_build_variables_of_its_own_namespace_only():
    request = TeardownRequest("churn-xgb-realtime-builtin", 3, "req-A", "mlops-orch-teardown:1")

    variables = {v["name"]: v["value"] for v in request.overrides()}

    assert variables == {
        "MLOPS_TEARDOWN_PIPELINE_ID": "churn-xgb-realtime-builtin",
        "MLOPS_TEARDOWN_VERSION": "3",
        "MLOPS_TEARDOWN_CLAIM": "req-A",
        "MLOPS_TEARDOWN_PREVIOUS_BUILD": "mlops-orch-teardown:1",
    }
    assert all(name.startswith(TEARDOWN_VARIABLE_PATTERN.rstrip("*")) for name in variables)
    assert TeardownRequest.from_env(variables) == request
    assert request.idempotency_token() == TeardownRequest("churn-xgb-realtime-builtin", 3, "req-A").idempotency_token()
    assert request.idempotency_token() != TeardownRequest("churn-xgb-realtime-builtin", 4, "req-A").idempotency_token()


@pytest.mark.fast
@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({}, "not a teardown build: MLOPS_TEARDOWN_PIPELINE_ID, MLOPS_TEARDOWN_VERSION, MLOPS_TEARDOWN_CLAIM not set"),
        (
            {"MLOPS_TEARDOWN_PIPELINE_ID": "p", "MLOPS_TEARDOWN_VERSION": "two", "MLOPS_TEARDOWN_CLAIM": "c"},
            "MLOPS_TEARDOWN_VERSION must be a whole number, not 'two'",
        ),
    ],
)
def test_a_build_without_a_proper_request_is_refused(variables: dict[str, str], message: str):
    with pytest.raises(SettingsError) as caught:
        TeardownRequest.from_env(variables)
    assert str(caught.value) == message


def test_mlops_teardown_outside_a_teardown_build_exits_2_with_one_line(monkeypatch: pytest.MonkeyPatch):
    from mlops_cli.main import app

    for name in ("MLOPS_TEARDOWN_PIPELINE_ID", "MLOPS_TEARDOWN_VERSION", "MLOPS_TEARDOWN_CLAIM"):
        monkeypatch.delenv(name, raising=False)

    result = CliRunner().invoke(app, ["teardown"])

    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: not a teardown build: MLOPS_TEARDOWN_PIPELINE_ID, MLOPS_TEARDOWN_VERSION, MLOPS_TEARDOWN_CLAIM not set"
    ]


# -- the provisioner and the build ---------------------------------------------------------------------------
def deployed(world: Any, example_body: Callable[..., dict[str, Any]]) -> str:
    pipeline_id, name, execution = provisioned(world, example_body("byom_realtime_builtin"))
    world.codepipeline.finish(name, "Succeeded")
    world.event(name, execution, "pipeline", "SUCCEEDED")
    world.backend.stacks[f"{pipeline_id}-dev"] = {"endpoint_name": "e"}
    return pipeline_id


def delete_without_running_the_teardown(world: Any, pipeline_id: str) -> dict[str, Any]:
    """DELETE, and the provisioner's start of the teardown build (claim req-A), which does not run yet."""
    world.run_teardowns = False
    assert world.api("DELETE", f"/pipelines/{pipeline_id}")[0] == 202
    started: dict[str, Any] = world.run_provisioner(SimpleNamespace(aws_request_id="req-A"))
    return started


def test_the_provisioner_only_starts_the_teardown_and_a_killed_one_is_retried_to_the_end(
    single: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    pipeline_id = deployed(single, example_body)
    single.run_teardowns = False
    assert single.api("DELETE", f"/pipelines/{pipeline_id}")[0] == 202

    started = single.run_provisioner(SimpleNamespace(aws_request_id="req-A"))

    first = started["teardown_build"]
    assert single.codebuild.started == [
        {
            "id": first,
            "project": "mlops-orch-teardown",
            "variables": {
                "MLOPS_TEARDOWN_PIPELINE_ID": pipeline_id,
                "MLOPS_TEARDOWN_VERSION": "1",
                "MLOPS_TEARDOWN_CLAIM": "req-A",
            },
        }
    ]
    assert [op for op, _ in single.backend.history if op == "destroy"] == []

    # CodeBuild kills the build at its timeout; the sweep finds it ended and fails the deletion.
    single.codebuild.finish(first, "TIMED_OUT")
    sweeper.sweep(single.registry, lambda *_: None, teardowns=lambda ids: sweeper.build_states(single.codebuild, ids))
    record = single.record(pipeline_id)
    assert record.status == Status.FAILED
    assert record.last_error.startswith(f"teardown-ended (retryable): teardown build {first} ended (TIMED_OUT)")

    # Sent again: a new teardown, told to make sure the killed one is gone before destroying.
    assert single.api("DELETE", f"/pipelines/{pipeline_id}")[0] == 202
    single.run_teardowns = True
    done = single.run_provisioner(SimpleNamespace(aws_request_id="req-B"))

    assert done == {"pipeline_id": pipeline_id, "action": "delete", "status": "DELETED"}
    assert single.codebuild.started[1]["variables"]["MLOPS_TEARDOWN_PREVIOUS_BUILD"] == first
    assert single.codebuild.stop_requests == []  # it had ended: nothing to stop
    destroyed = [stack for op, stack in single.backend.history if op == "destroy"]
    assert destroyed == [f"{pipeline_id}-delivery", f"{pipeline_id}-dev"]
    assert single.record(pipeline_id).status == Status.DELETED


def test_a_teardown_whose_claim_is_not_the_records_destroys_nothing(
    single: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    pipeline_id = deployed(single, example_body)
    delete_without_running_the_teardown(single, pipeline_id)
    before = single.record(pipeline_id)

    outcome = single.provisioner().tear_down(TeardownRequest(pipeline_id, before.version, "forged"))

    assert outcome == {"pipeline_id": pipeline_id, "action": "delete", "skipped": f"DELETING v{before.version}"}
    assert [op for op, _ in single.backend.history if op == "destroy"] == []
    assert single.record(pipeline_id) == before


def test_a_teardown_stops_a_previous_teardown_still_running_before_destroying(
    single: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    pipeline_id = deployed(single, example_body)
    started = delete_without_running_the_teardown(single, pipeline_id)
    record = single.record(pipeline_id)
    single.codebuild.add("mlops-orch-teardown", "mlops-orch-teardown:old")

    outcome = single.provisioner().tear_down(
        TeardownRequest(pipeline_id, record.version, "req-A", previous_build="mlops-orch-teardown:old")
    )

    assert outcome["status"] == "DELETED"
    assert single.codebuild.stop_requests == ["mlops-orch-teardown:old"]
    assert started["teardown_build"] not in single.codebuild.stop_requests


def test_the_real_runner_in_a_teardown_breaks_a_killed_builds_fresh_lock_without_waiting(
    single: Any, example_body: Callable[..., dict[str, Any]], fake_pulumi: Any, tmp_path: Path
) -> None:
    pipeline_id = deployed(single, example_body)
    fake_pulumi.set(
        stacks=[f"{pipeline_id}-dev", f"{pipeline_id}-delivery"],
        # The dev stack's state names its environment's secrets (state_guard checks it before destroying).
        secrets_url="awskms://alias/mlops-pulumi-secrets?region=us-east-1&context_mlops-environment=dev",
    )
    # The delivery stack goes, then the dev stack is found locked by a deploy build stopped earlier.
    fake_pulumi.fail_next("destroy", "", lock_message(datetime.now(UTC) - timedelta(minutes=1)))
    sleeps: list[float] = []
    config = RunnerConfig(
        backend_url="s3://state?region=us-east-1",
        secrets_provider="awskms://alias/mlops-pulumi-secrets?region=us-east-1",
        pulumi_home=str(tmp_path / "home"),
        pulumi_root=str(fake_pulumi.root),
    )
    delete_without_running_the_teardown(single, pipeline_id)
    provisioner = single.provisioner()
    provisioner.runners = lambda retry: AutomationStackRunner(config, retry=retry, sleep=sleeps.append)

    outcome = provisioner.tear_down(TeardownRequest(pipeline_id, single.record(pipeline_id).version, "req-A"))

    assert outcome["status"] == "DELETED"
    assert sleeps == []
    commands = fake_pulumi.commands()
    # The delivery stack first; then the dev stack twice: locked, then after the cancel and refresh.
    assert commands.count("destroy") == 3
    assert commands.index("destroy") < commands.index("cancel") < commands.index("refresh")
    assert fake_pulumi.state()["stacks"] == []


def test_a_teardown_that_loses_its_claim_midway_destroys_nothing_more_and_records_nothing(
    single: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    pipeline_id = deployed(single, example_body)
    started = delete_without_running_the_teardown(single, pipeline_id)
    raise_fault = single.backend.raise_fault

    def failed_while_destroying(op: str) -> None:
        # The deletion is failed (and so unclaimed) while the delivery stack goes.
        if op == "destroy" and single.record(pipeline_id).status == Status.DELETING:
            single.registry.transition(pipeline_id, Status.FAILED, last_error="stopped by hand")
        raise_fault(op)

    single.backend.raise_fault = failed_while_destroying

    outcome = single.run_teardown(started["teardown_build"])

    assert outcome == {"pipeline_id": pipeline_id, "action": "delete", "skipped": "FAILED v1"}
    assert [stack for op, stack in single.backend.history if op == "destroy"] == [f"{pipeline_id}-delivery"]
    assert single.record(pipeline_id).status == Status.FAILED


def test_a_duplicate_start_after_the_build_was_recorded_returns_that_build(
    single: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    """Sent again with the same token, CodeBuild would refuse other variables (a previous build now
    recorded): the provisioner answers with the build its claim already started instead."""
    pipeline_id = deployed(single, example_body)
    single.run_teardowns = False
    single.api("DELETE", f"/pipelines/{pipeline_id}")
    payload = {"action": "delete", "pipeline_id": pipeline_id, "version": 1}
    from lambda_src.provisioner.handler import run

    first = single.run_provisioner(SimpleNamespace(aws_request_id="req-A"))
    again = run(single.provisioner(), payload, SimpleNamespace(aws_request_id="req-A"))

    assert again == first
    assert len(single.codebuild.started) == 1
    assert single.record(pipeline_id).status == Status.DELETING


def test_a_deploy_of_a_pipeline_being_deleted_is_refused_before_anything_is_touched(
    single: Any, example_body: Callable[..., dict[str, Any]], fakes: Any, tmp_path: Path
) -> None:
    from lambda_src.provisioner.deploy import deploy
    from lambda_src.provisioner.errors import BeingDeleted
    from tests.lambda_src.provisioner.promotion_fakes import approved_run

    pipeline_id = deployed(single, example_body)
    single.run_teardowns = False
    single.api("DELETE", f"/pipelines/{pipeline_id}")
    history = list(single.backend.history)

    with pytest.raises(BeingDeleted) as refused:
        deploy(
            pipeline_id,
            "dev",
            single.settings,
            runner=fakes.Runner(single.backend),
            registry=single.registry,
            promotion=approved_run(pipeline_id, "dev"),
        )

    assert refused.value.message == f"{pipeline_id} is DELETING: nothing deployed"
    assert not refused.value.retryable
    assert single.backend.history == history
