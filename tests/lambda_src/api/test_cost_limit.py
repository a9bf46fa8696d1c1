"""The API's cost estimate (issue 15): the dry run answers it, and mlops:maxMonthlyCostPerPipeline
(MLOPS_MAX_MONTHLY_COST_PER_PIPELINE) refuses provisioning above it with a 400 before anything is written.
Prices come from a test lookup in place of the AWS Price List (test figures, not AWS's)."""

from __future__ import annotations

import threading

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from lambda_src.common import cost_limit
from mlops_spec.costs import LIVE_SOURCE, PriceUsage, price_table
from tests.support.api_gateway import api_event, call
from tests.support.examples import load_example
from tests.support.requests import realtime_body

PIPELINE = "churn-xgb-realtime-builtin"
# USD an instance-hour of the test lookup: one ml.m5.large endpoint instance is $365.00 a month (730 h).
TEST_PRICES = {("us-east-1", "ml.m5.large", "hosting"): 0.5}


def priced_by_test_table(region: str, instance_type: str, usage: PriceUsage) -> float | None:
    return TEST_PRICES.get((region, instance_type, usage))


@pytest.fixture
def priced(orchestrator, monkeypatch):  # type: ignore[no-untyped-def]
    """The Price List answers with the test prices."""
    monkeypatch.setattr(cost_limit, "live_prices", lambda region: priced_by_test_table)
    return orchestrator


def provision(body: object, dry_run: bool = False):  # type: ignore[no-untyped-def]
    return call(api_event("POST", "/provisionpipeline", body, query={"dry_run": "true"} if dry_run else None))


def test_a_dry_run_answers_the_estimate_at_the_price_lists_prices(priced):
    response = provision(realtime_body(), dry_run=True)

    assert response.status == 200, response.body
    cost = response.body["cost"]
    assert cost["source"] == LIVE_SOURCE
    [estimate] = cost["estimates"]
    assert (estimate["environment"], estimate["total_monthly_usd"], estimate["max_monthly_usd"]) == (
        "dev",
        365.0,
        365.0,
    )
    assert estimate["summary"] == f"{PIPELINE} (dev, us-east-1): $365.00 a month"
    assert (cost["max_monthly_cost_per_pipeline"], cost["violations"], cost["unchecked"]) == (None, [], [])
    assert priced.items() == []


def test_without_the_price_list_the_dry_run_prices_from_the_table_and_says_so(orchestrator):
    # moto answers GetProducts "Not yet implemented" (404), as a Price List that cannot be read.
    cost = provision(realtime_body(), dry_run=True).body["cost"]

    assert cost["source"] == f"{price_table().label} (the AWS Price List could not be read: 404)"
    [estimate] = cost["estimates"]
    assert estimate["unknown_prices"] == ["ml.m5.large (hosting)"]
    assert estimate["total_monthly_usd"] is None  # never $0


def test_a_price_list_that_cannot_be_reached_falls_back_to_the_table(orchestrator, monkeypatch):
    def unreachable(region: str, instance_type: str, usage: PriceUsage) -> float | None:
        raise EndpointConnectionError(endpoint_url="https://api.pricing.us-east-1.amazonaws.com")

    monkeypatch.setattr(cost_limit, "live_prices", lambda region: unreachable)
    cost = provision(realtime_body(), dry_run=True).body["cost"]
    assert cost["source"].endswith("(the AWS Price List could not be read: EndpointConnectionError)")


def test_an_estimate_above_the_limit_is_refused_naming_the_figure_the_limit_and_the_instance(priced, monkeypatch):
    monkeypatch.setenv("MLOPS_MAX_MONTHLY_COST_PER_PIPELINE", "200")

    response = provision(realtime_body())

    assert response.status == 400
    assert response.body["message"] == "the pipeline's estimated cost is above mlops:maxMonthlyCostPerPipeline"
    assert response.body["errors"] == [
        {
            "field": "inference_instance",
            "problem": f"{PIPELINE} in dev is estimated at up to $365.00 ($365.00 a month), "
            "above mlops:maxMonthlyCostPerPipeline $200.00",
        }
    ]
    assert (priced.items(), priced.object_keys(), priced.invocations.calls) == ([], [], [])


def test_a_dry_run_above_the_limit_answers_the_violation_as_a_failed_check(priced, monkeypatch):
    monkeypatch.setenv("MLOPS_MAX_MONTHLY_COST_PER_PIPELINE", "200")
    response = provision(realtime_body(), dry_run=True)

    assert response.status == 200
    assert response.body["cost"]["max_monthly_cost_per_pipeline"] == 200.0
    assert response.body["cost"]["violations"] == [
        f"{PIPELINE} in dev is estimated at up to $365.00 ($365.00 a month), "
        "above mlops:maxMonthlyCostPerPipeline $200.00"
    ]


def test_an_estimate_within_the_limit_is_accepted(priced, monkeypatch):
    monkeypatch.setenv("MLOPS_MAX_MONTHLY_COST_PER_PIPELINE", "365")
    response = provision(realtime_body())

    assert response.status == 202, response.body
    assert "cost_limit_unchecked" not in response.body
    assert priced.item(PIPELINE)["status"] == {"S": "QUEUED"}


def test_an_unknown_price_is_refused_on_the_instance_field_and_nothing_is_written(priced, monkeypatch):
    monkeypatch.setenv("MLOPS_MAX_MONTHLY_COST_PER_PIPELINE", "1")
    response = provision(realtime_body(inference_instance="ml.c5.large"))  # not in the test prices

    assert response.status == 400, response.body
    assert response.body["message"].startswith("the cost limit could not be checked: the AWS Price List holds no price")
    assert response.body["errors"] == [
        {
            "field": "inference_instance",
            "problem": f"{PIPELINE} in dev: mlops:maxMonthlyCostPerPipeline $1.00 not checked: "
            "price unknown for ml.c5.large (hosting)",
        }
    ]
    assert (priced.items(), priced.object_keys(), priced.invocations.calls) == ([], [], [])


def test_allowed_unknown_prices_are_accepted_and_the_answer_says_the_limit_was_not_checked(priced, monkeypatch):
    monkeypatch.setenv("MLOPS_MAX_MONTHLY_COST_PER_PIPELINE", "1")
    monkeypatch.setenv("MLOPS_COST_LIMIT_UNKNOWN_PRICES", "allow")
    response = provision(realtime_body(inference_instance="ml.c5.large"))

    assert response.status == 202, response.body
    assert response.body["cost_limit_unchecked"] == [
        f"{PIPELINE} in dev: mlops:maxMonthlyCostPerPipeline $1.00 not checked: price unknown for ml.c5.large (hosting)"
    ]
    assert priced.item(PIPELINE)["status"] == {"S": "QUEUED"}


def throttled(region: str, instance_type: str, usage: PriceUsage) -> float | None:
    raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "GetProducts")


def test_a_price_list_that_cannot_be_read_refuses_a_limited_request_with_a_retryable_503(orchestrator, monkeypatch):
    monkeypatch.setattr(cost_limit, "live_prices", lambda region: throttled)
    monkeypatch.setenv("MLOPS_MAX_MONTHLY_COST_PER_PIPELINE", "1")
    response = provision(realtime_body(inference_instance="ml.p4d.24xlarge", instance_count=10))

    assert response.status == 503, response.body
    assert response.body == {
        "message": "the cost limit could not be checked: the AWS Price List could not be read "
        "(ThrottlingException); try again"
    }
    assert (orchestrator.items(), orchestrator.object_keys(), orchestrator.invocations.calls) == ([], [], [])


def test_the_price_lists_lookups_of_a_request_have_one_deadline(orchestrator, monkeypatch):
    answered = threading.Event()

    def never_answers(region: str, instance_type: str, usage: PriceUsage) -> float | None:
        answered.wait(timeout=5)  # fails the test rather than hanging it without a deadline
        return None

    monkeypatch.setattr(cost_limit, "live_prices", lambda region: never_answers)
    monkeypatch.setattr(cost_limit, "PRICE_LIST_DEADLINE_SECONDS", 0.05)
    monkeypatch.setenv("MLOPS_MAX_MONTHLY_COST_PER_PIPELINE", "1")
    try:
        response = provision(realtime_body())
    finally:
        answered.set()
    assert response.status == 503, response.body
    assert "(no answer within 0.05 s)" in response.body["message"]
    assert orchestrator.items() == []


def test_a_request_not_priced_by_design_is_accepted_under_the_limit(priced, monkeypatch):
    monkeypatch.setenv("MLOPS_MAX_MONTHLY_COST_PER_PIPELINE", "1")
    response = provision(load_example("model_autopilot_training"))

    assert response.status == 202, response.body
    assert response.body["cost_limit_unchecked"][0].endswith("not checked: it is not priced")
