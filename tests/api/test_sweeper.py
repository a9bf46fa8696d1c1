"""The scheduled sweep re-starts provisioner runs that were recorded but never started."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from lambda_src.common import aws
from lambda_src.registry import PipelineRecord, Status
from lambda_src.status_events import sweeper
from lambda_src.status_events.handler import handler
from tests.api.conftest import LAMBDA_CONTEXT, Orchestrator, api_event, call, realtime_body

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


def test_a_queued_request_older_than_ten_minutes_is_started_again(orchestrator: Orchestrator) -> None:
    lost = submit(realtime_body(model_name="lost-model"))
    fresh = submit(realtime_body(model_name="fresh-model"))
    age(orchestrator, lost, minutes=11)
    age(orchestrator, fresh, minutes=2)
    before = len(orchestrator.invocations.calls)

    result = handler(SCHEDULED_EVENT, LAMBDA_CONTEXT)

    assert result == {"outcome": "swept", "restarted": [lost]}
    assert orchestrator.invocations.payloads[before:] == [{"action": "provision", "pipeline_id": lost, "version": 1}]
    assert orchestrator.item(lost)["status"] == {"S": "QUEUED"}  # the sweep writes nothing itself


def test_a_deleting_pipeline_is_only_restarted_after_twenty_minutes(orchestrator: Orchestrator) -> None:
    pipeline = submit(realtime_body())
    aws.client("dynamodb").update_item(
        TableName=orchestrator.table,
        Key={"pipeline_id": {"S": pipeline}},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "DELETING"}},
    )
    age(orchestrator, pipeline, minutes=15)
    assert handler(SCHEDULED_EVENT, LAMBDA_CONTEXT)["restarted"] == []
    age(orchestrator, pipeline, minutes=21)
    before = len(orchestrator.invocations.calls)
    assert handler(SCHEDULED_EVENT, LAMBDA_CONTEXT)["restarted"] == [pipeline]
    assert orchestrator.invocations.payloads[before:][0]["action"] == "delete"


def record(status: Status, updated_at: str) -> PipelineRecord:
    return PipelineRecord("p", status, "byom_realtime_builtin", 1, updated_at, updated_at)


def test_only_waiting_statuses_can_be_stale() -> None:
    now = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    old = "2026-11-25T13:00:00.000Z"
    assert sweeper.is_stale(record(Status.QUEUED, old), now)
    assert not sweeper.is_stale(record(Status.DEPLOYED, old), now)
    assert not sweeper.is_stale(record(Status.PROVISIONING, old), now)
    assert not sweeper.is_stale(record(Status.QUEUED, "2026-11-25T13:55:00.000Z"), now)
    assert sweeper.is_stale(record(Status.QUEUED, "not a time"), now)


def test_other_events_are_not_sweeps() -> None:
    assert sweeper.is_scheduled_sweep(SCHEDULED_EVENT)
    assert not sweeper.is_scheduled_sweep(
        {**SCHEDULED_EVENT, "detail-type": "CodePipeline Pipeline Execution State Change"}
    )
