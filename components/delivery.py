"""DeliveryPipeline: one pipeline's CodePipeline (source -> deploy per environment, approvals between)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from components import policies
from lambda_src.provisioner.source import source_key
from lambda_src.status_events.names import codepipeline_name
from mlops_spec import naming
from mlops_spec.base import PipelineSpec

ActionKind = Literal["source", "deploy", "approval"]
SOURCE_ARTIFACT = "spec"
# CodePipeline files a run's artifacts under the first 20 characters of the pipeline's name.
ARTIFACT_FOLDER_LENGTH = 20
# CodePipeline limits an approval's custom message to 500 characters.
APPROVAL_MESSAGE_LIMIT = 500
# Deploy builds end within this; the provisioner treats older stack locks as left by killed runs.
BUILD_TIMEOUT_MINUTES = 60
LOG_RETENTION_DAYS = 90


# -- decisions ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Action:
    name: str
    kind: ActionKind
    environment: str | None = None


@dataclass(frozen=True)
class Stage:
    name: str
    actions: tuple[Action, ...]


def delivery_stages(spec: PipelineSpec, mode: str, home: str = "dev") -> list[Stage]:
    """Source, then one deploy stage per environment; in multi-account mode a manual approval
    stage guards staging and prod. Types that are single-account only get one deploy stage."""
    environments = spec.environments(mode, home=home)  # type: ignore[arg-type]
    stages = [Stage("Source", (Action("Spec", "source"),))]
    if len(environments) == 1:
        return [*stages, Stage("Deploy", (Action("Deploy", "deploy", environments[0]),))]
    for index, env in enumerate(environments):
        title = env.capitalize()
        if index > 0:
            stages.append(Stage(f"Approve{title}", (Action(f"Approve{title}", "approval", env),)))
        stages.append(Stage(f"Deploy{title}", (Action(f"Deploy{title}", "deploy", env),)))
    return stages


def deploy_environments(stages: list[Stage]) -> list[str]:
    return [a.environment for s in stages for a in s.actions if a.kind == "deploy" and a.environment]


def artifact_folder(pipeline_name: str) -> str:
    return pipeline_name[:ARTIFACT_FOLDER_LENGTH]


def project_name(pipeline_id: str, env: str) -> str:
    return f"mlops-deploy-{pipeline_id}-{env}"


def codebuild_role_name(pipeline_id: str, env: str) -> str:
    """Carries the prefix environment deploy roles trust: only these builds may assume them."""
    return naming.bounded(f"{naming.ORCHESTRATOR_ROLE_PREFIX}cb-{pipeline_id}-{env}", 64)


def codepipeline_role_name(pipeline_id: str) -> str:
    """Under the orchestrator's role prefix, which the provisioner may manage. Deploy roles trust that
    prefix too, but this role's own policy grants no sts:AssumeRole, so it can never deploy."""
    return naming.bounded(f"{naming.ORCHESTRATOR_ROLE_PREFIX}cp-{pipeline_id}", 64)


def approval_message(pipeline_id: str, env: str, account_id: str, previous: str | None) -> str:
    done = f" It is live in {previous}; check it there first." if previous else ""
    text = (
        f"Approve deploying MLOps pipeline {pipeline_id} to {env} (account {account_id}).{done}"
        " Rejecting stops this run; nothing is changed in that account."
    )
    return text[:APPROVAL_MESSAGE_LIMIT]


def buildspec() -> str:
    """The deploy step: up the target stack from the spec in this run's source artifact, so every
    environment deploys exactly the request that was approved (not whatever S3 holds by then)."""
    return "\n".join(
        [
            "version: 0.2",
            "phases:",
            "  build:",
            "    commands:",
            '      - mlops deploy --pipeline-id "$PIPELINE_ID" --env "$TARGET_ENV"'
            ' --spec-file "$CODEBUILD_SRC_DIR/spec.json"',
            "",
        ]
    )


def ecr_repository_arn(image_uri: str, partition: str = "aws") -> str:
    """`<acct>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>` -> the repository's ARN."""
    registry, _, rest = image_uri.partition("/")
    account, _, host = registry.partition(".dkr.ecr.")
    region = host.split(".")[0]
    repository = rest.split("@")[0].split(":")[0]
    return f"arn:{partition}:ecr:{region}:{account}:repository/{repository}"


@dataclass(frozen=True)
class PolicyInputs:
    """Plain names and ARNs the roles are scoped to (outputs resolved)."""

    pipeline_id: str
    region: str
    account_id: str
    assets_bucket: str
    assets_kms_key_arn: str
    state_bucket: str
    state_kms_key_arn: str
    notification_topic_arn: str
    provisioner_image_uri: str
    registry_table_arn: str | None = None
    external_id_parameter: str | None = None
    partition: str = "aws"

    @property
    def pipeline_name(self) -> str:
        return codepipeline_name(self.pipeline_id)

    def ssm_parameter_arn(self, name: str) -> str:
        # Parameter ARNs keep a hierarchical name's leading slash: `parameter/mlops/...`.
        path = name if name.startswith("/") else f"/{name}"
        return f"arn:{self.partition}:ssm:{self.region}:{self.account_id}:parameter{path}"

    def s3(self, bucket: str, key: str = "") -> str:
        return f"arn:{self.partition}:s3:::{bucket}{'/' + key if key else ''}"

    def codebuild_project_arn(self, env: str) -> str:
        project = project_name(self.pipeline_id, env)
        return f"arn:{self.partition}:codebuild:{self.region}:{self.account_id}:project/{project}"

    def log_group_arn(self, env: str) -> str:
        group = f"/aws/codebuild/{project_name(self.pipeline_id, env)}"
        return f"arn:{self.partition}:logs:{self.region}:{self.account_id}:log-group:{group}"


def codebuild_statements(inputs: PolicyInputs, env: str, deploy_role_arn: str) -> list[policies.Statement]:
    """A deploy build of one environment: assume that environment's deploy role and nothing else,
    keep Pulumi state (bucket + key), read this pipeline's source artifact, write its own logs."""
    artifacts = inputs.s3(inputs.assets_bucket, f"{artifact_folder(inputs.pipeline_name)}/*")
    log_group = inputs.log_group_arn(env)
    statements = [
        policies.statement(["sts:AssumeRole"], [deploy_role_arn], sid="AssumeThisEnvironmentsDeployRole"),
        # The S3 backend keeps stacks, locks, history and backups under .pulumi/ in its own bucket.
        policies.statement(
            ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            [inputs.s3(inputs.state_bucket, ".pulumi/*")],
            sid="PulumiState",
        ),
        policies.statement(
            ["s3:ListBucket", "s3:GetBucketLocation"], [inputs.s3(inputs.state_bucket)], sid="PulumiStateList"
        ),
        policies.statement(
            ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
            [inputs.state_kms_key_arn],
            sid="PulumiStateKey",
        ),
        policies.statement(["s3:GetObject", "s3:GetObjectVersion"], [artifacts], sid="SourceArtifact"),
        policies.statement(
            ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
            [inputs.assets_kms_key_arn],
            sid="ArtifactKey",
        ),
        policies.statement(
            ["logs:CreateLogStream", "logs:PutLogEvents"], [log_group, f"{log_group}:*"], sid="BuildLogs"
        ),
        policies.statement(
            ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
            [ecr_repository_arn(inputs.provisioner_image_uri, inputs.partition)],
            sid="ProvisionerImage",
        ),
        # GetAuthorizationToken has no resource-level permissions: AWS requires "*".
        policies.statement(["ecr:GetAuthorizationToken"], "*", sid="EcrLogin"),
    ]
    if inputs.external_id_parameter:
        # `mlops deploy` reads the deploy roles' external id when it runs (it is never a build
        # variable); the parameter is encrypted with the assets key, which ArtifactKey may decrypt.
        statements.append(
            policies.statement(
                ["ssm:GetParameter"],
                [inputs.ssm_parameter_arn(inputs.external_id_parameter)],
                sid="DeployRoleExternalId",
            )
        )
    if inputs.registry_table_arn:
        # `mlops deploy` records the stack's outputs (endpoint name, ...) or its error on the
        # pipeline's registry item, and on no other item.
        statements.append(
            policies.statement(
                ["dynamodb:GetItem", "dynamodb:PutItem"],
                [inputs.registry_table_arn],
                sid="RecordOutputs",
                condition={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [inputs.pipeline_id]}},
            )
        )
    return statements


def codepipeline_statements(inputs: PolicyInputs, environments: list[str]) -> list[policies.Statement]:
    """The pipeline: read its source object, keep its artifacts, run its builds, announce approvals."""
    source = inputs.s3(inputs.assets_bucket, source_key(inputs.pipeline_id))
    artifacts = inputs.s3(inputs.assets_bucket, f"{artifact_folder(inputs.pipeline_name)}/*")
    return [
        policies.statement(["s3:GetObject", "s3:GetObjectVersion"], [source], sid="SourceObject"),
        policies.statement(["s3:GetBucketVersioning"], [inputs.s3(inputs.assets_bucket)], sid="SourceBucketVersioning"),
        policies.statement(["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"], [artifacts], sid="Artifacts"),
        policies.statement(
            ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
            [inputs.assets_kms_key_arn],
            sid="ArtifactKey",
        ),
        policies.statement(
            ["codebuild:StartBuild", "codebuild:BatchGetBuilds", "codebuild:StopBuild"],
            [inputs.codebuild_project_arn(env) for env in environments],
            sid="DeployBuilds",
        ),
        policies.statement(["sns:Publish"], [inputs.notification_topic_arn], sid="ApprovalNotifications"),
    ]


# -- the component ------------------------------------------------------------------------------------
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


class DeliveryPipeline(pulumi.ComponentResource):
    """The CodePipeline that promotes one pipeline request through its environments.

    Its state changes reach the status function through the orchestrator's one event rule for all
    `mlops-*` pipelines (one rule per pipeline would outgrow the function's resource policy).

    One CodeBuild project per environment (not one shared project with overrides), so that each
    build's role can assume exactly one environment's deploy role: a dev build can never touch prod.
    """

    def __init__(self, name: str, args: DeliveryPipelineArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:delivery:DeliveryPipeline", name, None, opts)
        self.args = args
        pipeline_id = args.spec.pipeline_id
        self.stages = delivery_stages(args.spec, args.mode, home=args.orchestrator_environment)
        environments = deploy_environments(self.stages)
        self.pipeline_name = codepipeline_name(pipeline_id)
        policy_inputs = self._policy_inputs()

        self.projects: dict[str, aws.codebuild.Project] = {}
        self.build_roles: dict[str, aws.iam.Role] = {}
        for env in environments:
            self.build_roles[env], build_policy = self._build_role(env, policy_inputs)
            self.projects[env] = self._project(env, self.build_roles[env], build_policy)

        self.pipeline_role, pipeline_policy = self._pipeline_role(environments, policy_inputs)
        self.pipeline = aws.codepipeline.Pipeline(
            f"{name}-pipeline",
            name=self.pipeline_name,
            role_arn=self.pipeline_role.arn,
            pipeline_type="V2",
            execution_mode="SUPERSEDED",
            artifact_stores=[
                aws.codepipeline.PipelineArtifactStoreArgs(
                    location=args.assets_bucket,
                    type="S3",
                    encryption_key=aws.codepipeline.PipelineArtifactStoreEncryptionKeyArgs(
                        id=args.assets_kms_key_arn, type="KMS"
                    ),
                )
            ],
            stages=[self._stage_args(stage) for stage in self.stages],
            tags=args.tags,
            # The role's policy must exist before CodePipeline validates the role at creation.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[pipeline_policy]),
        )

        self.outputs: dict[str, Any] = {
            "pipeline_name": self.pipeline.name,
            "pipeline_arn": self.pipeline.arn,
            "stages": [stage.name for stage in self.stages],
            "environments": environments,
            "projects": {env: project.name for env, project in self.projects.items()},
        }
        self.register_outputs(self.outputs)

    # -- roles ------------------------------------------------------------------------------------------
    def _policy_inputs(self) -> pulumi.Output[PolicyInputs]:
        a = self.args
        return pulumi.Output.all(
            a.assets_bucket,
            a.assets_kms_key_arn,
            a.state_bucket,
            a.state_kms_key_arn,
            a.notification_topic_arn,
            a.provisioner_image_uri,
            a.registry_table_arn,
        ).apply(
            lambda v: PolicyInputs(
                pipeline_id=a.spec.pipeline_id,
                region=a.region,
                account_id=a.account_id,
                assets_bucket=v[0],
                assets_kms_key_arn=v[1],
                state_bucket=v[2],
                state_kms_key_arn=v[3],
                notification_topic_arn=v[4],
                provisioner_image_uri=v[5],
                registry_table_arn=v[6],
                external_id_parameter=a.external_id_parameter,
                partition=a.partition,
            )
        )

    def _build_role(self, env: str, inputs: pulumi.Output[PolicyInputs]) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
        pipeline_id = self.args.spec.pipeline_id
        role = aws.iam.Role(
            f"{pipeline_id}-{env}-build-role",
            name=codebuild_role_name(pipeline_id, env),
            description=f"Deploys {pipeline_id} to {env}",
            assume_role_policy=policies.service_trust("codebuild.amazonaws.com", source_account=self.args.account_id),
            tags=self.args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        deploy_role = self.args.deploy_role_arns[env]
        policy = aws.iam.RolePolicy(
            f"{pipeline_id}-{env}-build-policy",
            role=role.id,
            policy=inputs.apply(lambda i: policies.document(*codebuild_statements(i, env, deploy_role))),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return role, policy

    def _pipeline_role(
        self, environments: list[str], inputs: pulumi.Output[PolicyInputs]
    ) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
        pipeline_id = self.args.spec.pipeline_id
        role = aws.iam.Role(
            f"{pipeline_id}-pipeline-role",
            name=codepipeline_role_name(pipeline_id),
            description=f"Runs the delivery pipeline of {pipeline_id}",
            # One service per trust statement: CodePipeline rejects roles that list several.
            assume_role_policy=policies.service_trust(
                "codepipeline.amazonaws.com", source_account=self.args.account_id
            ),
            tags=self.args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        policy = aws.iam.RolePolicy(
            f"{pipeline_id}-pipeline-policy",
            role=role.id,
            policy=inputs.apply(lambda i: policies.document(*codepipeline_statements(i, environments))),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return role, policy

    # -- builds -----------------------------------------------------------------------------------------
    def _project(self, env: str, role: aws.iam.Role, policy: aws.iam.RolePolicy) -> aws.codebuild.Project:
        a = self.args
        pipeline_id = a.spec.pipeline_id
        name = project_name(pipeline_id, env)
        log_group = aws.cloudwatch.LogGroup(
            f"{pipeline_id}-{env}-build-logs",
            name=f"/aws/codebuild/{name}",
            retention_in_days=LOG_RETENTION_DAYS,
            kms_key_id=a.assets_kms_key_arn,
            tags=a.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        variables = {**a.build_environment, "PIPELINE_ID": pipeline_id, "TARGET_ENV": env}
        return aws.codebuild.Project(
            f"{pipeline_id}-{env}-build",
            name=name,
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
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )

    # -- stages -----------------------------------------------------------------------------------------
    def _stage_args(self, stage: Stage) -> aws.codepipeline.PipelineStageArgs:
        return aws.codepipeline.PipelineStageArgs(
            name=stage.name, actions=[self._action_args(action) for action in stage.actions]
        )

    def _action_args(self, action: Action) -> aws.codepipeline.PipelineStageActionArgs:
        a = self.args
        if action.kind == "source":
            return aws.codepipeline.PipelineStageActionArgs(
                name=action.name,
                category="Source",
                owner="AWS",
                provider="S3",
                version="1",
                output_artifacts=[SOURCE_ARTIFACT],
                configuration={
                    "S3Bucket": a.assets_bucket,
                    "S3ObjectKey": source_key(a.spec.pipeline_id),
                    # The provisioner starts runs itself; polling would start duplicates.
                    "PollForSourceChanges": "false",
                },
            )
        env = action.environment or ""
        if action.kind == "approval":
            previous = _previous(deploy_environments(self.stages), env)
            return aws.codepipeline.PipelineStageActionArgs(
                name=action.name,
                category="Approval",
                owner="AWS",
                provider="Manual",
                version="1",
                configuration={
                    "NotificationArn": a.notification_topic_arn,
                    "CustomData": approval_message(
                        a.spec.pipeline_id, env, a.environment_accounts.get(env, "?"), previous
                    ),
                },
            )
        return aws.codepipeline.PipelineStageActionArgs(
            name=action.name,
            category="Build",
            owner="AWS",
            provider="CodeBuild",
            version="1",
            input_artifacts=[SOURCE_ARTIFACT],
            configuration={"ProjectName": self.projects[env].name},
        )


def _previous(environments: list[str], env: str) -> str | None:
    index = environments.index(env) if env in environments else 0
    return environments[index - 1] if index > 0 else None
