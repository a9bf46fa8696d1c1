"""A dry run with checks=false (issue 12): validation alone, nothing asked of AWS, so that a cold start
answers it as fast as it validates; and the query parameter's refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from lambda_src.common import cost_limit
from lambda_src.common.quota_preflight import lambda_client
from mlops_spec.costs import price_table
from tests.support.api_gateway import api_event, call
from tests.support.requests import realtime_body

SKIPPED = "checks=false was asked: the quotas were not read"


def provision(query: dict[str, str]):  # type: ignore[no-untyped-def]
    return call(api_event("POST", "/provisionpipeline", realtime_body(), query=query))


@pytest.fixture
def no_price_list(monkeypatch: pytest.MonkeyPatch) -> None:
    def asked(region: str) -> None:
        raise AssertionError(f"the Price List of {region} was asked")

    monkeypatch.setattr(cost_limit, "live_prices", asked)


def test_a_dry_run_without_checks_asks_neither_the_provisioner_nor_the_price_list(orchestrator, no_price_list):
    response = provision({"dry_run": "true", "checks": "false"})

    assert response.status == 200, response.body
    assert response.body["preflight"] == {"status": "not checked", "reason": SKIPPED, "environments": []}
    cost = response.body["cost"]
    assert cost["source"] == f"{price_table().label} (checks=false: the AWS Price List was not asked)"
    [estimate] = cost["estimates"]
    # Priced at the committed table: what it holds for the endpoint's instance, or unknown (never 0).
    table_price = price_table().lookup("us-east-1", "ml.m5.large", "hosting")
    assert (estimate["environment"], estimate["source"]) == ("dev", cost["source"])
    if table_price is None:
        assert (estimate["total_monthly_usd"], estimate["unknown_prices"]) == (None, ["ml.m5.large (hosting)"])
    else:
        assert (estimate["unknown_prices"], estimate["total_monthly_usd"] > 0) == ([], True)
    assert orchestrator.invocations.calls == []
    assert orchestrator.items() == []


def test_a_dry_run_with_checks_asks_the_provisioners_preflight(orchestrator):
    events = lambda_client().meta.events
    events.register_first("before-call.lambda.Invoke", orchestrator.invocations)
    try:
        response = provision({"dry_run": "true", "checks": "true"})
    finally:
        events.unregister("before-call.lambda.Invoke", orchestrator.invocations)

    assert response.status == 200, response.body
    assert [(c["function"], c["type"], c["payload"]["action"]) for c in orchestrator.invocations.calls] == [
        ("mlops-provisioner", "RequestResponse", "preflight")
    ]


def test_without_checks_the_cost_limit_is_reported_unchecked_at_the_tables_unknown_price(
    orchestrator, no_price_list, monkeypatch
):
    monkeypatch.setenv("MLOPS_MAX_MONTHLY_COST_PER_PIPELINE", "100")

    cost = provision({"dry_run": "true", "checks": "no"}).body["cost"]

    assert cost["max_monthly_cost_per_pipeline"] == 100.0
    assert cost["violations"] == []
    [why] = cost["unchecked"]
    assert "ml.m5.large" in why


@pytest.mark.parametrize(
    ("query", "field", "problem"),
    [
        ({"checks": "false"}, "checks", "false applies only to a dry run (dry_run=true)"),
        ({"dry_run": "true", "checks": "perhaps"}, "checks", "must be true or false"),
        ({"dry_run": "true", "checks": ""}, "checks", "must be true or false"),
        # A bare flag is not false: `?dry_run` read as false would provision for real.
        ({"dry_run": ""}, "dry_run", "must be true or false"),
        ({"strict": " "}, "strict", "must be true or false"),
    ],
)
def test_a_flag_without_a_boolean_or_checks_off_outside_a_dry_run_is_400_and_writes_nothing(
    orchestrator, query, field, problem
):
    response = provision(query)

    assert response.status == 400
    assert response.body["errors"] == [{"field": field, "problem": problem}]
    assert orchestrator.items() == []
    assert orchestrator.invocations.calls == []


def test_checks_true_on_a_request_changes_nothing_it_is_always_checked(orchestrator):
    response = provision({"checks": "true"})

    assert response.status == 202, response.body
    assert [item["pipeline_id"]["S"] for item in orchestrator.items()] == ["churn-xgb-realtime-builtin"]


# boto3, and what making a botocore client needs (Powertools imports botocore's tiny package for its user
# agent); and the other pipeline types' models, which a real-time request does not need.
HEAVY = {
    "boto3",
    "botocore.session",
    "botocore.client",
    "botocore.endpoint",
    "mlops_spec.pipelines.monitors",
    "mlops_spec.pipelines.training",
    "mlops_spec.pipelines.autopilot",
    "mlops_spec.pipelines.batch",
    "mlops_spec.spec_union",
}


def test_a_cold_process_answers_a_dry_run_without_checks_loading_neither_botocore_nor_other_types():
    # What the cold-start benchmark measures: the first dry run of a fresh API function, checks=false.
    code = (
        f"HEAVY = {HEAVY!r}; "
        "import json, sys; import lambda_src.api.handler as api; "
        "from tests.support.api_gateway import api_event, LAMBDA_CONTEXT; "
        "from tests.support.requests import realtime_body; "
        "query = {'dry_run': 'true', 'checks': 'false'}; "
        "event = api_event('POST', '/provisionpipeline', realtime_body(), query=query); "
        "answer = api.handler(event, LAMBDA_CONTEXT); "
        "print(json.dumps([answer['statusCode'], sorted(set(sys.modules) & HEAVY)]))"
    )
    env = {
        **os.environ,
        "MLOPS_REGISTRY_TABLE": "t",
        "MLOPS_ASSETS_BUCKET": "b",
        "MLOPS_PROVISIONER_FUNCTION": "p",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env)

    assert json.loads(done.stdout.strip().splitlines()[-1]) == [200, []]


def test_a_repeated_query_key_is_400_not_its_last_value(orchestrator):
    # API Gateway hands the last value in queryStringParameters: read alone, this would provision for real.
    event = api_event("POST", "/provisionpipeline", realtime_body(), query={"dry_run": "false"})
    event["multiValueQueryStringParameters"] = {"dry_run": ["true", "false"]}

    response = call(event)

    assert (response.status, response.body["errors"]) == (
        400,
        [{"field": "dry_run", "problem": "is given more than once"}],
    )
    assert orchestrator.items() == []
    assert orchestrator.invocations.calls == []
