"""mlops:maxMonthlyCostPerPipeline on the trigger function: an uploaded mlops-config.json estimated above
the limit is rejected before the pipeline is recorded, as the API refuses it (test prices, not AWS's)."""

from __future__ import annotations

import json

from lambda_src.common import aws, cost_limit
from lambda_src.common.settings import settings
from lambda_src.trigger.handler import process
from mlops_spec.costs import PriceUsage
from tests.support.moto_orchestrator import BUCKET
from tests.support.requests import realtime_body

KEY = "teams/a/mlops-config.json"
PROBLEM = (
    "churn-xgb-realtime-builtin in dev is estimated at up to $365.00 ($365.00 a month), "
    "above mlops:maxMonthlyCostPerPipeline $200.00"
)


def half_a_dollar_an_hour(region: str, instance_type: str, usage: PriceUsage) -> float | None:
    return 0.5 if (instance_type, usage) == ("ml.m5.large", "hosting") else None


def test_an_upload_above_the_limit_is_rejected_and_the_pipeline_not_recorded(orchestrator, monkeypatch):
    monkeypatch.setattr(cost_limit, "live_prices", lambda region: half_a_dollar_an_hour)
    monkeypatch.setenv("MLOPS_MAX_MONTHLY_COST_PER_PIPELINE", "200")
    aws.client("s3").put_object(Bucket=BUCKET, Key=KEY, Body=json.dumps(realtime_body()))

    result = process(settings(), BUCKET, KEY)

    assert (result.outcome, result.errors) == ("rejected", [{"field": "inference_instance", "problem": PROBLEM}])
    # The trigger records the rejection itself (as for any rejected file); the pipeline is not recorded.
    assert [item["status"]["S"] for item in orchestrator.items()] == ["REJECTED"]
    assert orchestrator.item("churn-xgb-realtime-builtin") is None
    assert (orchestrator.object_keys(), orchestrator.invocations.calls) == ([KEY], [])
    [announcement] = orchestrator.announcements()
    assert f"- inference_instance: {PROBLEM}" in announcement["Message"].splitlines()
