"""DeliveryPipeline: one pipeline's CodePipeline (source -> deploy per environment, approvals between).

Changes when the delivery pipeline's resources or their wiring change; its stages, names and
permissions are decided in stages.py, names.py and access.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components import policies
from components.base import MlopsComponent
from components.delivery.access import PolicyInputs, codebuild_statements, codepipeline_statements
from components.delivery.names import build_log_group, codebuild_role_name, codepipeline_role_name, project_name
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
from mlops_spec.naming import codepipeline_name, source_key

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
    """The orchestrator's account: the pipeline, its builds and its state live there."""
    deploy_role_arns: Mapping[str, str]
    """Deploy role of each environment's account."""
    environment_accounts: Mapping[str, str]
    assets_bucket: pulumi.Input[str]
    assets_kms_key_arn: pulumi.Input[str]
    state_bucket: pulumi.Input[str]
    state_kms_key_arn: pulumi.Input[str]
    notification_topic_arn: pulumi.Input[str]
    provisioner_image_uri: pulumi.Input[str]
    build_environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Provisioner settings handed to `mlops deploy` (the MLOPS_* variables)."""
    registry_table_arn: pulumi.Input[str] | None = None
    external_id_parameter: str | None = None
    """Name of the SSM SecureString parameter with the deploy roles' external id, which builds may read."""
    orchestrator_environment: str = "dev"
    build_timeout_minutes: int = BUILD_TIMEOUT_MINUTES
    tags: dict[str, str] = field(default_factory=dict)
    partition: str = "aws"


class DeliveryPipeline(MlopsComponent):
    """The CodePipeline that promotes one pipeline request through its environments.

    Its state changes reach the status function through the orchestrator's one event rule for all
    `mlops-*` pipelines (one rule per pipeline would outgrow the function's resource policy).

    One CodeBuild project per environment (not one shared project with overrides), so that each
    build's role can assume exactly one environment's deploy role: a dev build can never touch prod.
    """

    def __init__(self, name: str, args: DeliveryPipelineArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:delivery:DeliveryPipeline", name, opts)
        self.args = args
        self.stages = delivery_stages(args.spec, args.mode, home=args.orchestrator_environment)
        environments = deploy_environments(self.stages)
        self.pipeline_name = codepipeline_name(args.spec.pipeline_id)
        policy_inputs = self._policy_inputs()

        self.projects: dict[str, aws.codebuild.Project] = {}
        self.build_roles: dict[str, aws.iam.Role] = {}
        for env in environments:
            self.build_roles[env], build_policy = self._build_role(env, policy_inputs)
            self.projects[env] = self._project(env, self.build_roles[env], build_policy)

        self.pipeline_role, pipeline_policy = self._pipeline_role(environments, policy_inputs)
        self.pipeline = self._pipeline(name, pipeline_policy)
        self.outputs: dict[str, Any] = {
            "pipeline_name": self.pipeline.name,
            "pipeline_arn": self.pipeline.arn,
            "stages": [stage.name for stage in self.stages],
            "environments": environments,
            "projects": {env: project.name for env, project in self.projects.items()},
        }
        self.register_outputs(self.outputs)

    def _pipeline(self, name: str, pipeline_policy: aws.iam.RolePolicy) -> aws.codepipeline.Pipeline:
        a = self.args
        return aws.codepipeline.Pipeline(
            f"{name}-pipeline",
            name=self.pipeline_name,
            role_arn=self.pipeline_role.arn,
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
            # The role's policy must exist before CodePipeline validates the role at creation.
            opts=self.child_opts(depends_on=[pipeline_policy]),
        )

    # -- roles ------------------------------------------------------------------------------------------
    def _policy_inputs(self) -> pulumi.Output[PolicyInputs]:
        a = self.args
        resolved = pulumi.Output.all(
            assets_bucket=a.assets_bucket,
            assets_kms_key_arn=a.assets_kms_key_arn,
            state_bucket=a.state_bucket,
            state_kms_key_arn=a.state_kms_key_arn,
            notification_topic_arn=a.notification_topic_arn,
            provisioner_image_uri=a.provisioner_image_uri,
            registry_table_arn=a.registry_table_arn,
        )
        return resolved.apply(
            lambda values: PolicyInputs(
                pipeline_id=a.spec.pipeline_id,
                region=a.region,
                account_id=a.account_id,
                external_id_parameter=a.external_id_parameter,
                partition=a.partition,
                **values,
            )
        )

    def _build_role(self, env: str, inputs: pulumi.Output[PolicyInputs]) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
        pipeline_id = self.args.spec.pipeline_id
        deploy_role = self.args.deploy_role_arns[env]
        return self.role_with_policy(
            f"{pipeline_id}-{env}-build",
            name=codebuild_role_name(pipeline_id, env),
            description=f"Deploys {pipeline_id} to {env}",
            trust_policy=policies.service_trust("codebuild.amazonaws.com", source_account=self.args.account_id),
            policy=inputs.apply(lambda i: policies.document(*codebuild_statements(i, env, deploy_role))),
            tags=self.args.tags,
        )

    def _pipeline_role(
        self, environments: list[str], inputs: pulumi.Output[PolicyInputs]
    ) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
        pipeline_id = self.args.spec.pipeline_id
        return self.role_with_policy(
            f"{pipeline_id}-pipeline",
            name=codepipeline_role_name(pipeline_id),
            description=f"Runs the delivery pipeline of {pipeline_id}",
            # One service per trust statement: CodePipeline rejects roles that list several.
            trust_policy=policies.service_trust("codepipeline.amazonaws.com", source_account=self.args.account_id),
            policy=inputs.apply(lambda i: policies.document(*codepipeline_statements(i, environments))),
            tags=self.args.tags,
        )

    # -- builds -----------------------------------------------------------------------------------------
    def _project(self, env: str, role: aws.iam.Role, policy: aws.iam.RolePolicy) -> aws.codebuild.Project:
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
            service_role=role.arn,
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
            # The build role's policy must exist before the first build runs.
            opts=self.child_opts(depends_on=[policy]),
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
