"""A shadow test's metrics in a pipeline's status: the production and shadow variants' invocations, errors
and model latency over the last hour, side by side, read from CloudWatch (GetMetricData).

Read with the API's own credentials, so for the environment in the orchestrator's account (every
environment of a single-account install); another account's environment is named with where to read
its metrics. A read failure is reported, not raised: the rest of the status is still worth answering.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from lambda_src.common import aws
from mlops_spec.pipelines.shadow_variants import PRODUCTION_VARIANT, SHADOW_VARIANT, is_shadow_test

logger = Logger(child=True)

WINDOW = timedelta(hours=1)
NAMESPACE = "AWS/SageMaker"
# Our name -> (CloudWatch metric of a variant, statistic). ModelLatency is in microseconds.
METRICS: dict[str, tuple[str, str]] = {
    "invocations": ("Invocations", "Sum"),
    "invocation_5xx_errors": ("Invocation5XXErrors", "Sum"),
    "invocation_4xx_errors": ("Invocation4XXErrors", "Sum"),
    "model_latency_ms": ("ModelLatency", "Average"),
}
VARIANTS = {"production": PRODUCTION_VARIANT, "shadow": SHADOW_VARIANT}


def metric_queries(endpoint_name: str) -> list[dict[str, Any]]:
    """GetMetricData's queries: each metric of each variant, one value over the whole window."""
    return [
        {
            "Id": f"{role}_{name}",
            "MetricStat": {
                "Metric": {
                    "Namespace": NAMESPACE,
                    "MetricName": metric,
                    "Dimensions": [
                        {"Name": "EndpointName", "Value": endpoint_name},
                        {"Name": "VariantName", "Value": variant},
                    ],
                },
                "Period": int(WINDOW.total_seconds()),
                "Stat": statistic,
            },
            "ReturnData": True,
        }
        for role, variant in VARIANTS.items()
        for name, (metric, statistic) in METRICS.items()
    ]


def side_by_side(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """GetMetricData's results -> {production: {variant, invocations, ...}, shadow: {...}}. A metric with
    no data in the window is 0 for counts and null for the latency (no request, no latency)."""
    values = {result["Id"]: [float(v) for v in result.get("Values", [])] for result in results}
    variants: dict[str, dict[str, Any]] = {}
    for role, variant in VARIANTS.items():
        entry: dict[str, Any] = {"variant": variant}
        for name, (_, statistic) in METRICS.items():
            found = values.get(f"{role}_{name}", [])
            if statistic == "Sum":
                entry[name] = int(sum(found))
            else:
                entry[name] = round(sum(found) / len(found) / 1000, 3) if found else None
        variants[role] = entry
    return variants


def environment_metrics(endpoint_name: str, now: datetime | None = None) -> dict[str, Any]:
    """One endpoint's variants over the last hour, or why they could not be read."""
    end = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    start = end - WINDOW
    window = {"endpoint_name": endpoint_name, "start": _iso(start), "end": _iso(end)}
    try:
        answer = aws.client("cloudwatch").get_metric_data(
            MetricDataQueries=metric_queries(endpoint_name), StartTime=start, EndTime=end
        )
    except Exception as exc:
        code = aws.error_code(exc)
        if code is None:
            raise
        logger.warning("could not read the shadow test's metrics", endpoint=endpoint_name, error_code=code)
        return {**window, "note": f"metrics unreadable ({code})"}
    return {**window, **side_by_side(answer.get("MetricDataResults", []))}


def shadow_test(
    spec: Mapping[str, Any] | None, outputs: Mapping[str, Any], readable: str, now: datetime | None = None
) -> dict[str, Any] | None:
    """The `shadow_test` of a status: per environment deployed, its variants side by side (the environment
    `readable` is the one in the orchestrator's account); None when the pipeline runs no shadow test."""
    if not is_shadow_test(spec):
        return None
    environments: dict[str, Any] = {}
    for env, deployed in outputs.items():
        name = deployed.get("endpoint_name") if isinstance(deployed, Mapping) else None
        if not isinstance(name, str) or not name:
            continue
        if env != readable:
            environments[env] = {
                "endpoint_name": name,
                "note": f"in the {env} account: read its metrics there (CloudWatch {NAMESPACE}, variants "
                f"{PRODUCTION_VARIANT} and {SHADOW_VARIANT})",
            }
            continue
        environments[env] = environment_metrics(name, now)
    return {"window_hours": int(WINDOW.total_seconds() // 3600), "environments": environments}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
