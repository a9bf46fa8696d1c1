"""Batch transform decisions as plain functions: job naming, output paths, the job request, role statements."""

from __future__ import annotations

import pytest

from components.pipelines.base import PipelineContext
from components.pipelines.batch import (
    JOB_PREFIX_LIMIT,
    intrinsic_escape,
    job_name_expression,
    output_path_expression,
    schedule_statements,
    transform_parameters,
    transform_statements,
)
from mlops_spec.pipelines.batch import BatchFields
from mlops_spec.request import parse_pipeline_request

CONTEXT = PipelineContext(
    environment="dev",
    account_id="111111111111",
    region="us-east-1",
    orchestrator_account_id="999999999999",
    kms_key_arn="env-key",
    artifacts_bucket="artifacts",
    assets_bucket="assets",
)


def spec(**overrides: object) -> BatchFields:
    body = {
        "pipeline_type": "byom_batch_builtin",
        "model_name": "churn",
        "inference_instance": "ml.m5.large",
        "model_framework": "xgboost",
        "model_framework_version": "1.7-1",
        "model_artifact_location": "models/model.tar.gz",
        "batch_inference_data": "input-bucket/in",
        "batch_job_output_location": "output-bucket/out",
        **overrides,
    }
    parsed = parse_pipeline_request(body)
    assert isinstance(parsed, BatchFields)
    return parsed


def test_intrinsic_strings_escape_quotes_braces_and_backslashes() -> None:
    assert intrinsic_escape("a'b{c}d\\e") == "a\\'b\\{c\\}d\\\\e"


def test_job_names_fit_sagemaker_with_the_longest_prefix() -> None:
    expression = job_name_expression("p" * JOB_PREFIX_LIMIT)
    assert "States.Hash($$.Execution.Name, 'MD5')" in expression
    assert JOB_PREFIX_LIMIT + len("-") + 32 == 63


def test_output_path_escapes_the_location() -> None:
    assert output_path_expression("bucket/odd'{key}") == (
        "States.Format('s3://bucket/odd\\'\\{key\\}/{}', $$.Execution.Name)"
    )


@pytest.mark.parametrize(("split", "assemble"), [("Line", "Line"), ("RecordIO", "None"), ("None", "None")])
def test_output_is_assembled_by_line_only_for_line_records(split: str, assemble: str) -> None:
    parameters = transform_parameters(spec(split_type=split), "prefix", "model", "key", {})
    assert parameters["TransformOutput"]["AssembleWith"] == assemble
    assert parameters["TransformInput"]["SplitType"] == split


def test_instance_storage_types_get_no_volume_key() -> None:
    parameters = transform_parameters(spec(inference_instance="ml.g4dn.xlarge"), "prefix", "model", "key", {})
    assert "VolumeKmsKeyId" not in parameters["TransformResources"]
    assert parameters["TransformOutput"]["KmsKeyId"] == "key"


def test_job_request_carries_the_content_type_and_sorted_tags() -> None:
    parameters = transform_parameters(spec(content_type="application/json"), "p", "m", "k", {"b": "2", "a": "1"})
    assert parameters["TransformInput"]["ContentType"] == "application/json"
    assert parameters["Tags"] == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]


def test_state_machine_statements_are_scoped_to_the_job_prefix_role_and_sync_rule() -> None:
    statements = transform_statements(CONTEXT, "churn-dev-job", "arn:aws:iam::111111111111:role/mlops/sm")
    resources = {action: s["Resource"] for s in statements for action in s["Action"]}
    assert resources["sagemaker:CreateTransformJob"] == [
        "arn:aws:sagemaker:us-east-1:111111111111:transform-job/churn-dev-job-*"
    ]
    assert resources["iam:PassRole"] == ["arn:aws:iam::111111111111:role/mlops/sm"]
    assert resources["events:PutRule"] == [
        "arn:aws:events:us-east-1:111111111111:rule/StepFunctionsGetEventsForSageMakerTransformJobsRule"
    ]
    assert all(s["Resource"] != "*" for s in statements)


def test_schedule_statements_start_one_state_machine() -> None:
    statements = schedule_statements("machine-arn", "key-arn")
    assert statements[0] == {"Effect": "Allow", "Action": ["states:StartExecution"], "Resource": ["machine-arn"]}
    assert statements[1]["Resource"] == ["key-arn"]


def test_a_changed_request_is_a_new_run_but_new_tags_are_not() -> None:
    base = spec()
    assert spec(tags={"team": "x"}).run_name("dev", "transform") == base.run_name("dev", "transform")
    assert spec(batch_inference_data="input-bucket/other").run_name("dev", "transform") != base.run_name(
        "dev", "transform"
    )
