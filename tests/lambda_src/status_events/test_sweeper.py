"""The scheduled sweep re-starts provisioner runs that were recorded but never started."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from lambda_src.common import aws
from lambda_src.registry import PipelineRecord, Registry, Status
from lambda_src.status_events import sweeper
from lambda_src.status_events.handler import handler
from tests.support.api_gateway import LAMBDA_CONTEXT, api_event, call
from tests.support.aws_stubs import answering
from tests.support.moto_orchestrator import Orchestrator
from tests.support.requests import realtime_body

SCHEDULED_EVENT = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "111111111111",
    "time": "2026-11-25T14:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:111111111111:rule/mlops-sweep-lost-runs"],
    "detail": {},
}


def age(orchestrator: Orchestrator, pipeline_id: str, minutes: int) -> None:
    """Pretend the record was last written `minutes` ago."""
    then = (datetime.now(UTC) - timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    aws.client("dynamodb").update_item(
        TableName=orchestrator.table,
        Key={"pipeline_id": {"S": pipeline_id}},
        UpdateExpression="SET updated_at = :t",
        ExpressionAttributeValues={":t": {"S": then}},
    )


def submit(body: dict[str, Any]) -> str:
    response = call(api_event("POST", "/provisionpipeline", body))
    assert response.status == 202, response.body
    return str(response.body["pipeline_id"])


def set_status(orchestrator: Orchestrator, pipeline_id: str, status: str) -> None:
    aws.client("dynamodb").update_item(
        TableName=orchestrator.table,
        Key={"pipeline_id": {"S": pipeline_id}},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": status}},
    )


def test_a_queued_request_older_than_ten_minutes_is_started_again(orchestrator: Orchestrator) -> None:
    lost = submit(realtime_body(model_name="lost-model"))
    fresh = submit(realtime_body(model_name="fresh-model"))
    age(orchestrator, lost, minutes=11)
    age(orchestrator, fresh, minutes=2)
    before = len(orchestrator.invocations.calls)

    result = handler(SCHEDULED_EVENT, LAMBDA_CONTEXT)

    assert result == {"outcome": "swept", "restarted": [lost]}
    assert orchestrator.invocations.payloads[before:] == [{"action": "provision", "pipeline_id": lost, "version": 1}]
    record = Registry(orchestrator.table).get(lost)
    assert (record.status, record.version, record.restarts) == (Status.QUEUED, 1, 1)
    assert datetime.now(UTC) - datetime.fromisoformat(record.updated_at.replace("Z", "+00:00")) < timedelta(minutes=1)


def test_a_re_sent_start_is_not_sent_again_at_every_sweep(orchestrator: Orchestrator) -> None:
    """Async starts may wait in Lambda's queue: a re-sent start gets a full staleness period too."""
    lost = submit(realtime_body(model_name="lost-model"))
    age(orchestrator, lost, minutes=11)
    before = len(orchestrator.invocations.calls)

    assert handler(SCHEDULED_EVENT, LAMBDA_CONTEXT)["restarted"] == [lost]
    assert handler(SCHEDULED_EVENT, LAMBDA_CONTEXT)["restarted"] == []

    assert len(orchestrator.invocations.calls) == before + 1


def test_a_request_whose_provisioner_never_starts_fails_after_three_restarts(orchestrator: Orchestrator) -> None:
    body = realtime_body(model_name="lost-model")
    lost = submit(body)
    before = len(orchestrator.invocations.calls)
    for _ in range(3):
        age(orchestrator, lost, minutes=11)
        assert handler(SCHEDULED_EVENT, LAMBDA_CONTEXT)["restarted"] == [lost]
    orchestrator.announcements()

    age(orchestrator, lost, minutes=11)
    assert handler(SCHEDULED_EVENT, LAMBDA_CONTEXT)["restarted"] == []

    assert len(orchestrator.invocations.calls) == before + 3
    record = Registry(orchestrator.table).get(lost)
    assert record.status == Status.FAILED
    assert record.last_error.startswith("provisioner-not-started (retryable): provisioner never started (3 restarts)")
    assert [a["Subject"] for a in orchestrator.announcements()] == [f"MLOps pipeline {lost} failed"]
    # Sent again, it is queued afresh with a fresh count.
    retry = call(api_event("POST", "/provisionpipeline", body))
    assert (retry.status, retry.body["version"]) == (202, 2)
    assert Registry(orchestrator.table).get(lost).restarts == 0


def test_a_deleting_pipeline_is_only_restarted_after_seventy_five_minutes(orchestrator: Orchestrator) -> None:
    """Its start may wait an hour in Lambda's queue and its run may last 15 minutes, all while DELETING."""
    pipeline = submit(realtime_body())
    set_status(orchestrator, pipeline, "DELETING")
    age(orchestrator, pipeline, minutes=21)
    assert handler(SCHEDULED_EVENT, LAMBDA_CONTEXT)["restarted"] == []
    age(orchestrator, pipeline, minutes=74)
    assert handler(SCHEDULED_EVENT, LAMBDA_CONTEXT)["restarted"] == []
    age(orchestrator, pipeline, minutes=76)
    before = len(orchestrator.invocations.calls)
    assert handler(SCHEDULED_EVENT, LAMBDA_CONTEXT)["restarted"] == [pipeline]
    assert orchestrator.invocations.payloads[before:][0]["action"] == "delete"


def test_a_restarted_deletion_can_be_claimed_by_the_new_run(orchestrator: Orchestrator) -> None:
    """The claim of a deletion run that died without a trace must not lock out the re-sent one."""
    registry = Registry(orchestrator.table)
    pipeline = submit(realtime_body())
    set_status(orchestrator, pipeline, "DELETING")
    assert registry.claim_deletion(pipeline, 1, "req-dead")
    assert not registry.claim_deletion(pipeline, 1, "req-new")
    age(orchestrator, pipeline, minutes=76)

    assert handler(SCHEDULED_EVENT, LAMBDA_CONTEXT)["restarted"] == [pipeline]

    assert registry.get(pipeline).claimed_by is None
    assert registry.claim_deletion(pipeline, 1, "req-new")


def test_overlapping_sweeps_re_send_a_start_once(orchestrator: Orchestrator) -> None:
    registry = Registry(orchestrator.table)
    lost = submit(realtime_body(model_name="lost-model"))
    age(orchestrator, lost, minutes=11)
    seen = registry.get(lost)
    starts: list[str] = []

    def start(action: str, found: PipelineRecord) -> None:
        starts.append(found.pipeline_id)

    class Snapshot(Registry):
        """A second sweep that listed the records before the first one wrote."""

        def list(self, *args: Any, **kwargs: Any) -> tuple[list[PipelineRecord], str | None]:
            return ([seen] if kwargs.get("status") == "QUEUED" else []), None

    assert sweeper.sweep(registry, start) == [lost]
    assert sweeper.sweep(Snapshot(orchestrator.table), start) == []
    assert starts == [lost]


def record(status: Status, updated_at: str) -> PipelineRecord:
    return PipelineRecord("p", status, "byom_realtime_builtin", 1, updated_at, updated_at)


def test_only_waiting_statuses_can_be_stale() -> None:
    now = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    old = "2026-11-25T13:00:00.000Z"
    assert sweeper.is_stale(record(Status.QUEUED, old), now)
    assert not sweeper.is_stale(record(Status.DELETING, old), now)
    assert sweeper.is_stale(record(Status.DELETING, "2026-11-25T12:44:00.000Z"), now)
    assert not sweeper.is_stale(record(Status.DEPLOYED, old), now)
    assert not sweeper.is_stale(record(Status.PROVISIONING, old), now)
    assert not sweeper.is_stale(record(Status.QUEUED, "2026-11-25T13:55:00.000Z"), now)
    assert sweeper.is_stale(record(Status.QUEUED, "not a time"), now)


def test_other_events_are_not_sweeps() -> None:
    assert sweeper.is_scheduled_sweep(SCHEDULED_EVENT)
    assert not sweeper.is_scheduled_sweep(
        {**SCHEDULED_EVENT, "detail-type": "CodePipeline Pipeline Execution State Change"}
    )


# -- PROVISIONING records that hear nothing from their run (issue 11, case 3) ------------------------------
def provisioning(orchestrator: Orchestrator, execution_id: str = "exec-1", quiet_minutes: int = 31) -> str:
    """A pipeline whose delivery run was started and recorded, then went quiet."""
    registry = Registry(orchestrator.table)
    pipeline = submit(realtime_body())
    registry.transition(
        pipeline, Status.PROVISIONING, codepipeline_name=f"mlops-x-{pipeline}", execution_id=execution_id
    )
    orchestrator.announcements()
    age(orchestrator, pipeline, minutes=quiet_minutes)
    return pipeline


def run_state(status: str) -> Any:
    return lambda params: {
        "pipelineExecution": {"pipelineExecutionId": params["pipelineExecutionId"], "status": status}
    }


def test_a_provisioning_record_whose_provisioner_died_before_starting_the_run_fails(orchestrator: Orchestrator):
    pipeline = provisioning(orchestrator, execution_id="pending")

    handler(SCHEDULED_EVENT, LAMBDA_CONTEXT)

    record = Registry(orchestrator.table).get(pipeline)
    assert record.status == Status.FAILED
    assert record.last_error.startswith("provisioner-lost (retryable): the provisioner run ended before")
    assert [a["Subject"] for a in orchestrator.announcements()] == [f"MLOps pipeline {pipeline} failed"]


def test_a_quiet_record_is_left_alone_for_thirty_minutes(orchestrator: Orchestrator):
    pipeline = provisioning(orchestrator, execution_id="pending", quiet_minutes=25)

    handler(SCHEDULED_EVENT, LAMBDA_CONTEXT)

    assert Registry(orchestrator.table).get(pipeline).status == Status.PROVISIONING


def test_a_run_that_ended_while_its_event_was_lost_is_recorded_as_it_ended(orchestrator: Orchestrator):
    pipeline = provisioning(orchestrator)
    codepipeline = aws.client("codepipeline")

    with answering(codepipeline, "GetPipelineExecution", run_state("Succeeded")):
        handler(SCHEDULED_EVENT, LAMBDA_CONTEXT)

    assert Registry(orchestrator.table).get(pipeline).status == Status.DEPLOYED
    assert [a["Subject"] for a in orchestrator.announcements()] == [f"MLOps pipeline {pipeline} is deployed"]


def test_a_run_waiting_at_an_approval_is_recorded_as_awaiting_it(orchestrator: Orchestrator):
    pipeline = provisioning(orchestrator)
    codepipeline = aws.client("codepipeline")
    state = {
        "stageStates": [
            {"stageName": "DeployDev", "latestExecution": {"pipelineExecutionId": "exec-1", "status": "Succeeded"}},
            {
                "stageName": "ApproveStaging",
                "latestExecution": {"pipelineExecutionId": "exec-1", "status": "InProgress"},
            },
        ]
    }

    with (
        answering(codepipeline, "GetPipelineExecution", run_state("InProgress")),
        answering(codepipeline, "GetPipelineState", lambda _: state),
    ):
        handler(SCHEDULED_EVENT, LAMBDA_CONTEXT)

    assert Registry(orchestrator.table).get(pipeline).status == Status.AWAITING_APPROVAL


def test_a_run_without_progress_for_three_hours_is_stopped_and_failed(orchestrator: Orchestrator):
    young = provisioning(orchestrator, quiet_minutes=170)
    stuck = submit(realtime_body(model_name="stuck-model"))
    Registry(orchestrator.table).transition(
        stuck, Status.PROVISIONING, codepipeline_name=f"mlops-x-{stuck}", execution_id="exec-9"
    )
    age(orchestrator, stuck, minutes=181)
    codepipeline = aws.client("codepipeline")
    stopped: list[dict[str, Any]] = []

    def stop(params: dict[str, Any]) -> dict[str, Any]:
        stopped.append(params)
        return {"pipelineExecutionId": params["pipelineExecutionId"]}

    with (
        answering(codepipeline, "GetPipelineExecution", run_state("InProgress")),
        answering(codepipeline, "GetPipelineState", lambda _: {"stageStates": []}),
        answering(codepipeline, "StopPipelineExecution", stop),
    ):
        handler(SCHEDULED_EVENT, LAMBDA_CONTEXT)

    assert Registry(orchestrator.table).get(young).status == Status.PROVISIONING
    record = Registry(orchestrator.table).get(stuck)
    assert record.status == Status.FAILED
    assert record.last_error.startswith("timed-out (retryable): the delivery run made no progress in 3 h")
    assert [(s["pipelineName"], s["pipelineExecutionId"], s["abandon"]) for s in stopped] == [
        (f"mlops-x-{stuck}", "exec-9", True)
    ]


def test_a_run_codepipeline_cannot_answer_for_does_not_stop_the_sweep(orchestrator: Orchestrator):
    broken = provisioning(orchestrator)
    lost = submit(realtime_body(model_name="lost-model"))
    age(orchestrator, lost, minutes=11)

    def fail(_: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("CodePipeline is down")

    with answering(aws.client("codepipeline"), "GetPipelineExecution", fail):
        result = handler(SCHEDULED_EVENT, LAMBDA_CONTEXT)

    assert result["restarted"] == [lost]
    assert Registry(orchestrator.table).get(broken).status == Status.PROVISIONING


def test_a_run_codepipeline_no_longer_knows_fails_the_record_instead_of_waiting_forever(orchestrator: Orchestrator):
    """Review: a deleted delivery pipeline (or an expired run) left the record PROVISIONING forever."""
    from botocore.exceptions import ClientError

    pipeline = provisioning(orchestrator)

    def gone(_: dict[str, Any]) -> dict[str, Any]:
        raise ClientError({"Error": {"Code": "PipelineExecutionNotFoundException"}}, "GetPipelineExecution")

    with answering(aws.client("codepipeline"), "GetPipelineExecution", gone):
        handler(SCHEDULED_EVENT, LAMBDA_CONTEXT)

    record = Registry(orchestrator.table).get(pipeline)
    assert record.status == Status.FAILED
    assert record.last_error.startswith("run-gone (retryable): CodePipeline no longer knows the delivery run")


def test_a_malformed_item_is_skipped_by_the_sweep_and_the_list(orchestrator: Orchestrator):
    """Review: one item with a non-numeric version stopped the whole sweep and made GET /pipelines a 500."""
    lost = submit(realtime_body(model_name="lost-model"))
    age(orchestrator, lost, minutes=11)
    aws.client("dynamodb").put_item(
        TableName=orchestrator.table,
        Item={"pipeline_id": {"S": "bad-realtime-builtin"}, "status": {"S": "QUEUED"}, "version": {"S": "x"}},
    )

    assert handler(SCHEDULED_EVENT, LAMBDA_CONTEXT)["restarted"] == [lost]
    listed = call(api_event("GET", "/pipelines"))
    assert listed.status == 200
    assert [p["pipeline_id"] for p in listed.body["pipelines"]] == [lost]
