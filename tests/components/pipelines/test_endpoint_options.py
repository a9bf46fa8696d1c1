"""Serverless and asynchronous endpoints: the endpoint config's inputs, the backlog scaling and the role,
as plain functions and (once each) under the mock engine."""

from __future__ import annotations

from typing import Any

import pytest

from components.pipelines import endpoint_options as options
from components.pipelines.realtime import endpoint_config_args, endpoint_writes
from components.pipelines.served_model import ModelSource, RoleScope, execution_statements
from mlops_cli.mocks import PlanRecorder, policy_of
from mlops_spec.pipelines.realtime import Autoscaling, RealtimeFields
from mlops_spec.request import parse_pipeline_request
from tests.components.pipelines.test_realtime import (
    ALARM,
    CONFIG,
    MODEL,
    ROLE_POLICY,
    SCALING_POLICY,
    SCALING_TARGET,
    builtin_request,
    context,
    custom_request,
    deploy,
)
from tests.components.support import ENV_KEY, only

SERVERLESS = {"memory_size_in_mb": 3072, "max_concurrency": 20, "provisioned_concurrency": 2}
TOPIC = "arn:aws:sns:us-east-1:111111111111:scored"
FAILED_TOPIC = "arn:aws:sns:us-east-1:111111111111:failed"
ASYNC = {
    "output_path": "results-bucket/async/out",
    "failure_path": "results-bucket/async/failed",
    "success_topic": TOPIC,
    "error_topic": FAILED_TOPIC,
    "max_concurrent_invocations_per_instance": 8,
}
ENDPOINT_NAME = "churn-xgb-realtime-custom-dev-endpoint"


def serverless_request(**overrides: Any) -> dict[str, Any]:
    body = builtin_request(serverless=SERVERLESS, **overrides)
    del body["inference_instance"], body["data_capture_location"]
    return body


def spec_of(body: dict[str, Any]) -> RealtimeFields:
    spec = parse_pipeline_request(body, mode="single")
    assert isinstance(spec, RealtimeFields)
    return spec


# -- plain functions -----------------------------------------------------------------------------------
@pytest.mark.fast
def test_serverless_variant_has_memory_and_concurrency_and_no_instances() -> None:
    args = endpoint_config_args(spec_of(serverless_request()), "model", "key")
    assert args["production_variants"] == [
        {
            "variant_name": "AllTraffic",
            "model_name": "model",
            "initial_variant_weight": 1,
            "serverless_config": {"memory_size_in_mb": 3072, "max_concurrency": 20, "provisioned_concurrency": 2},
        }
    ]
    # No instance: no storage volume to encrypt, and SageMaker captures no data of serverless endpoints.
    assert "kms_key_arn" not in args and "data_capture_config" not in args
    assert "async_inference_config" not in args


@pytest.mark.fast
def test_async_config_writes_encrypted_responses_and_announces_them() -> None:
    args = endpoint_config_args(spec_of(custom_request(async_inference=ASYNC)), "model", "key")
    assert args["async_inference_config"] == {
        "output_config": {
            "s3_output_path": "s3://results-bucket/async/out",
            "s3_failure_path": "s3://results-bucket/async/failed",
            "kms_key_id": "key",
            "notification_config": {"success_topic": TOPIC, "error_topic": FAILED_TOPIC},
        },
        "client_config": {"max_concurrent_invocations_per_instance": 8},
    }
    # Still on instances, with data capture.
    assert args["production_variants"][0]["instance_type"] == "ml.m5.large"
    assert args["data_capture_config"]["destination_s3_uri"] == "s3://capture-bucket/churn"


@pytest.mark.fast
def test_async_config_leaves_out_what_the_request_does_not_give() -> None:
    config = options.async_inference_config(
        spec_of(custom_request(async_inference={"output_path": "bkt/out"})).async_inference, "k"
    )  # type: ignore[arg-type]
    assert config == {"output_config": {"s3_output_path": "s3://bkt/out", "kms_key_id": "k"}}


@pytest.mark.fast
def test_sagemaker_writes_capture_and_async_results_and_publishes_to_the_topics() -> None:
    spec = spec_of(custom_request(async_inference=ASYNC))
    assert endpoint_writes(spec) == ["capture-bucket/churn", "results-bucket/async/out", "results-bucket/async/failed"]
    assert options.async_topics(spec.async_inference) == [FAILED_TOPIC, TOPIC]
    assert endpoint_writes(spec_of(serverless_request())) == []


@pytest.mark.fast
def test_execution_role_may_publish_to_the_requests_topics_only() -> None:
    scope = RoleScope(assets_bucket="assets", kms_key_arns=(ENV_KEY,), publishes=(FAILED_TOPIC, TOPIC))
    statements = execution_statements(context(), ModelSource(image_uri=None, model_package_arn="arn:pkg"), scope)
    publish = [s for s in statements if "sns:Publish" in s["Action"]]
    assert publish == [{"Effect": "Allow", "Action": ["sns:Publish"], "Resource": [FAILED_TOPIC, TOPIC]}]
    unpublished = RoleScope(assets_bucket="assets", kms_key_arns=(ENV_KEY,))
    no_topics = execution_statements(context(), ModelSource(model_package_arn="arn:pkg"), unpublished)
    assert not any("sns:Publish" in s["Action"] for s in no_topics)


@pytest.mark.fast
def test_async_scaling_tracks_the_backlog_per_instance_of_the_endpoint() -> None:
    tracking = options.backlog_tracking(Autoscaling(min_capacity=0, target_backlog_per_instance=7), "ep")
    assert tracking["target_value"] == 7
    assert tracking["customized_metric_specification"] == {
        "metric_name": "ApproximateBacklogSizePerInstance",
        "namespace": "AWS/SageMaker",
        "dimensions": [{"name": "EndpointName", "value": "ep"}],
        "statistic": "Average",
    }
    assert "predefined_metric_specification" not in tracking


# -- under the mock engine -------------------------------------------------------------------------------
def test_serverless_endpoint_plan(pulumi_mocks: PlanRecorder) -> None:
    deploy(serverless_request())
    [variant] = only(pulumi_mocks, CONFIG).inputs["productionVariants"]
    assert variant["serverlessConfig"] == {"memorySizeInMb": 3072, "maxConcurrency": 20, "provisionedConcurrency": 2}
    assert "instanceType" not in variant and "initialInstanceCount" not in variant
    config = only(pulumi_mocks, CONFIG).inputs
    assert "dataCaptureConfig" not in config and "kmsKeyArn" not in config
    assert pulumi_mocks.of_type(SCALING_TARGET) == [] and pulumi_mocks.of_type(SCALING_POLICY) == []


def test_serverless_first_party_algorithm_runs_without_network_isolation(pulumi_mocks: PlanRecorder) -> None:
    """SageMaker refuses network isolation on serverless endpoints; on instances, linear-learner is isolated."""
    deploy(serverless_request(model_framework="linear-learner", model_framework_version="1"))
    assert only(pulumi_mocks, MODEL).inputs["enableNetworkIsolation"] is False


def test_async_endpoint_plan_scales_on_the_backlog_from_zero(pulumi_mocks: PlanRecorder) -> None:
    autoscaling = {"min_capacity": 0, "max_capacity": 3, "target_backlog_per_instance": 4}
    deploy(custom_request(async_inference=ASYNC, autoscaling=autoscaling))
    output = only(pulumi_mocks, CONFIG).inputs["asyncInferenceConfig"]["outputConfig"]
    assert output["s3OutputPath"] == "s3://results-bucket/async/out"
    assert output["kmsKeyId"] == ENV_KEY
    target = only(pulumi_mocks, SCALING_TARGET).inputs
    assert (target["minCapacity"], target["maxCapacity"]) == (0, 3)
    policies = {p.inputs["policyType"]: p.inputs for p in pulumi_mocks.of_type(SCALING_POLICY)}
    tracking = policies["TargetTrackingScaling"]["targetTrackingScalingPolicyConfiguration"]
    assert tracking["customizedMetricSpecification"]["metricName"] == "ApproximateBacklogSizePerInstance"
    assert tracking["targetValue"] == 4
    step = policies["StepScaling"]["stepScalingPolicyConfiguration"]
    assert step["stepAdjustments"] == [{"metricIntervalLowerBound": "0", "scalingAdjustment": 1}]
    alarm = pulumi_mocks.named(ALARM, "churn-xgb-realtime-custom-backlog-without-capacity").inputs
    assert alarm["metricName"] == "HasBacklogWithoutCapacity"
    assert alarm["dimensions"] == {"EndpointName": ENDPOINT_NAME}
    assert alarm["name"] == f"{ENDPOINT_NAME}-backlog-without-capacity"
    assert alarm["alarmActions"] == [
        "arn:aws:appautoscaling:us-east-1:111111111111:policy/churn-xgb-realtime-custom-scale-from-zero-0000000"
    ]
    policy = policy_of(pulumi_mocks.named(ROLE_POLICY, "churn-xgb-realtime-custom-sagemaker-policy"))
    put = [r for s in policy["Statement"] if "s3:PutObject" in s["Action"] for r in s["Resource"]]
    assert put == [
        "arn:aws:s3:::capture-bucket/churn*",
        "arn:aws:s3:::results-bucket/async/out*",
        "arn:aws:s3:::results-bucket/async/failed*",
    ]
    assert [s["Resource"] for s in policy["Statement"] if s["Action"] == ["sns:Publish"]] == [[FAILED_TOPIC, TOPIC]]


def test_async_endpoint_kept_above_zero_has_no_scale_from_zero_step(pulumi_mocks: PlanRecorder) -> None:
    deploy(custom_request(async_inference={"output_path": "bkt/out"}, autoscaling={"min_capacity": 1}))
    [policy] = pulumi_mocks.of_type(SCALING_POLICY)
    assert policy.inputs["policyType"] == "TargetTrackingScaling"
    assert [a.name for a in pulumi_mocks.of_type(ALARM)] == [
        "churn-xgb-realtime-custom-5xx",
        "churn-xgb-realtime-custom-latency",
    ]
