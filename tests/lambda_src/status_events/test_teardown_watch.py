"""The sweep and teardown builds (issue 11, case 6): a deletion is left to its teardown build however
long it runs, and failed retryably once the build has ended without finishing it."""

from __future__ import annotations

from typing import Any

from lambda_src.common import aws
from lambda_src.registry import Registry, Status
from lambda_src.status_events.handler import handler
from tests.lambda_src.status_events.test_sweeper import SCHEDULED_EVENT, age, set_status, submit
from tests.support.api_gateway import LAMBDA_CONTEXT, api_event, call
from tests.support.aws_stubs import answering
from tests.support.moto_orchestrator import Orchestrator
from tests.support.requests import realtime_body

BUILD = "mlops-orch-teardown:0f1e2d3c"


def tearing_down(orchestrator: Orchestrator, build: str = BUILD, minutes: int = 200) -> str:
    """A DELETING record whose teardown build the provisioner started `minutes` ago."""
    pipeline = submit(realtime_body())
    set_status(orchestrator, pipeline, "DELETING")
    registry = Registry(orchestrator.table)
    assert registry.claim_deletion(pipeline, 1, "req-A")
    assert registry.record_teardown(pipeline, 1, "req-A", build)
    age(orchestrator, pipeline, minutes=minutes)
    return pipeline


def builds_in(state: str, asked: list[list[str]]) -> Any:
    def answer(request: dict[str, Any]) -> dict[str, Any]:
        asked.append(request["ids"])
        return {"builds": [{"id": build_id, "buildStatus": state} for build_id in request["ids"]]}

    return answer


def test_a_teardown_running_for_hours_is_neither_restarted_nor_failed(orchestrator: Orchestrator) -> None:
    pipeline = tearing_down(orchestrator, minutes=200)
    before = len(orchestrator.invocations.calls)
    asked: list[list[str]] = []

    with answering(aws.client("codebuild"), "BatchGetBuilds", builds_in("IN_PROGRESS", asked)):
        result = handler(SCHEDULED_EVENT, LAMBDA_CONTEXT)

    assert result == {"outcome": "swept", "restarted": []}
    assert asked == [[BUILD]]
    assert len(orchestrator.invocations.calls) == before
    record = Registry(orchestrator.table).get(pipeline)
    assert (record.status, record.claimed_by, record.teardown_build) == (Status.DELETING, "req-A", BUILD)


def test_a_teardown_build_killed_by_its_timeout_fails_the_deletion_retryably(orchestrator: Orchestrator) -> None:
    pipeline = tearing_down(orchestrator, minutes=3)
    orchestrator.announcements()

    with answering(aws.client("codebuild"), "BatchGetBuilds", builds_in("TIMED_OUT", [])):
        handler(SCHEDULED_EVENT, LAMBDA_CONTEXT)

    record = Registry(orchestrator.table).get(pipeline)
    assert record.status == Status.FAILED
    assert record.last_error == (
        f"teardown-ended (retryable): teardown build {BUILD} ended (TIMED_OUT) before the pipeline was deleted;"
        " send the request again"
    )
    assert [a["Subject"] for a in orchestrator.announcements()] == [f"MLOps pipeline {pipeline} failed"]


def test_a_teardown_build_codebuild_no_longer_knows_fails_the_deletion(orchestrator: Orchestrator) -> None:
    pipeline = tearing_down(orchestrator)

    with answering(aws.client("codebuild"), "BatchGetBuilds", lambda _: {"builds": [], "buildsNotFound": [BUILD]}):
        handler(SCHEDULED_EVENT, LAMBDA_CONTEXT)

    record = Registry(orchestrator.table).get(pipeline)
    assert record.status == Status.FAILED
    assert "ended (unknown to CodeBuild)" in record.last_error


def test_codebuild_unavailable_leaves_the_deletion_for_the_next_sweep(orchestrator: Orchestrator) -> None:
    pipeline = tearing_down(orchestrator)

    def throttled(_: dict[str, Any]) -> dict[str, Any]:
        raise aws.client("codebuild").exceptions.ClientError(
            {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "BatchGetBuilds"
        )

    with answering(aws.client("codebuild"), "BatchGetBuilds", throttled):
        assert handler(SCHEDULED_EVENT, LAMBDA_CONTEXT) == {"outcome": "swept", "restarted": []}

    assert Registry(orchestrator.table).get(pipeline).status == Status.DELETING


def test_a_deletion_sent_again_is_not_judged_by_the_previous_teardown(orchestrator: Orchestrator) -> None:
    """DELETE sent again after a failed teardown: until its own build starts, the old build (ended)
    says nothing about it; only the usual 75 minutes of silence re-send its start."""
    pipeline = tearing_down(orchestrator)
    registry = Registry(orchestrator.table)
    registry.transition(pipeline, Status.FAILED, last_error="teardown-ended (retryable): ...")
    assert call(api_event("DELETE", f"/pipelines/{pipeline}")).status == 202
    age(orchestrator, pipeline, minutes=5)
    asked: list[list[str]] = []

    with answering(aws.client("codebuild"), "BatchGetBuilds", builds_in("FAILED", asked)):
        assert handler(SCHEDULED_EVENT, LAMBDA_CONTEXT) == {"outcome": "swept", "restarted": []}
        age(orchestrator, pipeline, minutes=80)
        assert handler(SCHEDULED_EVENT, LAMBDA_CONTEXT) == {"outcome": "swept", "restarted": [pipeline]}

    assert asked == []
    record = registry.get(pipeline)
    assert (record.status, record.claimed_by, record.teardown_build) == (Status.DELETING, None, BUILD)


def test_a_sweep_does_not_fail_a_deletion_whose_new_build_started_meanwhile(orchestrator: Orchestrator) -> None:
    pipeline = tearing_down(orchestrator)
    registry = Registry(orchestrator.table)

    def old_build_ended_while_a_new_one_starts(request: dict[str, Any]) -> dict[str, Any]:
        # Between the sweep's read and its write: the deletion failed, was sent again, and claimed anew.
        registry.transition(pipeline, Status.FAILED, last_error="x")
        assert call(api_event("DELETE", f"/pipelines/{pipeline}")).status == 202
        assert registry.claim_deletion(pipeline, 1, "req-B")
        assert registry.record_teardown(pipeline, 1, "req-B", "mlops-orch-teardown:new")
        return {"builds": [{"id": BUILD, "buildStatus": "TIMED_OUT"}]}

    with answering(aws.client("codebuild"), "BatchGetBuilds", old_build_ended_while_a_new_one_starts):
        handler(SCHEDULED_EVENT, LAMBDA_CONTEXT)

    record = registry.get(pipeline)
    assert (record.status, record.claimed_by, record.teardown_build) == (
        Status.DELETING,
        "req-B",
        "mlops-orch-teardown:new",
    )
