"""Monitors that act (issue 14): `on_violation` on every monitor request, its one error per bad value."""

from __future__ import annotations

import pytest

from mlops_spec.monitor_violations import schedule_arn, schedule_name, violation_pattern
from mlops_spec.request import parse_pipeline_request

pytestmark = pytest.mark.fast

MONITORS = [
    "byom_data_quality_monitor",
    "byom_model_quality_monitor",
    "byom_model_bias_monitor",
    "byom_model_explainability_monitor",
]


@pytest.mark.parametrize("pipeline_type", MONITORS)
@pytest.mark.parametrize(
    ("on_violation", "action", "training"),
    [
        ("notify", "notify", None),
        ("block", "block", None),
        ("rollback", "rollback", None),
        ({"retrain": {"training_pipeline_id": "churn-xgb-training"}}, "retrain", "churn-xgb-training"),
    ],
)
def test_every_monitor_takes_each_action(example, pipeline_type, on_violation, action, training):
    spec = parse_pipeline_request({**example(pipeline_type), "on_violation": on_violation})
    assert (spec.violation_action, spec.retrain_pipeline_id) == (action, training)


def test_notify_is_the_default_and_leaves_the_request_hash_as_it_was(example):
    body = example("byom_data_quality_monitor")
    body.pop("on_violation", None)
    plain = parse_pipeline_request(body)
    assert plain.violation_action == "notify"
    assert plain.spec_hash() == parse_pipeline_request({**body, "on_violation": "notify"}).spec_hash()


@pytest.mark.parametrize(
    ("on_violation", "field", "problem"),
    [
        ("explode", "on_violation", "Input should be 'notify', 'block' or 'rollback'"),
        (3, "on_violation", "Input should be 'notify', 'block' or 'rollback'"),
        ({"retrain": {}}, "on_violation.retrain.training_pipeline_id", "is required"),
        (
            {"retrain": {"training_pipeline_id": "Churn_Training"}},
            "on_violation.retrain.training_pipeline_id",
            "must be a pipeline id: lower-case letters, digits and single hyphens",
        ),
        (
            {"retrain": {"training_pipeline_id": "a" * 41}},
            "on_violation.retrain.training_pipeline_id",
            "String should have at most 40 characters",
        ),
        ({"retrain": {"training_pipeline_id": "x"}, "now": True}, "on_violation.now", "is not a known field"),
    ],
)
def test_a_bad_action_gets_one_error_naming_the_field(example, reject, on_violation, field, problem):
    error = reject({**example("byom_model_bias_monitor"), "on_violation": on_violation})
    assert (error.field, error.problem) == (field, problem)


def test_the_violation_pattern_names_the_schedules_it_is_for():
    arn = "arn:aws:sagemaker:us-east-1:222222222222:monitoring-schedule/churn-data-quality-staging-schedule"
    assert violation_pattern([arn])["detail"]["MonitoringScheduleArn"] == [arn]
    assert schedule_name(arn) == "churn-data-quality-staging-schedule"


def test_the_orchestrators_rule_hears_its_accounts_only_and_a_schedule_has_one_arn() -> None:
    assert violation_pattern(accounts=["2", "1", "2"])["account"] == ["1", "2"]
    assert "account" not in violation_pattern(["arn:x"])
    assert schedule_arn("aws-us-gov", "us-gov-west-1", "111111111111", "M-dev-schedule") == (
        "arn:aws-us-gov:sagemaker:us-gov-west-1:111111111111:monitoring-schedule/m-dev-schedule"
    )
