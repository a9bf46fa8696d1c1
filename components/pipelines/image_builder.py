"""Building a custom image from a Dockerfile zip in the assets bucket and pushing it to ECR, once per request.

A privileged CodeBuild project builds and pushes the image; a state machine runs the build on
deploy (`codebuild:startBuild.sync`, see run_on_deploy) and the deploy waits for it, so pipelines
deployed next can use the image.

One repository per image name, shared by its tags: the repository is not a resource of any
pipeline's stack (a stack owning it would make the next tag's stack, or a re-created pipeline,
fail with "already exists"). The build creates it when it is missing, with the project's settings
(KMS encryption with the environment key, scan on push, immutable tags), and uses it as it is
otherwise; it outlives every pipeline that pushed to it. A tag that is already in the repository is
not built again: tags are immutable, so it already names the image the request asks for.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_aws as aws
import yaml

from components import policies
from components.pipelines import roles
from components.pipelines.base import PipelineComponent, PipelineContext
from components.pipelines.run_on_deploy import CODEBUILD_SYNC_RULE, RunOnDeploy, sync_rule_access, task_definition
from mlops_spec import naming, partitions
from mlops_spec.base import PipelineSpec
from mlops_spec.common import Environment
from mlops_spec.pipelines.image_builder import ImageBuilderSpec

Statement = policies.Statement

BUILD_IMAGE = "aws/codebuild/amazonlinux2-x86_64-standard:5.0"
BUILD_COMPUTE = "BUILD_GENERAL1_MEDIUM"
BUILD_TIMEOUT_MINUTES = 60
ECR_PUSH_ACTIONS = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:GetDownloadUrlForLayer",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
    # Whether the requested tag is already there (then it is not rebuilt).
    "ecr:DescribeImages",
]
ECR_LOGIN = "aws ecr get-login-password --region $AWS_REGION | docker login --username AWS --password-stdin"
# Finding the repository, and creating it (with its tags) when it is missing.
ECR_CREATE_ACTIONS = ["ecr:CreateRepository", "ecr:DescribeRepositories", "ecr:TagResource"]
# The pipeline a repository was first created by is not one of its tags: the repository is shared.
PIPELINE_ONLY_TAGS = ("mlops:pipeline-id",)


@dataclass(frozen=True)
class NewRepository:
    """How the build creates the image's repository when it is missing (the project's defaults)."""

    kms_key_arn: str
    tags: dict[str, str]


# -- plain decisions -------------------------------------------------------------------------
def registry(account_id: str, region: str) -> str:
    """The ECR registry host of an account and region."""
    return partitions.ecr_registry(account_id, region)


def is_orchestrator_repository(repository: str, context: PipelineContext) -> bool:
    """Whether the request targets the orchestrator's own custom-algorithms repository (which exists)."""
    return repository == naming.OrchestratorNames(context.account_id, context.region).ecr_repository


def create_repository_command(name: str, settings: NewRepository) -> str:
    """The repository named `name`, created when it does not exist yet.

    Idempotent and safe when two builds race: describe, else create, else (another build created it
    in between) describe again; any other failure of create fails the build with its message.
    """
    describe = f"aws ecr describe-repositories --repository-names {name} >/dev/null"
    encryption = json.dumps({"encryptionType": "KMS", "kmsKey": settings.kms_key_arn}, sort_keys=True)
    tags = json.dumps([{"Key": key, "Value": value} for key, value in sorted(settings.tags.items())])
    create = (
        f"aws ecr create-repository --repository-name {name} --image-tag-mutability IMMUTABLE"
        " --image-scanning-configuration scanOnPush=true"
        f" --encryption-configuration {shlex.quote(encryption)} --tags {shlex.quote(tags)} >/dev/null"
    )
    return f"{describe} 2>&1 || {create} || {describe}"


def buildspec(repository_uri: str, image_tag: str, new_repository: NewRepository | None = None) -> str:
    """Create the repository if needed (`new_repository` given), log in to the registry, and unless the
    tag is already there, build the zip's Dockerfile and push `repository_uri:image_tag`.

    Repository names and tags are validated (letters, digits, `._/-`), so they are safe in commands.
    """
    image = f"{repository_uri}:{image_tag}"
    registry_host, _, name = repository_uri.partition("/")
    login = f"{ECR_LOGIN} {registry_host}"
    pre_build = [create_repository_command(name, new_repository), login] if new_repository else [login]
    # Build and push in one command: a failed build must never push.
    build_and_push = (
        f"if aws ecr describe-images --repository-name {name} --image-ids imageTag={image_tag} >/dev/null 2>&1;"
        f" then echo '{image} is already in the repository (tags are immutable): not rebuilt';"
        f" else docker build -t {image} . && docker push {image}; fi"
    )
    spec = {"version": 0.2, "phases": {"pre_build": {"commands": pre_build}, "build": {"commands": [build_and_push]}}}
    return yaml.safe_dump(spec, sort_keys=False, width=1000)


def repository_tags(tags: dict[str, str]) -> dict[str, str]:
    """The tags a repository is created with: the pipeline's, less those naming one pipeline."""
    return {key: value for key, value in tags.items() if key not in PIPELINE_ONLY_TAGS}


def build_role_statements(
    context: PipelineContext,
    assets_bucket: str,
    source_key: str,
    repository_arn: str,
    log_group_arn: str,
    key_arns: list[str],
    assets_key: str | None,
    creates_repository: bool = True,
) -> list[Statement]:
    """Read the build context zip, push to (and, unless it is the orchestrator's, create) one
    repository, write the project's logs, use the keys."""
    source = f"arn:{context.partition}:s3:::{assets_bucket}/{source_key}"
    statements = [
        policies.statement(["s3:GetObject", "s3:GetObjectVersion"], [source]),
        policies.statement(ECR_PUSH_ACTIONS, [repository_arn]),
        # The repository's ARN is known by its name before it exists: creating it stays scoped to it.
        *([policies.statement(ECR_CREATE_ACTIONS, [repository_arn])] if creates_repository else []),
        # GetAuthorizationToken has no resource-level permissions: AWS requires "*".
        policies.statement(["ecr:GetAuthorizationToken"], "*"),
        policies.statement(["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_group_arn}:*"]),
        roles.kms_use(sorted(set(key_arns))),
    ]
    if assets_key:
        # The zip sits in the assets bucket, encrypted with the orchestrator's key.
        statements.append(policies.statement(["kms:Decrypt"], [assets_key]))
    return statements


def build_machine_statements(context: PipelineContext, project_arn: str) -> list[Statement]:
    """Start, watch and stop builds of this project only."""
    return [
        policies.statement(["codebuild:BatchGetBuilds", "codebuild:StartBuild", "codebuild:StopBuild"], [project_arn]),
        sync_rule_access(context, CODEBUILD_SYNC_RULE),
    ]


def build_definition(project_name: str, partition: str = "aws") -> dict[str, Any]:
    return task_definition(
        f"Build and push the image of {project_name}",
        partitions.arn(partition, "states", "codebuild:startBuild.sync"),
        {"ProjectName": project_name},
        (BUILD_TIMEOUT_MINUTES + 30) * 60,
    )


# -- the component ---------------------------------------------------------------------------
class ImageBuilder(PipelineComponent):
    """A CodeBuild project and one build per request, pushing to the image's repository (created by the
    build if missing, shared by the image's tags, owned by no stack)."""

    TYPE_TOKEN = "mlops:pipelines:ImageBuilder"

    def __init__(
        self, name: str, spec: PipelineSpec, context: PipelineContext, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__(name, spec, context, opts)
        self.image_spec = self.expect_spec(spec, ImageBuilderSpec)
        repository_uri, repository_arn = self._repository()
        project = self._project(name, repository_uri, repository_arn)
        partition = context.partition
        run = RunOnDeploy(
            f"{name}-run",
            context=context,
            machine_name=self.physical_name("image-build-run"),
            definition=project.name.apply(lambda project_name: json.dumps(build_definition(project_name, partition))),
            job_statements=project.arn.apply(lambda arn: build_machine_statements(context, arn)),
            run_name=self.image_spec.run_name(cast(Environment, context.environment), "build"),
            # Pipelines deployed next expect the image in the registry.
            wait=True,
            tags=self.tags,
            opts=self.child,
        )
        image_tag = self.image_spec.image_tag
        self.finish(
            {
                "image_uri": pulumi.Output.from_input(f"{repository_uri}:{image_tag}"),
                "repository_url": pulumi.Output.from_input(repository_uri),
                "build_project_name": project.name,
                "state_machine_arn": run.state_machine_arn,
            }
        )

    def _repository(self) -> tuple[str, str]:
        """(repository URI, repository ARN) of the image's repository, derived from its name."""
        context, name = self.context, self.image_spec.ecr_repo_name
        return f"{registry(context.account_id, context.region)}/{name}", context.arn("ecr", f"repository/{name}")

    def _buildspec(self, repository_uri: str) -> pulumi.Output[str]:
        """The build's commands; they create the repository when it is missing, unless it is the
        orchestrator's own (which exists, and is not this pipeline's to create)."""
        spec, context = self.image_spec, self.context
        if is_orchestrator_repository(spec.ecr_repo_name, context):
            return pulumi.Output.from_input(buildspec(repository_uri, spec.image_tag))
        tags = repository_tags(self.tags)
        return pulumi.Output.from_input(context.kms_key_arn).apply(
            lambda key: buildspec(repository_uri, spec.image_tag, NewRepository(key, tags))
        )

    def _build_role(self, name: str, repository_arn: str, logs: aws.cloudwatch.LogGroup) -> roles.ExecutionRole:
        """The role CodeBuild runs the build under: read the build context, create (if missing) and push to
        the one repository."""
        context, source_key = self.context, self.image_spec.custom_algorithm_docker
        creates = not is_orchestrator_repository(self.image_spec.ecr_repo_name, context)
        statements = pulumi.Output.all(
            bucket=context.assets_bucket,
            repository=repository_arn,
            logs=logs.arn,
            key=context.kms_key_arn,
            assets_key=context.assets_kms_key_arn,
        ).apply(
            lambda v: build_role_statements(
                context, v["bucket"], source_key, v["repository"], v["logs"], [v["key"]], v["assets_key"], creates
            )
        )
        return roles.ExecutionRole(
            f"{name}-build-role",
            role_name=self.physical_name("build-role", roles.IAM_ROLE_NAME_LIMIT),
            service="codebuild.amazonaws.com",
            account_id=context.account_id,
            permissions_boundary=context.permissions_boundary,
            statements=statements,
            tags=self.tags,
            opts=self.child,
        )

    def _project(self, name: str, repository_uri: str, repository_arn: str) -> aws.codebuild.Project:
        """The privileged CodeBuild project that builds the image from the zip and pushes it."""
        context, spec = self.context, self.image_spec
        project_name = self.physical_name("image-build")
        logs = self.log_group(
            f"{name}-build-logs", name=f"/aws/codebuild/{project_name}", kms_key_id=context.kms_key_arn, tags=self.tags
        )
        role = self._build_role(name, repository_arn, logs)
        return aws.codebuild.Project(
            f"{name}-build",
            name=project_name,
            description=f"Builds {spec.ecr_repo_name}:{spec.image_tag} from {spec.custom_algorithm_docker}",
            service_role=role.arn,
            source={
                "type": "S3",
                "location": pulumi.Output.concat(context.assets_bucket, "/", spec.custom_algorithm_docker),
                "buildspec": self._buildspec(repository_uri),
            },
            artifacts={"type": "NO_ARTIFACTS"},
            environment={
                "type": "LINUX_CONTAINER",
                "compute_type": BUILD_COMPUTE,
                "image": BUILD_IMAGE,
                # Docker builds need the Docker daemon, which only privileged builds may run.
                "privileged_mode": True,
            },
            encryption_key=context.kms_key_arn,
            build_timeout=BUILD_TIMEOUT_MINUTES,
            logs_config={
                "cloudwatch_logs": {"status": "ENABLED", "group_name": logs.name},
                "s3_logs": {"status": "DISABLED"},
            },
            tags=self.tags,
            opts=self.child_opts(depends_on=[role]),
        )
