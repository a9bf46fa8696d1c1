"""A provisioner start whose answer is lost must not fail the run that received it (review finding)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ConnectionClosedError

from lambda_src.common import aws
from lambda_src.registry import Registry, Status
from tests.support.api_gateway import api_event, call
from tests.support.moto_orchestrator import TABLE
from tests.support.requests import realtime_body

PIPELINE = "churn-xgb-realtime-builtin"


def test_a_run_that_claimed_its_record_is_not_failed_when_the_invoke_answer_is_lost(orchestrator: Any):
    def delivered_then_lost(params: dict[str, Any], **_: Any) -> None:
        # Lambda queued the event and the run claimed the record; then the answer was lost.
        Registry(TABLE).transition(PIPELINE, Status.PROVISIONING, expected_status=Status.QUEUED)
        raise ConnectionClosedError(endpoint_url="https://lambda.us-east-1.amazonaws.com")

    lambda_events = aws.client("lambda").meta.events
    lambda_events.register_first("before-call.lambda.Invoke", delivered_then_lost)
    try:
        response = call(api_event("POST", "/provisionpipeline", realtime_body()))
    finally:
        lambda_events.unregister("before-call.lambda.Invoke", delivered_then_lost)

    assert response.status == 503
    record = Registry(TABLE).get(PIPELINE)
    assert (record.status, record.last_error) == (Status.PROVISIONING, None)


def test_a_start_that_never_reached_lambda_leaves_the_request_failed_and_retryable(orchestrator: Any):
    orchestrator.invocations.fail_with = ConnectionClosedError(endpoint_url="https://lambda.us-east-1.amazonaws.com")

    response = call(api_event("POST", "/provisionpipeline", realtime_body()))

    assert response.status == 503
    record = Registry(TABLE).get(PIPELINE)
    assert record.status == Status.FAILED
    assert record.last_error == "provisioning could not be started: ConnectionClosedError"
    orchestrator.invocations.fail_with = None
    assert call(api_event("POST", "/provisionpipeline", realtime_body())).status == 202
