"""The API's dry run reports the quota preflight of every environment (issue 15), asked of the provisioner by a
synchronous invoke of its "preflight" action (the API may not assume deploy roles): enough, zero, not enough
during a canary switch, and not checked when the quotas cannot be read. Nothing is written."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from lambda_src.common.quota_preflight import lambda_client, preflight_answer
from lambda_src.common.quotas import QuotaCache
from lambda_src.provisioner import preflight
from lambda_src.registry import Status
from tests.lambda_src.provisioner.conftest import rest_event
from tests.lambda_src.provisioner.test_races import submit
from tests.support.fake_quotas import FakeServiceQuotas, access_denied

ENDPOINT_M5 = "ml.m5.large for endpoint usage"
Body = Callable[..., dict[str, Any]]


@pytest.fixture
def answering(single: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Lambda answers the API's synchronous invokes by running the provisioner, as Lambda would."""
    from lambda_src.provisioner.handler import run

    def invoke(params: dict[str, Any], **_: Any) -> Any:
        assert params["headers"].get("X-Amz-Invocation-Type") == "RequestResponse"
        result = run(single.provisioner(), json.loads(params["body"]))
        return AWSResponse("https://lambda.local", 200, {}, None), {
            "StatusCode": 200,
            "Payload": io.BytesIO(json.dumps(result).encode()),
        }

    events = lambda_client().meta.events
    events.register_first("before-call.lambda.Invoke", invoke)
    monkeypatch.setattr(preflight, "QUOTAS", QuotaCache())  # each test's accounts list their own quotas
    yield single
    events.unregister("before-call.lambda.Invoke", invoke)


def dry_run(world: Any, body: dict[str, Any]) -> dict[str, Any]:
    from types import SimpleNamespace

    from lambda_src.api.handler import handler

    event = {**rest_event("POST", "/provisionpipeline", body), "queryStringParameters": {"dry_run": "true"}}
    event["multiValueQueryStringParameters"] = {"dry_run": ["true"]}
    context = SimpleNamespace(
        function_name="mlops-orch-api", memory_limit_in_mb=256, invoked_function_arn="arn", aws_request_id="r"
    )
    response = handler(event, context)  # type: ignore[arg-type]
    reply = json.loads(response["body"])
    assert response["statusCode"] == 200, reply
    return reply["preflight"]  # type: ignore[no-any-return]


def test_enough_quota_is_ok(answering: Any, example_body: Body) -> None:
    answering.quotas["dev"] = FakeServiceQuotas({ENDPOINT_M5: 4})

    assert dry_run(answering, example_body("byom_realtime_builtin")) == {
        "status": "ok",
        "environments": [{"environment": "dev", "status": "ok"}],
    }
    assert answering.invocations == []  # nothing was started
    assert answering.registry.get("churn-xgb-realtime-builtin") is None


def test_a_zero_quota_is_a_shortfall_naming_quota_value_and_need(answering: Any, example_body: Body) -> None:
    answering.quotas["dev"] = FakeServiceQuotas({ENDPOINT_M5: 0})

    preflight = dry_run(answering, example_body("byom_realtime_builtin"))

    assert preflight["status"] == "shortfall"
    [dev] = preflight["environments"]
    assert dev["status"] == "shortfall"
    assert [(s["quota"], s["value"], s["in_use"], s["needed"]) for s in dev["shortfalls"]] == [(ENDPOINT_M5, 0, 0, 2)]
    assert answering.registry.get("churn-xgb-realtime-builtin") is None


def test_a_canary_update_needs_a_second_fleet_during_the_switch(answering: Any, example_body: Body) -> None:
    answering.quotas["dev"] = FakeServiceQuotas({ENDPOINT_M5: 3})
    pipeline_id = submit(answering, example_body("byom_realtime_builtin"))
    answering.run_provisioner()
    answering.registry.transition(pipeline_id, Status.DEPLOYED, outputs={"dev": {"endpoint_name": "e"}})

    changed = {**example_body("byom_realtime_builtin"), "tags": {"team": "retention"}}
    preflight = dry_run(answering, changed)

    [dev] = preflight["environments"]
    assert [(s["value"], s["needed"]) for s in dev["shortfalls"]] == [(3, 4)]  # 2 serving + 2 for the switch
    assert answering.record(pipeline_id).status == Status.DEPLOYED  # the dry run changed nothing


def test_quotas_that_cannot_be_read_are_not_checked_with_the_reason(answering: Any, example_body: Body) -> None:
    answering.quotas["dev"] = FakeServiceQuotas(refusal=access_denied())

    assert dry_run(answering, example_body("byom_realtime_builtin")) == {
        "status": "not checked",
        "environments": [
            {
                "environment": "dev",
                "status": "not checked",
                "reason": "Service Quotas could not be read (AccessDeniedException)",
            }
        ],
    }


def test_a_provisioner_that_cannot_be_asked_leaves_the_preflight_unchecked(single: Any, example_body: Body) -> None:
    # moto's Lambda has no such function: the invoke fails.
    preflight = dry_run(single, example_body("byom_realtime_builtin"))

    assert preflight == {
        "status": "not checked",
        "reason": "the provisioner could not be asked (ResourceNotFoundException)",
        "environments": [],
    }


@pytest.mark.fast
def test_the_preflight_is_asked_once_within_api_gateways_time() -> None:
    config = lambda_client().meta.config
    assert (config.retries["total_max_attempts"], config.read_timeout) == (1, 15)


@pytest.mark.fast
def test_the_overall_status_of_mixed_environments() -> None:
    ok, short, unread = ({"status": s} for s in ("ok", "shortfall", "not checked"))
    assert preflight_answer({"ok": False, "environments": [ok, short, unread]})["status"] == "shortfall"
    assert preflight_answer({"ok": True, "environments": [ok, unread]})["status"] == "not checked"
    assert preflight_answer({"error": "malformed event"}, failed=False) == {
        "status": "not checked",
        "reason": "the provisioner could not check the quotas: malformed event",
        "environments": [],
    }


def test_the_provisioner_is_given_a_deadline_before_the_api_stops_waiting(single: Any, example_body: Body) -> None:
    sent: list[dict[str, Any]] = []

    def invoke(params: dict[str, Any], **_: Any) -> Any:
        sent.append(json.loads(params["body"]))
        answer = {"ok": True, "environments": [{"environment": "dev", "status": "ok"}]}
        return AWSResponse("https://lambda.local", 200, {}, None), {
            "StatusCode": 200,
            "Payload": io.BytesIO(json.dumps(answer).encode()),
        }

    events = lambda_client().meta.events
    events.register_first("before-call.lambda.Invoke", invoke)
    try:
        asked_at = time.time()
        assert dry_run(single, example_body("byom_realtime_builtin"))["status"] == "ok"
    finally:
        events.unregister("before-call.lambda.Invoke", invoke)

    [payload] = sent
    read_timeout = lambda_client().meta.config.read_timeout
    assert asked_at + read_timeout - 4 <= payload["deadline"] <= time.time() + read_timeout - 3
