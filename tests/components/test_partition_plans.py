"""GovCloud and China stacks plan with their own partition's ARNs and DNS names (issue 13, point 7):
the orchestrator, the environment baseline, the delivery stack and the pipelines of this change's
components, with no `arn:aws:` left that AWS would reject there."""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import pytest

from components.lambda_package import powertools_layer_arn
from mlops_cli.planner import StackPlan, plan_delivery, plan_stack
from tests.support.urn_snapshot import example_requests

MULTI: dict[str, Any] = {
    "mlops:mode": "multi",
    "mlops:accounts": {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"},
    "mlops:notificationEmail": "team@example.com",
    "mlops:provisionerImageTag": "0.1.0",
}


def own_components_requests() -> list[dict[str, Any]]:
    """Autopilot and image builder requests, without the example's own us-east-1 key ARN."""
    requests = example_requests("multi")
    autopilot = {k: v for k, v in requests["model_autopilot_training"].items() if k != "kms_key_arn"}
    return [autopilot, requests["byom_image_builder"]]


@functools.cache
def plans(region: str) -> tuple[StackPlan, ...]:
    config = {**MULTI, "aws:region": region}
    return (
        plan_stack("dev", config_values=config, extra_pipelines=own_components_requests()),
        plan_stack("prod", config_values={**config, "mlops:environment": "prod"}),
        plan_delivery("dev", example_requests("multi")["byom_image_builder"], config),
    )


def planned_text(region: str) -> str:
    """Every input and output of the region's plans, as one text."""
    documents = [[r.inputs for r in plan.recorder.resources] + [plan.outputs] for plan in plans(region)]
    return json.dumps(documents, default=str)


@pytest.mark.parametrize(("region", "partition"), [("us-gov-west-1", "aws-us-gov"), ("cn-north-1", "aws-cn")])
def test_every_arn_of_a_govcloud_or_china_plan_is_of_its_partition(region: str, partition: str) -> None:
    text = planned_text(region)
    assert re.findall(r".{80}arn:aws:.{40}", text) == []
    assert text.count(f"arn:{partition}:") > 100
    # Trust of the deploy role and the KMS key policies name the orchestrator account in the partition.
    assert f"arn:{partition}:iam::111111111111:root" in text


def test_china_plans_name_regional_services_and_registries_under_amazonaws_com_cn() -> None:
    text = planned_text("cn-north-1")
    assert re.findall(r"cn-north-1\.amazonaws\.com(?!\.cn)", text) == []
    assert "logs.cn-north-1.amazonaws.com.cn" in text
    assert "s3.cn-north-1.amazonaws.com.cn" in text
    assert "111111111111.dkr.ecr.cn-north-1.amazonaws.com.cn/mlops-provisioner:0.1.0" in text


@pytest.mark.parametrize(
    ("region", "layer"),
    [
        ("us-east-1", "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python311-arm64:18"),
        (
            "us-gov-west-1",
            "arn:aws-us-gov:lambda:us-gov-west-1:165093116878:layer:AWSLambdaPowertoolsPythonV3-python311-arm64:18",
        ),
        (
            "cn-north-1",
            "arn:aws-cn:lambda:cn-north-1:498634801083:layer:AWSLambdaPowertoolsPythonV3-python311-arm64:18",
        ),
    ],
)
@pytest.mark.fast
def test_the_functions_use_the_powertools_layer_published_in_their_region(region: str, layer: str) -> None:
    assert powertools_layer_arn(region) == layer


@pytest.mark.fast
def test_no_layer_is_invented_for_a_region_powertools_does_not_publish_in() -> None:
    with pytest.raises(ValueError, match="cn-northwest-1 has no Powertools for AWS Lambda layer"):
        powertools_layer_arn("cn-northwest-1")


def test_the_govcloud_functions_run_with_the_govcloud_layer() -> None:
    functions = [r for r in plans("us-gov-west-1")[0].recorder.resources if r.type == "aws:lambda/function:Function"]
    layered = [r.inputs["layers"] for r in functions if "layers" in r.inputs]
    assert layered and all(layers == [powertools_layer_arn("us-gov-west-1")] for layers in layered)


def example_pipelines(*names: str) -> list[dict[str, Any]]:
    requests = example_requests("single")
    return [{k: v for k, v in requests[name].items() if k != "kms_key_arn"} for name in names]


SERVED = ("byom_realtime_builtin", "byom_batch_builtin", "model_training_builtin")


@pytest.mark.parametrize(
    ("region", "partition", "monitors"),
    [
        # The SDK's image table has no model-monitor analyzer in GovCloud: only Clarify monitors plan there.
        ("us-gov-west-1", "aws-us-gov", ("byom_model_bias_monitor",)),
        ("cn-north-1", "aws-cn", ("byom_data_quality_monitor", "byom_model_bias_monitor")),
    ],
)
def test_pipelines_of_a_govcloud_or_china_stack_use_its_partition_and_registries(
    region: str, partition: str, monitors: tuple[str, ...]
) -> None:
    """Served models and training pull built-in images from the region's registry (in GovCloud an
    `amazonaws.com` host, in the aws-us-gov partition); monitors run their processing jobs through the
    partition's Step Functions integration; every S3 statement names the partition."""
    # A single-account stack plans its declared pipelines' resources itself.
    config = {"aws:region": region, "mlops:mode": "single", "mlops:accounts": {"dev": "111111111111"}}
    plan = plan_stack("dev", config_values=config, extra_pipelines=example_pipelines(*SERVED, *monitors))
    text = json.dumps([r.inputs for r in plan.recorder.resources], default=str)

    assert len(plan.request_pipelines) == len(SERVED) + len(monitors)
    assert re.findall(r".{80}arn:aws:.{40}", text) == []
    assert re.search(rf"arn:{partition}:ecr:{region}:\d{{12}}:repository/sagemaker-xgboost", text)
    assert f"arn:{partition}:states:::sagemaker:createProcessingJob.sync" in text
    host = f"dkr.ecr.{region}.amazonaws.com{'.cn' if partition == 'aws-cn' else ''}"
    assert f"{host}/sagemaker-clarify-processing" in text
