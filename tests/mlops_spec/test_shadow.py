"""Shadow tests of real-time endpoints: what SageMaker accepts of a shadow variant, each refusal with its
message, the per-environment values, and what promoting a shadow makes of the request."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from mlops_spec.capacity import instance_needs, total_by_quota
from mlops_spec.errors import SpecError
from mlops_spec.openapi import json_schema
from mlops_spec.pipelines.realtime import RealtimeBuiltinSpec
from mlops_spec.pipelines.shadow_variants import promoted_request
from mlops_spec.request import parse_pipeline_request
from tests.support.examples import EXAMPLES, load_example

pytestmark = pytest.mark.fast

PACKAGE = "arn:aws:sagemaker:us-east-1:111111111111:model-package/churn-xgb/7"
VALIDATOR = jsonschema.Draft202012Validator(json_schema())


def _x_rules(node: Any) -> list[dict[str, str]]:
    if isinstance(node, dict):
        return list(node.get("x-rules", [])) + [rule for value in node.values() for rule in _x_rules(value)]
    return [rule for value in node for rule in _x_rules(value)] if isinstance(node, list) else []


X_RULES = _x_rules(json_schema())
SHADOW = {"model_artifact_location": "models/churn-xgb-v2/model.tar.gz", "instance_type": "ml.m5.large"}


def shadowed(shadow: Any = None, deployment_type: str = "shadow", **changes: Any) -> dict[str, Any]:
    """The single-account shadow example with another shadow, deployment type or fields (None removes one)."""
    body = {**load_example("byom_realtime_shadow"), **changes}
    deployment: dict[str, Any] = {"type": deployment_type}
    if shadow is not None:
        deployment["shadow"] = shadow
    body["deployment"] = deployment
    return {key: value for key, value in body.items() if value is not None}


def problem(body: dict[str, Any], **options: Any) -> tuple[str, str]:
    with pytest.raises(SpecError) as caught:
        parse_pipeline_request(body, mode=options.pop("mode", "single"), **options)
    [error] = caught.value.errors
    return error.field, error.problem


def test_the_example_tests_another_artifact_on_its_own_instances_with_half_the_traffic():
    spec = parse_pipeline_request(load_example("byom_realtime_shadow"), mode="single")
    assert isinstance(spec, RealtimeBuiltinSpec)
    shadow = spec.deployment.shadow
    assert spec.deployment.type == "shadow" and shadow is not None
    assert (
        shadow.model_artifact_location,
        shadow.instance_type,
        shadow.instance_count,
        shadow.sampling_percentage,
    ) == (
        "models/churn-xgb-v2/model.tar.gz",
        "ml.m5.large",
        1,
        50,
    )


def test_the_multi_account_example_resolves_the_shadow_per_environment():
    body = json.loads((EXAMPLES / "multi" / "byom_realtime_shadow.json").read_text())
    spec = parse_pipeline_request(body, mode="multi")
    prod = spec.for_env("prod").deployment.shadow  # type: ignore[attr-defined]
    dev = spec.for_env("dev").deployment.shadow  # type: ignore[attr-defined]
    assert (prod.instance_type, prod.instance_count, prod.sampling_percentage) == ("ml.m5.xlarge", 2, 10)
    assert (dev.instance_type, dev.instance_count, dev.sampling_percentage) == ("ml.m5.large", 1, 100)


def test_a_shadow_with_one_instance_in_production_is_accepted():
    # A shadow test's updates go all at once: no second instance is needed to split traffic.
    spec = parse_pipeline_request(shadowed(SHADOW, instance_count=1), mode="single")
    assert spec.instance_count == 1  # type: ignore[attr-defined]


def test_a_model_package_version_can_be_the_shadow():
    spec = parse_pipeline_request(
        shadowed({"model_package_name": PACKAGE, "instance_type": "ml.c5.xlarge"}), mode="single"
    )
    assert spec.deployment.shadow.model_package_name == PACKAGE  # type: ignore[attr-defined]
    assert spec.deployment.shadow.sampling_percentage == 100  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (shadowed(None), ("deployment.shadow", "is required with deployment type shadow")),
        (
            shadowed(SHADOW, deployment_type="canary", instance_count=2),
            ("deployment.shadow", "is only allowed with deployment type shadow; set deployment.type to shadow"),
        ),
        (
            shadowed([SHADOW, SHADOW]),
            ("deployment.shadow", "must be one object: SageMaker allows exactly one shadow variant per endpoint"),
        ),
        (
            shadowed({"instance_type": "ml.m5.large"}),
            (
                "deployment.shadow.model_package_name",
                "give exactly one of model_package_name and model_artifact_location",
            ),
        ),
        (
            shadowed({**SHADOW, "model_package_name": PACKAGE}),
            (
                "deployment.shadow.model_artifact_location",
                "give exactly one of model_package_name and model_artifact_location",
            ),
        ),
        (
            shadowed({**SHADOW, "model_artifact_location": "models/churn-xgb/model.tar.gz"}),
            ("deployment.shadow", "serves the production model itself; name the model version to test"),
        ),
        (
            shadowed(SHADOW, async_inference={"output_path": "bucket/async/out"}),
            (
                "deployment.shadow",
                "is not allowed with async_inference: shadow variants test real-time requests",
            ),
        ),
    ],
)
def test_a_shadow_sagemaker_refuses_is_refused_with_its_reason(body, expected):
    assert problem(body) == expected
    if VALIDATOR.is_valid(body):
        # What the published schema cannot state, it announces as an x-rule naming the field and problem.
        field, text = expected
        assert any(rule["field"] in field.split(".") and rule["problem"] in text for rule in X_RULES), expected


def test_a_serverless_endpoint_cannot_have_a_shadow():
    body = {**load_example("byom_realtime_serverless"), "deployment": {"type": "shadow", "shadow": SHADOW}}
    assert problem(body) == (
        "deployment.shadow",
        "is not allowed with serverless: SageMaker's shadow variants run on instances",
    )


@pytest.mark.parametrize(("value", "expected"), [(0, "greater than or equal to 1"), (101, "less than or equal to 100")])
def test_sampling_outside_one_to_a_hundred_percent_is_refused(value, expected):
    field, text = problem(shadowed({**SHADOW, "sampling_percentage": value}))
    assert field == "deployment.shadow.sampling_percentage"
    assert expected in text


def test_the_shadow_runs_on_a_hosting_instance_type():
    field, text = problem(shadowed({**SHADOW, "instance_type": "ml.t3.medium"}))
    assert field == "deployment.shadow.instance_type"
    assert text.startswith("must be a SageMaker instance type for endpoints")


def test_a_shadow_artifact_needs_the_requests_image():
    body = {**load_example("byom_realtime_deploy_on_approval"), "deployment": {"type": "shadow", "shadow": SHADOW}}
    del body["deploy_on_approval"], body["rollback_on_reject"]
    assert problem(body) == (
        "deployment.shadow.model_artifact_location",
        "runs in the request's image: give model_framework and model_framework_version, or test a model_package_name",
    )


def test_a_pipeline_following_the_registry_runs_no_shadow_test():
    body = {
        **load_example("byom_realtime_deploy_on_approval"),
        "deployment": {"type": "shadow", "shadow": {"model_package_name": PACKAGE, "instance_type": "ml.m5.large"}},
    }
    assert problem(body) == (
        "deployment.shadow",
        "is not allowed with deploy_on_approval: promote the shadow with mlops promote, or follow the registry "
        "without a shadow test",
    )


def test_with_the_model_registry_the_shadow_is_a_model_package():
    body = shadowed(SHADOW, model_package_name=PACKAGE)
    assert problem(body, use_model_registry=True) == (
        "deployment.shadow.model_package_name",
        "is required when the model registry is enabled",
    )


def test_per_environment_shadow_values_need_multi_account_mode():
    field, text = problem(shadowed({**SHADOW, "sampling_percentage": {"dev": 1, "staging": 2, "prod": 3}}))
    assert field == "deployment.shadow.sampling_percentage"
    assert text.startswith("per-environment values {dev, staging, prod} are only allowed in multi-account mode")


def test_the_published_schema_accepts_the_examples_and_refuses_a_bad_sampling():
    for folder in ("", "multi"):
        VALIDATOR.validate(json.loads((EXAMPLES / folder / "byom_realtime_shadow.json").read_text()))
    bad = shadowed({**SHADOW, "sampling_percentage": 0})
    assert not VALIDATOR.is_valid(bad)


# -- promotion ---------------------------------------------------------------------------------------
def test_promoting_makes_the_shadow_the_production_model_and_removes_it():
    stored = parse_pipeline_request(load_example("byom_realtime_shadow"), mode="single").model_dump(mode="json")
    promoted = promoted_request(stored)
    assert promoted is not None
    spec = parse_pipeline_request(promoted, mode="single")
    assert spec.model_artifact_location == "models/churn-xgb-v2/model.tar.gz"  # type: ignore[attr-defined]
    assert (spec.inference_instance, spec.instance_count) == ("ml.m5.large", 1)  # type: ignore[attr-defined]
    assert spec.deployment.type == "all_at_once" and spec.deployment.shadow is None  # type: ignore[attr-defined]
    # The rest of the request is kept.
    assert spec.model_framework == "xgboost" and spec.tags == {"team": "customer-retention"}  # type: ignore[attr-defined]


def test_promoting_a_package_shadow_serves_that_package_per_environment():
    body = json.loads((EXAMPLES / "multi" / "byom_realtime_shadow.json").read_text())
    body["deployment"]["shadow"] = {**body["deployment"]["shadow"], "model_artifact_location": None}
    body["deployment"]["shadow"]["model_package_name"] = PACKAGE
    stored = parse_pipeline_request(body, mode="multi").model_dump(mode="json")
    spec = parse_pipeline_request(promoted_request(stored), mode="multi")
    assert spec.model_package_name == PACKAGE and spec.model_artifact_location is None  # type: ignore[attr-defined]
    assert spec.inference_instance == {"dev": "ml.m5.large", "staging": "ml.m5.large", "prod": "ml.m5.xlarge"}  # type: ignore[attr-defined]
    assert spec.instance_count == {"dev": 1, "staging": 1, "prod": 2}  # type: ignore[attr-defined]


def test_a_request_without_shadow_has_nothing_to_promote():
    assert promoted_request(load_example("byom_realtime_builtin")) is None


# -- quota preflight ----------------------------------------------------------------------------------
def test_the_shadow_instances_count_against_the_endpoint_quota():
    body = json.loads((EXAMPLES / "multi" / "byom_realtime_shadow.json").read_text())
    spec = parse_pipeline_request(body, mode="multi")
    needs = [(need.instance_type, need.count) for need in instance_needs(spec, "prod")]
    assert needs == [("ml.m5.xlarge", 2), ("ml.m5.xlarge", 2)]
    assert total_by_quota(instance_needs(spec, "prod", updating=True)) == {"ml.m5.xlarge for endpoint usage": 8}
