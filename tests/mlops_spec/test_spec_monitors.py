"""Monitor requests: MWO's required keys, the problem-type rules, ranges, cron schedules and Clarify configs."""

from __future__ import annotations

import pytest

from mlops_spec.request import parse_pipeline_request

MONITORS = [
    "byom_data_quality_monitor",
    "byom_model_quality_monitor",
    "byom_model_bias_monitor",
    "byom_model_explainability_monitor",
]
# The keys every monitor needs (MWO's list M, without pipeline_type).
COMMON_REQUIRED = [
    "model_name",
    "endpoint_name",
    "baseline_data",
    "baseline_job_output_location",
    "data_capture_location",
    "monitoring_output_location",
    "schedule_expression",
    "monitor_max_runtime_seconds",
    "instance_type",
    "instance_volume_size",
]


def without(body, *keys):
    return {key: value for key, value in body.items() if key not in keys}


@pytest.mark.parametrize("pipeline_type", MONITORS)
@pytest.mark.parametrize("key", COMMON_REQUIRED)
def test_every_monitor_requires_the_common_keys(example, reject, pipeline_type, key):
    error = reject(without(example(pipeline_type), key))
    assert (error.field, error.problem) == (key, "is required")


@pytest.mark.parametrize(
    ("update", "field", "problem"),
    [
        (
            {"schedule_expression": "rate(1 hour)"},
            "schedule_expression",
            "must be a cron expression Model Monitor accepts",
        ),
        ({"schedule_expression": "cron(0 * * *)"}, "schedule_expression", "must have 6 fields"),
        ({"schedule_expression": "cron(0/30 * ? * * *)"}, "schedule_expression", "at most hourly"),
        ({"monitor_max_runtime_seconds": 0}, "monitor_max_runtime_seconds", "greater than or equal to 1"),
        ({"monitor_max_runtime_seconds": "86401"}, "monitor_max_runtime_seconds", "less than or equal to 86400"),
        ({"instance_volume_size": -5}, "instance_volume_size", "greater than or equal to 1"),
        ({"instance_volume_size": "twenty"}, "instance_volume_size", "valid integer"),
        ({"instance_type": "m5.large"}, "instance_type", "SageMaker instance type"),
        ({"endpoint_name": "churn_xgb"}, "endpoint_name", "letters, digits or hyphens"),
        ({"baseline_data": "s3://bucket/baseline.csv"}, "baseline_data", "inside the assets bucket"),
        ({"baseline_max_runtime_seconds": 0}, "baseline_max_runtime_seconds", "greater than or equal to 1"),
        ({"kms_key_arn": "alias/mlops"}, "kms_key_arn", "must be a KMS key ARN"),
    ],
)
def test_bad_data_quality_monitor_value_names_the_field(example, reject, update, field, problem):
    error = reject({**example("byom_data_quality_monitor"), **update})
    assert error.field == field
    assert problem in error.problem


def test_numeric_strings_are_accepted_for_sizes_and_runtimes(example):
    body = {**example("byom_data_quality_monitor"), "instance_volume_size": "30", "monitor_max_runtime_seconds": "900"}
    spec = parse_pipeline_request(body)
    assert (spec.instance_volume_size, spec.monitor_max_runtime_seconds) == (30, 900)


@pytest.mark.parametrize("pipeline_type", MONITORS[1:])
def test_problem_type_must_be_one_of_the_three(example, reject, pipeline_type):
    error = reject({**example(pipeline_type), "problem_type": "Classification"})
    assert error.field == "problem_type"
    assert error.problem == "Input should be 'Regression', 'BinaryClassification' or 'MulticlassClassification'"


@pytest.mark.parametrize(
    ("pipeline_type", "problem_type", "field"),
    [
        ("byom_model_quality_monitor", "BinaryClassification", "baseline_probability_attribute"),
        ("byom_model_quality_monitor", "Regression", "monitor_inference_attribute"),
        ("byom_model_quality_monitor", "MulticlassClassification", "monitor_inference_attribute"),
        ("byom_model_bias_monitor", "BinaryClassification", "model_predicted_label_config"),
        ("byom_model_bias_monitor", "MulticlassClassification", "monitor_inference_attribute"),
        ("byom_model_explainability_monitor", "Regression", "monitor_inference_attribute"),
        ("byom_model_explainability_monitor", "MulticlassClassification", "monitor_inference_attribute"),
    ],
)
def test_conditional_key_is_required_for_its_problem_type(example, reject, pipeline_type, problem_type, field):
    body = {**without(example(pipeline_type), field), "problem_type": problem_type}
    error = reject(body)
    assert (error.field, error.problem) == (field, f"is required when problem_type is {problem_type}")


@pytest.mark.parametrize(
    ("pipeline_type", "problem_type", "field"),
    [
        ("byom_model_quality_monitor", "Regression", "baseline_probability_attribute"),
        ("byom_model_bias_monitor", "Regression", "model_predicted_label_config"),
        ("byom_model_explainability_monitor", "BinaryClassification", "monitor_inference_attribute"),
    ],
)
def test_conditional_key_is_optional_for_other_problem_types(example, pipeline_type, problem_type, field):
    body = {**without(example(pipeline_type), field), "problem_type": problem_type, "monitor_inference_attribute": "0"}
    body.pop(field, None)
    spec = parse_pipeline_request(body)
    assert getattr(spec, field) is None


def test_model_quality_requires_the_baseline_attributes_for_every_problem_type(example, reject):
    error = reject(without(example("byom_model_quality_monitor"), "baseline_ground_truth_attribute"))
    assert (error.field, error.problem) == ("baseline_ground_truth_attribute", "is required")


def test_probability_threshold_is_a_probability(example, reject):
    error = reject({**example("byom_model_quality_monitor"), "probability_threshold_attribute": 1.5})
    assert error.field == "probability_threshold_attribute"
    assert "less than or equal to 1" in error.problem


def test_numeric_attributes_are_kept_as_the_text_sagemaker_expects(example):
    spec = parse_pipeline_request({**example("byom_model_quality_monitor"), "monitor_probability_attribute": 0})
    assert spec.monitor_probability_attribute == "0"


@pytest.mark.parametrize(
    ("bias_config", "problem"),
    [
        ({"label_values_or_threshold": [1], "facet_values_or_threshold": [100]}, "needs the key facet_name"),
        ({"facet_name": "Age"}, "needs the key label_values_or_threshold"),
        ({}, "at least 1 item"),
        ('{"facet_name": "Age"}', "valid dictionary"),
    ],
)
def test_bias_config_must_be_a_clarify_bias_config(example, reject, bias_config, problem):
    error = reject({**example("byom_model_bias_monitor"), "bias_config": bias_config})
    assert error.field == "bias_config"
    assert problem in error.problem


def test_shap_config_is_required_and_must_be_an_object(example, reject):
    assert reject(without(example("byom_model_explainability_monitor"), "shap_config")).field == "shap_config"
    error = reject({**example("byom_model_explainability_monitor"), "shap_config": []})
    assert (error.field, error.problem) == ("shap_config", "Input should be a valid dictionary")


def test_model_scores_keep_an_index_as_a_number(example):
    assert parse_pipeline_request(example("byom_model_explainability_monitor")).model_scores == 0
    body = {**example("byom_model_explainability_monitor"), "model_scores": "$.scores"}
    assert parse_pipeline_request(body).model_scores == "$.scores"


def test_configs_are_not_stage_aware_so_per_environment_objects_are_refused(example, reject):
    body = example("byom_model_quality_monitor", "multi")
    body["problem_type"] = {"dev": "Regression", "staging": "Regression", "prod": "Regression"}
    error = reject(body, mode="multi")
    assert error.field == "problem_type"


def test_ground_truth_input_is_only_for_quality_and_bias(example, reject):
    body = {**example("byom_data_quality_monitor"), "monitor_ground_truth_input": "bucket-a/ground-truth"}
    error = reject(body)
    assert (error.field, error.problem) == ("monitor_ground_truth_input", "is not a known field")
