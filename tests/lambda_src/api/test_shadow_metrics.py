"""A shadow test in GET /pipelines/{id}: both variants' invocations, errors and latency over the last hour,
side by side, from the metrics CloudWatch holds (moto)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lambda_src.api import shadow_metrics
from lambda_src.api.shadow_metrics import side_by_side
from lambda_src.common import aws, settings
from lambda_src.registry import Registry, Status
from tests.support.api_gateway import api_event, call
from tests.support.moto_orchestrator import TABLE
from tests.support.requests import realtime_body

PIPELINE = "churn-xgb-realtime-builtin"
ENDPOINT = "churn-xgb-dev"
SHADOW = {"model_artifact_location": "models/churn-xgb-v2/model.tar.gz", "instance_type": "ml.m5.large"}


def deployed(body: dict[str, Any], outputs: dict[str, Any]) -> None:
    assert call(api_event("POST", "/provisionpipeline", body)).status == 202
    registry = Registry(TABLE)
    registry.transition(PIPELINE, Status.PROVISIONING)
    registry.transition(PIPELINE, Status.DEPLOYED, outputs=outputs)


def put(variant: str, metric: str, values: list[float], minutes_ago: int = 10) -> None:
    at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    aws.client("cloudwatch").put_metric_data(
        Namespace="AWS/SageMaker",
        MetricData=[
            {
                "MetricName": metric,
                "Dimensions": [{"Name": "EndpointName", "Value": ENDPOINT}, {"Name": "VariantName", "Value": variant}],
                "Timestamp": at,
                "Value": value,
            }
            for value in values
        ],
    )


def status() -> dict[str, Any]:
    answer = call(api_event("GET", f"/pipelines/{PIPELINE}", resource="/pipelines/{pipeline_id}"))
    assert answer.status == 200
    return answer.body


def test_the_status_shows_both_variants_metrics_side_by_side(orchestrator):
    deployed(realtime_body(deployment={"type": "shadow", "shadow": SHADOW}), {"dev": {"endpoint_name": ENDPOINT}})
    put("AllTraffic", "Invocations", [40, 60])
    put("AllTraffic", "Invocation5XXErrors", [1])
    put("AllTraffic", "ModelLatency", [20_000, 30_000])
    put("Shadow", "Invocations", [50])
    put("Shadow", "Invocation4XXErrors", [3])
    put("Shadow", "ModelLatency", [12_000])
    put("Shadow", "Invocations", [999], minutes_ago=90)  # older than the hour shown

    shadow_test = status()["shadow_test"]

    dev = shadow_test["environments"]["dev"]
    assert shadow_test["window_hours"] == 1 and dev["endpoint_name"] == ENDPOINT
    assert dev["production"] == {
        "variant": "AllTraffic",
        "invocations": 100,
        "invocation_5xx_errors": 1,
        "invocation_4xx_errors": 0,
        "model_latency_ms": 25.0,
    }
    assert dev["shadow"] == {
        "variant": "Shadow",
        "invocations": 50,
        "invocation_5xx_errors": 0,
        "invocation_4xx_errors": 3,
        "model_latency_ms": 12.0,
    }


def test_an_environment_in_another_account_says_where_its_metrics_are(orchestrator, monkeypatch):
    monkeypatch.setenv(settings.ORCHESTRATOR_ENVIRONMENT, "prod")
    deployed(realtime_body(deployment={"type": "shadow", "shadow": SHADOW}), {"dev": {"endpoint_name": ENDPOINT}})

    dev = status()["shadow_test"]["environments"]["dev"]

    assert dev == {
        "endpoint_name": ENDPOINT,
        "note": "in the dev account: read its metrics there (CloudWatch AWS/SageMaker, variants AllTraffic and Shadow)",
    }


def test_a_pipeline_without_shadow_has_no_shadow_test_in_its_status(orchestrator):
    deployed(realtime_body(), {"dev": {"endpoint_name": ENDPOINT}})
    assert "shadow_test" not in status()


@pytest.mark.fast
def test_no_data_is_no_invocation_and_no_latency():
    assert side_by_side([])["shadow"] == {
        "variant": "Shadow",
        "invocations": 0,
        "invocation_5xx_errors": 0,
        "invocation_4xx_errors": 0,
        "model_latency_ms": None,
    }


@pytest.mark.fast
def test_metrics_that_cannot_be_read_are_reported_not_raised(monkeypatch):
    # E.g. an API role without cloudwatch:GetMetricData: the rest of the status is still answered.
    from botocore.exceptions import ClientError

    class Denied:
        def get_metric_data(self, **_: Any) -> None:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetMetricData")

    monkeypatch.setattr(shadow_metrics.aws, "client", lambda service: Denied())
    now = datetime(2026, 12, 6, 10, 30, 45, tzinfo=UTC)
    assert shadow_metrics.environment_metrics(ENDPOINT, now) == {
        "endpoint_name": ENDPOINT,
        "start": "2026-12-06T09:30:00Z",
        "end": "2026-12-06T10:30:00Z",
        "note": "metrics unreadable (AccessDenied)",
    }
