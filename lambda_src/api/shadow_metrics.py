"""A shadow test's metrics in a pipeline's status: the production and shadow variants' invocations, errors
and model latency over the last hour, side by side, read from CloudWatch (GetMetricData).

Read with the API's own credentials, so for the environment in the orchestrator's account (every
environment of a single-account install); another account's environment is named with where to read
its metrics there: the account and region, the CloudWatch console's page and the exact AWS CLI command
(the same queries). A read failure is reported, not raised: the rest of the status is still worth answering.

The window is the last hour to the minute, one period long, so CloudWatch answers one bucket per query;
the values of every bucket it answers are summed all the same. The model latency is the requests'
average: the sum of ModelLatency over its sample count (an average of per-bucket averages would weigh a
quiet bucket like a busy one).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from lambda_src.common import aws
from mlops_spec.pipelines.shadow_variants import PRODUCTION_VARIANT, SHADOW_VARIANT, is_shadow_test

logger = Logger(child=True)

WINDOW = timedelta(hours=1)
PERIOD = int(WINDOW.total_seconds())
NAMESPACE = "AWS/SageMaker"
# Our count -> the CloudWatch metric of a variant, summed over the window.
COUNTS = {
    "invocations": "Invocations",
    "invocation_5xx_errors": "Invocation5XXErrors",
    "invocation_4xx_errors": "Invocation4XXErrors",
}
# ModelLatency (microseconds) as its total and its number of requests, whose quotient is the average.
LATENCY = "ModelLatency"
LATENCY_PARTS = {"latency_sum": "Sum", "latency_samples": "SampleCount"}
VARIANTS = {"production": PRODUCTION_VARIANT, "shadow": SHADOW_VARIANT}

# Where an endpoint lives, from its ARN (a deployed real-time pipeline's `endpoint_arn` output).
_ENDPOINT_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):sagemaker:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):endpoint/.+"
)
# The AWS console's host per partition (a region's console is <region>.<host>, GovCloud's is one host).
_CONSOLE_HOSTS = {"aws": "console.aws.amazon.com", "aws-cn": "console.amazonaws.cn"}
_GOVCLOUD_CONSOLE = "console.amazonaws-us-gov.com"


def _query(query_id: str, endpoint_name: str, variant: str, metric: str, statistic: str) -> dict[str, Any]:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": NAMESPACE,
                "MetricName": metric,
                "Dimensions": [
                    {"Name": "EndpointName", "Value": endpoint_name},
                    {"Name": "VariantName", "Value": variant},
                ],
            },
            "Period": PERIOD,
            "Stat": statistic,
        },
        "ReturnData": True,
    }


def metric_queries(endpoint_name: str) -> list[dict[str, Any]]:
    """GetMetricData's queries: each count of each variant and the two parts of its latency, one period."""
    queries = []
    for role, variant in VARIANTS.items():
        queries += [_query(f"{role}_{name}", endpoint_name, variant, metric, "Sum") for name, metric in COUNTS.items()]
        queries += [
            _query(f"{role}_{part}", endpoint_name, variant, LATENCY, stat) for part, stat in LATENCY_PARTS.items()
        ]
    return queries


def totals(results: list[dict[str, Any]]) -> dict[str, float]:
    """Each query's values summed over every bucket CloudWatch answered."""
    return {result["Id"]: sum(float(value) for value in result.get("Values", [])) for result in results}


def side_by_side(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """GetMetricData's results -> {production: {variant, invocations, ...}, shadow: {...}}. A count with
    no data in the window is 0; the latency without a request is null (no request, no latency)."""
    total = totals(results)
    variants: dict[str, dict[str, Any]] = {}
    for role, variant in VARIANTS.items():
        entry: dict[str, Any] = {"variant": variant}
        for name in COUNTS:
            entry[name] = int(total.get(f"{role}_{name}", 0))
        samples = total.get(f"{role}_latency_samples", 0)
        microseconds = total.get(f"{role}_latency_sum", 0)
        entry["model_latency_ms"] = round(microseconds / samples / 1000, 3) if samples else None
        variants[role] = entry
    return variants


def window_of(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The last hour to the minute, [start, end): CloudWatch rounds a recent StartTime down to the minute,
    so with both ends on a minute the window is exactly one period."""
    end = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    return end - WINDOW, end


def environment_metrics(endpoint_name: str, now: datetime | None = None) -> dict[str, Any]:
    """One endpoint's variants over the last hour, or why they could not be read."""
    start, end = window_of(now)
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


def read_command(endpoint_name: str, region: str | None, now: datetime | None = None) -> str:
    """The AWS CLI command that reads the same metrics over the same window (run with the credentials of
    the endpoint's account)."""
    start, end = window_of(now)
    queries = json.dumps(metric_queries(endpoint_name), separators=(",", ":"))
    where = f" --region {region}" if region else ""
    return (
        f"aws cloudwatch get-metric-data{where} --start-time {_iso(start)} --end-time {_iso(end)} "
        f"--metric-data-queries {shlex.quote(queries)}"
    )


def console_url(endpoint_name: str, partition: str, region: str) -> str:
    """The CloudWatch console's metrics page of the endpoint's variants, in its account and region."""
    host = (
        _GOVCLOUD_CONSOLE
        if partition == "aws-us-gov"
        else f"{region}.{_CONSOLE_HOSTS.get(partition, _CONSOLE_HOSTS['aws'])}"
    )
    return (
        f"https://{host}/cloudwatch/home?region={region}#metricsV2:graph=~();search={endpoint_name};"
        f"namespace={NAMESPACE};dimensions=EndpointName,VariantName"
    )


def elsewhere(env: str, endpoint_name: str, deployed: Mapping[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """An environment in another account: where and how to read its metrics there."""
    arn = deployed.get("endpoint_arn")
    place = _ENDPOINT_ARN.fullmatch(arn) if isinstance(arn, str) else None
    region = place["region"] if place else None
    account = f"the {env} account ({place['account']}, {region})" if place else f"the {env} account"
    entry: dict[str, Any] = {
        "endpoint_name": endpoint_name,
        "note": f"in {account}, whose metrics this API does not read: read them there, with that account's "
        f"credentials: run `command` (model latency in microseconds = latency_sum / latency_samples), or open "
        f"CloudWatch > Metrics > All metrics > {NAMESPACE} > EndpointName, VariantName and search {endpoint_name} "
        f"(variants {PRODUCTION_VARIANT} and {SHADOW_VARIANT})",
        "command": read_command(endpoint_name, region, now),
    }
    if place:
        entry.update(account_id=place["account"], region=region)
        entry["console"] = console_url(endpoint_name, place["partition"], place["region"])
    return entry


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
            environments[env] = elsewhere(env, name, deployed, now)
            continue
        environments[env] = environment_metrics(name, now)
    return {"window_hours": int(WINDOW.total_seconds() // 3600), "environments": environments}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
