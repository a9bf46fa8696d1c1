"""Autopilot training: the AutoML V2 request, the state machine that runs it, and its scoped roles."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pulumi
import pytest
from botocore.validate import validate_parameters

from components.pipelines import autopilot
from components.pipelines.base import PipelineContext
from components.pipelines.registry import build_pipeline
from mlops_cli.mocks import PlanRecorder, policy_of
from mlops_spec.pipelines.autopilot import AutopilotSpec
from mlops_spec.request import parse_pipeline_request
from tests.components.support import ASSETS_KEY, ENV_KEY, make_context

ROLE_ARN = "arn:aws:iam::111111111111:role/mlops/churn-autopilot-role-abc1234"


def autopilot_request(**overrides: Any) -> dict[str, Any]:
    return {
        "pipeline_type": "model_autopilot_training",
        "model_name": "churn",
        "training_data": "data/churn/train.csv",
        "job_output_location": "autopilot/churn",
        "target_attribute": "churned",
        **overrides,
    }


def spec(**overrides: Any) -> AutopilotSpec:
    parsed = parse_pipeline_request(autopilot_request(**overrides))
    assert isinstance(parsed, AutopilotSpec)
    return parsed


def context(assets_key: str | None = None) -> PipelineContext:
    return make_context(assets_kms_key_arn=assets_key)


@pytest.fixture(scope="module")
def deployed() -> tuple[PlanRecorder, dict[str, Any]]:
    recorder = PlanRecorder()
    recorder.install(project="mlops", stack="dev")
    outputs: dict[str, Any] = {}
    request = spec(problem_type="BinaryClassification", job_objective="F1", compression_type="Gzip")

    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        component = build_pipeline(request, context())

        def check(values: dict[str, Any]) -> None:
            assert values["output_location"] == "s3://mlops-assets/autopilot/churn"
            assert len(values["job_name"]) <= 32
            outputs.update(values)

        return pulumi.Output.all(**component.outputs).apply(check)

    program()
    return recorder, outputs


def machine_definition(recorder: PlanRecorder) -> dict[str, Any]:
    [machine] = recorder.of_type("aws:sfn/stateMachine:StateMachine")
    return json.loads(machine.inputs["definition"])


# -- plain decisions -------------------------------------------------------------------------
def test_completion_criteria_carry_the_requests_limits() -> None:
    config = autopilot.tabular_config(spec(job_max_candidates=5, max_runtime_per_job=3600, total_max_runtime=7200))
    assert config["CompletionCriteria"] == {
        "MaxCandidates": 5,
        "MaxRuntimePerTrainingJobInSeconds": 3600,
        "MaxAutoMLJobRuntimeInSeconds": 7200,
    }
    assert config["TargetAttributeName"] == "churned"
    assert config["GenerateCandidateDefinitionsOnly"] is False


def test_problem_type_and_objective_are_left_to_autopilot_when_absent() -> None:
    parameters = autopilot.create_job_parameters(spec(), "mlops-assets", ROLE_ARN, ENV_KEY, ENV_KEY, {})
    assert "ProblemType" not in parameters["AutoMLProblemTypeConfig"]["TabularJobConfig"]
    assert "AutoMLJobObjective" not in parameters
    assert "CompressionType" not in parameters["AutoMLJobInputDataConfig"][0]


def test_job_reads_the_training_data_and_encrypts_volume_and_output() -> None:
    parameters = autopilot.create_job_parameters(spec(), "mlops-assets", ROLE_ARN, ENV_KEY, ASSETS_KEY, {"team": "ml"})
    assert parameters["AutoMLJobName.$"] == "$$.Execution.Name"
    source = parameters["AutoMLJobInputDataConfig"][0]["DataSource"]["S3DataSource"]
    assert source == {"S3DataType": "S3Prefix", "S3Uri": "s3://mlops-assets/data/churn/train.csv"}
    assert parameters["OutputDataConfig"] == {
        "S3OutputPath": "s3://mlops-assets/autopilot/churn",
        "KmsKeyId": ASSETS_KEY,
    }
    assert parameters["SecurityConfig"] == {"VolumeKmsKeyId": ENV_KEY, "EnableInterContainerTrafficEncryption": True}
    assert parameters["Tags"] == [{"Key": "team", "Value": "ml"}]


def test_the_request_is_a_valid_create_automl_job_v2_call() -> None:
    parameters = autopilot.create_job_parameters(
        spec(problem_type="Regression", job_objective="MSE", compression_type="Gzip"),
        "mlops-assets",
        ROLE_ARN,
        ENV_KEY,
        ASSETS_KEY,
        {"team": "ml"},
    )
    parameters["AutoMLJobName"] = parameters.pop("AutoMLJobName.$").replace("$$.Execution.Name", "run-1")
    shape = botocore.session.get_session().get_service_model("sagemaker").operation_model("CreateAutoMLJobV2")
    validate_parameters(parameters, shape.input_shape)


def test_the_run_polls_the_job_until_it_ends() -> None:
    definition = autopilot.automl_definition({}, 3600)
    states = definition["States"]
    assert states["CreateJob"]["Resource"] == "arn:aws:states:::aws-sdk:sagemaker:createAutoMLJobV2"
    assert states["CreateJob"]["Next"] == "WaitForJob"
    assert states["DescribeJob"]["Resource"] == "arn:aws:states:::aws-sdk:sagemaker:describeAutoMLJobV2"
    outcomes = {c["StringEquals"]: c["Next"] for c in states["JobDone"]["Choices"]}
    assert outcomes == {"Completed": "Succeeded", "Failed": "Failed", "Stopped": "Failed"}
    assert states["JobDone"]["Default"] == "WaitForJob"


# -- the component ---------------------------------------------------------------------------
def test_state_machine_creates_the_requested_job(deployed: tuple[PlanRecorder, dict[str, Any]]) -> None:
    recorder, _ = deployed
    parameters = machine_definition(recorder)["States"]["CreateJob"]["Parameters"]
    config = parameters["AutoMLProblemTypeConfig"]["TabularJobConfig"]
    assert config["ProblemType"] == "BinaryClassification"
    assert parameters["AutoMLJobObjective"] == {"MetricName": "F1"}
    assert parameters["AutoMLJobInputDataConfig"][0]["CompressionType"] == "Gzip"
    tags = {t["Key"]: t["Value"] for t in parameters["Tags"]}
    assert tags["mlops:pipeline-id"] == "churn-autopilot"


def test_the_job_starts_once_under_its_job_name(deployed: tuple[PlanRecorder, dict[str, Any]]) -> None:
    recorder, outputs = deployed
    [invocation] = recorder.of_type("aws:lambda/invocation:Invocation")
    payload = json.loads(invocation.inputs["input"])
    assert payload["run_name"] == outputs["job_name"] and payload["name_limit"] == 32
    assert payload["wait"] is False
    assert invocation.inputs["triggers"] == {"run_name": outputs["job_name"]}


def test_roles_are_scoped_to_this_job(deployed: tuple[PlanRecorder, dict[str, Any]]) -> None:
    recorder, outputs = deployed
    job = outputs["job_name"]
    machine = policy_of(recorder.named("aws:iam/rolePolicy:RolePolicy", "churn-autopilot-run-role-policy"))
    [create] = [s for s in machine["Statement"] if "sagemaker:CreateAutoMLJobV2" in s["Action"]]
    assert create["Resource"] == [f"arn:aws:sagemaker:us-east-1:111111111111:automl-job/{job}*"]
    role = policy_of(recorder.named("aws:iam/rolePolicy:RolePolicy", "churn-autopilot-role-policy"))
    [sub_jobs] = [s for s in role["Statement"] if "sagemaker:CreateTrainingJob" in s["Action"]]
    assert all(resource.endswith(f"/{job}*") for resource in sub_jobs["Resource"])
    for statement in machine["Statement"] + role["Statement"]:
        assert "*" not in statement["Action"]
        if statement["Resource"] == "*":
            assert all(action.startswith(("logs:", "cloudwatch:PutMetricData")) for action in statement["Action"])


def _key_actions(statements: list[dict[str, Any]], key: str) -> set[str]:
    return {
        action
        for statement in statements
        if key in (statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]])
        for action in statement["Action"]
    }


def test_the_output_is_encrypted_with_the_assets_key_other_accounts_may_use(pulumi_mocks: PlanRecorder) -> None:
    request = spec()

    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        return pulumi.Output.all(**build_pipeline(request, context(assets_key=ASSETS_KEY)).outputs)

    program()
    parameters = machine_definition(pulumi_mocks)["States"]["CreateJob"]["Parameters"]
    assert parameters["OutputDataConfig"]["KmsKeyId"] == ASSETS_KEY
    # Volumes stay on the environment's key.
    assert parameters["SecurityConfig"]["VolumeKmsKeyId"] == ENV_KEY
    role = policy_of(pulumi_mocks.named("aws:iam/rolePolicy:RolePolicy", "churn-autopilot-role-policy"))
    assert {"kms:Encrypt", "kms:GenerateDataKey*", "kms:Decrypt"} <= _key_actions(role["Statement"], ASSETS_KEY)


def test_without_an_assets_key_the_output_falls_back_to_the_environment_key(
    deployed: tuple[PlanRecorder, dict[str, Any]],
) -> None:
    recorder, _ = deployed
    parameters = machine_definition(recorder)["States"]["CreateJob"]["Parameters"]
    assert parameters["OutputDataConfig"]["KmsKeyId"] == ENV_KEY


def test_autopilot_may_pass_exactly_its_own_role(deployed: tuple[PlanRecorder, dict[str, Any]]) -> None:
    recorder, _ = deployed
    role = recorder.named("aws:iam/role:Role", "churn-autopilot-role").inputs
    assert (role["name"], role["path"]) == ("churn-autopilot-dev-sagemaker-role", "/mlops/")
    statements = policy_of(recorder.named("aws:iam/rolePolicy:RolePolicy", "churn-autopilot-role-policy"))["Statement"]
    [passes] = [s for s in statements if s["Action"] == ["iam:PassRole"]]
    assert passes["Resource"] == ["arn:aws:iam::111111111111:role/mlops/churn-autopilot-dev-sagemaker-role"]
