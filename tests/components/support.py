"""What the component tests share: a test environment's context, building one pipeline, finding resources."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi

from components.pipelines.base import PipelineContext
from components.pipelines.registry import build_pipeline
from mlops_cli.mocks import PlannedResource, PlanRecorder
from mlops_spec.base import PipelineSpec

ENV_KEY = "arn:aws:kms:us-east-1:111111111111:key/11111111-1111-1111-1111-111111111111"
ASSETS_KEY = "arn:aws:kms:us-east-1:111111111111:key/99999999-9999-9999-9999-999999999999"


def make_context(**overrides: Any) -> PipelineContext:
    """The dev environment of a single-account install in us-east-1, with `overrides` applied."""
    values: dict[str, Any] = {
        "environment": "dev",
        "account_id": "111111111111",
        "region": "us-east-1",
        "orchestrator_account_id": "111111111111",
        "kms_key_arn": ENV_KEY,
        "artifacts_bucket": "mlops-dev-artifacts",
        "assets_bucket": "mlops-assets",
    }
    return PipelineContext(**{**values, **overrides})


def build(
    spec: PipelineSpec,
    context: PipelineContext,
    expect: type | None = None,
    check: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Build `spec`'s pipeline under the installed mock engine and return its outputs.

    `expect` is the component class the registry must choose; `check` asserts on the outputs inside
    the engine, where a failed assertion fails the test.
    """
    outputs: dict[str, Any] = {}

    def record(values: dict[str, Any]) -> None:
        outputs.update(values)
        if check is not None:
            check(values)

    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        component = build_pipeline(spec, context)
        if expect is not None:
            assert isinstance(component, expect), type(component).__name__
        return pulumi.Output.all(**component.outputs).apply(record)

    program()
    return outputs


def only(recorder: PlanRecorder, typ: str) -> PlannedResource:
    [resource] = recorder.of_type(typ)
    return resource


def monitor_request(pipeline_type: str, **overrides: Any) -> dict[str, Any]:
    """A valid request of one monitor type on the `churn-endpoint`, with `overrides` applied."""
    common = {
        "pipeline_type": pipeline_type,
        "model_name": "churn",
        "endpoint_name": "churn-endpoint",
        "baseline_data": "baselines/churn.csv",
        "baseline_job_output_location": "monitor-bucket/baselines",
        "data_capture_location": "capture-bucket/churn/capture",
        "monitoring_output_location": "monitor-bucket/reports",
        "schedule_expression": "cron(0 * ? * * *)",
        "monitor_max_runtime_seconds": 1800,
        "instance_type": "ml.m5.large",
        "instance_volume_size": 20,
    }
    extras: dict[str, dict[str, Any]] = {
        "byom_data_quality_monitor": {},
        "byom_model_quality_monitor": {
            "problem_type": "BinaryClassification",
            "baseline_inference_attribute": "prediction",
            "baseline_ground_truth_attribute": "label",
            "baseline_probability_attribute": "probability",
            "monitor_probability_attribute": "0",
            "probability_threshold_attribute": 0.5,
            "monitor_ground_truth_input": "truth-bucket/churn",
        },
        "byom_model_bias_monitor": {
            "problem_type": "BinaryClassification",
            "monitor_ground_truth_input": "truth-bucket/churn",
            "bias_config": {"label_values_or_threshold": [1], "facet_name": "age", "facet_values_or_threshold": [40]},
            "model_predicted_label_config": {"probability_threshold": 0.8},
            "monitor_probability_attribute": "0",
        },
        "byom_model_explainability_monitor": {
            "problem_type": "BinaryClassification",
            "shap_config": {"baseline": "baselines/shap.csv", "num_samples": 100, "agg_method": "mean_abs"},
        },
    }
    return {**common, **extras[pipeline_type], **overrides}
