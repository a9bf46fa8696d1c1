"""A shadow test in GET /pipelines/{id}: both variants' invocations, errors and latency over the last hour,
side by side, from the metrics CloudWatch holds (moto)."""

from __future__ import annotations

import json
import shlex
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
    """Metrics are read in the orchestrator's account only: another account's environment gets its account,
    region, console page and the exact AWS CLI command (the same queries, over the same window)."""
    monkeypatch.setenv(settings.ORCHESTRATOR_ENVIRONMENT, "prod")
    arn = f"arn:aws:sagemaker:eu-west-1:222222222222:endpoint/{ENDPOINT}"
    outputs = {"dev": {"endpoint_name": ENDPOINT, "endpoint_arn": arn}}
    deployed(realtime_body(deployment={"type": "shadow", "shadow": SHADOW}), outputs)

    dev = status()["shadow_test"]["environments"]["dev"]

    assert (dev["endpoint_name"], dev["account_id"], dev["region"]) == (ENDPOINT, "222222222222", "eu-west-1")
    assert dev["note"].startswith(
        "in the dev account (222222222222, eu-west-1), whose metrics this API does not read: read them there, "
        "with that account's credentials: run `command`"
    )
    assert (
        f"> AWS/SageMaker > EndpointName, VariantName and search {ENDPOINT} (variants AllTraffic and Shadow)"
        in (dev["note"])
    )
    assert dev["console"] == (
        "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#metricsV2:graph=~();"
        f"search={ENDPOINT};namespace=AWS/SageMaker;dimensions=EndpointName,VariantName"
    )
    words = shlex.split(dev["command"])
    assert words[:5] == ["aws", "cloudwatch", "get-metric-data", "--region", "eu-west-1"]
    options = dict(zip(words[5::2], words[6::2], strict=True))
    start, end = (datetime.strptime(options[key], "%Y-%m-%dT%H:%M:%SZ") for key in ("--start-time", "--end-time"))
    assert end - start == timedelta(hours=1) and end.second == 0
    assert json.loads(options["--metric-data-queries"]) == shadow_metrics.metric_queries(ENDPOINT)


@pytest.mark.fast
def test_without_the_endpoint_arn_the_note_still_gives_the_command_and_the_console_path():
    now = datetime(2026, 12, 6, 10, 30, 45, tzinfo=UTC)
    prod = shadow_metrics.elsewhere("prod", "churn-xgb-prod", {"endpoint_name": "churn-xgb-prod"}, now)
    assert set(prod) == {"endpoint_name", "note", "command"}
    assert prod["note"].startswith("in the prod account, whose metrics this API does not read")
    assert prod["command"].startswith(
        "aws cloudwatch get-metric-data --start-time 2026-12-06T09:30:00Z --end-time 2026-12-06T10:30:00Z "
    )


@pytest.mark.fast
def test_govcloud_and_china_endpoints_get_their_partitions_console():
    assert shadow_metrics.console_url("e", "aws-us-gov", "us-gov-west-1").startswith(
        "https://console.amazonaws-us-gov.com/cloudwatch/home?region=us-gov-west-1#"
    )
    assert shadow_metrics.console_url("e", "aws-cn", "cn-north-1").startswith(
        "https://cn-north-1.console.amazonaws.cn/cloudwatch/home?region=cn-north-1#"
    )


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


@pytest.mark.fast
def test_the_latency_is_the_requests_average_over_every_bucket_answered():
    """Review: an average of per-bucket averages weighs a quiet bucket like a busy one. 90 requests at 10 ms
    and 10 at 100 ms average 19 ms (not 55); counts are summed over the buckets."""
    results = [
        {"Id": "production_invocations", "Values": [90.0, 10.0]},
        {"Id": "production_latency_sum", "Values": [900_000.0, 1_000_000.0]},
        {"Id": "production_latency_samples", "Values": [90.0, 10.0]},
    ]
    production = side_by_side(results)["production"]
    assert (production["invocations"], production["model_latency_ms"]) == (100, 19.0)


@pytest.mark.fast
def test_the_window_is_one_period_ending_on_the_current_minute():
    start, end = shadow_metrics.window_of(datetime(2026, 12, 6, 10, 30, 45, 123, tzinfo=UTC))
    assert (start, end) == (datetime(2026, 12, 6, 9, 30, tzinfo=UTC), datetime(2026, 12, 6, 10, 30, tzinfo=UTC))
    assert {query["MetricStat"]["Period"] for query in shadow_metrics.metric_queries(ENDPOINT)} == {3600}


def test_the_last_hour_counts_what_lies_inside_its_bounds_only_and_weighs_latency_by_requests(orchestrator):
    """Through CloudWatch (moto): data at the window's start counts, data a second before it or at its end
    does not; the latency is SageMaker's per-minute aggregates (sum and sample count) weighed by requests."""
    now = datetime(2026, 12, 6, 10, 30, 45, tzinfo=UTC)
    start, end = datetime(2026, 12, 6, 9, 30, tzinfo=UTC), datetime(2026, 12, 6, 10, 30, tzinfo=UTC)
    before, last = start - timedelta(seconds=1), end - timedelta(seconds=1)
    for at, requests, average_us in ((before, 1000, 500_000), (start, 40, 10_000), (last, 60, 35_000), (end, 2000, 1)):
        put_at(at, "Invocations", value=requests)
        put_at(at, "ModelLatency", statistics={"SampleCount": requests, "Sum": requests * average_us})

    production = shadow_metrics.environment_metrics(ENDPOINT, now)["production"]

    # (40 x 10 ms + 60 x 35 ms) / 100 = 25 ms; the average of the two minutes' averages would be 22.5 ms.
    assert (production["invocations"], production["model_latency_ms"]) == (100, 25.0)


def put_at(at: datetime, metric: str, value: float | None = None, statistics: dict[str, float] | None = None) -> None:
    datum: dict[str, Any] = {
        "MetricName": metric,
        "Dimensions": [{"Name": "EndpointName", "Value": ENDPOINT}, {"Name": "VariantName", "Value": "AllTraffic"}],
        "Timestamp": at,
    }
    if statistics is None:
        datum["Value"] = value
    else:
        datum["StatisticValues"] = {**statistics, "Minimum": 0.0, "Maximum": statistics["Sum"]}
    aws.client("cloudwatch").put_metric_data(Namespace="AWS/SageMaker", MetricData=[datum])
