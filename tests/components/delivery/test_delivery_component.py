"""DeliveryPipeline and the provisioner's inline programs under the mock engine: what `up` would create."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pulumi
import pytest
from moto import mock_aws

from components.delivery import DeliveryPipeline, buildspec
from lambda_src.provisioner.errors import ExternalIdUnavailable
from lambda_src.provisioner.program import delivery_args, deploy_role_external_id, target_program
from mlops_cli.mocks import PlannedResource, PlanRecorder, policy_of
from mlops_spec.naming import codepipeline_name

PIPELINE = "aws:codepipeline/pipeline:Pipeline"
PROJECT = "aws:codebuild/project:Project"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
PIPELINE_ID = "churn-xgb-realtime-builtin"
EXTERNAL_ID_PARAMETER = "/mlops/deploy-role-external-id"
EXTERNAL_ID = "orchestrator-7f3a-from-ssm"
DEPLOY_ROLES = {
    "dev": "arn:aws:iam::111111111111:role/mlops-dev-deploy",
    "staging": "arn:aws:iam::222222222222:role/mlops-staging-deploy",
    "prod": "arn:aws:iam::333333333333:role/mlops-prod-deploy",
}


def build_delivery(spec: Any, settings: Any) -> dict[str, Any]:
    outputs: dict[str, Any] = {}

    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        delivery = DeliveryPipeline(spec.pipeline_id, delivery_args(spec, settings))
        return pulumi.Output.all(**delivery.outputs).apply(outputs.update)

    program()
    return outputs


def stages(recorder: PlanRecorder) -> list[dict[str, Any]]:
    [pipeline] = recorder.of_type(PIPELINE)
    result: list[dict[str, Any]] = pipeline.inputs["stages"]
    return result


def project_for(recorder: PlanRecorder, name: str) -> PlannedResource:
    [project] = [p for p in recorder.of_type(PROJECT) if p.inputs["name"] == name]
    return project


def variables(project: PlannedResource) -> dict[str, str]:
    return {v["name"]: v["value"] for v in project.inputs["environment"]["environmentVariables"]}


def test_multi_account_pipeline_deploys_three_times_with_two_approvals_in_order(
    pulumi_mocks: PlanRecorder, spec_for: Callable[..., Any], settings_for: Callable[..., Any]
) -> None:
    outputs = build_delivery(spec_for("byom_realtime_builtin", "multi"), settings_for("multi"))

    shape = [(s["name"], [a["category"] for a in s["actions"]]) for s in stages(pulumi_mocks)]
    assert shape == [
        ("Source", ["Source"]),
        ("DeployDev", ["Build"]),
        ("ApproveStaging", ["Approval"]),
        ("DeployStaging", ["Build"]),
        ("ApproveProd", ["Approval"]),
        ("DeployProd", ["Build"]),
    ]
    assert outputs["pipeline_name"] == codepipeline_name(PIPELINE_ID)
    assert outputs["environments"] == ["dev", "staging", "prod"]


def test_each_deploy_action_runs_its_environments_project_on_the_provisioner_image(
    pulumi_mocks: PlanRecorder, spec_for: Callable[..., Any], settings_for: Callable[..., Any]
) -> None:
    settings = settings_for("multi")
    build_delivery(spec_for("byom_realtime_builtin", "multi"), settings)

    deploys = [(s["name"], s["actions"][0]) for s in stages(pulumi_mocks) if s["name"].startswith("Deploy")]
    for (stage, action), env in zip(deploys, ["dev", "staging", "prod"], strict=True):
        project = project_for(pulumi_mocks, action["configuration"]["ProjectName"])
        assert action["provider"] == "CodeBuild" and action["inputArtifacts"] == ["spec"], stage
        environment = project.inputs["environment"]
        assert environment["image"] == settings.provisioner_image_uri
        assert environment["type"] == "LINUX_CONTAINER"
        assert variables(project)["TARGET_ENV"] == env
        assert variables(project)["PIPELINE_ID"] == PIPELINE_ID
        assert variables(project)["MLOPS_MODE"] == "multi"
        assert "AWS_REGION" not in variables(project)
        assert project.inputs["encryptionKey"] == settings.assets_kms_key_arn
        assert project.inputs["source"]["type"] == "CODEPIPELINE"


def test_approvals_are_announced_on_the_topic_with_the_target_account(
    pulumi_mocks: PlanRecorder, spec_for: Callable[..., Any], settings_for: Callable[..., Any]
) -> None:
    settings = settings_for("multi")
    build_delivery(spec_for("byom_realtime_builtin", "multi"), settings)

    approvals = {s["name"]: s["actions"][0] for s in stages(pulumi_mocks) if s["name"].startswith("Approve")}
    assert set(approvals) == {"ApproveStaging", "ApproveProd"}
    assert approvals["ApproveProd"]["configuration"]["NotificationArn"] == settings.notification_topic_arn
    assert "333333333333" in approvals["ApproveProd"]["configuration"]["CustomData"]


def test_single_account_pipeline_has_one_deploy_stage(
    pulumi_mocks: PlanRecorder, spec_for: Callable[..., Any], settings_for: Callable[..., Any]
) -> None:
    build_delivery(spec_for("byom_realtime_builtin"), settings_for("single"))

    assert [s["name"] for s in stages(pulumi_mocks)] == ["Source", "Deploy"]
    assert len(pulumi_mocks.of_type(PROJECT)) == 1


def test_source_is_the_zipped_spec_and_artifacts_are_kms_encrypted(
    pulumi_mocks: PlanRecorder, spec_for: Callable[..., Any], settings_for: Callable[..., Any]
) -> None:
    settings = settings_for("single")
    build_delivery(spec_for("byom_realtime_builtin"), settings)

    [pipeline] = pulumi_mocks.of_type(PIPELINE)
    source = stages(pulumi_mocks)[0]["actions"][0]
    assert source["provider"] == "S3"
    assert source["configuration"] == {
        "S3Bucket": settings.assets_bucket,
        "S3ObjectKey": f"pipelines/{PIPELINE_ID}/source.zip",
        "PollForSourceChanges": "false",
    }
    [store] = pipeline.inputs["artifactStores"]
    assert store["location"] == settings.assets_bucket
    assert store["encryptionKey"] == {"id": settings.assets_kms_key_arn, "type": "KMS"}


@pytest.mark.parametrize("mode", ["single", "multi"])
def test_a_delivery_stack_creates_no_role_and_runs_as_the_orchestrators_shared_roles(
    pulumi_mocks: PlanRecorder, spec_for: Callable[..., Any], settings_for: Callable[..., Any], mode: str
) -> None:
    """The provisioner writes delivery stacks and may create no role: each project runs as its
    environment's build role, the pipeline as the one CodePipeline role (components/orchestrator)."""
    build_delivery(spec_for("byom_realtime_builtin", mode), settings_for(mode))

    assert pulumi_mocks.of_type(ROLE) == [] and pulumi_mocks.of_type(ROLE_POLICY) == []
    roles = {project.inputs["name"]: project.inputs["serviceRole"] for project in pulumi_mocks.of_type(PROJECT)}
    environments = ["dev", "staging", "prod"] if mode == "multi" else ["dev"]
    assert roles == {
        f"mlops-deploy-{PIPELINE_ID}-{env}": f"arn:aws:iam::111111111111:role/mlops-orch-build-{env}"
        for env in environments
    }
    [pipeline] = pulumi_mocks.of_type(PIPELINE)
    assert pipeline.inputs["roleArn"] == "arn:aws:iam::111111111111:role/mlops-orch-codepipeline"


def test_every_project_runs_the_fixed_buildspec_from_the_runs_source_artifact(
    pulumi_mocks: PlanRecorder, spec_for: Callable[..., Any], settings_for: Callable[..., Any]
) -> None:
    build_delivery(spec_for("byom_realtime_builtin", "multi"), settings_for("multi"))

    for project in pulumi_mocks.of_type(PROJECT):
        assert project.inputs["source"] == {"type": "CODEPIPELINE", "buildspec": buildspec()}
        assert project.inputs["artifacts"] == {"type": "CODEPIPELINE"}


def test_no_build_variable_and_no_delivery_resource_carries_the_external_id(
    pulumi_mocks: PlanRecorder, spec_for: Callable[..., Any], settings_for: Callable[..., Any]
) -> None:
    settings = settings_for(
        "multi", deploy_role_external_id=EXTERNAL_ID, deploy_role_external_id_parameter=EXTERNAL_ID_PARAMETER
    )
    build_delivery(spec_for("byom_realtime_builtin", "multi"), settings)

    projects = pulumi_mocks.of_type(PROJECT)
    assert len(projects) == 3
    for project in projects:
        assert variables(project)["MLOPS_DEPLOY_ROLE_EXTERNAL_ID_PARAMETER"] == EXTERNAL_ID_PARAMETER
        assert "MLOPS_DEPLOY_ROLE_EXTERNAL_ID" not in variables(project)
        assert {v["type"] for v in project.inputs["environment"]["environmentVariables"]} == {"PLAINTEXT"}
    # Nothing the delivery stack would record in its state holds the value.
    assert EXTERNAL_ID not in json.dumps([r.as_dict() for r in pulumi_mocks.resources], default=str)


# -- the target program ------------------------------------------------------------------------------
def answer_kms_key(recorder: PlanRecorder) -> None:
    answer = recorder.call

    def call(args: Any) -> Any:
        if args.token == "aws:kms/getKey:getKey":
            return {"arn": "arn:aws:kms:us-east-1:222222222222:key/staging-key", "id": "k"}, []
        return answer(args)

    recorder.call = call  # type: ignore[method-assign]


def assume_role_of(recorder: PlanRecorder) -> dict[str, Any]:
    [provider] = recorder.of_type("pulumi:providers:aws")
    # Provider inputs travel as JSON; the external id makes the whole list a secret.
    roles = provider.inputs["assumeRoles"]
    [assume] = json.loads(roles["value"] if isinstance(roles, dict) else roles)
    result: dict[str, Any] = assume
    return result


def test_target_program_assumes_the_deploy_role_with_the_external_id_from_its_secure_parameter(
    pulumi_mocks: PlanRecorder,
    spec_for: Callable[..., Any],
    settings_for: Callable[..., Any],
    aws_credentials: None,
) -> None:
    answer_kms_key(pulumi_mocks)
    settings = settings_for("multi", deploy_role_external_id_parameter=EXTERNAL_ID_PARAMETER)
    with mock_aws():
        ssm = boto3.client("ssm", region_name="us-east-1")
        ssm.put_parameter(Name=EXTERNAL_ID_PARAMETER, Value=EXTERNAL_ID, Type="SecureString")
        program = target_program(spec_for("byom_realtime_builtin", "multi"), "staging", settings)
        # One read per run: the run's later programs (deletion: one per environment) reuse the value.
        ssm.delete_parameter(Name=EXTERNAL_ID_PARAMETER)
        assert deploy_role_external_id(settings) == EXTERNAL_ID
    pulumi.runtime.test(program)()

    assume = assume_role_of(pulumi_mocks)
    assert assume["externalId"] == EXTERNAL_ID
    assert assume["roleArn"] == DEPLOY_ROLES["staging"]


def test_a_missing_external_id_parameter_is_an_operator_problem_raised_before_pulumi_runs(
    spec_for: Callable[..., Any], settings_for: Callable[..., Any], aws_credentials: None
) -> None:
    settings = settings_for("multi", deploy_role_external_id_parameter=EXTERNAL_ID_PARAMETER)

    with mock_aws(), pytest.raises(ExternalIdUnavailable) as caught:
        target_program(spec_for("byom_realtime_builtin", "multi"), "staging", settings)

    assert caught.value.reason == "external-id-unavailable" and not caught.value.retryable
    assert EXTERNAL_ID_PARAMETER in caught.value.message and "ParameterNotFound" in caught.value.message


def test_target_program_deploys_through_the_environments_deploy_role_only(
    pulumi_mocks: PlanRecorder, spec_for: Callable[..., Any], settings_for: Callable[..., Any]
) -> None:
    answer_kms_key(pulumi_mocks)
    settings = settings_for("multi", deploy_role_external_id="orchestrator-7f3a")
    program = target_program(spec_for("byom_realtime_builtin", "multi"), "staging", settings)
    pulumi.runtime.test(program)()

    [provider] = pulumi_mocks.of_type("pulumi:providers:aws")
    assume = assume_role_of(pulumi_mocks)
    assert assume["externalId"] == "orchestrator-7f3a"
    assert assume["roleArn"] == DEPLOY_ROLES["staging"]
    assert assume["sessionName"] == f"mlops-{PIPELINE_ID}-staging"
    assert json.loads(provider.inputs["allowedAccountIds"]) == ["222222222222"]
    assert len(pulumi_mocks.of_type("aws:sagemaker/endpoint:Endpoint")) == 1
    # The baseline key is found through its alias, and its ARN (not the alias) lands in IAM policies.
    policy = json.dumps(policy_of(pulumi_mocks.named(ROLE_POLICY, f"{PIPELINE_ID}-sagemaker-policy")))
    assert "arn:aws:kms:us-east-1:222222222222:key/staging-key" in policy
    assert "alias/" not in policy
