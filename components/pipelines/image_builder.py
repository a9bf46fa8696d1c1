"""Building a custom image from a Dockerfile zip in the assets bucket and pushing it to ECR, once per request.

A privileged CodeBuild project builds and pushes the image; a state machine runs the build on
deploy (`codebuild:startBuild.sync`, see run_on_deploy) and the deploy waits for it, so pipelines
deployed next can use the image.
"""

from __future__ import annotations

import json
from typing import Any, cast

import pulumi
import pulumi_aws as aws
import yaml

from components import policies
from components.pipelines import roles
from components.pipelines.base import PipelineComponent, PipelineContext
from components.pipelines.run_on_deploy import CODEBUILD_SYNC_RULE, RunOnDeploy, sync_rule_access, task_definition
from mlops_spec import naming
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
]


# -- plain decisions -------------------------------------------------------------------------
def registry(account_id: str, region: str) -> str:
    """The ECR registry host of an account and region."""
    suffix = ".cn" if region.startswith("cn-") else ""
    return f"{account_id}.dkr.ecr.{region}.amazonaws.com{suffix}"


def is_orchestrator_repository(repository: str, context: PipelineContext) -> bool:
    """Whether the request targets the orchestrator's own custom-algorithms repository (which exists)."""
    return repository == naming.OrchestratorNames(context.account_id, context.region).ecr_repository


def buildspec(repository_uri: str, image_tag: str) -> str:
    """Log in to the registry, build the zip's Dockerfile, push `repository_uri:image_tag`.

    Repository names and tags are validated (letters, digits, `._/-`), so they are safe in commands.
    """
    image = f"{repository_uri}:{image_tag}"
    registry_host = repository_uri.split("/", 1)[0]
    spec = {
        "version": 0.2,
        "phases": {
            "pre_build": {
                "commands": [
                    f"aws ecr get-login-password --region $AWS_REGION"
                    f" | docker login --username AWS --password-stdin {registry_host}"
                ]
            },
            # Build and push in one phase: a failed build must never push.
            "build": {"commands": [f"docker build -t {image} .", f"docker push {image}"]},
        },
    }
    return yaml.safe_dump(spec, sort_keys=False, width=1000)


def build_role_statements(
    context: PipelineContext,
    assets_bucket: str,
    source_key: str,
    repository_arn: str,
    log_group_arn: str,
    key_arns: list[str],
    assets_key: str | None,
) -> list[Statement]:
    """Read the build context zip, push to one repository, write the project's logs, use the keys."""
    statements = [
        policies.statement(["s3:GetObject", "s3:GetObjectVersion"], [f"arn:aws:s3:::{assets_bucket}/{source_key}"]),
        policies.statement(ECR_PUSH_ACTIONS, [repository_arn]),
        # GetAuthorizationToken has no resource-level permissions: AWS requires "*".
        policies.statement(["ecr:GetAuthorizationToken"], "*"),
        policies.statement(["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_group_arn}:*"]),
        roles.kms_use(sorted(set(key_arns))),
    ]
    if assets_key:
        # The zip sits in the assets bucket, encrypted with the orchestrator's key.
        statements.append(policies.statement(["kms:Decrypt"], [assets_key]))
    return statements


def repository_options(base: pulumi.ResourceOptions) -> pulumi.ResourceOptions:
    """`base` plus what the ECR repository a pipeline creates needs: it is retained when the pipeline is destroyed.

    The repository always holds the pushed image, so deleting it fails (RepositoryNotEmptyException)
    and would block destroying the stack; and serving pipelines deployed from the image may still use
    it. Pulumi forgets the repository instead; remove it (and its images) by hand once unused.
    """
    return pulumi.ResourceOptions.merge(base, pulumi.ResourceOptions(retain_on_delete=True))


def build_machine_statements(context: PipelineContext, project_arn: str) -> list[Statement]:
    """Start, watch and stop builds of this project only."""
    return [
        policies.statement(["codebuild:BatchGetBuilds", "codebuild:StartBuild", "codebuild:StopBuild"], [project_arn]),
        sync_rule_access(context, CODEBUILD_SYNC_RULE),
    ]


def build_definition(project_name: str) -> dict[str, Any]:
    return task_definition(
        f"Build and push the image of {project_name}",
        "arn:aws:states:::codebuild:startBuild.sync",
        {"ProjectName": project_name},
        (BUILD_TIMEOUT_MINUTES + 30) * 60,
    )


# -- the component ---------------------------------------------------------------------------
class ImageBuilder(PipelineComponent):
    """An ECR repository (unless the orchestrator's), a CodeBuild project, and one build per request."""

    TYPE_TOKEN = "mlops:pipelines:ImageBuilder"

    def __init__(
        self, name: str, spec: PipelineSpec, context: PipelineContext, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__(name, spec, context, opts)
        self.image_spec = self.expect_spec(spec, ImageBuilderSpec)
        repository_uri, repository_arn = self._repository(name)
        project = self._project(name, repository_uri, repository_arn)
        run = RunOnDeploy(
            f"{name}-run",
            context=context,
            machine_name=self.physical_name("image-build-run"),
            definition=project.name.apply(lambda project_name: json.dumps(build_definition(project_name))),
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
                "image_uri": repository_uri.apply(lambda uri: f"{uri}:{image_tag}"),
                "repository_url": repository_uri,
                "build_project_name": project.name,
                "state_machine_arn": run.state_machine_arn,
            }
        )

    def _repository(self, name: str) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        """(repository URI, repository ARN): the orchestrator's repository, or a new one for this image."""
        context, spec = self.context, self.image_spec
        if is_orchestrator_repository(spec.ecr_repo_name, context):
            uri = f"{registry(context.account_id, context.region)}/{spec.ecr_repo_name}"
            return pulumi.Output.from_input(uri), pulumi.Output.from_input(
                context.arn("ecr", f"repository/{spec.ecr_repo_name}")
            )
        repository = aws.ecr.Repository(
            f"{name}-repository",
            name=spec.ecr_repo_name,
            encryption_configurations=[{"encryption_type": "KMS", "kms_key": context.kms_key_arn}],
            image_scanning_configuration={"scan_on_push": True},
            # A tag always names the same image: a rebuild needs a new tag.
            image_tag_mutability="IMMUTABLE",
            tags=self.tags,
            # Kept on destroy: it holds the image, which serving pipelines may still use.
            opts=repository_options(self.child),
        )
        return repository.repository_url, repository.arn

    def _build_role(
        self, name: str, repository_arn: pulumi.Output[str], logs: aws.cloudwatch.LogGroup
    ) -> roles.ExecutionRole:
        """The role CodeBuild runs the build under: read the build context, push to the one repository."""
        context, source_key = self.context, self.image_spec.custom_algorithm_docker
        statements = pulumi.Output.all(
            bucket=context.assets_bucket,
            repository=repository_arn,
            logs=logs.arn,
            key=context.kms_key_arn,
            assets_key=context.assets_kms_key_arn,
        ).apply(
            lambda v: build_role_statements(
                context, v["bucket"], source_key, v["repository"], v["logs"], [v["key"]], v["assets_key"]
            )
        )
        return roles.ExecutionRole(
            f"{name}-build-role",
            role_name=self.physical_name("build-role", roles.IAM_ROLE_NAME_LIMIT),
            service="codebuild.amazonaws.com",
            account_id=context.account_id,
            statements=statements,
            tags=self.tags,
            opts=self.child,
        )

    def _project(
        self, name: str, repository_uri: pulumi.Output[str], repository_arn: pulumi.Output[str]
    ) -> aws.codebuild.Project:
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
                "buildspec": repository_uri.apply(lambda uri: buildspec(uri, spec.image_tag)),
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
