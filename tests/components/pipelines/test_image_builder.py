"""Image builder: the privileged CodeBuild project and its buildspec (which creates the image's shared
repository when it is missing), its role, and the build on deploy."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
import yaml

from components.pipelines import image_builder
from components.pipelines.base import PipelineComponent, PipelineContext
from components.pipelines.training import ModelTraining
from mlops_cli.mocks import PlanRecorder, policy_of
from mlops_spec.request import parse_pipeline_request
from tests.components.support import ASSETS_KEY, ENV_KEY, build, make_context, monitor_request, only

REGISTRY = "111111111111.dkr.ecr.us-east-1.amazonaws.com"
REPOSITORY = "aws:ecr/repository:Repository"
PROJECT = "aws:codebuild/project:Project"


def builder_request(**overrides: Any) -> dict[str, Any]:
    return {
        "pipeline_type": "byom_image_builder",
        "custom_algorithm_docker": "docker/churn-serving.zip",
        "ecr_repo_name": "churn-serving",
        "image_tag": "v1",
        **overrides,
    }


def context() -> PipelineContext:
    return make_context(assets_kms_key_arn=ASSETS_KEY)


def deploy(body: dict[str, Any], expected_image: str) -> None:
    def check(outputs: dict[str, Any]) -> None:
        assert outputs["image_uri"] == expected_image
        assert outputs["repository_url"] == expected_image.rsplit(":", 1)[0]

    build(parse_pipeline_request(body), context(), check=check)


@pytest.fixture(scope="module")
def built() -> PlanRecorder:
    recorder = PlanRecorder()
    recorder.install(project="mlops", stack="dev")
    deploy(builder_request(), f"{REGISTRY}/churn-serving:v1")
    return recorder


# -- plain decisions -------------------------------------------------------------------------
def test_buildspec_builds_and_pushes_the_requested_tag_unless_it_is_there() -> None:
    spec = yaml.safe_load(image_builder.buildspec(f"{REGISTRY}/churn-serving", "v1"))
    assert spec["version"] == 0.2
    [login] = spec["phases"]["pre_build"]["commands"]
    assert login.endswith(f"docker login --username AWS --password-stdin {REGISTRY}")
    [build] = spec["phases"]["build"]["commands"]
    assert build.startswith(
        "if aws ecr describe-images --repository-name churn-serving --image-ids imageTag=v1 >/dev/null 2>&1;"
    )
    assert build.endswith(
        f"else docker build -t {REGISTRY}/churn-serving:v1 . && docker push {REGISTRY}/churn-serving:v1; fi"
    )


def test_only_the_orchestrators_repository_is_reused() -> None:
    assert image_builder.is_orchestrator_repository("mlops-custom-algorithms", context())
    assert not image_builder.is_orchestrator_repository("churn-serving", context())


def test_a_repository_is_created_with_the_pipelines_tags_but_not_its_id() -> None:
    tags = {"team": "retention", "mlops:pipeline-id": "v1-churn-serving-image-builder", "mlops:owner": "ana"}
    assert image_builder.repository_tags(tags) == {"team": "retention", "mlops:owner": "ana"}


def test_china_regions_have_their_own_registry_domain() -> None:
    assert image_builder.registry("111111111111", "cn-north-1").endswith(".amazonaws.com.cn")


# -- the component ---------------------------------------------------------------------------
def test_no_stack_owns_the_repository_the_build_creates_it_with_the_project_defaults(built: PlanRecorder) -> None:
    assert built.of_type(REPOSITORY) == []
    project = only(built, PROJECT).inputs
    [create, login] = yaml.safe_load(project["source"]["buildspec"])["phases"]["pre_build"]["commands"]
    assert create.startswith("aws ecr describe-repositories --repository-names churn-serving >/dev/null 2>&1 || ")
    assert "--image-tag-mutability IMMUTABLE --image-scanning-configuration scanOnPush=true" in create
    encryption = json.dumps({"encryptionType": "KMS", "kmsKey": ENV_KEY}, sort_keys=True)
    assert f"--encryption-configuration '{encryption}'" in create
    assert '{"Key": "mlops:pipeline-type", "Value": "byom_image_builder"}' in create
    assert "mlops:pipeline-id" not in create
    assert login.startswith("aws ecr get-login-password")


def test_the_engine_is_told_to_retain_nothing(pulumi_mocks: PlanRecorder, monkeypatch: pytest.MonkeyPatch) -> None:
    """The mock engine records no options: watch the registrations it receives instead."""
    monitor = pulumi.runtime.settings.get_monitor()
    register = monitor.RegisterResource
    retained: dict[str, bool] = {}

    def recording(request: Any) -> Any:
        retained[request.name] = request.retainOnDelete
        return register(request)

    monkeypatch.setattr(monitor, "RegisterResource", recording)
    deploy(builder_request(), f"{REGISTRY}/churn-serving:v1")
    assert len(retained) > 5
    assert [name for name, retain in retained.items() if retain] == []


def test_two_tags_of_one_image_share_one_repository_and_declare_none(pulumi_mocks: PlanRecorder) -> None:
    deploy(builder_request(), f"{REGISTRY}/churn-serving:v1")
    deploy(builder_request(image_tag="v2"), f"{REGISTRY}/churn-serving:v2")
    assert pulumi_mocks.of_type(REPOSITORY) == []
    assert pulumi_mocks.duplicates == []
    pushed = [
        yaml.safe_load(p.inputs["source"]["buildspec"])["phases"]["build"]["commands"][0]
        for p in pulumi_mocks.of_type(PROJECT)
    ]
    assert [command.rsplit("docker push ", 1)[1] for command in pushed] == [
        f"{REGISTRY}/churn-serving:v1; fi",
        f"{REGISTRY}/churn-serving:v2; fi",
    ]


def test_project_builds_the_zip_privileged_and_encrypted(built: PlanRecorder) -> None:
    project = only(built, PROJECT).inputs
    assert project["environment"]["privilegedMode"] is True
    assert project["source"]["type"] == "S3"
    assert project["source"]["location"] == "mlops-assets/docker/churn-serving.zip"
    assert project["encryptionKey"] == ENV_KEY
    assert project["logsConfig"]["cloudwatchLogs"]["status"] == "ENABLED"
    commands = yaml.safe_load(project["source"]["buildspec"])["phases"]["build"]["commands"]
    assert commands[-1].endswith(f"&& docker push {REGISTRY}/churn-serving:v1; fi")
    assert len(project["name"]) <= 63
    assert project["tags"]["mlops:pipeline-type"] == "byom_image_builder"


def test_build_role_pushes_to_that_repository_and_reads_that_zip_only(built: PlanRecorder) -> None:
    trust = json.loads(
        built.named("aws:iam/role:Role", "v1-churn-serving-image-builder-build-role").inputs["assumeRolePolicy"]
    )
    assert trust["Statement"][0]["Principal"] == {"Service": "codebuild.amazonaws.com"}
    policy = policy_of(built.named("aws:iam/rolePolicy:RolePolicy", "v1-churn-serving-image-builder-build-role-policy"))
    by_action = {action: s["Resource"] for s in policy["Statement"] for action in s["Action"]}
    repository = ["arn:aws:ecr:us-east-1:111111111111:repository/churn-serving"]
    for action in ("ecr:PutImage", "ecr:DescribeImages", "ecr:CreateRepository", "ecr:TagResource"):
        assert by_action[action] == repository, action
    assert by_action["s3:GetObject"] == ["arn:aws:s3:::mlops-assets/docker/churn-serving.zip"]
    assert by_action["kms:Decrypt"] == [ASSETS_KEY]
    wide = [s["Action"] for s in policy["Statement"] if s["Resource"] == "*"]
    assert wide == [["ecr:GetAuthorizationToken"]]


def test_the_build_runs_once_per_request_and_the_deploy_waits_for_it(built: PlanRecorder) -> None:
    [machine] = built.of_type("aws:sfn/stateMachine:StateMachine")
    state = json.loads(machine.inputs["definition"])["States"]["RunJob"]
    assert state["Resource"] == "arn:aws:states:::codebuild:startBuild.sync"
    assert state["Parameters"] == {"ProjectName": only(built, PROJECT).inputs["name"]}
    [invocation] = built.of_type("aws:lambda/invocation:Invocation")
    assert json.loads(invocation.inputs["input"])["wait"] is True


def test_the_orchestrators_repository_is_used_not_created(pulumi_mocks: PlanRecorder) -> None:
    deploy(
        builder_request(ecr_repo_name="mlops-custom-algorithms", image_tag="v2"),
        f"{REGISTRY}/mlops-custom-algorithms:v2",
    )
    assert not pulumi_mocks.of_type(REPOSITORY)
    phases = yaml.safe_load(only(pulumi_mocks, PROJECT).inputs["source"]["buildspec"])["phases"]
    [login] = phases["pre_build"]["commands"]  # no create: the orchestrator's repository exists
    assert login.startswith("aws ecr get-login-password")
    assert phases["build"]["commands"][0].endswith(f"docker push {REGISTRY}/mlops-custom-algorithms:v2; fi")
    builder_role = "v2-mlops-custom-algorithms-image-builder-build-role-policy"
    policy = policy_of(pulumi_mocks.named("aws:iam/rolePolicy:RolePolicy", builder_role))
    actions = {action for s in policy["Statement"] for action in s["Action"]}
    assert "ecr:PutImage" in actions and "ecr:CreateRepository" not in actions


@pytest.mark.parametrize(
    ("component", "message"),
    [
        (image_builder.ImageBuilder, "ImageBuilder expects an ImageBuilderSpec, got DataQualityMonitorSpec"),
        (ModelTraining, "ModelTraining expects a TrainingSpec, got DataQualityMonitorSpec"),
    ],
)
def test_a_component_refuses_another_types_spec_by_name(
    pulumi_mocks: PlanRecorder, component: type[PipelineComponent], message: str
) -> None:
    spec = parse_pipeline_request(monitor_request("byom_data_quality_monitor")).for_env("dev")

    @pulumi.runtime.test
    def program() -> None:
        with pytest.raises(TypeError, match=f"^{message}$"):
            component("wrong", spec, context())

    program()
