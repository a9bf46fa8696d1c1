"""The shapes of the API's answers (and the approval request), as the OpenAPI document publishes them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from mlops_spec.approvals import APPROVAL_STAGES, COMMENT_LIMIT
from mlops_spec.common import Environment, StrictModel
from mlops_spec.modelcards import ModelCardStatus
from mlops_spec.status import STATUS_NAMES

# The one-word verdict of a pipeline's last drift check (lambda_src/api/drift.py: drift_state).
DRIFT_STATES = ("IN_SYNC", "DRIFTED", "UNKNOWN", "NOT_CHECKED")

if TYPE_CHECKING:
    PipelineState = str
    ApprovalStage = str
    DriftState = str
else:
    DriftState = Literal[DRIFT_STATES]
    ApprovalStage = Literal[APPROVAL_STAGES]
    # The registry's status names (mlops_spec/status.py), as an enum of strings in the schema.
    PipelineState = Literal[STATUS_NAMES]


class FieldProblem(BaseModel):
    field: str = Field(description="Path of the offending field, e.g. inference_instance or tuner_configs.max_jobs.")
    problem: str = Field(description="What is wrong with it.")


class ErrorBody(BaseModel):
    message: str = Field(description="What went wrong, in one sentence.")
    errors: list[FieldProblem] = Field(default_factory=list, description="One entry per offending field.")
    warnings: list[FieldProblem] = Field(
        default_factory=list,
        description="With an invalid pipeline request: the unknown keys it carried, which would have been ignored.",
    )


class ProvisionAccepted(BaseModel):
    pipeline_id: str = Field(description="Deterministic id: the model (or image) name and the pipeline type.")
    status: PipelineState
    pipeline_type: str
    version: int = Field(description="Version of the pipeline's spec in the registry.")
    environments: list[Environment] = Field(description="Environments it deploys to, in promotion order.")
    stacks: list[str] = Field(description="Its delivery stack, then one target stack per environment.")
    idempotent_replay: bool = Field(description="True when an identical earlier request was answered again.")
    cost_limit_unchecked: list[str] = Field(
        default_factory=list,
        description="Present when mlops:maxMonthlyCostPerPipeline is set and could not be checked: nothing "
        "priced by design (serverless, Autopilot, image builds), or, with mlops:costLimitUnknownPrices allow, a "
        "price unknown. Each estimate it was not checked against, and why. An unknown price is otherwise refused "
        "(400, or 503 when the AWS Price List could not be read).",
    )
    warnings: list[FieldProblem] = Field(
        default_factory=list,
        description="Unknown keys that were ignored (the old solution ignored them too), each with the closest "
        "known field when one is close. Errors instead with strict=true.",
    )


class QuotaShortfallFound(BaseModel):
    quota: str = Field(description="The Service Quotas name, e.g. ml.m5.large for endpoint usage.")
    value: int = Field(description="The quota's value in the environment's account and region.")
    in_use: int = Field(description="Instances this project's other deployed pipelines hold under it.")
    needed: int = Field(description="What the request needs at its peak (a blue/green update: both fleets).")
    message: str


class EnvironmentPreflight(BaseModel):
    environment: Environment
    status: Literal["ok", "shortfall", "not checked"]
    shortfalls: list[QuotaShortfallFound] = Field(default_factory=list)
    unchecked_quotas: list[str] = Field(
        default_factory=list, description="Quotas the account does not list (not checked)."
    )
    reason: str | None = Field(default=None, description="Why the environment's quotas could not be read.")
    note: str | None = Field(default=None, description="Why some needs cannot be known beforehand (Autopilot).")


class QuotaPreflight(BaseModel):
    status: Literal["ok", "shortfall", "not checked"] = Field(
        description="shortfall: some environment's SageMaker quotas cannot hold the request (provisioning it would "
        "fail with that reason, before anything is created); ok: every environment was checked and suffices; "
        "not checked: some quotas could not be read (reason), which never blocks."
    )
    reason: str | None = Field(default=None, description="Why no environment was checked (no provisioner yet, ...).")
    environments: list[EnvironmentPreflight]


class CostLine(BaseModel):
    description: str
    instance_type: str | None = Field(description="None for what is not priced (serverless, Autopilot, builds).")
    usage: Literal["hosting", "async", "transform", "processing", "training"] | None
    quantity: float = Field(description="Instance-hours (autoscaling at its minimum).")
    max_quantity: float = Field(description="Instance-hours at most (autoscaling at its maximum).")
    unit: Literal["instance-hours a month", "instance-hours a deployment"]
    unit_price_usd: float | None = Field(description="USD an instance-hour; None when the price is unknown.")
    amount_usd: float | None
    max_amount_usd: float | None
    note: str | None = Field(description="Why the line is not priced, or its price unknown.")


class CostEstimate(BaseModel):
    pipeline_id: str
    environment: Environment
    region: str
    total_monthly_usd: float | None = Field(description="Every month, at the least; None while a price is unknown.")
    max_monthly_usd: float | None = Field(description="Every month, at the most (autoscaling at its maximum).")
    per_deployment_usd: float | None = Field(description="Jobs run once per deployment, at their time limits.")
    unknown_prices: list[str] = Field(description="Instance types (and usage) whose price is not known.")
    lines: list[CostLine]
    assumptions: list[str] = Field(description="What the estimate rests on, and what it leaves out.")
    source: str
    summary: str = Field(description="The estimate in one line (what `mlops plan` prints).")


class CostAnswer(BaseModel):
    source: str | None = Field(
        description="Where the prices come from: the AWS Price List API, or the committed table with its date "
        "(and why the Price List could not be read)."
    )
    estimates: list[CostEstimate] = Field(description="One per environment the pipeline deploys to.")
    max_monthly_cost_per_pipeline: float | None = Field(description="The install's limit in USD; None: no limit.")
    violations: list[str] = Field(
        description="Estimates above the limit, naming the figure: a failed check in the dry run's 200 answer; "
        "the request itself is refused with 400."
    )
    unchecked: list[str] = Field(
        description="Estimates the limit could not be checked against, and why. A price unknown among them "
        "refuses the request itself (400; 503 when the source says the AWS Price List could not be read) "
        "unless mlops:costLimitUnknownPrices is allow."
    )


class DryRunResult(BaseModel):
    dry_run: Literal[True]
    pipeline_id: str
    pipeline_type: str
    environments: list[Environment]
    stacks: list[str] = Field(description="Pulumi stacks an actual request would create or update.")
    spec: dict[str, Any] = Field(description="The request as validated and normalised (defaults filled in).")
    warnings: list[FieldProblem] = Field(
        default_factory=list,
        description="Unknown keys that were ignored (the old solution ignored them too), each with the closest "
        "known field when one is close. Errors instead with strict=true.",
    )
    preflight: QuotaPreflight = Field(
        description="The quota preflight of every environment, in its account (asked of the provisioner). A "
        "shortfall is a failed check in this 200 answer, not an error: the request is valid, and the quota may "
        "be raised before it is sent."
    )
    cost: CostAnswer = Field(
        description="The estimated monthly cost per environment, with its assumptions (mlops_spec/costs.py), at "
        "the AWS Price List's prices or, when it cannot be read or checks=false, the committed table's."
    )


class CardWarnings(BaseModel):
    warnings: list[FieldProblem] = Field(
        default_factory=list,
        description="Present when the request carried keys a model card does not know (at any depth): they were "
        "ignored (the old solution dropped them), each with the closest known field when one is close. Errors "
        "instead with strict=true or mlops:strictRequests.",
    )


class ModelCardDryRun(CardWarnings):
    dry_run: Literal[True]
    pipeline_type: str = Field(description="The model-card operation, e.g. create_model_card.")
    request: dict[str, Any] = Field(description="The operation's fields as validated (defaults filled in).")


class NotStarted(BaseModel):
    message: str
    pipeline_id: str


class PipelineStatusRequest(StrictModel):
    pipeline_id: str = Field(min_length=1, description="The pipeline's id (surrounding blanks ignored).")


class ApprovalRequest(StrictModel):
    """The answer to a delivery pipeline's pending manual approval (stage names and limits: mlops_spec.approvals)."""

    decision: Literal["approve", "reject"]
    comment: str | None = Field(
        default=None,
        max_length=COMMENT_LIMIT,
        description="Why. Recorded in CodePipeline after the caller's identity (the whole summary is cut to "
        f"{COMMENT_LIMIT} characters); blank means none.",
    )
    stage: ApprovalStage | None = Field(
        default=None,
        description="The approval stage to answer; it must be the pending one. Default: the one pending.",
    )


class ActionStatus(BaseModel):
    name: str
    status: str = Field(description="NOT_STARTED, IN_PROGRESS, SUCCEEDED, FAILED, STOPPED, ...")
    last_error: str | None = None


class StageStatus(BaseModel):
    name: str
    status: str = Field(description="NOT_STARTED, IN_PROGRESS, SUCCEEDED, FAILED, STOPPED, ...")
    actions: list[ActionStatus]


class PendingApproval(BaseModel):
    """A manual approval waiting for an answer; never its token (reading a status is no right to answer)."""

    stage: str
    action: str


class AnsweredApproval(BaseModel):
    """An approval of the pipeline's current version that was answered through the API."""

    stage: str = Field(description="e.g. ApproveProd.")
    decision: Literal["approve", "reject"]
    approved_by: str | None = Field(default=None, description="Who approved (ARN, else principal id).")
    rejected_by: str | None = Field(default=None, description="Who rejected (ARN, else principal id).")
    at: str = Field(description="ISO-8601 time.")
    comment: str | None = None


class MonitorBlock(BaseModel):
    """A monitor's block on a pipeline's promotions (its on_violation: block): approvals are refused and
    unapproved deploys stop until a person sends the pipeline a new request version."""

    monitor: str | None = Field(default=None, description="The monitor (pipeline id) whose run blocked it.")
    run: str | None = Field(default=None, description="The monitoring run with violations (processing job ARN).")
    environment: str | None = Field(default=None, description="Where the monitor ran.")
    at: str | None = Field(default=None, description="ISO-8601 time.")
    lift: str = Field(description="How to lift the block.")


class PipelineSummary(BaseModel):
    pipeline_id: str
    pipeline_type: str
    status: PipelineState
    version: int
    created_at: str = Field(description="ISO-8601 time.")
    updated_at: str = Field(description="ISO-8601 time.")
    last_error: str | None = None
    drift: DriftState = Field(
        description="The last drift check of its deployed stacks: IN_SYNC, DRIFTED, UNKNOWN (an environment could "
        "not be checked and none drifted) or NOT_CHECKED. Details: GET /pipelines/{pipeline_id}/drift."
    )
    blocked: MonitorBlock | None = Field(
        default=None, description="A monitor's block on its promotions; null when none holds."
    )


class PipelineStatus(PipelineSummary):
    environments: list[Environment]
    stacks: list[str]
    source: str | None = Field(default=None, description="Where the request came from (api, s3, ...).")
    outputs: dict[str, Any] = Field(description="e.g. the endpoint name or image URI, once deployed.")
    errors: list[FieldProblem] = Field(description="Why the pipeline was rejected, if it was.")
    codepipeline_name: str | None = None
    spec: dict[str, Any] | None = Field(default=None, description="The normalised request.")
    stages: list[StageStatus] = Field(description="The delivery pipeline's stages, once it exists.")
    pending_approvals: list[PendingApproval]
    requested_by: str | None = Field(
        default=None, description="Who requested this version (ARN, else principal id); null when not known."
    )
    approvals: list[AnsweredApproval] = Field(
        default_factory=list, description="This version's approvals answered through the API, in order."
    )
    delivery_pipeline_state: str | None = Field(default=None, description="Why stages are missing, if they are.")
    shadow_test: dict[str, Any] | None = Field(
        default=None,
        description="A shadow-tested endpoint's last hour per environment: the production and shadow variants' "
        "invocations, 5XX and 4XX errors and model latency (ms) side by side (lambda_src/api/shadow_metrics.py).",
    )


class ApprovalAnswered(BaseModel):
    pipeline_id: str
    stage: str = Field(description="The approval stage that was answered, e.g. ApproveStaging.")
    action: str = Field(description="Its manual approval action.")
    decision: Literal["approve", "reject"]
    approved_by: str | None = Field(default=None, description="Who approved (the caller's ARN); with approve.")
    rejected_by: str | None = Field(default=None, description="Who rejected (the caller's ARN); with reject.")
    requested_by: str | None = Field(
        description="Who requested the pipeline version (ARN or principal id); null when it is not known."
    )
    answered_at: str = Field(description="ISO-8601 time.")


class PipelineList(BaseModel):
    pipelines: list[PipelineSummary]
    next_token: str | None = Field(default=None, description="Pass as next_token to get the next page.")


class DriftedResource(BaseModel):
    urn: str = Field(description="The resource's Pulumi URN in the target stack.")
    type: str = Field(description="Its Pulumi type, e.g. aws:sagemaker/endpoint:Endpoint.")
    op: str = Field(description="What the next update would do to it: update, replace, create (it went), delete.")
    properties: list[str] = Field(description="The properties that differ from the declared state.")


class EnvironmentDrift(BaseModel):
    in_sync: bool | None = Field(description="Null when the environment could not be checked (`error` says why).")
    changes: dict[str, int] = Field(description="How many resources each operation would touch (e.g. update: 1).")
    resources: list[DriftedResource] = Field(description="The resources that differ (at most 25 are kept).")
    error: str | None = Field(default=None, description="Why the environment could not be checked.")


class PipelineDrift(BaseModel):
    """The last drift check of a pipeline's deployed target stacks (a schedule runs it: mlops:driftSchedule)."""

    pipeline_id: str
    status: PipelineState = Field(description="The pipeline's status now (the check was of its deployed version).")
    version: int = Field(description="The pipeline's spec version now.")
    checked: bool = Field(description="False until the first check of the deployed pipeline.")
    drift: DriftState
    checked_at: str | None = Field(description="ISO-8601 time of the check; null when never checked.")
    in_sync: bool | None = Field(
        description="True when every environment is in sync, false when one drifted, null when unknown or not checked."
    )
    environments: dict[str, EnvironmentDrift] = Field(description="Per environment checked (dev, staging, prod).")


class ReconcileAccepted(BaseModel):
    pipeline_id: str
    status: PipelineState
    pipeline_type: str
    version: int = Field(description="The new spec version: the current spec, queued again unchanged.")
    environments: list[Environment]
    stacks: list[str]
    requested_by: str | None = Field(description="Who asked (ARN, else principal id), recorded as its requester.")
    source: str = Field(description="reconcile:<caller ARN>, as the pipeline's status shows it.")


class PromoteAccepted(ReconcileAccepted):
    version: int = Field(description="The new spec version: the request with its shadow as the production model.")
    source: str = Field(description="promote:<caller ARN>, as the pipeline's status shows it.")
    cost_limit_unchecked: list[str] = Field(
        default_factory=list,
        description="Present when mlops:maxMonthlyCostPerPipeline is set and could not be checked (a price "
        "unknown, with mlops:costLimitUnknownPrices allow): each estimate it was not checked against, and why. "
        "Otherwise such a promotion is refused (400, or 503 when the AWS Price List could not be read).",
    )


class DeletionAccepted(BaseModel):
    pipeline_id: str
    status: PipelineState
    version: int


class ModelCard(CardWarnings):
    name: str
    arn: str | None = None
    version: int | None = None
    status: ModelCardStatus | None = None
    content: dict[str, Any] = Field(description="The card's content (SageMaker model card schema).")
    created_at: str | None = None
    last_modified_at: str | None = None
    processing_status: str | None = None


class ModelCardSummary(BaseModel):
    name: str
    arn: str | None = None
    status: ModelCardStatus | None = None
    created_at: str | None = None
    last_modified_at: str | None = None


class ModelCardList(CardWarnings):
    model_cards: list[ModelCardSummary]
    next_token: str | None = None


class ModelCardDeleted(CardWarnings):
    message: str
    name: str


class ModelCardExport(CardWarnings):
    name: str
    export_job_name: str
    export_job_arn: str
    output_location: str = Field(description="S3 prefix receiving the PDF.")
