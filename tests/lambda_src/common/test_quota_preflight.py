"""The dry run asks the quota preflight and the Price List at the same time (review L4: in sequence they
could outlast API Gateway's 29 s)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from lambda_src.common import cost_limit, quota_preflight
from lambda_src.common.settings import Settings
from mlops_spec.costs import PriceUsage
from mlops_spec.request import parse_pipeline_request
from tests.support.requests import realtime_body

pytestmark = pytest.mark.fast

SETTINGS = Settings(
    registry_table="t",
    assets_bucket="b",
    topic_arn="",
    provisioner_function="",
    mode="single",
    use_model_registry=False,
    orchestrator_environment="dev",
)


def test_the_dry_runs_preflight_and_cost_are_asked_at_the_same_time(monkeypatch: pytest.MonkeyPatch) -> None:
    priced = threading.Event()

    def lookup(region: str, instance_type: str, usage: PriceUsage) -> float | None:
        priced.set()
        return 0.5

    def preflight(pipeline_id: str, spec_json: str, config: Settings) -> dict[str, Any]:
        # Answers only once a price was asked: asked in sequence, it would wait here and fail.
        assert priced.wait(timeout=5)
        return {"status": "ok", "environments": []}

    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setattr(quota_preflight, "request_preflight", preflight)
    monkeypatch.setattr(cost_limit, "live_prices", lambda region: lookup)
    spec = parse_pipeline_request(realtime_body())

    answer, cost = quota_preflight.preflight_and_cost(spec.pipeline_id, "{}", spec, SETTINGS)

    assert answer == {"status": "ok", "environments": []}
    assert [estimate["total_monthly_usd"] for estimate in cost["estimates"]] == [365.0]
