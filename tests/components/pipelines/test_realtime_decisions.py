"""The real-time endpoint's decisions as plain functions: rollout, rollback alarms, capture, scaling."""

from __future__ import annotations

from typing import Any

import pytest

from components.pipelines.realtime import (
    MAX_ROLLBACK_ALARMS,
    capture_destination,
    data_capture_config,
    deployment_config_for,
    endpoint_name_for,
    rollback_alarms,
    scaling_resource_id,
    target_tracking,
)
from mlops_spec.pipelines.realtime import Autoscaling, DeploymentStrategy, RealtimeBuiltinSpec
from mlops_spec.request import parse_pipeline_request


def routing_of(config: Any) -> Any:
    return config["blue_green_update_policy"]["traffic_routing_configuration"]


def test_all_at_once_is_a_single_blue_green_step_with_bake_time() -> None:
    config: Any = deployment_config_for(DeploymentStrategy(wait_interval_seconds=120, termination_wait_seconds=600), [])
    assert routing_of(config) == {"type": "ALL_AT_ONCE", "wait_interval_in_seconds": 120}
    assert config["blue_green_update_policy"]["termination_wait_in_seconds"] == 600


def test_canary_sends_the_canary_share_first() -> None:
    config = deployment_config_for(DeploymentStrategy(type="canary", canary_percentage=15), ["a"])
    assert routing_of(config)["type"] == "CANARY"
    assert routing_of(config)["canary_size"] == {"type": "CAPACITY_PERCENT", "value": 15}


def test_linear_shifts_fixed_steps() -> None:
    config = deployment_config_for(DeploymentStrategy(type="linear", linear_step_percentage=30), ["a"])
    assert routing_of(config)["type"] == "LINEAR"
    assert routing_of(config)["linear_step_size"] == {"type": "CAPACITY_PERCENT", "value": 30}


def test_rollback_lists_every_alarm() -> None:
    config = deployment_config_for(DeploymentStrategy(), ["errors", "latency", "kpi"])
    assert config["auto_rollback_configuration"] == {
        "alarms": [{"alarm_name": "errors"}, {"alarm_name": "latency"}, {"alarm_name": "kpi"}]
    }


def test_no_alarms_means_no_rollback_config() -> None:
    assert "auto_rollback_configuration" not in deployment_config_for(DeploymentStrategy(), [])


def test_more_alarms_than_sagemaker_allows_is_refused_with_the_field_named() -> None:
    with pytest.raises(ValueError, match=r"deployment\.alarm_names"):
        deployment_config_for(DeploymentStrategy(), [f"a{i}" for i in range(MAX_ROLLBACK_ALARMS + 1)])


def test_built_in_alarms_fire_above_the_error_and_latency_limits() -> None:
    alarms = rollback_alarms("ep", DeploymentStrategy(max_5xx_errors=0, max_latency_ms=800))
    errors, latency = alarms["5xx"], alarms["latency"]
    assert (errors["metric_name"], errors["statistic"], errors["threshold"]) == ("Invocation5XXErrors", "Sum", 0)
    assert errors["comparison_operator"] == "GreaterThanThreshold"
    assert (latency["metric_name"], latency["extended_statistic"]) == ("ModelLatency", "p99")
    assert latency["threshold"] == 800_000
    assert errors["dimensions"] == latency["dimensions"] == {"EndpointName": "ep", "VariantName": "AllTraffic"}
    assert errors["name"] == "ep-5xx-errors" and latency["name"] == "ep-p99-latency"


def test_no_built_in_alarms_without_auto_rollback() -> None:
    assert rollback_alarms("ep", DeploymentStrategy(auto_rollback=False)) == {}


def test_capture_destination_is_an_s3_uri_of_the_location() -> None:
    assert capture_destination("capture-bucket/churn/live") == "s3://capture-bucket/churn/live"


def test_data_capture_samples_the_requested_share_in_both_directions() -> None:
    config = data_capture_config(40, "capture-bucket/x", "key-arn")
    assert config["initial_sampling_percentage"] == 40
    assert config["kms_key_id"] == "key-arn"
    assert config["capture_options"] == [{"capture_mode": "Input"}, {"capture_mode": "Output"}]


def test_scaling_resource_id_names_endpoint_and_variant() -> None:
    assert scaling_resource_id("churn") == "endpoint/churn/variant/AllTraffic"


def test_target_tracking_uses_invocations_per_instance_and_cooldowns() -> None:
    tracking = target_tracking(Autoscaling(target_invocations_per_instance=70, scale_in_cooldown_seconds=600))
    assert tracking["target_value"] == 70
    assert tracking["scale_in_cooldown"] == 600 and tracking["scale_out_cooldown"] == 60
    assert tracking["predefined_metric_specification"] == {
        "predefined_metric_type": "SageMakerVariantInvocationsPerInstance"
    }


def _spec(**overrides: object) -> RealtimeBuiltinSpec:
    body = {
        "pipeline_type": "byom_realtime_builtin",
        "model_name": "churn",
        "inference_instance": "ml.m5.large",
        "model_framework": "xgboost",
        "model_framework_version": "1.7-1",
        "model_artifact_location": "models/model.tar.gz",
        "data_capture_location": "capture-bucket/churn",
        **overrides,
    }
    spec = parse_pipeline_request(body)
    assert isinstance(spec, RealtimeBuiltinSpec)
    return spec


def test_endpoint_name_defaults_to_the_pipelines_own() -> None:
    assert endpoint_name_for(_spec(), "churn-realtime-builtin-dev-endpoint") == "churn-realtime-builtin-dev-endpoint"
    assert endpoint_name_for(_spec(endpoint_name="live"), "unused") == "live"
