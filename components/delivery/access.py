"""Who may do what in a delivery pipeline: its CodePipeline role and each environment's build role.

Changes when a delivery pipeline or one of its builds needs a new permission. Plain functions of
resolved names and ARNs (PolicyInputs); the component only attaches what they return.
"""

from __future__ import annotations

from dataclasses import dataclass

from components import policies
from components.delivery.names import artifact_folder, build_log_group, project_name
from mlops_spec.naming import codepipeline_name, source_key


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

    @property
    def artifacts_arn(self) -> str:
        """This pipeline's run artifacts in the assets bucket."""
        return self.s3(self.assets_bucket, f"{artifact_folder(self.pipeline_name)}/*")

    def codebuild_project_arn(self, env: str) -> str:
        project = project_name(self.pipeline_id, env)
        return f"arn:{self.partition}:codebuild:{self.region}:{self.account_id}:project/{project}"

    def log_group_arn(self, env: str) -> str:
        group = build_log_group(self.pipeline_id, env)
        return f"arn:{self.partition}:logs:{self.region}:{self.account_id}:log-group:{group}"


def _artifact_key(inputs: PolicyInputs) -> policies.Statement:
    return policies.statement(policies.KEY_USE, [inputs.assets_kms_key_arn], sid="ArtifactKey")


def codebuild_statements(inputs: PolicyInputs, env: str, deploy_role_arn: str) -> list[policies.Statement]:
    """A deploy build of one environment: assume that environment's deploy role and nothing else,
    keep Pulumi state (bucket + key), read this pipeline's source artifact, write its own logs."""
    log_group = inputs.log_group_arn(env)
    return [
        policies.statement(["sts:AssumeRole"], [deploy_role_arn], sid="AssumeThisEnvironmentsDeployRole"),
        *_pulumi_state(inputs),
        policies.statement(["s3:GetObject", "s3:GetObjectVersion"], [inputs.artifacts_arn], sid="SourceArtifact"),
        _artifact_key(inputs),
        policies.statement(policies.LOG_WRITE, [log_group, f"{log_group}:*"], sid="BuildLogs"),
        policies.statement(
            ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
            [ecr_repository_arn(inputs.provisioner_image_uri, inputs.partition)],
            sid="ProvisionerImage",
        ),
        # GetAuthorizationToken has no resource-level permissions: AWS requires "*".
        policies.statement(["ecr:GetAuthorizationToken"], "*", sid="EcrLogin"),
        *_deploy_command_reads_and_records(inputs),
    ]


def _pulumi_state(inputs: PolicyInputs) -> list[policies.Statement]:
    """The S3 backend keeps stacks, locks, history and backups under .pulumi/ in its own bucket."""
    return [
        policies.statement(
            ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            [inputs.s3(inputs.state_bucket, ".pulumi/*")],
            sid="PulumiState",
        ),
        policies.statement(
            ["s3:ListBucket", "s3:GetBucketLocation"], [inputs.s3(inputs.state_bucket)], sid="PulumiStateList"
        ),
        policies.statement(policies.KEY_USE, [inputs.state_kms_key_arn], sid="PulumiStateKey"),
    ]


def _deploy_command_reads_and_records(inputs: PolicyInputs) -> list[policies.Statement]:
    """What `mlops deploy` itself reads and writes in the orchestrator account, where configured."""
    statements = []
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
    return [
        policies.statement(["s3:GetObject", "s3:GetObjectVersion"], [source], sid="SourceObject"),
        policies.statement(["s3:GetBucketVersioning"], [inputs.s3(inputs.assets_bucket)], sid="SourceBucketVersioning"),
        policies.statement(
            ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"], [inputs.artifacts_arn], sid="Artifacts"
        ),
        _artifact_key(inputs),
        policies.statement(
            ["codebuild:StartBuild", "codebuild:BatchGetBuilds", "codebuild:StopBuild"],
            [inputs.codebuild_project_arn(env) for env in environments],
            sid="DeployBuilds",
        ),
        policies.statement(["sns:Publish"], [inputs.notification_topic_arn], sid="ApprovalNotifications"),
    ]
