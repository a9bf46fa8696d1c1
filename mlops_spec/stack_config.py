"""The typed config of one Pulumi stack (`Pulumi.<env>.yaml`, keys under `mlops:`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

from pydantic import ConfigDict, Field, SerializeAsAny, StringConstraints, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from mlops_spec.approvers import ApproversProblem, check_approvers
from mlops_spec.base import PipelineSpec
from mlops_spec.common import (
    ENVIRONMENTS,
    AccountId,
    Environment,
    Mode,
    OrganizationalUnitId,
    Region,
    StrictModel,
    Tags,
    checked,
    field_problem,
)
from mlops_spec.cost_setting import parse_cost_limit
from mlops_spec.drift import DEFAULT_DRIFT_SCHEDULE, drift_schedule_problem
from mlops_spec.errors import FieldError, SpecError, field_errors
from mlops_spec.partitions import partition_of, region_problem
from mlops_spec.stack_config_checks import (
    NAMESPACE,
    SECRET_KEYS,
    account_id,
    key_problems,
    plain_problem,
    repository_problem,
    tag_problems,
    written_type_problems,
)

if TYPE_CHECKING:  # strings to a type checker; pydantic checks them as below
    EmailAddress = str
    BucketName = str
    ImageTag = str
else:
    EmailAddress = Annotated[
        checked(r"[^@\s]+@[^@\s]+\.[^@\s]+", "must be an email address like team@example.com"),
        StringConstraints(max_length=254),
    ]
    BucketName = checked(
        r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]",
        "must be an S3 bucket name: 3-63 lowercase letters, digits, dots or hyphens",
    )
    ImageTag = checked(r"[\w.-]{1,128}", "must be an image tag: 1-128 letters, digits, _ . or -")

__all__ = ["NAMESPACE", "SECRET_KEYS", "StackConfig", "config_keys", "load_stack_config"]


class StackConfig(StrictModel):
    """Everything one stack needs to know about its account and the orchestrator's accounts."""

    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True)

    environment: Environment = Field(description="Which environment (account) this stack deploys.")
    mode: Mode = Field(default="single", description="single: one account; multi: dev -> staging -> prod.")
    region: Region = Field(description="AWS region (from aws:region).")
    accounts: dict[Environment, AccountId] = Field(description="Account id per environment.")
    orchestrator_environment: Environment = Field(
        default="dev", description="The environment whose account hosts the orchestrator."
    )
    notification_email: EmailAddress | None = Field(default=None, description="Receives approvals and results.")
    use_model_registry: bool = Field(default=False, description="Serve model packages from the model registry.")
    strict_requests: bool = Field(
        default=False,
        description="Refuse a request's unknown keys (the API, the config-file trigger and the CLI), instead of "
        "ignoring them with a warning as MWO's users expect.",
    )
    max_monthly_cost_per_pipeline: float | None = Field(
        default=None,
        description="US dollars a pipeline may be estimated at in a month in one environment (mlops_spec/costs.py): "
        "above it `mlops plan` reports a guardrail violation and the API refuses to provision it. Unset: no limit.",
    )
    cost_limit_unknown_prices: Literal["refuse", "allow"] = Field(
        default="refuse",
        description="What the API and the trigger do when the cost limit cannot be checked (the AWS Price List "
        "could not be read, or holds no price for an instance type): refuse the request (503 or 400), or allow "
        "it and say so in `cost_limit_unchecked`.",
    )
    existing_assets_bucket: BucketName | None = None
    existing_ecr_repository: str | None = Field(default=None, description="Name of an ECR repository to reuse.")
    organizational_units: dict[Environment, OrganizationalUnitId] = Field(default_factory=dict)
    provisioner_image_tag: ImageTag | None = Field(
        default=None,
        description="Tag of the pushed provisioner image; absent on a first install (no provisioner function yet).",
    )
    provisioner_concurrency: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="Reserved concurrency of the provisioner function (unreserved if absent).",
    )
    tags: Tags = Field(default_factory=dict, description="Tags on every resource of the stack.")
    pipelines: list[SerializeAsAny[PipelineSpec]] = Field(
        default_factory=list, description="Pipelines deployed declaratively by `pulumi up`."
    )

    # -- separation of duties (issue 10, point 5; rules in mlops_spec/approvers.py) --------------------
    approvers: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="Per environment a manual approval promotes into (staging, prod): the IAM role or user ARNs "
        "allowed to answer it. An environment left out: any caller the API's IAM policy admits.",
    )
    allow_requester_approval: bool = Field(
        default=False,
        description="Let the principal that requested a pipeline version approve its own promotion to prod.",
    )

    @model_validator(mode="before")
    @classmethod
    def _check_approvers(cls, data: Any) -> Any:
        """Approver environments and ARNs, each problem named in plain words; approvers need approvals."""
        if not isinstance(data, dict) or data.get("approvers") is None:
            return data
        try:
            approvers = check_approvers(data["approvers"])
        except ApproversProblem as exc:
            raise field_problem(".".join(part for part in ("approvers", exc.where) if part), exc.problem) from None
        if approvers and data.get("mode", "single") != "multi":
            raise field_problem("approvers", "applies to multi-account mode only (single-account mode has no approval)")
        return {**data, "approvers": approvers}

    # -- end of separation of duties ------------------------------------------------------------------

    drift_schedule: str = Field(
        default=DEFAULT_DRIFT_SCHEDULE,
        description="How often deployed target stacks are checked for drift: a cron(...) or rate(...) expression, "
        'or "off".',
    )

    @model_validator(mode="before")
    @classmethod
    def _check_drift_schedule(cls, data: Any) -> Any:
        value = data.get("driftSchedule", data.get("drift_schedule")) if isinstance(data, dict) else None
        problem = drift_schedule_problem(value) if isinstance(value, str) else None
        if problem:
            raise field_problem("drift_schedule", problem)
        return data

    @model_validator(mode="before")
    @classmethod
    def _check_cost_limit(cls, data: Any) -> Any:
        """Pulumi hands the number to the program as text ("500"): read as USD, or refused in plain words."""
        if not isinstance(data, dict):
            return data
        key = next((k for k in ("maxMonthlyCostPerPipeline", "max_monthly_cost_per_pipeline") if k in data), None)
        if key is None or data[key] is None:
            return data
        try:
            limit = parse_cost_limit(data[key])
        except ValueError as exc:
            raise field_problem("max_monthly_cost_per_pipeline", str(exc)) from None
        return {**data, key: limit}

    @model_validator(mode="before")
    @classmethod
    def _parse_pipelines(cls, data: Any) -> Any:
        """Declared pipelines are validated as requests, in this stack's mode."""
        if not isinstance(data, dict) or "pipelines" not in data:
            return data
        from mlops_spec.request import parse_pipeline_request

        raw = data["pipelines"]
        if not isinstance(raw, list):
            raise field_problem("pipelines", "must be a list of pipeline requests")
        mode = data.get("mode", "single")
        registry = data.get("useModelRegistry", data.get("use_model_registry", False))
        specs = []
        for index, body in enumerate(raw):
            if isinstance(body, PipelineSpec):
                specs.append(body)
                continue
            try:
                specs.append(parse_pipeline_request(body, mode=mode, use_model_registry=registry is True))
            except SpecError as exc:
                first = exc.errors[0]
                raise field_problem(f"pipelines[{index}].{first.field}", first.problem) from None
        return {**data, "pipelines": specs}

    @model_validator(mode="before")
    @classmethod
    def _aws_rules(cls, data: Any) -> Any:
        """Account ids stored as numbers, tags and repository names AWS would refuse: checked here so
        each problem is told in plain words (with the fix), not as the regex that failed."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        accounts = data.get("accounts")
        if isinstance(accounts, dict):
            data["accounts"] = {env: account_id(value) for env, value in accounts.items()}
        for key, problem in tag_problems(data.get("tags", {})):
            raise field_problem(f"tags.{key}" if key else "tags", problem)
        repository = data.get("existing_ecr_repository")
        if repository is not None and (wrong := repository_problem(repository)):
            raise field_problem("existing_ecr_repository", wrong)
        return data

    @model_validator(mode="after")
    def _accounts_match_mode(self) -> Self:
        if self.mode == "multi":
            missing = [env for env in ENVIRONMENTS if env not in self.accounts]
            if missing:
                raise field_problem("accounts", f"multi-account mode needs an account for {', '.join(missing)}")
            if len(set(self.accounts.values())) != len(ENVIRONMENTS):
                raise field_problem("accounts", "dev, staging and prod must be different accounts")
            if not self.notification_email:
                raise field_problem(
                    "notification_email",
                    "is required in multi-account mode (approval requests are sent there); "
                    "run `pulumi config set mlops:notificationEmail <address>`",
                )
        elif self.environment not in self.accounts:
            raise field_problem("accounts", f"needs the account of this stack's environment '{self.environment}'")
        if self.mode == "single" and self.environment != self.orchestrator_environment:
            raise field_problem(
                "orchestrator_environment",
                f"in single-account mode the stack hosts the orchestrator; set it to '{self.environment}' or remove it",
            )
        if problem := region_problem(self.region, runs_functions=self.hosts_orchestrator):
            raise field_problem("region", problem)
        ids = [spec.pipeline_id for spec in self.pipelines]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise field_problem("pipelines", f"declares pipeline {duplicates[0]} more than once")
        return self

    @property
    def partition(self) -> str:
        """The ARN partition of the stack's region (aws, aws-cn or aws-us-gov)."""
        return partition_of(self.region)

    @property
    def account_id(self) -> str:
        return self.accounts[self.environment]

    @property
    def orchestrator_account_id(self) -> str:
        return self.accounts[self.orchestrator_environment]

    @property
    def hosts_orchestrator(self) -> bool:
        return self.environment == self.orchestrator_environment

    @property
    def is_multi_account(self) -> bool:
        return self.mode == "multi"

    def pipelines_for_this_environment(self) -> list[PipelineSpec]:
        """Declared pipelines that deploy into this stack's environment, resolved for it."""
        return [
            spec.for_env(self.environment)
            for spec in self.pipelines
            if self.environment in spec.environments(self.mode, home=self.orchestrator_environment)
        ]


def config_keys() -> dict[str, str]:
    """Stack config key (e.g. `mlops:notificationEmail`) -> model field name."""
    keys = {f"{NAMESPACE}:{field.alias}": name for name, field in StackConfig.model_fields.items()}
    keys["aws:region"] = keys.pop(f"{NAMESPACE}:region")
    return keys


def decode_config_value(raw: str) -> Any:
    """Pulumi hands structured values to programs as JSON text; plain strings stay strings.

    Only objects, lists and booleans are decoded, so an account id such as "012345678901"
    keeps its leading zero.
    """
    text = raw.strip()
    if text[:1] in ("{", "[") or text in ("true", "false"):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return raw
    return raw


def load_stack_config(values: dict[str, Any], stack: str) -> StackConfig:
    """Validate a stack's config map (`{"mlops:mode": ..., "aws:region": ...}`).

    The environment comes from `mlops:environment`; a stack named dev, staging or prod without it is
    that environment (as stacks were before the setting existed). In single-account mode the stack
    hosts the orchestrator. Raises SpecError naming the config key and the fix.
    """
    keys = config_keys()
    unknown = key_problems(values, keys)
    if unknown:
        raise SpecError("unknown config key", unknown)
    mistyped = written_type_problems(values)
    if mistyped:
        raise SpecError("invalid stack config", mistyped)
    data: dict[str, Any] = {}
    for key, field in keys.items():
        if key in values and values[key] is not None:
            value = values[key]
            data[field] = decode_config_value(value) if isinstance(value, str) else value
    if "environment" not in data:
        data["environment"] = _environment_from_name(stack)
    if data.get("mode", "single") == "single":
        data.setdefault("orchestrator_environment", data["environment"])
    try:
        return StackConfig.model_validate(data)
    except ValidationError as exc:
        errors = [FieldError(_config_key(error.field), plain_problem(error.problem)) for error in field_errors(exc)]
        raise SpecError("invalid stack config", errors) from None


def _environment_from_name(stack: str) -> str:
    if stack in ENVIRONMENTS:
        return stack
    raise SpecError(
        "environment not set",
        [
            FieldError(
                f"{NAMESPACE}:environment",
                f"is not set and the stack name '{stack}' is not dev, staging or prod; "
                f"run `pulumi config set {NAMESPACE}:environment <dev|staging|prod> --stack {stack}`",
            )
        ],
    )


def _config_key(field_path: str) -> str:
    field_path = field_path.replace(".[key]", "")
    head, _, rest = field_path.partition(".")
    head, bracket, index = head.partition("[")
    alias = "aws:region" if head == "region" else f"{NAMESPACE}:{to_camel(head)}"
    return alias + (bracket + index if bracket else "") + ("." + rest if rest else "")
