"""`mlops plan --preflight` when SageMaker cannot be read fully (review M2): an endpoint whose configuration was
deleted, one deleted between the list and its describe, and ListEndpoints denied give a check or "not checked"
with the reason, never an exception (a traceback)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.stub import Stubber

from mlops_cli.quota_check import UNKNOWN_TYPE, endpoints_held
from tests.mlops_cli.test_plan_preflight import ACCOUNT, ENDPOINT_M5, SINGLE, aws, check, deployed_endpoint

__all__ = ["aws"]  # the fixture, used by name


def test_an_endpoint_whose_configuration_was_deleted_is_named_and_not_counted(aws: None) -> None:
    deployed_endpoint("orphan", 2)
    boto3.client("sagemaker").delete_endpoint_config(EndpointConfigName="orphan")  # SageMaker allows it

    assert endpoints_held(boto3.client("sagemaker")) == {"orphan": {UNKNOWN_TYPE: 2}}
    [dev] = check(SINGLE, {ENDPOINT_M5: 2})
    assert (dev["status"], dev["note"]) == (
        "ok",
        "endpoints whose configuration was deleted, so their instances were not counted: orphan",
    )


def test_an_endpoint_deleted_after_the_list_holds_nothing(aws: None) -> None:
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    with Stubber(sagemaker) as stub:
        stub.add_response("list_endpoints", {"Endpoints": [_summary("gone")]})
        stub.add_client_error(
            "describe_endpoint", "ValidationException", "Could not find endpoint 'gone'.", 400, {"EndpointName": "gone"}
        )
        assert endpoints_held(sagemaker) == {}


def test_sagemaker_denied_makes_the_environment_not_checked_with_the_reason(aws: None) -> None:
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    with Stubber(sagemaker) as stub:
        stub.add_client_error("list_endpoints", "AccessDeniedException", "no", 400)
        assert endpoints_held(sagemaker) == "SageMaker's endpoints could not be read (AccessDeniedException)"


def test_plan_preflight_of_a_denied_account_says_not_checked(aws: None, monkeypatch: Any) -> None:
    from tests.mlops_cli import test_plan_preflight

    original = test_plan_preflight.QuotaSession.client

    def denied(self: Any, service: str, **kwargs: Any) -> Any:
        client = original(self, service, **kwargs)
        if service == "sagemaker":
            stub = Stubber(client)
            stub.add_client_error("list_endpoints", "AccessDeniedException", "no", 400)
            stub.activate()
        return client

    monkeypatch.setattr(test_plan_preflight.QuotaSession, "client", denied)

    [dev] = check(SINGLE, {ENDPOINT_M5: 2})

    assert dev == {
        "pipeline_id": "churn-xgb-realtime-builtin",
        "environment": "dev",
        "status": "not checked",
        "reason": "SageMaker's endpoints could not be read (AccessDeniedException)",
    }


def _summary(name: str) -> dict[str, Any]:
    from datetime import UTC, datetime

    at = datetime(2026, 12, 6, tzinfo=UTC)
    arn = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/{name}"
    return {
        "EndpointName": name,
        "EndpointArn": arn,
        "CreationTime": at,
        "LastModifiedTime": at,
        "EndpointStatus": "InService",
    }
