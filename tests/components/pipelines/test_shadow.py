"""Shadow-tested real-time endpoints: the shadow's variant, model and role, and requests without a shadow
left exactly as they were."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.pipelines.realtime import RealtimeEndpoint, traffic_routing
from components.pipelines.shadow import sampling_weight, shadow_variant, takes_volume_key
from mlops_cli.mocks import PlanRecorder, policy_of
from mlops_spec.pipelines.realtime import DeploymentStrategy, RealtimeFields
from mlops_spec.request import parse_pipeline_request
from tests.components.support import build, make_context
from tests.support.examples import EXAMPLES, load_example

MODEL = "aws:sagemaker/model:Model"
CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
PIPELINE = "churn-xgb-shadow-realtime-builtin"


def spec_of(body: dict[str, Any], env: str = "dev", mode: str = "single") -> RealtimeFields:
    spec = parse_pipeline_request(body, mode=mode)  # type: ignore[arg-type]
    assert isinstance(spec, RealtimeFields)
    return spec.for_env(env)


# -- decisions -------------------------------------------------------------------------------------
@pytest.mark.fast
@pytest.mark.parametrize(("percentage", "weight"), [(100, 1.0), (50, 0.5), (1, 0.01)])
def test_the_shadow_weight_is_its_sampling_share_of_the_production_weight(percentage, weight):
    assert sampling_weight(percentage) == weight


@pytest.mark.fast
def test_the_shadow_variant_runs_its_model_on_its_own_instances():
    body = json.loads((EXAMPLES / "multi" / "byom_realtime_shadow.json").read_text())
    shadow = spec_of(body, "prod", "multi").deployment.shadow
    assert shadow is not None
    assert shadow_variant("shadow-model", shadow) == {
        "variant_name": "Shadow",
        "model_name": "shadow-model",
        "instance_type": "ml.m5.xlarge",
        "initial_instance_count": 2,
        "initial_variant_weight": 0.1,
    }


@pytest.mark.fast
def test_a_shadow_on_instance_storage_leaves_the_endpoint_without_a_volume_key():
    body = load_example("byom_realtime_shadow")
    assert takes_volume_key(spec_of(body))
    body["deployment"]["shadow"]["instance_type"] = "ml.m5d.large"
    assert not takes_volume_key(spec_of(body))


@pytest.mark.fast
def test_a_shadow_tested_endpoint_is_updated_all_at_once():
    assert traffic_routing(DeploymentStrategy(type="all_at_once", wait_interval_seconds=120)) == traffic_routing(
        DeploymentStrategy.model_validate(
            {
                "type": "shadow",
                "wait_interval_seconds": 120,
                "shadow": {"model_artifact_location": "m/v2.tar.gz", "instance_type": "ml.m5.large"},
            }
        )
    )


# -- under the mock engine -------------------------------------------------------------------------
def test_the_endpoint_config_gets_the_shadow_variant_with_its_own_model(pulumi_mocks: PlanRecorder) -> None:
    outputs = build(spec_of(load_example("byom_realtime_shadow")), make_context(), expect=RealtimeEndpoint)
    production = pulumi_mocks.named(MODEL, f"{PIPELINE}-model")
    shadow = pulumi_mocks.named(MODEL, f"{PIPELINE}-shadow-model")
    assert shadow.inputs["primaryContainer"]["modelDataUrl"] == "s3://mlops-assets/models/churn-xgb-v2/model.tar.gz"
    assert shadow.inputs["primaryContainer"]["image"] == production.inputs["primaryContainer"]["image"]
    [config] = pulumi_mocks.of_type(CONFIG)
    [variant] = config.inputs["productionVariants"]
    [shadow_variant_input] = config.inputs["shadowProductionVariants"]
    assert (variant["variantName"], variant["initialVariantWeight"], variant["modelName"]) == (
        "AllTraffic",
        1,
        outputs["model_name"],
    )
    assert shadow_variant_input == {
        "variantName": "Shadow",
        "modelName": outputs["shadow_model_name"],
        "instanceType": "ml.m5.large",
        "initialInstanceCount": 1,
        "initialVariantWeight": 0.5,
    }


def test_the_shadow_model_has_a_role_that_reads_only_its_own_artifact(pulumi_mocks: PlanRecorder) -> None:
    build(spec_of(load_example("byom_realtime_shadow")), make_context(), expect=RealtimeEndpoint)
    role = pulumi_mocks.named(ROLE, f"{PIPELINE}-shadow-sagemaker")
    assert role.inputs["name"].endswith("shadow-sagemaker-role")
    policy = policy_of(pulumi_mocks.named(ROLE_POLICY, f"{PIPELINE}-shadow-sagemaker-policy"))
    reads = [
        resource
        for statement in policy["Statement"]
        if "s3:GetObject" in statement["Action"]
        for resource in statement["Resource"]
    ]
    assert "arn:aws:s3:::mlops-assets/models/churn-xgb-v2/model.tar.gz*" in reads
    assert not any("models/churn-xgb/model.tar.gz" in resource for resource in reads)


def test_a_request_without_shadow_gets_no_shadow_model_nor_variant(pulumi_mocks: PlanRecorder) -> None:
    outputs = build(spec_of(load_example("byom_realtime_builtin")), make_context(), expect=RealtimeEndpoint)
    assert len(pulumi_mocks.of_type(MODEL)) == 1
    [config] = pulumi_mocks.of_type(CONFIG)
    assert "shadowProductionVariants" not in config.inputs
    assert "shadow_model_name" not in outputs


def test_the_shadow_role_may_never_touch_the_production_capture(pulumi_mocks: PlanRecorder) -> None:
    """Review M5: the capture location holds production's traffic. The shadow's role writes nowhere and is
    denied the capture location outright, even where it lies in the assets bucket that a model package's
    role reads whole; the production role still writes its captured data as before."""
    body = load_example("byom_realtime_shadow")
    body["data_capture_location"] = "mlops-assets/datacapture/churn-xgb-shadow"
    body["deployment"]["shadow"] = {
        "model_package_name": "arn:aws:sagemaker:us-east-1:111111111111:model-package/churn-xgb/7",
        "instance_type": "ml.m5.large",
    }
    build(spec_of(body), make_context(), expect=RealtimeEndpoint)
    capture = "arn:aws:s3:::mlops-assets/datacapture/churn-xgb-shadow*"

    shadow = policy_of(pulumi_mocks.named(ROLE_POLICY, f"{PIPELINE}-shadow-sagemaker-policy"))["Statement"]
    allowed = [action for statement in shadow if statement["Effect"] == "Allow" for action in statement["Action"]]
    assert "s3:GetObject" in allowed  # the package's artifacts, somewhere in the assets bucket
    assert not {"s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"} & set(allowed)
    [denied] = [statement for statement in shadow if statement["Effect"] == "Deny"]
    assert denied["Resource"] == [capture]
    assert denied["Action"] == ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"]

    production = policy_of(pulumi_mocks.named(ROLE_POLICY, f"{PIPELINE}-sagemaker-policy"))["Statement"]
    assert all(statement["Effect"] == "Allow" for statement in production)
    assert any("s3:PutObject" in statement["Action"] and capture in statement["Resource"] for statement in production)
