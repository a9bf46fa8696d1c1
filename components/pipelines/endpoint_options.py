"""Serverless and asynchronous endpoints: their production variant, async config, and backlog scaling.

Plain functions from the resolved request (one environment) to pulumi-aws inputs, so each decision is
testable without the engine; components.pipelines.realtime creates the resources.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from components.pipelines.served_model import resolved, s3_uri
from mlops_spec.pipelines.endpoint_options import AsyncInference, Serverless
from mlops_spec.pipelines.realtime import Autoscaling

# CloudWatch's per-endpoint metrics of Asynchronous Inference (namespace AWS/SageMaker, dimension EndpointName).
BACKLOG_PER_INSTANCE = "ApproximateBacklogSizePerInstance"
BACKLOG_WITHOUT_CAPACITY = "HasBacklogWithoutCapacity"
# The suffix of the alarm that brings a scaled-to-zero async endpoint back (deploy_role allows its name).
BACKLOG_ALARM_SUFFIX = "backlog-without-capacity"


def serverless_config(
    serverless: Serverless,
) -> aws.sagemaker.EndpointConfigurationProductionVariantServerlessConfigArgsDict:
    config: aws.sagemaker.EndpointConfigurationProductionVariantServerlessConfigArgsDict = {
        "memory_size_in_mb": resolved(serverless.memory_size_in_mb),
        "max_concurrency": resolved(serverless.max_concurrency),
    }
    if serverless.provisioned_concurrency is not None:
        config["provisioned_concurrency"] = resolved(serverless.provisioned_concurrency)
    return config


def serverless_variant(
    model_name: pulumi.Input[str], variant: str, serverless: Serverless
) -> aws.sagemaker.EndpointConfigurationProductionVariantArgsDict:
    """A serverless production variant: memory and concurrency instead of an instance type and count."""
    return {
        "variant_name": variant,
        "model_name": model_name,
        "initial_variant_weight": 1,
        "serverless_config": serverless_config(serverless),
    }


def async_inference_config(
    options: AsyncInference, kms_key: pulumi.Input[str]
) -> aws.sagemaker.EndpointConfigurationAsyncInferenceConfigArgsDict:
    """Responses (and failures) to S3, encrypted with `kms_key`, announced on the request's topics."""
    output: aws.sagemaker.EndpointConfigurationAsyncInferenceConfigOutputConfigArgsDict = {
        "s3_output_path": s3_uri(resolved(options.output_path)),
        "kms_key_id": kms_key,
    }
    if options.failure_path is not None:
        output["s3_failure_path"] = s3_uri(resolved(options.failure_path))
    topics = {name: resolved(value) for name, value in _topics(options).items()}
    if topics:
        output["notification_config"] = topics  # type: ignore[typeddict-item]
    config: aws.sagemaker.EndpointConfigurationAsyncInferenceConfigArgsDict = {"output_config": output}
    if options.max_concurrent_invocations_per_instance is not None:
        config["client_config"] = {
            "max_concurrent_invocations_per_instance": resolved(options.max_concurrent_invocations_per_instance)
        }
    return config


def _topics(options: AsyncInference) -> dict[str, Any]:
    named = {"success_topic": options.success_topic, "error_topic": options.error_topic}
    return {name: value for name, value in named.items() if value is not None}


def async_writes(options: AsyncInference | None) -> list[str]:
    """The `bucket/prefix` locations SageMaker writes an async endpoint's responses and failures to."""
    if options is None:
        return []
    paths = [options.output_path, options.failure_path]
    return [resolved(path) for path in paths if path is not None]


def async_topics(options: AsyncInference | None) -> list[str]:
    """The SNS topics SageMaker publishes an async endpoint's notifications to."""
    return sorted({resolved(topic) for topic in _topics(options).values()}) if options else []


def backlog_tracking(
    autoscaling: Autoscaling, endpoint_name: str
) -> aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgsDict:
    """Keep the queued requests per instance of an async endpoint near the target (AWS's recommended metric)."""
    return {
        "target_value": autoscaling.target_backlog_per_instance,
        "customized_metric_specification": {
            "metric_name": BACKLOG_PER_INSTANCE,
            "namespace": "AWS/SageMaker",
            "dimensions": [{"name": "EndpointName", "value": endpoint_name}],
            "statistic": "Average",
        },
        "scale_in_cooldown": autoscaling.scale_in_cooldown_seconds,
        "scale_out_cooldown": autoscaling.scale_out_cooldown_seconds,
    }


def scale_from_zero_step(autoscaling: Autoscaling) -> aws.appautoscaling.PolicyStepScalingPolicyConfigurationArgsDict:
    """One instance when requests wait and none runs: target tracking cannot scale out from zero, as a
    backlog per instance has no value without instances."""
    return {
        "adjustment_type": "ChangeInCapacity",
        "metric_aggregation_type": "Average",
        "cooldown": autoscaling.scale_out_cooldown_seconds,
        "step_adjustments": [{"metric_interval_lower_bound": "0", "scaling_adjustment": 1}],
    }


def backlog_alarm(endpoint_name: str) -> dict[str, Any]:
    """The alarm that fires the scale-from-zero step while requests wait with no instance to serve them."""
    return {
        "name": f"{endpoint_name}-{BACKLOG_ALARM_SUFFIX}",
        "alarm_description": "Requests wait and no instance runs: start one.",
        "namespace": "AWS/SageMaker",
        "metric_name": BACKLOG_WITHOUT_CAPACITY,
        "dimensions": {"EndpointName": endpoint_name},
        "statistic": "Average",
        "period": 60,
        "evaluation_periods": 2,
        "datapoints_to_alarm": 2,
        "threshold": 1,
        "comparison_operator": "GreaterThanOrEqualToThreshold",
        # The metric is only published while the endpoint has a backlog.
        "treat_missing_data": "notBreaching",
    }
