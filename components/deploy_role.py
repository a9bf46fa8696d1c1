"""What an environment's deploy role may do: exactly the calls `pulumi up` and `destroy` of a target stack make.

Changes when a pipeline component creates a new kind of resource (add its create, read, update,
delete and tag actions to `pipeline_kinds`) or names its resources differently.

Every action is named (no `service:*`) and scoped to what pipelines create in this account and region:
- by name where pipelines choose names (`<pipeline id>-<env>-...`, mlops_spec.naming.resource_name);
- by the `mlops:pipeline-id` tag every pipeline resource carries (`PipelineSpec.tags_for`): a create
  must tag the new resource with it, anything else needs a resource that carries it. Only pipeline
  resources carry it (users' tags may not start with `mlops:`): the orchestrator's and the baseline's
  resources carry `mlops:environment` but no pipeline id, so no deploy role can touch them, in any
  mode. The environment tag would add nothing: each environment has its own account (the stack
  config refuses two environments in one), so every pipeline resource here is this environment's;
- roles only under the pipelines' path, only with the environment's pipeline boundary
  (components/pipeline_boundary.py), passed only to the services that run pipeline resources.

Nothing here is S3, ECR, EC2 or STS: nothing a pipeline deploys is an object, an image, a network or a
session (jobs read and write data under their own roles; image builds create their repository).

The whole policy must fit IAM's 10,240 characters for a role's inline policies: the kinds share one
create and one manage statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components import policies
from mlops_spec.naming import PIPELINE_ROLE_PATH, EnvironmentScoped

Statement = policies.Statement

PIPELINE_TAG = "mlops:pipeline-id"
# The services pipeline resources hand their roles to: SageMaker (models, jobs, job definitions),
# Step Functions (run-on-deploy machines), Lambda (their starters), CodeBuild (image builds) and
# EventBridge (batch schedules). Never CloudFormation: its stacks run with the caller's rights.
PASSED_TO = sorted(f"{service}.amazonaws.com" for service in ("sagemaker", "states", "lambda", "codebuild", "events"))
# The SageMaker resources behind pipeline components: models, endpoint configs and endpoints
# (realtime, batch); training and tuning jobs; monitoring schedules and the four kinds of job
# definition (three of them made through CloudFormation stacks, with the caller's rights).
_SAGEMAKER_KINDS = ("Model", "EndpointConfig", "Endpoint", "TrainingJob", "HyperParameterTuningJob")
_JOB_DEFINITIONS = tuple(f"{kind}JobDefinition" for kind in ("DataQuality", "ModelQuality", "ModelBias"))
SAGEMAKER_CREATE = tuple(
    f"Create{kind}"
    for kind in (*_SAGEMAKER_KINDS, "MonitoringSchedule", *_JOB_DEFINITIONS, "ModelExplainabilityJobDefinition")
)
SAGEMAKER_MANAGE = (
    *(f"{verb}{kind}" for kind in ("Model", "EndpointConfig", "Endpoint") for verb in ("Describe", "Delete")),
    "UpdateEndpoint",
    # Application Auto Scaling checks that whoever registers an endpoint variant may scale it.
    "UpdateEndpointWeightsAndCapacities",
    "DescribeTrainingJob",
    "StopTrainingJob",
    *(f"{verb}HyperParameterTuningJob" for verb in ("Describe", "Stop", "Delete")),
    *(f"{verb}MonitoringSchedule" for verb in ("Describe", "Update", "Delete")),
    *(
        f"{verb}{kind}"
        for kind in (*_JOB_DEFINITIONS, "ModelExplainabilityJobDefinition")
        for verb in ("Describe", "Delete")
    ),
    "AddTags",
    "ListTags",
    "DeleteTags",
)
ROLE_MANAGE = (
    *("GetRole", "GetRolePolicy", "ListRolePolicies", "ListAttachedRolePolicies", "ListInstanceProfilesForRole"),
    *("UpdateAssumeRolePolicy", "DeleteRolePolicy", "DeleteRole", "TagRole", "UntagRole"),
)


@dataclass(frozen=True)
class DeployScope(EnvironmentScoped):
    """One environment's account, as the deploy role sees it."""

    environment: str
    account_id: str
    region: str
    orchestrator_account_id: str
    use_model_registry: bool
    key_arn: str
    partition: str = "aws"

    @property
    def pipeline_names(self) -> str:
        """What every name a pipeline chooses looks like: `<pipeline id>-<env>-<purpose>`."""
        return f"*-{self.environment}-*"

    @property
    def pipeline_roles(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:role{PIPELINE_ROLE_PATH}{self.pipeline_names}"

    def arn(self, service: str, resource: str, account: str | None = None) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{account or self.account_id}:{resource}"

    def created(self) -> dict[str, Any]:
        """A create request tags the new resource with its pipeline's id."""
        return {"Null": {f"aws:RequestTag/{PIPELINE_TAG}": "false"}}

    def owned(self) -> dict[str, Any]:
        """The resource carries a pipeline's id."""
        return {"Null": {f"aws:ResourceTag/{PIPELINE_TAG}": "false"}}


@dataclass(frozen=True)
class Kind:
    """One kind of resource pipelines create: where it lives (ARN resource parts in this account and
    region) and the calls Pulumi makes to create it (with its tags) and then read, change and delete it."""

    service: str
    resources: tuple[str, ...]
    create: tuple[str, ...]
    manage: tuple[str, ...]


_TAGS = ("TagResource", "UntagResource", "ListTagsForResource")


def pipeline_kinds(scope: DeployScope) -> list[Kind]:
    """Everything the components under components/pipelines/ create, but roles and log groups (see
    _pipeline_resources and _log_groups)."""
    env = scope.environment
    return [
        # Models, endpoint configs, endpoints and jobs may be named by the request (or by Pulumi):
        # only their tags tell them apart.
        Kind("sagemaker", ("*",), SAGEMAKER_CREATE, SAGEMAKER_MANAGE),
        *_run_kinds(scope),
        # Endpoint autoscaling: the scalable target (tagged) and its target-tracking policy.
        Kind(
            "application-autoscaling",
            ("scalable-target/*",),
            ("RegisterScalableTarget", "TagResource"),
            (
                *("RegisterScalableTarget", "DeregisterScalableTarget", "PutScalingPolicy", "DeleteScalingPolicy"),
                *_TAGS,
            ),
        ),
        # The endpoints' rollback alarms (components.pipelines.realtime.rollback_alarms), the
        # scale-from-zero alarm of async endpoints (components.pipelines.endpoint_options.backlog_alarm)
        # and the monitors' violation alarms (components.pipelines.monitors.violations).
        Kind(
            "cloudwatch",
            (
                "alarm:*-5xx-errors",
                "alarm:*-p99-latency",
                "alarm:*-backlog-without-capacity",
                "alarm:*-violations",
            ),
            ("PutMetricAlarm", "TagResource"),
            ("PutMetricAlarm", "DeleteAlarms", *_TAGS),
        ),
        # One-resource stacks: monitor job definitions and model package registrations. They run with
        # the caller's rights (see NoStackServiceRole), so they create nothing this policy does not allow.
        Kind(
            "cloudformation",
            (f"stack/*-{env}-monitor-*/*", "stack/*-model-package/*"),
            ("CreateStack", "TagResource"),
            (
                *("DescribeStacks", "DescribeStackEvents", "GetTemplate"),
                *("UpdateStack", "DeleteStack", "TagResource", "UntagResource"),
            ),
        ),
    ]


def _run_kinds(scope: DeployScope) -> list[Kind]:
    """Run-on-deploy (components.pipelines.run_on_deploy): state machines, their starter functions
    (invoked once per run), the rules that announce their end or start them on a schedule, and the
    image builders' projects (they create their image repositories themselves)."""
    names = scope.pipeline_names
    return [
        Kind(
            "states",
            (f"stateMachine:{names}",),
            ("CreateStateMachine", "TagResource"),
            ("DescribeStateMachine", "UpdateStateMachine", "DeleteStateMachine", *_TAGS),
        ),
        Kind(
            "lambda",
            (f"function:{names}",),
            ("CreateFunction", "TagResource"),
            (
                *("GetFunction", "GetFunctionConfiguration", "GetFunctionCodeSigningConfig", "ListVersionsByFunction"),
                *("UpdateFunctionCode", "UpdateFunctionConfiguration", "DeleteFunction", "InvokeFunction"),
                *("TagResource", "UntagResource", "ListTags"),
            ),
        ),
        Kind(
            "events",
            (f"rule/{names}",),
            ("PutRule", "TagResource"),
            ("PutRule", "DescribeRule", "DeleteRule", "PutTargets", "RemoveTargets", "ListTargetsByRule", *_TAGS),
        ),
        Kind(
            "codebuild",
            (f"project/*-{scope.environment}-image-build",),
            ("CreateProject",),
            ("BatchGetProjects", "UpdateProject", "DeleteProject"),
        ),
    ]


def deploy_statements(scope: DeployScope) -> list[Statement]:
    """The deploy role's whole policy."""
    return [
        *_pipeline_resources(scope),
        *_model_registry(scope),
        *_autoscaling(scope),
        *_alarms(scope),
        *_log_groups(scope),
        *_pipeline_roles(scope),
        *_environment_key(scope),
        # The orchestrator checks this account's SageMaker quotas before it provisions anything here.
        policies.statement(policies.QUOTA_READ, "*", sid="ReadQuotas"),
    ]


def _pipeline_resources(scope: DeployScope) -> list[Statement]:
    """Creates only with the pipeline's tags in the request; anything else only on resources carrying them."""
    kinds = pipeline_kinds(scope)
    resources = [scope.arn(kind.service, resource) for kind in kinds for resource in kind.resources]
    create = [f"{kind.service}:{action}" for kind in kinds for action in kind.create]
    manage = [f"{kind.service}:{action}" for kind in kinds for action in kind.manage]
    # Pipeline roles: tags of a new role are authorized as TagRole; the rest of a role's life. Creating
    # it and writing its policy need the boundary (_pipeline_roles).
    resources.append(scope.pipeline_roles)
    create.append("iam:TagRole")
    manage += [f"iam:{action}" for action in ROLE_MANAGE]
    return [
        policies.statement(create, resources, sid="CreatePipelineResources", condition=scope.created()),
        # SageMaker authorizes the tags of a create as an AddTags call naming the create action.
        policies.statement(
            ["sagemaker:AddTags"],
            [scope.arn("sagemaker", "*")],
            sid="SageMakerTagOnCreate",
            # Only as part of a create (which itself needs the pipeline's tags): never to tag an existing resource.
            condition={"Null": {"sagemaker:TaggingAction": "false"}},
        ),
        policies.statement(manage, resources, sid="ManagePipelineResources", condition=scope.owned()),
        # No stack runs with a service role: every stack does exactly what this policy allows, no more.
        policies.statement(
            ["cloudformation:CreateStack", "cloudformation:DeleteStack", "cloudformation:UpdateStack"],
            "*",
            effect="Deny",
            sid="NoStackServiceRole",
            condition={"Null": {"cloudformation:RoleArn": "false"}},
        ),
    ]


def _model_registry(scope: DeployScope) -> list[Statement]:
    """Deploying a model package of the orchestrator's registry reads the package first; training in
    the orchestrator's account registers new versions there, never approved (approval stays human)."""
    if not scope.use_model_registry:
        return []
    group = scope.orchestrator.model_package_group
    registry = scope.orchestrator_account_id
    packages = [
        scope.arn("sagemaker", f"model-package/{group}/*", registry),
        scope.arn("sagemaker", f"model-package-group/{group}", registry),
    ]
    statements = [
        policies.statement(
            ["sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup"],
            packages,
            sid="RegistryModelPackages",
        )
    ]
    if scope.account_id == registry:
        statements.append(
            policies.statement(
                ["sagemaker:CreateModelPackage"],
                packages,
                sid="RegisterTrainedModels",
                condition={"StringEquals": {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}},
            )
        )
    return statements


def _autoscaling(scope: DeployScope) -> list[Statement]:
    """What autoscaling needs beyond its scalable targets (a kind of pipeline resource)."""
    return [
        # Application Auto Scaling's Describe calls have no resource-level permissions: AWS requires "*".
        policies.statement(
            ["application-autoscaling:DescribeScalableTargets", "application-autoscaling:DescribeScalingPolicies"],
            "*",
            sid="ReadAutoscaling",
        ),
        # The first scalable endpoint of an account makes Application Auto Scaling create its role.
        policies.statement(
            ["iam:CreateServiceLinkedRole"],
            [
                f"arn:{scope.partition}:iam::{scope.account_id}:role/aws-service-role/"
                "sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
            ],
            sid="AutoscalingServiceLinkedRole",
            condition={"StringLike": {"iam:AWSServiceName": "sagemaker.application-autoscaling.amazonaws.com"}},
        ),
    ]


def _alarms(scope: DeployScope) -> list[Statement]:
    """The alarms Application Auto Scaling creates, with the caller's rights, for target-tracking policies
    (untagged: their name says whose they are), and reading alarms (a list call)."""
    return [
        policies.statement(
            ["cloudwatch:DeleteAlarms", "cloudwatch:PutMetricAlarm"],
            [scope.arn("cloudwatch", "alarm:TargetTracking-endpoint/*")],
            sid="TargetTrackingAlarms",
        ),
        # DescribeAlarms reads many alarms at once: this account's alarms, tagged or not.
        policies.statement(["cloudwatch:DescribeAlarms"], [scope.arn("cloudwatch", "alarm:*")], sid="ReadAlarms"),
    ]


def _log_groups(scope: DeployScope) -> list[Statement]:
    """The log groups of state machines, starter functions and image builds."""
    names = scope.pipeline_names
    groups = [
        scope.arn("logs", f"log-group:{group}")
        for group in (
            f"/aws/vendedlogs/states/{names}",
            f"/aws/lambda/{names}",
            f"/aws/codebuild/*-{scope.environment}-image-build*",
        )
    ]
    create = ["logs:CreateLogGroup", "logs:TagLogGroup", "logs:TagResource"]
    manage = [a for a in policies.LOG_GROUP_LIFECYCLE if a != "logs:CreateLogGroup"] + ["logs:ListTagsLogGroup"]
    return [
        policies.statement(create, groups, sid="LogGroupsCreate", condition=scope.created()),
        policies.statement(manage, groups, sid="LogGroups", condition=scope.owned()),
        # DescribeLogGroups has no resource-level permissions: AWS requires "*".
        policies.statement(["logs:DescribeLogGroups"], "*", sid="ListLogGroups"),
    ]


def _pipeline_roles(scope: DeployScope) -> list[Statement]:
    """Roles under the pipelines' path named like pipeline resources, only with the environment's
    pipeline boundary: a role a deployment creates can never do more than the boundary allows.
    Nothing may remove a boundary (no DeleteRolePermissionsBoundary) or attach a managed policy."""
    roles = [scope.pipeline_roles]
    bounded = {"iam:PermissionsBoundary": scope.names.pipeline_boundary_arn(scope.partition)}
    return [
        policies.statement(
            ["iam:CreateRole"],
            roles,
            sid="PipelineRolesCreate",
            condition=policies.all_of(scope.created(), {"StringEquals": bounded}),
        ),
        policies.statement(
            ["iam:PutRolePermissionsBoundary", "iam:PutRolePolicy"],
            roles,
            sid="PipelineRolePolicies",
            condition={"StringEquals": bounded},
        ),
        policies.statement(
            ["iam:PassRole"],
            roles,
            sid="PassPipelineRoles",
            condition={"StringEquals": {"iam:PassedToService": PASSED_TO}},
        ),
        # The baseline's own SageMaker role shares the path and the name pattern; it is not a pipeline's.
        policies.statement(
            ["iam:*"],
            [f"arn:{scope.partition}:iam::{scope.account_id}:role{PIPELINE_ROLE_PATH}{scope.names.sagemaker_role}"],
            effect="Deny",
            sid="NotTheBaselineRole",
        ),
    ]


def _environment_key(scope: DeployScope) -> list[Statement]:
    """The environment key encrypts state machines, log groups, endpoint volumes and job outputs."""
    return [
        policies.statement(
            [
                "kms:Decrypt",
                "kms:DescribeKey",
                "kms:Encrypt",
                "kms:GenerateDataKey",
                "kms:GenerateDataKeyWithoutPlaintext",
            ],
            [scope.key_arn],
            sid="EnvironmentKey",
        ),
        policies.statement(
            ["kms:CreateGrant"],
            [scope.key_arn],
            sid="EnvironmentKeyGrants",
            condition={"Bool": {"kms:GrantIsForAWSResource": "true"}},
        ),
    ]
