"""Races between the provisioner, the status function, the sweep, and late or repeated deliveries.

Each test makes the other writer land at the worst moment: between a function's read of the
registry record and its write (RacingRegistry), or while the provisioner is mid-run.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from lambda_src.common import aws
from lambda_src.registry import PipelineRecord, Registry, Status
from lambda_src.status_events.handler import StatusUpdater, handler
from lambda_src.status_events.names import codepipeline_name
from lambda_src.status_events.transitions import PipelineEvent
from mlops_spec import naming
from tests.lambda_src.provisioner.conftest import TABLE, codepipeline_event

APPROVAL = {"owner": "AWS", "category": "Approval", "provider": "Manual", "version": "1"}
STATUS_CONTEXT = SimpleNamespace(
    function_name="mlops-orch-status",
    memory_limit_in_mb=256,
    invoked_function_arn="arn:aws:lambda:us-east-1:111111111111:function:mlops-orch-status",
    aws_request_id="req-status",
)


class RacingRegistry(Registry):
    """Runs `race` right after its next read: another writer lands between that read and the write."""

    def __init__(self, table: str, race: Callable[[], Any]):
        super().__init__(table)
        self.race: Callable[[], Any] | None = race

    def get(self, pipeline_id: str) -> PipelineRecord | None:
        found = super().get(pipeline_id)
        race, self.race = self.race, None
        if race is not None:
            race()
        return found


def submit(world: Any, body: dict[str, Any]) -> str:
    status, reply = world.api("POST", "/provisionpipeline", body)
    assert status == 202, reply
    pipeline_id: str = reply["pipeline_id"]
    return pipeline_id


def provisioned(world: Any, body: dict[str, Any]) -> tuple[str, str, str]:
    """Submit and run the provisioner: (pipeline id, delivery pipeline name, id of its running execution)."""
    pipeline_id = submit(world, body)
    world.run_provisioner()
    name = codepipeline_name(pipeline_id)
    execution: str = world.codepipeline.executions[name][0]["pipelineExecutionId"]
    return pipeline_id, name, execution


def approval(world: Any, name: str, execution: str, stage: str, state: str) -> str:
    outcome: str = world.event(name, execution, "action", state, stage=stage, action=stage, type=APPROVAL)["outcome"]
    return outcome


def updater(world: Any, registry: Registry) -> StatusUpdater:
    return StatusUpdater(registry, world.codepipeline, aws.client("sns"), world.topic_arn, "us-east-1")


def crash_record(payload: dict[str, Any], condition: str = "EventAgeExceeded") -> dict[str, Any]:
    """Lambda's on-failure destination record of a provisioner invocation."""
    return {
        "version": "1.0",
        "requestContext": {"condition": condition, "approximateInvokeCount": 0},
        "requestPayload": payload,
        "responseContext": {"statusCode": 200},
        "responsePayload": None,
    }


# -- finding 1: events move only records whose run they belong to ------------------------------------------
def test_the_stop_of_a_deleted_pipelines_run_does_not_fail_the_deletion(
    multi: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    pipeline_id, name, execution = provisioned(multi, example_body("byom_realtime_builtin", "multi"))
    assert approval(multi, name, execution, "ApproveStaging", "STARTED") == "AWAITING_APPROVAL"
    status, _ = multi.api("DELETE", f"/pipelines/{pipeline_id}")
    assert status == 202
    stop = multi.codepipeline.stop_pipeline_execution
    outcomes: list[str] = []

    def stop_and_announce(**request: Any) -> dict[str, Any]:
        # CodePipeline's STOPPED event reaches the status function while the stacks are destroyed.
        stopped: dict[str, Any] = stop(**request)
        outcomes.append(multi.event(name, request["pipelineExecutionId"], "pipeline", "STOPPED")["outcome"])
        return stopped

    multi.codepipeline.stop_pipeline_execution = stop_and_announce

    result = multi.run_provisioner()

    assert outcomes == ["ignored: the pipeline is DELETING"]
    assert result["status"] == "DELETED"
    assert multi.record(pipeline_id).status == Status.DELETED
    assert multi.emails() == []


def test_events_of_the_previous_run_leave_a_queued_version_to_the_provisioner(
    multi: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    body = example_body("byom_realtime_builtin", "multi")
    pipeline_id, name, first = provisioned(multi, body)
    approval(multi, name, first, "ApproveStaging", "STARTED")
    multi.advance(minutes=30)
    submit(multi, {**body, "tags": {**body.get("tags", {}), "release": "2"}})
    assert multi.record(pipeline_id).status == Status.QUEUED

    # The first run's approval times out while version 2 waits for the provisioner.
    multi.codepipeline.finish(name, "Failed")
    assert approval(multi, name, first, "ApproveStaging", "FAILED") == "ignored: the pipeline is QUEUED"
    assert multi.event(name, first, "pipeline", "FAILED")["outcome"] == "ignored: the pipeline is QUEUED"
    assert multi.run_provisioner()["codepipeline_name"] == name

    record = multi.record(pipeline_id)
    second = multi.codepipeline.executions[name][0]["pipelineExecutionId"]
    assert (record.status, record.version, record.execution_id) == (Status.PROVISIONING, 2, second)
    # Late (EventBridge retries for up to a day): still not version 2's run.
    assert multi.event(name, first, "pipeline", "FAILED")["outcome"] == "stale: not the run of the current request"
    assert multi.record(pipeline_id).status == Status.PROVISIONING
    assert multi.event(name, second, "pipeline", "STARTED")["outcome"] == "PROVISIONING"
    assert multi.emails() == []


def test_a_run_that_ends_before_the_provisioner_records_it_is_still_recorded(
    single: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    pipeline_id = submit(single, example_body("byom_realtime_builtin"))
    name = codepipeline_name(pipeline_id)
    list_runs = single.codepipeline.list_pipeline_executions
    outcomes: list[str] = []

    def run_fails_at_once(**request: Any) -> dict[str, Any]:
        runs: dict[str, Any] = list_runs(**request)
        execution = runs["pipelineExecutionSummaries"][0]["pipelineExecutionId"]
        single.codepipeline.finish(name, "Failed")
        outcomes.append(single.event(name, execution, "pipeline", "FAILED")["outcome"])
        return runs

    single.codepipeline.list_pipeline_executions = run_fails_at_once

    single.run_provisioner()

    assert outcomes == ["stale: not the run of the current request"]  # its run was not recorded yet
    record = single.record(pipeline_id)
    assert record.status == Status.FAILED  # the provisioner caught up with it
    assert record.execution_id == single.codepipeline.executions[name][0]["pipelineExecutionId"]
    assert single.emails() == [f"MLOps pipeline {pipeline_id} failed"]


# -- finding 2: a decision lands only on the state it was taken in ---------------------------------------
def test_an_action_failure_racing_the_pipeline_failure_does_not_revive_the_run(
    single: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    pipeline_id, name, execution = provisioned(single, example_body("byom_realtime_builtin"))
    single.codepipeline.finish(name, "Failed")
    racing = RacingRegistry(TABLE, lambda: single.event(name, execution, "pipeline", "FAILED"))
    action_failed = PipelineEvent.parse(
        codepipeline_event(
            name,
            execution,
            "action",
            "FAILED",
            stage="Deploy",
            action="Deploy",
            type={"category": "Build"},
            **{"execution-result": {"external-execution-summary": "Build terminated with state: FAILED"}},
        )
    )
    assert action_failed is not None

    assert updater(single, racing).apply(action_failed)["outcome"] == "FAILED"

    record = single.record(pipeline_id)
    assert record.status == Status.FAILED
    assert record.last_error.startswith("Deploy/Deploy failed: Build terminated")
    assert single.emails() == [f"MLOps pipeline {pipeline_id} failed"]


# -- finding 3: late approval events -------------------------------------------------------------------------
def test_a_late_approval_event_does_not_take_a_deployed_pipeline_back_to_provisioning(
    multi: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    pipeline_id, name, execution = provisioned(multi, example_body("byom_realtime_builtin", "multi"))
    for stage in ("ApproveStaging", "ApproveProd"):
        assert approval(multi, name, execution, stage, "STARTED") == "AWAITING_APPROVAL"
        assert approval(multi, name, execution, stage, "SUCCEEDED") == "PROVISIONING"
    multi.codepipeline.finish(name, "Succeeded")
    assert multi.event(name, execution, "pipeline", "SUCCEEDED")["outcome"] == "DEPLOYED"

    # EventBridge delivers the staging approval's events again, hours later.
    assert approval(multi, name, execution, "ApproveStaging", "SUCCEEDED") == "stale: the execution has finished"
    assert approval(multi, name, execution, "ApproveStaging", "STARTED") == "stale: the execution has finished"

    assert multi.record(pipeline_id).status == Status.DEPLOYED
    status, _ = multi.api("DELETE", f"/pipelines/{pipeline_id}")
    assert status == 202


# -- finding 4: one run per request ---------------------------------------------------------------------------
def test_two_deliveries_of_the_same_request_racing_for_it_run_once(
    single: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    pipeline_id = submit(single, example_body("byom_realtime_builtin"))
    payload = single.invocations.pop(0)
    first, second = single.provisioner(), single.provisioner()
    results: list[dict[str, Any]] = []
    # The second delivery reads QUEUED, then the first one runs to its end before the second writes.
    second.registry = RacingRegistry(
        TABLE, lambda: results.append(first.provision(payload["pipeline_id"], payload["version"]))
    )

    duplicate = second.provision(payload["pipeline_id"], payload["version"])

    assert results[0]["codepipeline_name"] == codepipeline_name(pipeline_id)
    assert duplicate == {"pipeline_id": pipeline_id, "action": "provision", "skipped": "already claimed"}
    assert [op for op, _ in single.backend.history].count("up") == 1
    assert single.record(pipeline_id).status == Status.PROVISIONING


def test_two_deliveries_of_the_same_deletion_start_one_teardown_that_destroys_once(
    single: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    pipeline_id, name, execution = provisioned(single, example_body("byom_realtime_builtin"))
    single.codepipeline.finish(name, "Succeeded")
    single.event(name, execution, "pipeline", "SUCCEEDED")
    single.backend.stacks[f"{pipeline_id}-dev"] = {"endpoint_name": "e"}
    status, _ = single.api("DELETE", f"/pipelines/{pipeline_id}")
    assert status == 202
    version = single.invocations.pop(0)["version"]
    first, second = single.provisioner(), single.provisioner()

    started = first.delete(pipeline_id, version, SimpleNamespace(aws_request_id="req-A"))
    duplicate = second.delete(pipeline_id, version, SimpleNamespace(aws_request_id="req-B"))
    # Lambda's retry of the first invocation (same request id) starts no second build.
    retried = first.delete(pipeline_id, version, SimpleNamespace(aws_request_id="req-A"))

    assert duplicate == {"pipeline_id": pipeline_id, "action": "delete", "skipped": "already claimed"}
    assert (
        started
        == retried
        == {"pipeline_id": pipeline_id, "action": "delete", "teardown_build": started["teardown_build"]}
    )
    assert [b["id"] for b in single.codebuild.started] == [started["teardown_build"]]
    assert single.backend.history.count(("destroy", f"{pipeline_id}-dev")) == 0  # nothing destroyed by Lambda
    record = single.record(pipeline_id)
    assert (record.status, record.claimed_by, record.teardown_build, record.teardown_claim) == (
        Status.DELETING,
        "req-A",
        started["teardown_build"],
        "req-A",
    )

    done = single.run_teardown(started["teardown_build"])

    assert done == {"pipeline_id": pipeline_id, "action": "delete", "status": "DELETED"}
    destroyed = [stack for op, stack in single.backend.history if op == "destroy"]
    assert destroyed == [f"{pipeline_id}-delivery", f"{pipeline_id}-dev"]
    record = single.record(pipeline_id)
    assert (record.status, record.claimed_by) == (Status.DELETED, None)


def test_a_deletion_can_be_claimed_again_after_it_failed(
    multi: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    pipeline_id, name, execution = provisioned(multi, example_body("byom_realtime_builtin", "multi"))
    multi.codepipeline.finish(name, "Succeeded")
    multi.event(name, execution, "pipeline", "SUCCEEDED")
    multi.backend.faults["destroy"] = [RuntimeError("throttled")]
    multi.backend.stacks[f"{pipeline_id}-dev"] = {"endpoint_name": "e"}

    multi.api("DELETE", f"/pipelines/{pipeline_id}")
    assert multi.run_provisioner()["status"] == "FAILED"
    assert multi.record(pipeline_id).claimed_by is None

    multi.api("DELETE", f"/pipelines/{pipeline_id}")
    assert multi.run_provisioner()["status"] == "DELETED"


# -- finding 6: a provisioner that never claimed its request --------------------------------------------------
def test_a_provisioner_that_ended_before_claiming_its_request_marks_it_failed(
    single: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    body = example_body("byom_realtime_builtin")
    pipeline_id = submit(single, body)
    payload = single.invocations.pop(0)

    assert handler(crash_record(payload), STATUS_CONTEXT)["outcome"] == "FAILED"

    record = single.record(pipeline_id)
    assert record.status == Status.FAILED
    assert record.last_error.startswith("provisioner-crashed (retryable): ")
    assert "EventAgeExceeded" in record.last_error
    assert single.emails() == [f"MLOps pipeline {pipeline_id} failed"]
    # Sent again: version 2 is queued, and the first invocation's record no longer applies.
    submit(single, body)
    assert handler(crash_record(payload), STATUS_CONTEXT)["outcome"] == "no change"
    assert single.record(pipeline_id).status == Status.QUEUED


# -- issue 11, case 3: a deletion supersedes a running deployment ----------------------------------------
def test_a_delete_while_provisioning_stops_the_run_destroys_and_ends_deleted(
    multi: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    pipeline_id, name, execution = provisioned(multi, example_body("byom_realtime_builtin", "multi"))
    assert multi.record(pipeline_id).status == Status.PROVISIONING

    status, reply = multi.api("DELETE", f"/pipelines/{pipeline_id}")
    assert (status, reply["status"]) == (202, "DELETING")
    # A late event of the superseded run changes nothing.
    assert multi.event(name, execution, "pipeline", "SUCCEEDED")["outcome"] == "ignored: the pipeline is DELETING"

    result = multi.run_provisioner()

    assert result["status"] == "DELETED"
    assert multi.codepipeline.stopped == [execution]
    assert multi.record(pipeline_id).status == Status.DELETED


class EverRacingRegistry(Registry):
    """Another writer lands after every read: no conditional write of ours can ever land."""

    def __init__(self, table: str, race: Callable[[], Any]):
        super().__init__(table)
        self.race = race

    def get(self, pipeline_id: str) -> PipelineRecord | None:
        found = super().get(pipeline_id)
        self.race()
        return found


def test_an_event_that_cannot_be_written_fails_to_be_retried_instead_of_being_dropped(
    multi: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    """Issue 11, case 3: the status function returned "dropped" after five write conflicts."""
    from lambda_src.status_events.handler import EventNotApplied
    from lambda_src.status_events.records import merge_outputs
    from lambda_src.status_events.transitions import PipelineEvent

    pipeline_id, name, execution = provisioned(multi, example_body("byom_realtime_builtin", "multi"))
    count = iter(range(1000))
    racing = EverRacingRegistry(TABLE, lambda: merge_outputs(multi.registry, pipeline_id, "writer", {"n": next(count)}))

    with pytest.raises(EventNotApplied, match=f"{pipeline_id}: the record kept changing"):
        updater(multi, racing).apply(PipelineEvent(pipeline_id, "pipeline", "SUCCEEDED", name, execution))

    assert multi.record(pipeline_id).status == Status.PROVISIONING


# -- review: a delete that lands while the provisioner's `up` runs ------------------------------------------
def test_a_delete_during_the_delivery_up_stops_the_provision_run_from_starting_anything(
    multi: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    pipeline_id = submit(multi, example_body("byom_realtime_builtin", "multi"))
    provision_event = multi.invocations.pop(0)
    deleted: list[int] = []

    def delete_while_up_runs() -> None:
        if not deleted:
            status, _ = multi.api("DELETE", f"/pipelines/{pipeline_id}")
            deleted.append(status)
            # The run CodePipeline starts by itself on creation has already begun its dev deploy build.
            multi.codebuild.add(naming.deploy_project_name(pipeline_id, "dev"), "dev-deploy:1")

    multi.backend.block = delete_while_up_runs
    from lambda_src.provisioner.handler import run

    result = run(multi.provisioner(), provision_event)

    assert deleted == [202]
    assert "skipped" in result
    name = codepipeline_name(pipeline_id)
    # The run CodePipeline started by itself on creation is stopped; none is started by us.
    assert multi.codepipeline.started == []
    assert all(r["status"] != "InProgress" for r in multi.codepipeline.executions.get(name, []))
    # ... and its deploy build too, before the provision run lets go of the delivery stack.
    assert multi.codebuild.stop_requests == ["dev-deploy:1"]
    record = multi.record(pipeline_id)
    assert (record.status, record.outputs) == (Status.DELETING, {})
    multi.backend.block = lambda: None
    assert multi.run_provisioner()["status"] == "DELETED"
