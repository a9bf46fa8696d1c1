"""Batch transform requests: defaults, the new scheduling options, and bad values named by field."""

from __future__ import annotations

import pytest

from mlops_spec.pipelines.batch import BatchBuiltinSpec
from mlops_spec.request import parse_pipeline_request


def test_batch_defaults_split_csv_lines_on_one_instance_once(example):
    body = {key: value for key, value in example("byom_batch_custom").items() if key != "content_type"}
    spec = parse_pipeline_request(body)
    assert (spec.content_type, spec.split_type, spec.instance_count, spec.schedule_expression) == (
        "text/csv",
        "Line",
        1,
        None,
    )


def test_batch_locations_drop_the_s3_scheme_and_trailing_slash(example):
    body = {
        **example("byom_batch_builtin"),
        "batch_inference_data": "s3://mlops-dev-artifacts-111111111111-us-east-1/batch/in/",
        "batch_job_output_location": "s3://mlops-dev-artifacts-111111111111-us-east-1/batch/out/",
    }
    spec = parse_pipeline_request(body)
    assert isinstance(spec, BatchBuiltinSpec)
    assert spec.batch_inference_data == "mlops-dev-artifacts-111111111111-us-east-1/batch/in"
    assert spec.batch_job_output_location == "mlops-dev-artifacts-111111111111-us-east-1/batch/out"


@pytest.mark.parametrize(
    ("pipeline_type", "update", "field", "problem"),
    [
        ("byom_batch_builtin", {"batch_inference_data": "Bad Bucket/in.csv"}, "batch_inference_data", "must be an S3"),
        ("byom_batch_builtin", {"batch_job_output_location": None}, "batch_job_output_location", "is required"),
        ("byom_batch_builtin", {"schedule_expression": "rate(1 days)"}, "schedule_expression", "rate(1 day)"),
        ("byom_batch_builtin", {"schedule_expression": "cron(0 25 * * ? *)"}, "schedule_expression", "hours field"),
        ("byom_batch_builtin", {"split_type": "Lines"}, "split_type", "'None', 'Line', 'RecordIO' or 'TFRecord'"),
        ("byom_batch_builtin", {"instance_count": 0}, "instance_count", "greater than 0"),
        ("byom_batch_builtin", {"content_type": "csv"}, "content_type", "should match pattern"),
        (
            "byom_batch_builtin",
            {"model_framework": None},
            "model_framework",
            "is required (or give model_package_name)",
        ),
        ("byom_batch_builtin", {"model_framework": "pytorch"}, "model_framework", "'xgboost'"),
        (
            "byom_batch_custom",
            {"custom_image_uri": None},
            "custom_image_uri",
            "is required (or give model_package_name)",
        ),
        (
            "byom_batch_custom",
            {"custom_image_uri": "fraud-detector:v3"},
            "custom_image_uri",
            "must be an ECR image URI",
        ),
        (
            "byom_batch_custom",
            {"model_artifact_location": "s3://b/m.tar.gz"},
            "model_artifact_location",
            "assets bucket",
        ),
        ("byom_batch_custom", {"inference_instance": "m5.large"}, "inference_instance", "SageMaker instance type"),
        ("byom_batch_custom", {"batch_size": 10}, "batch_size", "is not a known field"),
    ],
)
def test_bad_batch_request_names_the_field(example, reject, pipeline_type, update, field, problem):
    body = {key: value for key, value in {**example(pipeline_type), **update}.items() if value is not None}
    error = reject(body)
    assert error.field == field
    assert problem in error.problem


def test_per_environment_schedule_with_a_bad_prod_value_names_the_environment(example, reject):
    body = example("byom_batch_builtin", "multi")
    body["schedule_expression"] = {**body["schedule_expression"], "prod": "cron(0 3 * * * *)"}
    error = reject(body, mode="multi")
    assert error.field == "schedule_expression"
    assert error.problem == "prod: needs ? in exactly one of day-of-month (3rd field) and day-of-week (5th field)"


def test_per_environment_value_must_name_exactly_dev_staging_and_prod(example, reject):
    body = {**example("byom_batch_builtin", "multi"), "instance_count": {"dev": 1, "production": 2}}
    error = reject(body, mode="multi")
    assert error.field == "instance_count"
    assert error.problem == (
        "per-environment value needs exactly the keys dev, staging, prod; missing staging, prod; unknown production"
    )
