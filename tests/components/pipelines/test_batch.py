"""BatchTransform under the mock engine: the model, the transform state machine, its run and its schedule."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.pipelines.base import PipelineContext
from components.pipelines.batch import BatchTransform
from components.pipelines.registry import build_pipeline
from mlops_cli.mocks import PlanRecorder, policy_of
from mlops_spec.base import PipelineSpec
from mlops_spec.request import parse_pipeline_request
from tests.components.support import ENV_KEY, build, make_context, only

ACCOUNTS = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}
USER_KEY = "arn:aws:kms:us-east-1:111111111111:key/22222222-2222-2222-2222-222222222222"
CUSTOM_IMAGE = "444455556666.dkr.ecr.us-east-1.amazonaws.com/churn-batch:3"

MODEL = "aws:sagemaker/model:Model"
MACHINE = "aws:sfn/stateMachine:StateMachine"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
INVOCATION = "aws:lambda/invocation:Invocation"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def batch_request(**overrides: Any) -> dict[str, Any]:
    return {
        "pipeline_type": "byom_batch_builtin",
        "model_name": "churn-xgb",
        "inference_instance": "ml.m5.xlarge",
        "model_framework": "xgboost",
        "model_framework_version": "1.7-1",
        "model_artifact_location": "models/churn/model.tar.gz",
        "batch_inference_data": "input-bucket/churn/2026-11.csv",
        "batch_job_output_location": "output-bucket/churn/predictions",
        **overrides,
    }


def context(env: str = "dev") -> PipelineContext:
    return make_context(
        environment=env,
        account_id=ACCOUNTS[env],
        orchestrator_account_id="999999999999",
        artifacts_bucket=f"mlops-{env}-artifacts",
    )


def deploy(body: dict[str, Any], env: str = "dev", mode: str = "single") -> dict[str, Any]:
    """Build the pipeline of `body` in `env` under the installed mock engine; return its outputs."""
    spec: PipelineSpec = parse_pipeline_request(body, mode=mode)  # type: ignore[arg-type]
    return build(spec.for_env(env), context(env), expect=BatchTransform)


def transform_job(recorder: PlanRecorder) -> dict[str, Any]:
    definition = json.loads(only(recorder, MACHINE).inputs["definition"])
    [state] = definition["States"].values()
    assert state["Resource"] == "arn:aws:states:::sagemaker:createTransformJob.sync"
    return state["Parameters"]


def policy_named(recorder: PlanRecorder, name: str) -> list[dict[str, Any]]:
    return policy_of(recorder.named(ROLE_POLICY, name))["Statement"]


# -- the transform job ------------------------------------------------------------------------------
def test_job_reads_the_input_with_the_deployed_model(pulumi_mocks: PlanRecorder) -> None:
    deploy(batch_request())
    job = transform_job(pulumi_mocks)
    assert job["ModelName"] == "churn-xgb-batch-builtin-model-0000000"
    assert job["TransformInput"] == {
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://input-bucket/churn/2026-11.csv"}},
        "ContentType": "text/csv",
        "SplitType": "Line",
    }


def test_job_writes_each_run_under_the_output_location_encrypted(pulumi_mocks: PlanRecorder) -> None:
    deploy(batch_request(kms_key_arn=USER_KEY))
    output = transform_job(pulumi_mocks)["TransformOutput"]
    assert output["S3OutputPath.$"] == ("States.Format('s3://output-bucket/churn/predictions/{}', $$.Execution.Name)")
    assert output["KmsKeyId"] == USER_KEY
    assert output["AssembleWith"] == "Line"


def test_job_runs_on_the_requested_instances_with_an_encrypted_volume(pulumi_mocks: PlanRecorder) -> None:
    deploy(batch_request(instance_count=3))
    resources = transform_job(pulumi_mocks)["TransformResources"]
    assert resources == {"InstanceType": "ml.m5.xlarge", "InstanceCount": 3, "VolumeKmsKeyId": ENV_KEY}


def test_job_keeps_sagemakers_data_processing_defaults(pulumi_mocks: PlanRecorder) -> None:
    deploy(batch_request())
    assert transform_job(pulumi_mocks)["DataProcessing"] == {
        "InputFilter": "$",
        "OutputFilter": "$",
        "JoinSource": "None",
    }


def test_job_name_comes_from_the_execution_so_reruns_do_not_collide(pulumi_mocks: PlanRecorder) -> None:
    deploy(batch_request())
    expression = transform_job(pulumi_mocks)["TransformJobName.$"]
    assert expression == "States.Format('churn-xgb-batch-builtin-dev-{}', States.Hash($$.Execution.Name, 'MD5'))"
    assert len("churn-xgb-batch-builtin-dev-") + 32 <= 63


def test_job_is_tagged_like_the_pipeline(pulumi_mocks: PlanRecorder) -> None:
    deploy(batch_request())
    tags = {t["Key"]: t["Value"] for t in transform_job(pulumi_mocks)["Tags"]}
    assert tags["mlops:pipeline-id"] == "churn-xgb-batch-builtin"
    assert tags["mlops:environment"] == "dev"


def test_state_machine_is_encrypted_with_the_environment_key(pulumi_mocks: PlanRecorder) -> None:
    deploy(batch_request())
    encryption = only(pulumi_mocks, MACHINE).inputs["encryptionConfiguration"]
    assert encryption["type"] == "CUSTOMER_MANAGED_KMS_KEY" and encryption["kmsKeyId"] == ENV_KEY


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_multi_account_request_reads_and_writes_each_environments_locations(
    pulumi_mocks: PlanRecorder, env: str
) -> None:
    body = batch_request(
        inference_instance={"dev": "ml.m5.large", "staging": "ml.m5.xlarge", "prod": "ml.c5.4xlarge"},
        batch_inference_data={"dev": "dev-input/d.csv", "staging": "stg-input/d.csv", "prod": "prd-input/d.csv"},
        batch_job_output_location={"dev": "dev-output/p", "staging": "stg-output/p", "prod": "prd-output/p"},
    )
    outputs = deploy(body, env=env, mode="multi")
    job = transform_job(pulumi_mocks)
    short = {"dev": "dev", "prod": "prd"}[env]
    assert job["TransformResources"]["InstanceType"] == {"dev": "ml.m5.large", "prod": "ml.c5.4xlarge"}[env]
    assert job["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"] == f"s3://{short}-input/d.csv"
    assert outputs["output_location"] == f"s3://{short}-output/p"


# -- when it runs --------------------------------------------------------------------------------------
def test_without_a_schedule_the_deployment_runs_it_once(pulumi_mocks: PlanRecorder) -> None:
    deploy(batch_request())
    invocation = only(pulumi_mocks, INVOCATION).inputs
    assert invocation["triggers"]["run_name"].startswith("churn-xgb-batch-builtin-dev-transform-")
    assert [r.name for r in pulumi_mocks.of_type(RULE) if r.name.endswith("-schedule")] == []


def test_a_schedule_starts_the_state_machine_on_its_cron(pulumi_mocks: PlanRecorder) -> None:
    deploy(batch_request(schedule_expression="cron(0 3 * * ? *)"))
    rule = pulumi_mocks.named(RULE, "churn-xgb-batch-builtin-schedule").inputs
    target = pulumi_mocks.named(TARGET, "churn-xgb-batch-builtin-schedule-target").inputs
    machine_arn = "arn:aws:sfn:us-east-1:111111111111:statemachine/churn-xgb-batch-builtin-dev-transform"
    assert rule["scheduleExpression"] == "cron(0 3 * * ? *)"
    assert rule["state"] == "ENABLED"
    assert target["arn"] == machine_arn
    assert target["rule"] == rule["name"]


def test_the_schedule_may_only_start_this_state_machine(pulumi_mocks: PlanRecorder) -> None:
    deploy(batch_request(schedule_expression="cron(0 3 * * ? *)"))
    trust = policy_of(pulumi_mocks.named(ROLE, "churn-xgb-batch-builtin-scheduler"), "assumeRolePolicy")
    assert trust["Statement"][0]["Principal"] == {"Service": "events.amazonaws.com"}
    statements = policy_named(pulumi_mocks, "churn-xgb-batch-builtin-scheduler-policy")
    start = [s for s in statements if s["Action"] == ["states:StartExecution"]]
    assert start[0]["Resource"] == [
        "arn:aws:sfn:us-east-1:111111111111:statemachine/churn-xgb-batch-builtin-dev-transform"
    ]


# -- roles ---------------------------------------------------------------------------------------------
def test_state_machine_may_run_this_pipelines_jobs_and_pass_only_its_role(pulumi_mocks: PlanRecorder) -> None:
    outputs = deploy(batch_request())
    statements = policy_named(pulumi_mocks, "churn-xgb-batch-builtin-transform-role-policy")
    create = next(s for s in statements if "sagemaker:CreateTransformJob" in s["Action"])
    assert create["Resource"] == [
        "arn:aws:sagemaker:us-east-1:111111111111:transform-job/churn-xgb-batch-builtin-dev-*"
    ]
    passing = next(s for s in statements if s["Action"] == ["iam:PassRole"])
    assert passing["Resource"] == [outputs["role_arn"]]
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}


def test_model_role_reads_input_and_writes_output_only_there(pulumi_mocks: PlanRecorder) -> None:
    deploy(batch_request())
    statements = policy_named(pulumi_mocks, "churn-xgb-batch-builtin-sagemaker-policy")
    writes = [r for s in statements if "s3:PutObject" in s["Action"] for r in s["Resource"]]
    reads = [r for s in statements if "s3:GetObject" in s["Action"] for r in s["Resource"]]
    assert writes == ["arn:aws:s3:::output-bucket/churn/predictions*"]
    assert "arn:aws:s3:::input-bucket/churn/2026-11.csv*" in reads
    assert all("*" not in s["Action"] for s in statements)


# -- tags and outputs ----------------------------------------------------------------------------------
def test_every_taggable_resource_carries_the_pipeline_tags(pulumi_mocks: PlanRecorder) -> None:
    deploy(batch_request(schedule_expression="cron(0 3 * * ? *)"))
    tagged = [r for r in pulumi_mocks.resources if "tags" in r.inputs]
    assert {r.type for r in tagged} >= {MODEL, MACHINE, RULE, ROLE}
    for resource in tagged:
        assert resource.inputs["tags"]["mlops:pipeline-id"] == "churn-xgb-batch-builtin", resource.name
        assert resource.inputs["tags"]["mlops:environment"] == "dev", resource.name


def test_outputs_name_the_model_state_machine_and_output_location(pulumi_mocks: PlanRecorder) -> None:
    body = batch_request(pipeline_type="byom_batch_custom", custom_image_uri=CUSTOM_IMAGE)
    del body["model_framework"], body["model_framework_version"]
    spec = parse_pipeline_request(body)

    def check(outputs: dict[str, Any]) -> None:
        assert outputs["model_name"] == "churn-xgb-batch-custom-model-0000000"
        assert outputs["state_machine_arn"].endswith(":statemachine/churn-xgb-batch-custom-dev-transform")
        assert outputs["output_location"] == "s3://output-bucket/churn/predictions"

    @pulumi.runtime.test
    def program() -> pulumi.Output[None]:
        component = build_pipeline(spec, context())
        return pulumi.Output.all(**component.outputs).apply(check)

    program()
    assert only(pulumi_mocks, MODEL).inputs["primaryContainer"]["image"] == CUSTOM_IMAGE


def test_plan_has_no_duplicate_resource_names(pulumi_mocks: PlanRecorder) -> None:
    deploy(batch_request(schedule_expression="cron(0 3 * * ? *)"))
    assert pulumi_mocks.duplicates == []
