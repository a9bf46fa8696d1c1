"""DeliveryPipeline: one pipeline's CodePipeline (source -> deploy per environment, approvals between).

Changes when the delivery pipeline's resources or their wiring change; its stages and names are
decided in stages.py and names.py. It creates no role: its builds and the pipeline run as the roles
the orchestrator stack creates (components/orchestrator/delivery_roles.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.base import MlopsComponent
from components.delivery.names import build_log_group, project_name
from components.delivery.stages import (
    SOURCE_ARTIFACT,
    Action,
    Stage,
    approval_message,
    buildspec,
    delivery_stages,
    deploy_environments,
    previous_environment,
)
from mlops_spec.base import PipelineSpec
from mlops_spec.naming import OrchestratorNames, codepipeline_name, source_key
from mlops_spec.partitions import partition_of

# Deploy builds end within this; the provisioner treats older stack locks as left by killed runs.
BUILD_TIMEOUT_MINUTES = 60
# Deploy build logs are kept for 90 days, not the orchestrator's year: as they always were, so that
# upgrading changes no existing log group.
BUILD_LOG_RETENTION_DAYS = 90


@dataclass
class DeliveryPipelineArgs:
    spec: PipelineSpec
    mode: str
    region: str
    account_id: str
    """The orchestrator's account: the pipeline, its builds and their roles live there."""
    environment_accounts: Mapping[str, str]
    assets_bucket: pulumi.Input[str]
    assets_kms_key_arn: pulumi.Input[str]
    notification_topic_arn: pulumi.Input[str]
    provisioner_image_uri: pulumi.Input[str]
    build_environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Provisioner settings handed to `mlops deploy` (the MLOPS_* variables)."""
    orchestrator_environment: str = "dev"
    build_timeout_minutes: int = BUILD_TIMEOUT_MINUTES
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def partition(self) -> str:
        """The ARN partition of the orchestrator's region (aws, aws-cn, aws-us-gov)."""
        return partition_of(self.region)

    @property
    def orchestrator(self) -> OrchestratorNames:
        return OrchestratorNames(self.account_id, self.region)

    def build_role_arn(self, env: str) -> str:
        """The role every pipeline's deploy builds of `env` run as (the orchestrator stack creates it)."""
        return self.orchestrator.role_arn(f"build-{env}", self.partition)

    @property
    def codepipeline_role_arn(self) -> str:
        return self.orchestrator.role_arn("codepipeline", self.partition)


class DeliveryPipeline(MlopsComponent):
    """The CodePipeline that promotes one pipeline request through its environments.

    Its state changes reach the status function through the orchestrator's one event rule for all
    `mlops-*` pipelines (one rule per pipeline would outgrow the function's resource policy).

    One CodeBuild project per environment (not one shared project with overrides), each running as
    its environment's build role, which may assume exactly that environment's deploy role: a dev
    build can never touch prod, and no caller may bring a buildspec or variables of its own.
    """

    def __init__(self, name: str, args: DeliveryPipelineArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:delivery:DeliveryPipeline", name, opts)
        self.args = args
        self.stages = delivery_stages(args.spec, args.mode, home=args.orchestrator_environment)
        environments = deploy_environments(self.stages)
        self.pipeline_name = codepipeline_name(args.spec.pipeline_id)
        self.projects = {env: self._project(env) for env in environments}
        self.pipeline = self._pipeline(name)
        self.outputs: dict[str, Any] = {
            "pipeline_name": self.pipeline.name,
            "pipeline_arn": self.pipeline.arn,
            "stages": [stage.name for stage in self.stages],
            "environments": environments,
            "projects": {env: project.name for env, project in self.projects.items()},
        }
        self.register_outputs(self.outputs)

    def _pipeline(self, name: str) -> aws.codepipeline.Pipeline:
        a = self.args
        return aws.codepipeline.Pipeline(
            f"{name}-pipeline",
            name=self.pipeline_name,
            role_arn=a.codepipeline_role_arn,
            pipeline_type="V2",
            execution_mode="SUPERSEDED",
            artifact_stores=[
                aws.codepipeline.PipelineArtifactStoreArgs(
                    location=a.assets_bucket,
                    type="S3",
                    encryption_key=aws.codepipeline.PipelineArtifactStoreEncryptionKeyArgs(
                        id=a.assets_kms_key_arn, type="KMS"
                    ),
                )
            ],
            stages=[self._stage_args(stage) for stage in self.stages],
            tags=a.tags,
            opts=self.child,
        )

    # -- builds -----------------------------------------------------------------------------------------
    def _project(self, env: str) -> aws.codebuild.Project:
        a = self.args
        pipeline_id = a.spec.pipeline_id
        log_group = self.log_group(
            f"{pipeline_id}-{env}-build-logs",
            name=build_log_group(pipeline_id, env),
            kms_key_id=a.assets_kms_key_arn,
            tags=a.tags,
            retention_in_days=BUILD_LOG_RETENTION_DAYS,
        )
        variables = {**a.build_environment, "PIPELINE_ID": pipeline_id, "TARGET_ENV": env}
        return aws.codebuild.Project(
            f"{pipeline_id}-{env}-build",
            name=project_name(pipeline_id, env),
            description=f"pulumi up of {pipeline_id} in {env}",
            service_role=a.build_role_arn(env),
            build_timeout=a.build_timeout_minutes,
            encryption_key=a.assets_kms_key_arn,
            source=aws.codebuild.ProjectSourceArgs(type="CODEPIPELINE", buildspec=buildspec()),
            artifacts=aws.codebuild.ProjectArtifactsArgs(type="CODEPIPELINE"),
            environment=aws.codebuild.ProjectEnvironmentArgs(
                compute_type="BUILD_GENERAL1_SMALL",
                image=a.provisioner_image_uri,
                type="LINUX_CONTAINER",
                # The image is in the orchestrator's private ECR: pull it with the build's own role.
                image_pull_credentials_type="SERVICE_ROLE",
                environment_variables=[
                    aws.codebuild.ProjectEnvironmentEnvironmentVariableArgs(name=key, value=value, type="PLAINTEXT")
                    for key, value in sorted(variables.items())
                ],
            ),
            logs_config=aws.codebuild.ProjectLogsConfigArgs(
                cloudwatch_logs=aws.codebuild.ProjectLogsConfigCloudwatchLogsArgs(
                    group_name=log_group.name, status="ENABLED"
                )
            ),
            tags=a.tags,
            opts=self.child,
        )

    # -- stages -----------------------------------------------------------------------------------------
    def _stage_args(self, stage: Stage) -> aws.codepipeline.PipelineStageArgs:
        return aws.codepipeline.PipelineStageArgs(
            name=stage.name, actions=[self._action_args(action) for action in stage.actions]
        )

    def _action_args(self, action: Action) -> aws.codepipeline.PipelineStageActionArgs:
        a = self.args
        env = action.environment or ""
        if action.kind == "source":
            return _aws_action(
                action,
                "Source",
                "S3",
                output_artifacts=[SOURCE_ARTIFACT],
                configuration={
                    "S3Bucket": a.assets_bucket,
                    "S3ObjectKey": source_key(a.spec.pipeline_id),
                    # The provisioner starts runs itself; polling would start duplicates.
                    "PollForSourceChanges": "false",
                },
            )
        if action.kind == "approval":
            previous = previous_environment(deploy_environments(self.stages), env)
            account = a.environment_accounts.get(env, "?")
            return _aws_action(
                action,
                "Approval",
                "Manual",
                configuration={
                    "NotificationArn": a.notification_topic_arn,
                    "CustomData": approval_message(a.spec.pipeline_id, env, account, previous),
                },
            )
        return _aws_action(
            action,
            "Build",
            "CodeBuild",
            input_artifacts=[SOURCE_ARTIFACT],
            configuration={"ProjectName": self.projects[env].name},
        )


def _aws_action(
    action: Action, category: str, provider: str, **settings: Any
) -> aws.codepipeline.PipelineStageActionArgs:
    """An action of an AWS-owned provider (version 1 of each)."""
    return aws.codepipeline.PipelineStageActionArgs(
        name=action.name, category=category, owner="AWS", provider=provider, version="1", **settings
    )
