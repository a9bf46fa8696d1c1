"""Quota preflight against Service Quotas (issue 15): applied values, AWS defaults for the rest, what
this project's endpoints already hold, and the request's need."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from lambda_src.common.quotas import held_by_endpoints, preflight, quota_values
from lambda_src.registry import PipelineRecord, Status
from mlops_spec.request import parse_pipeline_request
from tests.support.aws_stubs import answering
from tests.support.provisioner_settings import load_example

APPLIED = [
    [
        {"QuotaName": "ml.m5.large for endpoint usage", "Value": 4.0},
        {"QuotaName": "ml.p3.2xlarge for endpoint usage", "Value": 0.0},
    ],
    [{"QuotaName": "ml.m5.large for transform job usage", "Value": 2.0}],
]
DEFAULTS = [
    {"QuotaName": "ml.c5.xlarge for endpoint usage", "Value": 2.0},
    {"QuotaName": "ml.m5.large for endpoint usage", "Value": 1.0},
]


@pytest.fixture
def quotas(aws_credentials: None) -> Any:
    client = boto3.client("service-quotas", region_name="us-east-1")
    asked: list[dict[str, Any]] = []

    def applied(request: dict[str, Any]) -> dict[str, Any]:
        asked.append(request)
        page = int(request.get("NextToken", "0"))
        more = {"NextToken": str(page + 1)} if page + 1 < len(APPLIED) else {}
        return {"Quotas": APPLIED[page], **more}

    with (
        answering(client, "ListServiceQuotas", applied),
        answering(client, "ListAWSDefaultServiceQuotas", lambda request: {"Quotas": DEFAULTS}),
    ):
        client.asked = asked  # type: ignore[attr-defined]
        yield client


def realtime(**changes: Any) -> Any:
    return parse_pipeline_request({**load_example("byom_realtime_builtin"), **changes}, mode="single")


def record(pipeline_id: str, status: Status, spec: Any, outputs: dict[str, Any]) -> PipelineRecord:
    return PipelineRecord(
        pipeline_id=pipeline_id,
        status=status,
        pipeline_type=spec.pipeline_type,
        version=1,
        created_at="",
        updated_at="",
        spec=spec.model_dump_json(),
        outputs=outputs,
    )


def test_applied_values_are_read_across_pages_and_defaults_fill_the_rest(quotas: Any) -> None:
    names = {
        "ml.m5.large for endpoint usage",
        "ml.m5.large for transform job usage",
        "ml.c5.xlarge for endpoint usage",
        "ml.x.large for endpoint usage",
    }

    values = quota_values(quotas, names)

    # The applied value wins over AWS's default; a quota nobody lists is absent.
    assert values == {
        "ml.m5.large for endpoint usage": 4,
        "ml.m5.large for transform job usage": 2,
        "ml.c5.xlarge for endpoint usage": 2,
    }
    assert [r.get("ServiceCode") for r in quotas.asked] == ["sagemaker", "sagemaker"]


def test_a_zero_quota_refuses_the_request_naming_quota_value_and_need(quotas: Any) -> None:
    result = preflight(realtime(inference_instance="ml.p3.2xlarge", instance_count=2), "dev", quotas, held={})

    assert not result.ok
    assert result.summary() == (
        "dev: SageMaker quota 'ml.p3.2xlarge for endpoint usage' is 0; this request needs 2 more. "
        "Ask for an increase in Service Quotas, or choose another instance type or count."
    )


def test_endpoints_already_held_count_and_an_update_needs_room_for_blue_green(quotas: Any) -> None:
    other = record(
        "other-realtime-builtin", Status.DEPLOYED, realtime(instance_count=2), {"dev": {"endpoint_name": "e"}}
    )
    gone = record("gone-realtime-builtin", Status.DELETED, realtime(instance_count=2), {"dev": {"endpoint_name": "g"}})
    elsewhere = record("prod-only-realtime-builtin", Status.DEPLOYED, realtime(instance_count=2), {"prod": {}})
    held = held_by_endpoints([other, gone, elsewhere], "dev", parse=lambda r: realtime(instance_count=2))

    assert held == {"ml.m5.large for endpoint usage": 2}
    assert preflight(realtime(instance_count=2), "dev", quotas, held).ok
    update = preflight(realtime(instance_count=2), "dev", quotas, held, updating=True)
    assert [(s.value, s.in_use, s.needed) for s in update.shortfalls] == [(4, 2, 4)]


def test_the_pipeline_being_checked_is_not_counted_twice(quotas: Any) -> None:
    itself = record("churn-xgb-realtime-builtin", Status.DEPLOYED, realtime(), {"dev": {}})
    assert held_by_endpoints([itself], "dev", parse=lambda r: realtime(), exclude="churn-xgb-realtime-builtin") == {}


def test_quotas_service_quotas_does_not_list_are_reported_unchecked(quotas: Any) -> None:
    result = preflight(realtime(inference_instance="ml.m7i.large"), "dev", quotas, held={})

    assert result.ok
    assert result.unchecked == ["ml.m7i.large for endpoint usage"]
    assert "not listed by Service Quotas, so not checked: ml.m7i.large for endpoint usage" in result.summary()


@pytest.mark.fast
def test_a_rejected_pipelines_live_endpoints_still_hold_capacity() -> None:
    """Rejecting a version leaves the one before it deployed: its endpoint still runs (review H3)."""
    spec = realtime(instance_count=2)
    rejected = record("rejected-realtime-builtin", Status.REJECTED, spec, {"dev": {"endpoint_name": "r"}})
    never_deployed = record("bad-file-realtime-builtin", Status.REJECTED, spec, {})

    assert held_by_endpoints([rejected, never_deployed], "dev", parse=lambda r: spec) == {
        "ml.m5.large for endpoint usage": 2
    }
