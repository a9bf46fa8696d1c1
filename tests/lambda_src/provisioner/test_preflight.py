"""Quota preflight before provisioning (issue 15): a request its environments' SageMaker quotas cannot
hold is refused before anything is created, naming quota, value and need."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from lambda_src.common import aws
from lambda_src.provisioner.preflight import quotas_reader
from lambda_src.registry import Status
from tests.lambda_src.provisioner.test_races import submit
from tests.support.fake_quotas import FakeServiceQuotas, access_denied

ENDPOINT_M5 = "ml.m5.large for endpoint usage"


def test_a_zero_quota_refuses_the_request_before_anything_is_created(
    single: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    single.quotas["dev"] = FakeServiceQuotas({ENDPOINT_M5: 0})
    pipeline_id = submit(single, example_body("byom_realtime_builtin"))

    result = single.run_provisioner()

    assert result["status"] == "FAILED"
    record = single.record(pipeline_id)
    assert record.status == Status.FAILED
    assert record.last_error == (
        "quota-shortfall (retryable): dev: SageMaker quota 'ml.m5.large for endpoint usage' is 0; "
        "this request needs 2 more. Ask for an increase in Service Quotas, or choose another instance type "
        "or count."
    )
    assert single.backend.history == []  # no delivery stack, no run
    listed = aws.client("s3").list_objects_v2(
        Bucket="mlops-assets-111111111111-us-east-1", Prefix=f"pipelines/{pipeline_id}/"
    )
    assert [o["Key"] for o in listed.get("Contents", [])] == [f"pipelines/{pipeline_id}/spec.json"]


def test_every_environment_is_checked_in_its_own_account(
    multi: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    prod_type = "ml.m5.xlarge for endpoint usage"  # the example's prod instances
    multi.quotas.update(
        dev=FakeServiceQuotas({ENDPOINT_M5: 10}),
        staging=FakeServiceQuotas({ENDPOINT_M5: 10}),
        prod=FakeServiceQuotas({prod_type: 1}),
    )
    pipeline_id = submit(multi, example_body("byom_realtime_builtin", "multi"))

    multi.run_provisioner()

    # Once each in its own account: the applied values and AWS's defaults.
    assert [multi.quotas[env].reads for env in ("dev", "staging", "prod")] == [2, 2, 2]
    last_error = multi.record(pipeline_id).last_error
    assert last_error.startswith(f"quota-shortfall (retryable): prod: SageMaker quota '{prod_type}' is 1;")


def test_endpoints_this_project_already_holds_count_against_the_quota(
    single: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    single.quotas["dev"] = FakeServiceQuotas({ENDPOINT_M5: 3})
    first = submit(single, example_body("byom_realtime_builtin"))
    single.run_provisioner()
    single.registry.transition(first, Status.DEPLOYED, outputs={"dev": {"endpoint_name": "e"}})
    second = submit(single, {**example_body("byom_realtime_builtin"), "model_name": "other-model"})

    single.run_provisioner()

    assert single.record(first).status == Status.DEPLOYED
    assert (
        "is 3, 2 held by this project's other pipelines; this request needs 2 more" in single.record(second).last_error
    )


def test_quotas_that_cannot_be_read_do_not_block(single: Any, example_body: Callable[..., dict[str, Any]]) -> None:
    single.quotas["dev"] = FakeServiceQuotas(refusal=access_denied())
    pipeline_id = submit(single, example_body("byom_realtime_builtin"))

    single.run_provisioner()

    assert single.record(pipeline_id).status == Status.PROVISIONING
    assert ("up", f"{pipeline_id}-delivery") in single.backend.history


def test_another_accounts_quotas_are_read_through_its_deploy_role_with_the_external_id(
    multi: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    settings = replace(multi.settings, deploy_role_external_id="ext-123")
    calls: list[dict[str, Any]] = []
    sts = aws.client("sts")
    sts.meta.events.register("provide-client-params.sts.AssumeRole", lambda params, **_: calls.append(dict(params)))

    staging = quotas_reader(settings)("staging")
    own = quotas_reader(settings)("dev")

    assert calls == [
        {
            "RoleArn": "arn:aws:iam::222222222222:role/mlops-staging-deploy",
            "RoleSessionName": "mlops-quota-preflight",
            "ExternalId": "ext-123",
        }
    ]
    assert staging.meta.service_model.service_name == "service-quotas"
    assert staging is not own and own is aws.client("service-quotas")
    assert isinstance(boto3.__version__, str)
