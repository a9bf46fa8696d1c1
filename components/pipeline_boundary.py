"""The permissions boundary of every pipeline role: the most a role under PIPELINE_ROLE_PATH may ever do.

Changes when what pipeline roles need changes (a new kind of job, a new service a pipeline uses).

The environment baseline creates it as the managed policy `mlops-<env>-pipeline-boundary`
(mlops_spec.naming.EnvironmentNames); every role the pipeline components create carries it, and the
deploy role may create or change a role only with it (components/deploy_role.py). So whatever a
deployment writes into a pipeline role's policy, the role can do no more than this: run SageMaker
jobs and models of this account, read and write data in buckets of this account and of the
orchestrator's account (never the Pulumi state), use keys of those accounts (never the state's
secrets key), pull images, push images of this account (never the provisioner's), write pipeline
logs, publish to SNS topics of this account (async inference notifications), start the pipelines'
own state machines and image builds, and pass pipeline roles to SageMaker.
Nothing else in IAM, no STS: a boundary role cannot create, change or assume any role.
"""

from __future__ import annotations

from dataclasses import dataclass

from components import policies
from mlops_spec.monitor_violations import BUS_NAME as VIOLATIONS_BUS
from mlops_spec.naming import PIPELINE_ROLE_PATH, EnvironmentScoped

Statement = policies.Statement

# What SageMaker execution roles of pipelines call, and what state machines call on their behalf.
SAGEMAKER_WORK = [
    "sagemaker:AddTags",
    "sagemaker:ListTags",
    "sagemaker:CreateModel",
    "sagemaker:DescribeModel",
    "sagemaker:DescribeEndpoint",
    "sagemaker:InvokeEndpoint",
    *(
        f"sagemaker:{verb}{job}"
        for job in ("TrainingJob", "HyperParameterTuningJob", "ProcessingJob", "TransformJob")
        for verb in ("Create", "Describe", "Stop")
    ),
    "sagemaker:CreateAutoMLJobV2",
    "sagemaker:DescribeAutoMLJobV2",
]
OBJECT_ACCESS = [
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:PutObject",
    "s3:AbortMultipartUpload",
    "s3:ListBucket",
    "s3:GetBucketLocation",
]
IMAGE_PULL = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
IMAGE_PUSH = [
    "ecr:CompleteLayerUpload",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
    "ecr:CreateRepository",
    "ecr:DescribeRepositories",
    "ecr:DescribeImages",
    "ecr:TagResource",
]
# The services a pipeline role may be handed to: SageMaker jobs run under pipeline roles (Autopilot
# runs its sub-jobs under its own role). Nothing else.
PASSED_TO = "sagemaker.amazonaws.com"


@dataclass(frozen=True)
class BoundaryScope(EnvironmentScoped):
    """Where pipeline roles of one environment live, and the orchestrator they read from."""

    environment: str
    account_id: str
    region: str
    orchestrator_account_id: str
    partition: str = "aws"

    @property
    def accounts(self) -> list[str]:
        """This environment's account and the orchestrator's (the same one in single-account mode)."""
        return sorted({self.account_id, self.orchestrator_account_id})

    @property
    def pipeline_names(self) -> str:
        """Every resource a pipeline names is `<pipeline id>-<env>-...` (mlops_spec.naming.resource_name)."""
        return f"*-{self.environment}-*"

    def arn(self, service: str, resource: str, account: str | None = None) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{account or self.account_id}:{resource}"


def boundary_statements(scope: BoundaryScope) -> list[Statement]:
    """The boundary: what pipeline roles may be granted, then what none of them may ever touch."""
    return [*_data(scope), *_sagemaker(scope), *_runs(scope), *_images(scope), *_logs(scope), *_never(scope)]


def _data(scope: BoundaryScope) -> list[Statement]:
    """Buckets and keys of this environment's account and of the orchestrator's, nowhere else."""
    keys = [scope.arn("kms", "key/*", account) for account in scope.accounts]
    return [
        # Requests name their own buckets (data capture, batch input and output, monitoring reports):
        # any bucket, as long as it belongs to one of the two accounts.
        policies.statement(
            OBJECT_ACCESS,
            [f"arn:{scope.partition}:s3:::*"],
            sid="DataOfTheseAccounts",
            condition={"StringEquals": {"aws:ResourceAccount": scope.accounts}},
        ),
        policies.statement(policies.KEY_USE, keys, sid="KeysOfTheseAccounts"),
        policies.statement(
            ["kms:CreateGrant"],
            keys,
            sid="GrantsForSageMakerVolumes",
            condition={"Bool": {"kms:GrantIsForAWSResource": "true"}},
        ),
    ]


def _sagemaker(scope: BoundaryScope) -> list[Statement]:
    registry = scope.orchestrator_account_id
    pipeline_roles = f"arn:{scope.partition}:iam::{scope.account_id}:role{PIPELINE_ROLE_PATH}*"
    return [
        policies.statement(SAGEMAKER_WORK, [scope.arn("sagemaker", "*")], sid="SageMakerOfThisAccount"),
        policies.statement(
            ["sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup", "sagemaker:ListModelPackages"],
            [
                scope.arn("sagemaker", "model-package/*", registry),
                scope.arn("sagemaker", "model-package-group/*", registry),
            ],
            sid="RegistryReads",
        ),
        policies.statement(
            ["iam:PassRole"],
            [pipeline_roles],
            sid="PassPipelineRolesToSageMaker",
            condition={"StringEquals": {"iam:PassedToService": PASSED_TO}},
        ),
        # The EC2 network-interface calls SageMaker makes for VPC-attached models support no
        # resource-level permissions: AWS requires "*".
        policies.statement(policies.VPC_NETWORK_INTERFACES, "*", sid="VpcNetworkInterfaces"),
        # Async endpoints announce their responses and failures on the request's topics, in this account.
        policies.statement(["sns:Publish"], [scope.arn("sns", "*")], sid="AsyncInferenceNotifications"),
    ]


def _runs(scope: BoundaryScope) -> list[Statement]:
    """The pipelines' own one-off runs: their state machines, `.sync` rules and image builds."""
    names = scope.pipeline_names
    return [
        policies.statement(
            ["states:DescribeExecution", "states:ListExecutions", "states:StartExecution"],
            [scope.arn("states", f"stateMachine:{names}"), scope.arn("states", f"execution:{names}:*")],
            sid="PipelineStateMachines",
        ),
        policies.statement(
            ["events:DescribeRule", "events:PutRule", "events:PutTargets"],
            [scope.arn("events", "rule/StepFunctionsGetEventsFor*")],
            sid="StepFunctionsSyncRules",
        ),
        # Monitors send their runs with violations to the orchestrator's own bus for them, never to
        # a default bus (monitors/violations.py).
        policies.statement(
            ["events:PutEvents"],
            [scope.arn("events", f"event-bus/{VIOLATIONS_BUS}", scope.orchestrator_account_id)],
            sid="MonitorViolationsToOrchestrator",
        ),
        # Image builds only: never the delivery pipelines' deploy projects (mlops-deploy-*).
        policies.statement(
            ["codebuild:BatchGetBuilds", "codebuild:StartBuild", "codebuild:StopBuild"],
            [scope.arn("codebuild", f"project/*-{scope.environment}-image-build")],
            sid="ImageBuilds",
        ),
    ]


def _images(scope: BoundaryScope) -> list[Statement]:
    return [
        # SageMaker's built-in algorithm images live in AWS's own accounts of this region.
        policies.statement(IMAGE_PULL, [scope.arn("ecr", "repository/*", "*")], sid="PullImages"),
        # GetAuthorizationToken has no resource-level permissions: AWS requires "*". The token
        # allows only what the role's repository permissions allow.
        policies.statement(["ecr:GetAuthorizationToken"], "*", sid="RegistryLogin"),
        policies.statement(IMAGE_PUSH, [scope.arn("ecr", "repository/*")], sid="PushImagesOfThisAccount"),
    ]


def _logs(scope: BoundaryScope) -> list[Statement]:
    names, env = scope.pipeline_names, scope.environment
    groups = [
        "/aws/sagemaker/*",
        f"/aws/lambda/{names}",
        f"/aws/codebuild/*-{env}-image-build*",
        f"/aws/vendedlogs/states/{names}",
    ]
    return [
        policies.statement(
            ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            [scope.arn("logs", f"log-group:{group}") for group in groups],
            sid="PipelineLogs",
        ),
        # CloudWatch Logs' log-delivery actions support no resource-level permissions: AWS requires "*".
        policies.statement(policies.LOG_DELIVERY, "*", sid="StateMachineLogDelivery"),
        # PutMetricData supports no resource-level permissions: AWS requires "*"; the condition keeps
        # it to SageMaker's metric namespaces.
        policies.statement(
            ["cloudwatch:PutMetricData"],
            "*",
            sid="SageMakerMetrics",
            condition={"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "aws/sagemaker/*"]}},
        ),
    ]


def _never(scope: BoundaryScope) -> list[Statement]:
    """What the grants above would reach in the orchestrator's account but no pipeline role may touch."""
    orchestrator = scope.orchestrator
    state = f"arn:{scope.partition}:s3:::{orchestrator.state_bucket}"
    provisioner = scope.arn("ecr", f"repository/{orchestrator.provisioner_repository}", orchestrator.account_id)
    return [
        policies.statement(["s3:*"], [state, f"{state}/*"], effect="Deny", sid="NeverThePulumiState"),
        # The state's secrets key is known by its alias only (its id is the orchestrator stack's).
        policies.statement(
            [*policies.KEY_USE, "kms:CreateGrant"],
            "*",
            effect="Deny",
            sid="NeverTheStateSecretsKey",
            condition={"ForAnyValue:StringEquals": {"kms:ResourceAliases": orchestrator.state_key_alias}},
        ),
        policies.statement(IMAGE_PUSH, [provisioner], effect="Deny", sid="NeverTheProvisionerImage"),
    ]
