"""The typed config of one Pulumi stack (`Pulumi.<env>.yaml`, keys under `mlops:`)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Self

from pydantic import ConfigDict, Field, SerializeAsAny, ValidationError, model_validator
from pydantic.alias_generators import to_camel

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
    field_problem,
)
from mlops_spec.errors import FieldError, SpecError, field_errors

EmailAddress = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
BucketName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
RepositoryName = Annotated[str, Field(pattern=r"^[a-z0-9]+([._/-][a-z0-9]+)*$", max_length=256)]
NAMESPACE = "mlops"
# Keys read as Pulumi secrets by the program, never as plain config.
SECRET_KEYS = frozenset({f"{NAMESPACE}:deployRoleExternalId"})


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
    existing_assets_bucket: BucketName | None = None
    existing_ecr_repository: RepositoryName | None = None
    organizational_units: dict[Environment, OrganizationalUnitId] = Field(default_factory=dict)
    provisioner_image_tag: Annotated[str, Field(pattern=r"^[\w.-]{1,128}$")] | None = Field(
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

    @model_validator(mode="after")
    def _accounts_match_mode(self) -> Self:
        if self.mode == "multi":
            missing = [env for env in ENVIRONMENTS if env not in self.accounts]
            if missing:
                raise field_problem("accounts", f"multi-account mode needs an account for {', '.join(missing)}")
            if len(set(self.accounts.values())) != len(ENVIRONMENTS):
                raise field_problem("accounts", "dev, staging and prod must be different accounts")
        elif self.environment not in self.accounts:
            raise field_problem("accounts", f"needs the account of this stack's environment '{self.environment}'")
        if self.mode == "single" and self.environment != self.orchestrator_environment:
            raise field_problem("environment", "in single-account mode the stack must host the orchestrator")
        ids = [spec.pipeline_id for spec in self.pipelines]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise field_problem("pipelines", f"declares pipeline {duplicates[0]} more than once")
        return self

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

    The environment defaults to the stack name. Raises SpecError naming the config key.
    """
    keys = config_keys()
    unknown = sorted(k for k in values if k.startswith(f"{NAMESPACE}:") and k not in keys and k not in SECRET_KEYS)
    if unknown:
        raise SpecError("unknown config key", [FieldError(unknown[0], "is not a known config key")])
    data: dict[str, Any] = {}
    for key, field in keys.items():
        if key in values and values[key] is not None:
            value = values[key]
            data[field] = decode_config_value(value) if isinstance(value, str) else value
    data.setdefault("environment", stack)
    try:
        return StackConfig.model_validate(data)
    except ValidationError as exc:
        errors = [FieldError(_config_key(error.field), error.problem) for error in field_errors(exc)]
        raise SpecError("invalid stack config", errors) from None


def _config_key(field_path: str) -> str:
    head, _, rest = field_path.partition(".")
    head, bracket, index = head.partition("[")
    alias = "aws:region" if head == "region" else f"{NAMESPACE}:{to_camel(head)}"
    return alias + (bracket + index if bracket else "") + ("." + rest if rest else "")
