"""A request recorded by an earlier release (its hash computed with every default spelled out) sent
again unchanged after the upgrade is still a replay, client token and all."""

from __future__ import annotations

from lambda_src.common import aws
from lambda_src.registry import Registry, Status
from tests.support.api_gateway import api_event, call
from tests.support.moto_orchestrator import Orchestrator
from tests.support.requests import realtime_body


def recorded_by_an_earlier_release(orchestrator: Orchestrator, pipeline_id: str) -> None:
    aws.client("dynamodb").update_item(
        TableName=orchestrator.table,
        Key={"pipeline_id": {"S": pipeline_id}},
        UpdateExpression="SET spec_hash = :old",
        ExpressionAttributeValues={":old": {"S": "0" * 64}},
    )


def test_the_same_request_with_its_client_token_is_a_replay_not_a_reused_token(orchestrator: Orchestrator) -> None:
    body = realtime_body(client_token="ci-run-12345678")
    first = call(api_event("POST", "/provisionpipeline", body))
    assert first.status == 202
    pipeline_id = first.body["pipeline_id"]
    recorded_by_an_earlier_release(orchestrator, pipeline_id)

    again = call(api_event("POST", "/provisionpipeline", body))

    assert again.status == 200, again.body
    assert again.body["version"] == 1
    assert Registry(orchestrator.table).get(pipeline_id).version == 1


def test_a_changed_request_is_still_an_update(orchestrator: Orchestrator) -> None:
    first = call(api_event("POST", "/provisionpipeline", realtime_body()))
    registry = Registry(orchestrator.table)
    registry.transition(first.body["pipeline_id"], Status.PROVISIONING)
    registry.transition(first.body["pipeline_id"], Status.DEPLOYED)
    recorded_by_an_earlier_release(orchestrator, first.body["pipeline_id"])

    changed = call(api_event("POST", "/provisionpipeline", realtime_body(instance_count=3)))

    assert (changed.status, changed.body["version"]) == (202, 2)
