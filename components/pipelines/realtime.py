"""A real-time SageMaker endpoint: model, immutable endpoint config, safe rollout, rollback alarms, autoscaling."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, cast

import pulumi
import pulumi_aws as aws

from components.pipelines import endpoint_options as options
from components.pipelines import shadow as shadows
from components.pipelines.base import PipelineComponent, PipelineContext
from components.pipelines.served_model import (
    create_model,
    model_role,
    model_source,
    prebuilt_image_lookup,
    resolved,
    s3_uri,
    volume_kms_key,
    vpc_config,
)
from mlops_spec.common import Environment
from mlops_spec.pipelines.realtime import Autoscaling, DeploymentStrategy, RealtimeFields
from mlops_spec.pipelines.shadow_variants import PRODUCTION_VARIANT

# The one production variant of every endpoint. Blue/green updates need the same variant name in the
# old and new endpoint configs, so it never changes.
VARIANT = PRODUCTION_VARIANT
# SageMaker's limit on alarms in an AutoRollbackConfiguration.
MAX_ROLLBACK_ALARMS = 10


def capture_destination(location: str) -> str:
    """Data capture destination of a `bucket/prefix` location."""
    return s3_uri(location)


def endpoint_name_for(spec: RealtimeFields, default: str) -> str:
    """The user's endpoint name, or the pipeline's deterministic one."""
    return resolved(spec.endpoint_name) or default


def data_capture_config(
    percentage: int, location: str, kms_key: pulumi.Input[str]
) -> aws.sagemaker.EndpointConfigurationDataCaptureConfigArgsDict:
    """Capture requests and responses (what the monitors need) to `location`, encrypted with `kms_key`."""
    return {
        "enable_capture": True,
        "initial_sampling_percentage": percentage,
        "destination_s3_uri": capture_destination(location),
        "kms_key_id": kms_key,
        "capture_options": [{"capture_mode": "Input"}, {"capture_mode": "Output"}],
    }


def production_variant(
    model_name: pulumi.Input[str], instance_type: str, instance_count: int
) -> aws.sagemaker.EndpointConfigurationProductionVariantArgsDict:
    return {
        "variant_name": VARIANT,
        "model_name": model_name,
        "instance_type": instance_type,
        "initial_instance_count": instance_count,
        "initial_variant_weight": 1,
    }


def endpoint_writes(spec: RealtimeFields) -> list[str]:
    """Where SageMaker writes for the endpoint: captured data, async responses and failures."""
    capture = [resolved(spec.data_capture_location)] if spec.data_capture_location is not None else []
    return capture + options.async_writes(spec.async_inference)


def endpoint_config_args(
    spec: RealtimeFields,
    model_name: pulumi.Input[str],
    kms_key: pulumi.Input[str],
    shadow_model_name: pulumi.Input[str] | None = None,
) -> dict[str, Any]:
    """The endpoint config's inputs: the variant, its volume key and data capture (on instances), or the
    serverless variant (no instance, so no volume to encrypt and nothing captured); the async config; the
    shadow variant of a shadow test (`shadow_model_name` is its model)."""
    args: dict[str, Any] = {}
    if spec.serverless is not None:
        args["production_variants"] = [options.serverless_variant(model_name, VARIANT, spec.serverless)]
    else:
        instance_type, capture = resolved(spec.inference_instance), resolved(spec.data_capture_location)
        if instance_type is None or capture is None:  # the request's validation makes this impossible
            raise ValueError("an endpoint on instances needs inference_instance and data_capture_location")
        args["production_variants"] = [production_variant(model_name, instance_type, resolved(spec.instance_count))]
        args["kms_key_arn"] = volume_kms_key(instance_type, kms_key) if shadows.takes_volume_key(spec) else None
        args["data_capture_config"] = data_capture_config(spec.data_capture_percentage, capture, kms_key)
    if spec.async_inference is not None:
        args["async_inference_config"] = options.async_inference_config(spec.async_inference, kms_key)
    shadow = shadows.shadow_of(spec)
    if shadow is not None:
        if shadow_model_name is None:  # the component creates the shadow's model first
            raise ValueError("a shadow-tested endpoint config needs the shadow's model")
        args["shadow_production_variants"] = [shadows.shadow_variant(shadow_model_name, shadow)]
    return args


TrafficRouting = aws.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationArgsDict


def _all_at_once(strategy: DeploymentStrategy) -> TrafficRouting:
    return {"type": "ALL_AT_ONCE", "wait_interval_in_seconds": strategy.wait_interval_seconds}


def _canary(strategy: DeploymentStrategy) -> TrafficRouting:
    return {
        "type": "CANARY",
        "canary_size": {"type": "CAPACITY_PERCENT", "value": strategy.canary_percentage},
        "wait_interval_in_seconds": strategy.wait_interval_seconds,
    }


def _linear(strategy: DeploymentStrategy) -> TrafficRouting:
    return {
        "type": "LINEAR",
        "linear_step_size": {"type": "CAPACITY_PERCENT", "value": strategy.linear_step_percentage},
        "wait_interval_in_seconds": strategy.wait_interval_seconds,
    }


_TRAFFIC_ROUTING: dict[str, Callable[[DeploymentStrategy], TrafficRouting]] = {
    "all_at_once": _all_at_once,
    "canary": _canary,
    "linear": _linear,
    # A shadow-tested endpoint is updated all at once (its shadow takes copies, not a share, of the traffic).
    "shadow": _all_at_once,
}


def traffic_routing(strategy: DeploymentStrategy) -> TrafficRouting:
    """How a blue/green update shifts traffic, with the bake time between steps."""
    return _TRAFFIC_ROUTING[strategy.type](strategy)


def deployment_config_for(
    strategy: DeploymentStrategy, alarm_names: Sequence[pulumi.Input[str]]
) -> aws.sagemaker.EndpointDeploymentConfigArgsDict:
    """The endpoint's deployment config: a blue/green update, rolled back when any of `alarm_names` fires."""
    if len(alarm_names) > MAX_ROLLBACK_ALARMS:
        raise ValueError(
            f"deployment.alarm_names: at most {MAX_ROLLBACK_ALARMS} rollback alarms in all "
            f"(including the built-in ones); got {len(alarm_names)}"
        )
    config: aws.sagemaker.EndpointDeploymentConfigArgsDict = {
        "blue_green_update_policy": {
            "traffic_routing_configuration": traffic_routing(strategy),
            "termination_wait_in_seconds": strategy.termination_wait_seconds,
        }
    }
    if alarm_names:
        config["auto_rollback_configuration"] = {"alarms": [{"alarm_name": name} for name in alarm_names]}
    return config


def rollback_alarms(endpoint_name: str, strategy: DeploymentStrategy) -> dict[str, dict[str, Any]]:
    """The built-in alarms that roll an update back: server errors and p99 model latency of the variant.

    Keyed by a short suffix for the resource name; empty when auto rollback is off.
    """
    if not strategy.auto_rollback:
        return {}
    common = {
        "namespace": "AWS/SageMaker",
        "dimensions": {"EndpointName": endpoint_name, "VariantName": VARIANT},
        "period": 60,
        # No traffic during a bake is not a failure.
        "treat_missing_data": "notBreaching",
    }
    return {
        "5xx": {
            **common,
            "name": f"{endpoint_name}-5xx-errors",
            "alarm_description": f"More than {strategy.max_5xx_errors} 5XX errors a minute: roll the update back.",
            "metric_name": "Invocation5XXErrors",
            "statistic": "Sum",
            "comparison_operator": "GreaterThanThreshold",
            "threshold": strategy.max_5xx_errors,
            "evaluation_periods": 1,
        },
        "latency": {
            **common,
            "name": f"{endpoint_name}-p99-latency",
            "alarm_description": f"p99 model latency above {strategy.max_latency_ms} ms: roll the update back.",
            "metric_name": "ModelLatency",
            # ModelLatency is reported in microseconds.
            "extended_statistic": "p99",
            "comparison_operator": "GreaterThanThreshold",
            "threshold": strategy.max_latency_ms * 1000,
            # Two minutes in a row, so one slow cold-start minute on the new fleet does not roll back.
            "evaluation_periods": 2,
            "datapoints_to_alarm": 2,
        },
    }


def scaling_resource_id(endpoint_name: str, variant: str = VARIANT) -> str:
    return f"endpoint/{endpoint_name}/variant/{variant}"


def target_tracking(
    autoscaling: Autoscaling,
) -> aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgsDict:
    """Keep invocations per instance near the target."""
    return {
        "target_value": autoscaling.target_invocations_per_instance,
        "predefined_metric_specification": {"predefined_metric_type": "SageMakerVariantInvocationsPerInstance"},
        "scale_in_cooldown": autoscaling.scale_in_cooldown_seconds,
        "scale_out_cooldown": autoscaling.scale_out_cooldown_seconds,
    }


class RealtimeEndpoint(PipelineComponent):
    """Serve a model on a SageMaker endpoint with data capture, blue/green updates and optional autoscaling."""

    TYPE_TOKEN = "mlops:pipelines:RealtimeEndpoint"

    def __init__(
        self, name: str, spec: RealtimeFields, context: PipelineContext, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__(name, spec, context, opts)
        spec = spec.for_env(cast(Environment, context.environment))  # a no-op when the caller already resolved it
        kms_key: pulumi.Input[str] = resolved(spec.kms_key_arn) or context.kms_key_arn
        self.endpoint_name = endpoint_name_for(spec, self.physical_name("endpoint"))

        lookup = prebuilt_image_lookup(self)
        source = model_source(spec, lookup)
        if spec.serverless is not None:
            # SageMaker refuses network isolation on serverless endpoints.
            source = dataclasses.replace(source, network_isolation=False)
        self.role = model_role(
            name,
            self,
            source,
            kms_key,
            writes=endpoint_writes(spec),
            vpc=bool(spec.subnet_ids),
            publishes=options.async_topics(spec.async_inference),
        )
        self.model = create_model(name, self, source, self.role, vpc_config(spec.subnet_ids, spec.security_group_ids))
        self.shadow_model = shadows.create_shadow_model(name, self, spec, kms_key, lookup)
        self.endpoint_config = self._endpoint_config(name, spec, kms_key)
        self.endpoint = self._endpoint(name, spec.deployment)
        if spec.autoscaling:
            self._autoscale(name, spec.autoscaling, asynchronous=spec.async_inference is not None)

        self.finish(
            {
                "endpoint_name": self.endpoint.name,
                "endpoint_arn": self.endpoint.arn,
                "model_name": self.model.name,
                "endpoint_config_name": self.endpoint_config.name,
                "role_arn": self.role.arn,
                **({"shadow_model_name": self.shadow_model.name} if self.shadow_model is not None else {}),
            }
        )

    def _endpoint_config(
        self, name: str, spec: RealtimeFields, kms_key: pulumi.Input[str]
    ) -> aws.sagemaker.EndpointConfiguration:
        """The model on its instances with data capture (or serverless), asynchronous or not. It has no fixed
        name: the config is immutable, so every change makes a new one, and the endpoint moves to it
        (blue/green) before Pulumi deletes the old one.
        """
        shadow_model_name = self.shadow_model.name if self.shadow_model is not None else None
        return aws.sagemaker.EndpointConfiguration(
            f"{name}-config",
            **endpoint_config_args(spec, self.model.name, kms_key, shadow_model_name),
            tags=self.tags,
            opts=self.child,
        )

    def _endpoint(self, name: str, deployment: DeploymentStrategy) -> aws.sagemaker.Endpoint:
        """The endpoint, updated blue/green and rolled back by the built-in alarms (and the request's own)."""
        alarms = [
            aws.cloudwatch.MetricAlarm(f"{name}-{suffix}", **args, tags=self.tags, opts=self.child)
            for suffix, args in rollback_alarms(self.endpoint_name, deployment).items()
        ]
        # The request's own alarms join the built-in ones only when it asked for auto rollback.
        extra_alarms = deployment.alarm_names if deployment.auto_rollback else []
        alarm_names = [alarm.name for alarm in alarms] + extra_alarms
        return aws.sagemaker.Endpoint(
            f"{name}-endpoint",
            name=self.endpoint_name,
            endpoint_config_name=self.endpoint_config.name,
            deployment_config=deployment_config_for(deployment, alarm_names),
            tags=self.tags,
            opts=self.child,
        )

    def _autoscale(self, name: str, autoscaling: Autoscaling, asynchronous: bool) -> None:
        # Application Auto Scaling refuses an endpoint update that changes the instance type of a scaled
        # variant: change the instance type with autoscaling off, then turn it back on.
        target = aws.appautoscaling.Target(
            f"{name}-scaling",
            service_namespace="sagemaker",
            # From the endpoint's output, so the target is registered once the endpoint exists.
            resource_id=self.endpoint.name.apply(scaling_resource_id),
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            min_capacity=autoscaling.min_capacity,
            max_capacity=autoscaling.max_capacity,
            tags=self.tags,
            opts=self.child,
        )
        aws.appautoscaling.Policy(
            f"{name}-scaling-policy",
            policy_type="TargetTrackingScaling",
            service_namespace=target.service_namespace,
            resource_id=target.resource_id,
            scalable_dimension=target.scalable_dimension,
            target_tracking_scaling_policy_configuration=(
                options.backlog_tracking(autoscaling, self.endpoint_name)
                if asynchronous
                else target_tracking(autoscaling)
            ),
            opts=self.child,
        )
        if asynchronous and autoscaling.min_capacity == 0:
            self._scale_from_zero(name, target, autoscaling)

    def _scale_from_zero(self, name: str, target: aws.appautoscaling.Target, autoscaling: Autoscaling) -> None:
        """An async endpoint scaled in to no instance starts one when requests wait."""
        step = aws.appautoscaling.Policy(
            f"{name}-scale-from-zero",
            policy_type="StepScaling",
            service_namespace=target.service_namespace,
            resource_id=target.resource_id,
            scalable_dimension=target.scalable_dimension,
            step_scaling_policy_configuration=options.scale_from_zero_step(autoscaling),
            opts=self.child,
        )
        aws.cloudwatch.MetricAlarm(
            f"{name}-{options.BACKLOG_ALARM_SUFFIX}",
            **options.backlog_alarm(self.endpoint_name),
            alarm_actions=[step.arn],
            tags=self.tags,
            opts=self.child,
        )
