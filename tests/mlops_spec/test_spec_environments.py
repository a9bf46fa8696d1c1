"""Per-environment values: which keys are stage-aware (as in MWO), and how a request resolves for each environment."""

from __future__ import annotations

import pytest

from mlops_spec.request import parse_pipeline_request
from mlops_spec.spec_union import SPEC_TYPES
from tests.support.pipeline_types import every_type

DEV_BUCKET = "mlops-dev-artifacts-111111111111-us-east-1"
PROD_BUCKET = "mlops-prod-artifacts-333333333333-us-east-1"
PROD_KEY = "arn:aws:kms:us-east-1:333333333333:key/3c4d5e6f-7081-4293-a4b5-c6d7e8f90123"

# MWO's stage-aware keys per family (mwo-api.md §3.4), plus the options this project added.
MONITOR_STAGED = {
    "endpoint_name",
    "baseline_job_output_location",
    "data_capture_location",
    "monitoring_output_location",
    "schedule_expression",
    "instance_type",
    "instance_volume_size",
    "baseline_max_runtime_seconds",
    "monitor_max_runtime_seconds",
    "kms_key_arn",
}
REALTIME_STAGED = {"inference_instance", "data_capture_location", "endpoint_name", "kms_key_arn", "instance_count"}
BATCH_STAGED = {"inference_instance", "batch_inference_data", "batch_job_output_location", "kms_key_arn"} | {
    "schedule_expression",
    "instance_count",
}
STAGED_FIELDS = {
    "byom_realtime_builtin": REALTIME_STAGED,
    "byom_realtime_custom": REALTIME_STAGED,
    "byom_batch_builtin": BATCH_STAGED,
    "byom_batch_custom": BATCH_STAGED,
    "byom_data_quality_monitor": MONITOR_STAGED,
    "byom_model_quality_monitor": MONITOR_STAGED | {"monitor_ground_truth_input"},
    "byom_model_bias_monitor": MONITOR_STAGED | {"monitor_ground_truth_input"},
    "byom_model_explainability_monitor": MONITOR_STAGED,
    "model_training_builtin": set(),
    "model_tuner_builtin": set(),
    "model_autopilot_training": set(),
    "byom_image_builder": set(),
}


@pytest.mark.parametrize("pipeline_type", every_type(STAGED_FIELDS))
def test_stage_aware_fields_are_mwos(pipeline_type):
    assert set(SPEC_TYPES[pipeline_type].staged_fields()) == STAGED_FIELDS[pipeline_type]


def test_custom_variants_share_their_builtin_familys_stage_aware_fields():
    for family in ("realtime", "batch"):
        custom = SPEC_TYPES[f"byom_{family}_custom"].staged_fields()
        assert set(custom) == set(SPEC_TYPES[f"byom_{family}_builtin"].staged_fields())


def test_realtime_request_resolves_per_environment(example):
    spec = parse_pipeline_request(example("byom_realtime_builtin", "multi"), mode="multi")
    prod, dev = spec.for_env("prod"), spec.for_env("dev")
    assert (prod.inference_instance, prod.instance_count, prod.kms_key_arn) == ("ml.m5.xlarge", 4, PROD_KEY)
    assert prod.data_capture_location == f"{PROD_BUCKET}/datacapture/churn-xgb"
    assert (dev.inference_instance, dev.instance_count) == ("ml.m5.large", 2)
    # Plain values are the same everywhere.
    assert prod.endpoint_name == dev.endpoint_name == "churn-xgb"
    assert prod.model_artifact_location == "models/churn-xgb/model.tar.gz"


def test_batch_request_resolves_per_environment(example):
    spec = parse_pipeline_request(example("byom_batch_builtin", "multi"), mode="multi")
    dev, prod = spec.for_env("dev"), spec.for_env("prod")
    assert dev.schedule_expression == "cron(0 3 ? * MON *)"
    assert prod.schedule_expression == "cron(0 3 * * ? *)"
    assert (dev.instance_count, prod.instance_count) == (1, 2)
    assert prod.batch_inference_data == f"{PROD_BUCKET}/batch/churn-xgb/input/customers.csv"
    assert dev.batch_job_output_location == f"{DEV_BUCKET}/batch/churn-xgb/output"


@pytest.mark.parametrize(
    "pipeline_type",
    [
        "byom_data_quality_monitor",
        "byom_model_quality_monitor",
        "byom_model_bias_monitor",
        "byom_model_explainability_monitor",
    ],
)
def test_monitor_request_resolves_per_environment(example, pipeline_type):
    spec = parse_pipeline_request(example(pipeline_type, "multi"), mode="multi")
    dev, prod = spec.for_env("dev"), spec.for_env("prod")
    assert (dev.instance_type, prod.instance_type) == ("ml.m5.large", "ml.m5.xlarge")
    assert (dev.instance_volume_size, prod.instance_volume_size) == (20, 50)
    assert (dev.schedule_expression, prod.schedule_expression) == ("cron(0 0 ? * * *)", "cron(0 * ? * * *)")
    assert prod.monitoring_output_location.startswith(f"{PROD_BUCKET}/monitoring/")
    assert prod.kms_key_arn == PROD_KEY
    # Not stage-aware: the baseline dataset and the configs are the same in every environment.
    assert dev.baseline_data == prod.baseline_data
    assert prod.staged_fields() == spec.staged_fields()
    assert not any(isinstance(getattr(prod, name), dict) for name in prod.staged_fields())


def test_resolution_leaves_the_multi_request_itself_unchanged(example):
    spec = parse_pipeline_request(example("byom_model_bias_monitor", "multi"), mode="multi")
    spec.for_env("prod")
    assert spec.instance_type == {"dev": "ml.m5.large", "staging": "ml.m5.large", "prod": "ml.m5.xlarge"}


def test_ground_truth_input_resolves_per_environment(example):
    spec = parse_pipeline_request(example("byom_model_quality_monitor", "multi"), mode="multi")
    assert spec.for_env("prod").monitor_ground_truth_input == f"{PROD_BUCKET}/ground-truth/churn-xgb"


@pytest.mark.parametrize("pipeline_type", ["model_training_builtin", "model_tuner_builtin", "model_autopilot_training"])
def test_training_family_refuses_per_environment_values_even_in_multi_mode(example, reject, pipeline_type):
    body = {**example(pipeline_type), "kms_key_arn": {"dev": PROD_KEY, "staging": PROD_KEY, "prod": PROD_KEY}}
    error = reject(body, mode="multi")
    assert error.field == "kms_key_arn"
    assert "valid string" in error.problem
