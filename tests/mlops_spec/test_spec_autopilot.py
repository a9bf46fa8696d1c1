"""Autopilot requests: defaults, runtime bounds, and objectives that must fit the problem type."""

from __future__ import annotations

import pytest

from mlops_spec.request import parse_pipeline_request

MINIMAL = {
    "pipeline_type": "model_autopilot_training",
    "model_name": "churn-automl",
    "training_data": "autopilot/churn-automl/train.csv",
    "job_output_location": "autopilot/churn-automl/output",
    "target_attribute": "churn",
}


def test_autopilot_defaults_are_the_old_solutions():
    spec = parse_pipeline_request(MINIMAL)
    assert (spec.job_max_candidates, spec.max_runtime_per_job, spec.total_max_runtime) == (10, 86400, 2592000)
    assert (spec.encrypt_inner_traffic, spec.generate_definition_only) == (True, False)
    assert (spec.problem_type, spec.job_objective) == (None, None)


def test_mwo_blank_problem_type_and_string_flags_are_understood():
    spec = parse_pipeline_request({**MINIMAL, "problem_type": "", "generate_definition_only": "True"})
    assert spec.problem_type is None
    assert spec.generate_definition_only is True


@pytest.mark.parametrize(
    ("update", "field", "problem"),
    [
        ({"job_objective": "AUC"}, "job_objective", "needs problem_type"),
        (
            {"problem_type": "Regression", "job_objective": "AUC"},
            "job_objective",
            "must be one of MSE for problem_type",
        ),
        ({"problem_type": "MulticlassClassification", "job_objective": "F1"}, "job_objective", "Accuracy, F1macro"),
        ({"job_objective": "RMSE", "problem_type": "Regression"}, "job_objective", "'Accuracy', 'MSE'"),
        ({"total_max_runtime": 3599}, "total_max_runtime", "greater than or equal to 3600"),
        ({"total_max_runtime": 2592001}, "total_max_runtime", "less than or equal to 2592000"),
        ({"job_max_candidates": 0}, "job_max_candidates", "greater than or equal to 1"),
        ({"total_max_runtime": 3600, "max_runtime_per_job": 7200}, "max_runtime_per_job", "at most total_max_runtime"),
        ({"target_attribute": None}, "target_attribute", "is required"),
        ({"target_attribute": "t" * 129}, "target_attribute", "at most 128 characters"),
        ({"job_name": "churn-automl-candidates-v2-retry1"}, "job_name", "at most 32 characters"),
        ({"compression_type": "gzip"}, "compression_type", "'Gzip'"),
        ({"algo_hyperparamaters": {"eta": 0.1}}, "algo_hyperparamaters", "is not a known field"),
    ],
)
def test_bad_autopilot_request_names_the_field(reject, update, field, problem):
    body = {key: value for key, value in {**MINIMAL, **update}.items() if value is not None}
    error = reject(body)
    assert error.field == field
    assert problem in error.problem


@pytest.mark.parametrize(
    ("problem_type", "objective"),
    [
        ("Regression", "MSE"),
        ("BinaryClassification", "AUC"),
        ("BinaryClassification", "F1"),
        ("MulticlassClassification", "F1macro"),
    ],
)
def test_objective_that_fits_its_problem_type_is_accepted(problem_type, objective):
    spec = parse_pipeline_request({**MINIMAL, "problem_type": problem_type, "job_objective": objective})
    assert spec.job_objective == objective
