"""Serverless and asynchronous inference: what SageMaker accepts of them, what they exclude, and the
published schema giving the same verdict as the API on each rule."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from mlops_spec.errors import SpecError
from mlops_spec.openapi import json_schema
from mlops_spec.pipelines.realtime import RealtimeBuiltinSpec, RealtimeCustomSpec
from mlops_spec.request import parse_pipeline_request
from tests.support.examples import load_example

pytestmark = pytest.mark.fast

VALIDATOR = jsonschema.Draft202012Validator(json_schema())
SERVERLESS = {"memory_size_in_mb": 2048, "max_concurrency": 10}
ASYNC = {"output_path": "bucket/async/out"}
TOPIC = "arn:aws:sns:us-east-1:111111111111:done"


def serverless(**changes: Any) -> dict[str, Any]:
    """The single-account serverless example with `changes` (None removes a key)."""
    body = {**load_example("byom_realtime_serverless"), **changes}
    return {key: value for key, value in body.items() if value is not None}


def on_instances(**changes: Any) -> dict[str, Any]:
    body = {**load_example("byom_realtime_custom"), **changes}
    return {key: value for key, value in body.items() if value is not None}


def problem(body: dict[str, Any], mode: str = "single") -> tuple[str, str]:
    with pytest.raises(SpecError) as caught:
        parse_pipeline_request(body, mode=mode)  # type: ignore[arg-type]
    [error] = caught.value.errors
    return error.field, error.problem


# -- SageMaker's limits ----------------------------------------------------------------------------
@pytest.mark.parametrize("memory", [1024, 3072, 6144])
def test_serverless_memory_in_sagemakers_steps_is_accepted(memory):
    spec = parse_pipeline_request(serverless(serverless={**SERVERLESS, "memory_size_in_mb": memory}), mode="single")
    assert isinstance(spec, RealtimeBuiltinSpec)
    assert spec.serverless is not None and spec.serverless.memory_size_in_mb == memory
    assert spec.inference_instance is None and spec.data_capture_location is None


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("memory_size_in_mb", 1536, "multiple of 1024"),
        ("memory_size_in_mb", 0, "greater than or equal to 1024"),
        ("memory_size_in_mb", 7168, "less than or equal to 6144"),
        ("max_concurrency", 0, "greater than or equal to 1"),
        ("max_concurrency", 201, "less than or equal to 200"),
        ("provisioned_concurrency", 201, "less than or equal to 200"),
    ],
)
def test_serverless_values_outside_sagemakers_limits_are_refused(option, value, expected):
    field, text = problem(serverless(serverless={**SERVERLESS, option: value}))
    assert field == f"serverless.{option}"
    assert expected in text


def test_provisioned_concurrency_above_the_maximum_is_refused():
    body = serverless(serverless={**SERVERLESS, "max_concurrency": 4, "provisioned_concurrency": 5})
    assert problem(body) == ("serverless.provisioned_concurrency", "must be at most max_concurrency; lower it")


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("max_concurrent_invocations_per_instance", 0),
        ("max_concurrent_invocations_per_instance", 1001),
        ("success_topic", "arn:aws:sqs:us-east-1:111111111111:done"),
        ("error_topic", "done"),
        ("output_path", ""),
    ],
)
def test_async_values_sagemaker_refuses_are_refused(option, value):
    field, _ = problem(on_instances(async_inference={**ASYNC, option: value}))
    assert field == f"async_inference.{option}"


def test_async_with_every_option_is_accepted():
    options = {
        **ASYNC,
        "failure_path": "bucket/async/failed",
        "success_topic": TOPIC,
        "error_topic": TOPIC,
        "max_concurrent_invocations_per_instance": 1000,
    }
    spec = parse_pipeline_request(on_instances(async_inference=options), mode="single")
    assert isinstance(spec, RealtimeCustomSpec) and spec.async_inference is not None
    assert spec.async_inference.max_concurrent_invocations_per_instance == 1000
    assert spec.async_inference.output_path == "bucket/async/out"


# -- what serverless excludes ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "field", "fix"),
    [
        ({"inference_instance": "ml.m5.large"}, "inference_instance", "serverless.memory_size_in_mb"),
        ({"instance_count": 2}, "instance_count", "serverless.max_concurrency"),
        ({"autoscaling": {"max_capacity": 2}}, "autoscaling", "remove it"),
        ({"data_capture_location": "bucket/capture"}, "data_capture_location", "no monitor"),
        ({"data_capture_percentage": 10}, "data_capture_percentage", "captures no data"),
        (
            {"subnet_ids": ["subnet-0123456789abcdef0"], "security_group_ids": ["sg-0123456789abcdef0"]},
            "subnet_ids",
            "cannot run in a VPC",
        ),
        ({"async_inference": ASYNC}, "async_inference", "choose one"),
        ({"deployment": {"type": "linear"}}, "deployment.type", "must be all_at_once"),
    ],
)
def test_serverless_refuses_what_sagemaker_refuses_naming_the_field_and_the_fix(changes, field, fix):
    got_field, text = problem(serverless(**changes))
    assert got_field == field
    assert fix in text


def test_an_endpoint_on_instances_still_needs_its_instance_type_and_capture_location():
    assert problem(on_instances(inference_instance=None)) == ("inference_instance", "is required")
    assert problem(on_instances(data_capture_location=None)) == ("data_capture_location", "is required")


def test_async_endpoints_may_take_canary_rollouts_and_data_capture():
    """SageMaker's deployment guardrails exclude marketplace containers and Inf1, not async endpoints;
    Model Monitor reads an async endpoint's captured data."""
    body = on_instances(instance_count=2, deployment={"type": "canary"}, async_inference=ASYNC)
    spec = parse_pipeline_request(body, mode="single")
    assert isinstance(spec, RealtimeCustomSpec) and spec.deployment.type == "canary"
    assert spec.data_capture_location is not None


# -- scaling to zero -----------------------------------------------------------------------------------
def test_only_async_endpoints_scale_down_to_zero():
    scaled = {"min_capacity": 0, "max_capacity": 3}
    assert problem(on_instances(autoscaling=scaled)) == (
        "autoscaling.min_capacity",
        "may be 0 only on an async_inference endpoint; give at least 1",
    )
    spec = parse_pipeline_request(on_instances(autoscaling=scaled, async_inference=ASYNC), mode="single")
    assert isinstance(spec, RealtimeCustomSpec) and spec.autoscaling is not None
    assert spec.autoscaling.min_capacity == 0


# -- per environment ---------------------------------------------------------------------------------
def test_per_environment_values_resolve_inside_the_options():
    spec = parse_pipeline_request(load_example("byom_realtime_serverless", "multi"), mode="multi")
    prod = spec.for_env("prod")
    assert isinstance(prod, RealtimeBuiltinSpec) and prod.serverless is not None
    assert (prod.serverless.memory_size_in_mb, prod.serverless.max_concurrency) == (2048, 50)
    assert prod.serverless.provisioned_concurrency == 5


def test_provisioned_concurrency_is_checked_in_each_environment():
    body = load_example("byom_realtime_serverless", "multi")
    options = {**body["serverless"], "provisioned_concurrency": {"dev": 1, "staging": 11, "prod": 5}}
    assert problem({**body, "serverless": options}, mode="multi") == (
        "serverless.provisioned_concurrency",
        "staging: must be at most max_concurrency; lower it",
    )


def test_per_environment_option_values_need_multi_account_mode():
    field, text = problem(
        on_instances(async_inference={"output_path": {"dev": "a/b", "staging": "c/d", "prod": "e/f"}})
    )
    assert field == "async_inference.output_path"
    assert "only allowed in multi-account mode" in text


# -- the published contract -------------------------------------------------------------------------
REALTIME_RULES = json_schema()["$defs"]["RealtimeBuiltinSpec"]["x-rules"]


def published_rule_for(field: str, text: str) -> bool:
    """As the contract test judges a refusal the schema let through: one of the document's x-rules."""
    return any(r["field"] in field.split(".") and text.startswith(r["problem"]) for r in REALTIME_RULES)


@pytest.mark.parametrize(
    "body",
    [
        serverless(inference_instance="ml.m5.large"),
        serverless(instance_count=2),
        serverless(data_capture_percentage=5),
        serverless(subnet_ids=["subnet-0123456789abcdef0"], security_group_ids=["sg-0123456789abcdef0"]),
        serverless(async_inference=ASYNC),
        serverless(deployment={"type": "linear"}, instance_count=None),
        serverless(serverless=None),
        on_instances(data_capture_location=None),
    ],
)
def test_each_refusal_of_the_endpoints_kind_is_a_published_rule(body):
    """Published as x-rules, not JSON Schema branches (see endpoint_kind_rules): the schema lets these
    through, and the API's refusal is one of the document's rules, as the contract test requires."""
    field, text = problem(body)
    assert published_rule_for(field, text), (field, text)


@pytest.mark.parametrize(
    ("body", "accepted"),
    [
        (serverless(), True),
        (on_instances(async_inference=ASYNC, autoscaling={"min_capacity": 0}), True),
        (serverless(serverless={**SERVERLESS, "memory_size_in_mb": 1536}), False),
        (serverless(serverless={**SERVERLESS, "max_concurrency": 201}), False),
        (on_instances(async_inference={**ASYNC, "error_topic": "done"}), False),
        (on_instances(async_inference={**ASYNC, "max_concurrent_invocations_per_instance": 0}), False),
    ],
)
def test_the_published_schema_states_sagemakers_limits(body, accepted):
    assert VALIDATOR.is_valid(body) is accepted
    try:
        parse_pipeline_request(body, mode="single")
        assert accepted
    except SpecError:
        assert not accepted


def test_scaling_to_zero_off_async_is_a_published_rule_the_schema_cannot_state():
    autoscaling = json_schema()["$defs"]["Autoscaling"]
    assert {"field": "min_capacity", "problem": "may be 0 only on an async_inference endpoint"} in autoscaling[
        "x-rules"
    ]
    body = on_instances(autoscaling={"min_capacity": 0})
    field, text = problem(body)
    assert (field, VALIDATOR.is_valid(body)) == ("autoscaling.min_capacity", True)
    assert text.startswith("may be 0 only on an async_inference endpoint")


def test_a_serverless_request_as_stored_validates_again():
    """The API stores the validated request with its defaults spelled out (instance_count 1, capture 100%)."""
    spec = parse_pipeline_request(serverless(), mode="single")
    stored = spec.model_dump(mode="json", exclude_none=True)
    assert stored["instance_count"] == 1 and stored["data_capture_percentage"] == 100
    assert parse_pipeline_request(stored, mode="single") == spec
