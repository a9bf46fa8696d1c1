"""What an orchestrator install is configured with, and the names and ARNs that follow from it alone.

Changes when the orchestrator gains a setting or a derived name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from components import policies
from mlops_spec.approvers import ApprovalRules
from mlops_spec.drift import DEFAULT_DRIFT_SCHEDULE
from mlops_spec.naming import DELIVERY_PIPELINE_PREFIX, EnvironmentNames, OrchestratorNames
from mlops_spec.partitions import partition_of

# The SSM SecureString holding the deploy roles' external id (the provisioner and its builds read it).
EXTERNAL_ID_PARAMETER = "/mlops/deploy-role-external-id"


@dataclass
class OrchestratorArgs:
    account_id: str
    region: str
    mode: str
    environment: str
    environment_accounts: Mapping[str, str]
    notification_email: str | None = None
    use_model_registry: bool = False
    existing_assets_bucket: str | None = None
    existing_ecr_repository: str | None = None
    provisioner_image_tag: str | None = None
    """Tag of the pushed provisioner image; None on a first install (no provisioner function yet)."""
    provisioner_concurrency: int | None = None
    """Reserved concurrency of the provisioner; None leaves it in the account's shared pool."""
    deploy_role_external_id: pulumi.Input[str] | None = None
    """Secret the environments' deploy roles require; stored as an SSM SecureString for the provisioner."""
    tags: dict[str, str] = field(default_factory=dict)
    approvers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Per environment, who may answer its manual approval (mlops:approvers); left out: any API caller."""
    allow_requester_approval: bool = False
    """Whether a version's requester may approve its own promotion to prod (mlops:allowRequesterApproval)."""
    drift_schedule: str = DEFAULT_DRIFT_SCHEDULE
    """When deployed target stacks are checked for drift (mlops:driftSchedule); "off": never."""
    strict_requests: bool = False
    """Whether the API and the trigger refuse a request's unknown keys (mlops:strictRequests)."""
    max_monthly_cost_per_pipeline: float | None = None
    """USD above which the API and the trigger refuse to provision a pipeline (mlops:maxMonthlyCostPerPipeline)."""
    cost_limit_unknown_prices: str = "refuse"
    """"refuse" or "allow" a request the cost limit cannot check (mlops:costLimitUnknownPrices)."""

    @property
    def approval_rules(self) -> ApprovalRules:
        """What the API function applies before it answers an approval (mlops_spec/approvers.py)."""
        return ApprovalRules(dict(self.approvers), self.allow_requester_approval)

    @property
    def names(self) -> OrchestratorNames:
        return OrchestratorNames(self.account_id, self.region)

    @property
    def partition(self) -> str:
        """The ARN partition of the orchestrator's region (aws, aws-cn, aws-us-gov)."""
        return partition_of(self.region)

    @property
    def assets_bucket_name(self) -> str:
        return self.existing_assets_bucket or self.names.assets_bucket

    @property
    def ecr_repository_name(self) -> str:
        """The custom algorithms' repository: the user's existing one, or ours."""
        return self.existing_ecr_repository or self.names.ecr_repository

    @property
    def other_accounts(self) -> list[str]:
        """Target accounts other than the orchestrator's own (multi-account mode)."""
        return sorted({acct for acct in self.environment_accounts.values() if acct != self.account_id})

    def deploy_role_arns(self) -> list[str]:
        return sorted(self.deploy_role_arn(env) for env in self.environment_accounts)

    def deploy_role_arn(self, env: str) -> str:
        return EnvironmentNames(env, self.environment_accounts[env], self.region).deploy_role_arn(self.partition)

    def function_name(self, purpose: str) -> str:
        """A function's name is its role's name: `mlops-orch-<purpose>`."""
        return self.names.role(purpose)

    @property
    def provisioner_name(self) -> str | None:
        """The provisioner function's name; None on a first install, which has no provisioner yet."""
        return self.function_name("provisioner") if self.provisioner_image_tag else None


def topic_arn(args: OrchestratorArgs) -> str:
    return f"arn:{args.partition}:sns:{args.region}:{args.account_id}:{args.names.topic}"


def function_arn(args: OrchestratorArgs, purpose: str) -> str:
    return f"arn:{args.partition}:lambda:{args.region}:{args.account_id}:function:{args.function_name(purpose)}"


def delivery_pipelines_arn(args: OrchestratorArgs) -> str:
    """Every delivery pipeline (CodePipeline) of this account: they all carry the delivery prefix."""
    return f"arn:{args.partition}:codepipeline:{args.region}:{args.account_id}:{DELIVERY_PIPELINE_PREFIX}*"


# The status function's failure destination (components/orchestrator/failures.py).
STATUS_FAILURES_QUEUE = "mlops-status-failures"


def status_failures_queue_arn(args: OrchestratorArgs) -> str:
    return f"arn:{args.partition}:sqs:{args.region}:{args.account_id}:{STATUS_FAILURES_QUEUE}"


def provisioner_image_pull(args: OrchestratorArgs, pull_sid: str, login_sid: str) -> list[policies.Statement]:
    """A CodeBuild project running the provisioner image pulls it with its own role."""
    repositories = f"arn:{args.partition}:ecr:{args.region}:{args.account_id}:repository"
    repository = f"{repositories}/{args.names.provisioner_repository}"
    return [
        policies.statement(
            ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
            [repository],
            sid=pull_sid,
        ),
        # GetAuthorizationToken has no resource-level permissions: AWS requires "*".
        policies.statement(["ecr:GetAuthorizationToken"], "*", sid=login_sid),
    ]
