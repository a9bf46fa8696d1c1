"""Requests for real-time endpoints (built-in or custom image), with safe-rollout and autoscaling options."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import Field, ValidationInfo, field_validator, model_validator

from mlops_spec.common import (
    Environment,
    HostingInstanceType,
    PositiveInt,
    S3Location,
    SageMakerName,
    Staged,
    StrictModel,
    field_problem,
)
from mlops_spec.pipelines.endpoint_options import (
    SERVERLESS_EXCLUSIONS,
    AsyncInference,
    Serverless,
    at_env,
    endpoint_kind_rules,
)
from mlops_spec.pipelines.model_source import BuiltinImageSpec, CustomImageSpec, ServedModelSpec
from mlops_spec.pipelines.shadow import ShadowModel, shadow_problem, shadow_rules
from mlops_spec.pipelines.shadow_variants import SHADOW
from mlops_spec.published import Rule, rule

AlarmName = Annotated[str, Field(min_length=1, max_length=255)]


class DeploymentStrategy(StrictModel):
    """How an endpoint update shifts traffic to the new fleet (SageMaker blue/green deployment).

    all_at_once: one step. canary: `canary_percentage` first, then the rest. linear: steps of
    `linear_step_percentage`. shadow: updates go all at once, and `shadow` (another version of the model)
    gets a copy of production requests (a shadow test; mlops promote makes it the production model).
    With `auto_rollback`, any alarm going off during the bake time rolls back to the old fleet.
    """

    type: Literal["all_at_once", "canary", "linear", "shadow"] = "all_at_once"
    canary_percentage: int = Field(default=10, ge=1, le=50, description="Canary traffic share.")
    linear_step_percentage: int = Field(default=20, ge=5, le=50, description="Traffic share per linear step.")
    wait_interval_seconds: int = Field(default=300, ge=0, le=3600, description="Bake time between steps.")
    termination_wait_seconds: int = Field(default=300, ge=0, le=3600, description="Keep the old fleet this long.")
    auto_rollback: bool = Field(default=True, description="Roll back when an alarm fires during the rollout.")
    alarm_names: list[AlarmName] = Field(
        default_factory=list,
        # SageMaker allows 10 rollback alarms per endpoint; the 5XX and latency alarms take two.
        max_length=8,
        description="Extra existing CloudWatch alarms that trigger rollback (at most 8).",
    )
    max_5xx_errors: int = Field(default=1, ge=0, description="5XX errors per minute that fire the built-in alarm.")
    max_latency_ms: int = Field(default=1000, ge=1, description="p99 model latency that fires the built-in alarm.")
    shadow: ShadowModel | None = Field(default=None, description="With type shadow: the model under test.")

    @field_validator("shadow", mode="before")
    @classmethod
    def _one_shadow(cls, value: Any) -> Any:
        if isinstance(value, list):
            raise ValueError("must be one object: SageMaker allows exactly one shadow variant per endpoint")
        return value

    @property
    def steps(self) -> bool:
        """A canary or linear rollout, which shifts traffic in steps (a shadow test's updates do not)."""
        return self.type in ("canary", "linear")


class Autoscaling(StrictModel):
    """Target-tracking autoscaling: on invocations per instance, or on the queued requests per instance
    (ApproximateBacklogSizePerInstance) of an async_inference endpoint, which may scale down to 0."""

    SCHEMA_RULES: ClassVar[tuple[Rule, ...]] = (
        rule("max_capacity", "must be at least min_capacity"),
        # RealtimeFields._endpoint_kind: an x-rule, as a JSON Schema branch more made the request schema
        # too large for schema-driven generators.
        rule("min_capacity", "may be 0 only on an async_inference endpoint"),
    )

    min_capacity: int = Field(default=1, ge=0, le=100, description="0 only with async_inference.")
    max_capacity: int = Field(default=4, ge=1, le=100)
    target_invocations_per_instance: int = Field(default=1000, ge=1)
    target_backlog_per_instance: int = Field(
        default=5, ge=1, description="async_inference endpoints: queued requests per instance to keep."
    )
    scale_in_cooldown_seconds: int = Field(default=300, ge=0)
    scale_out_cooldown_seconds: int = Field(default=60, ge=0)

    @model_validator(mode="after")
    def _capacity_order(self) -> Self:
        if self.max_capacity < self.min_capacity:
            raise field_problem("max_capacity", "must be at least min_capacity", self.max_capacity)
        return self


# The rules between fields below are each one anyOf of two, not if/then pairs: schema-driven generators
# (the contract test's) expand every combination of branches, and the request schema (a oneOf of every
# type, the built-in real-time request the largest) is near the limit of the one the contract test runs.

# JSON Schema of `_rollout_fits_capacity`: a canary or linear rollout needs two instances (in each environment).
_SPLIT_NEEDS_TWO = {
    "anyOf": [
        {"properties": {"deployment": {"properties": {"type": {"enum": ["all_at_once", SHADOW]}}}}},
        {
            "required": ["instance_count"],
            "properties": {
                "instance_count": {
                    "anyOf": [
                        {"type": "integer", "minimum": 2},
                        {"type": "object", "additionalProperties": {"type": "integer", "minimum": 2}},
                    ]
                }
            },
        },
    ]
}

# JSON Schema of `_vpc_pairs`: subnets and security groups come together, or neither.
_VPC_PAIRS = {
    "anyOf": [
        {
            "required": ["subnet_ids", "security_group_ids"],
            "properties": {
                "subnet_ids": {"type": "array", "minItems": 1},
                "security_group_ids": {"type": "array", "minItems": 1},
            },
        },
        {"properties": {"subnet_ids": {"maxItems": 0}, "security_group_ids": {"maxItems": 0}}},
    ]
}


class RealtimeFields(ServedModelSpec):
    """Endpoint options shared by the built-in and custom real-time requests."""

    SCHEMA_RULES: ClassVar[tuple[Rule, ...]] = (
        _VPC_PAIRS,
        _SPLIT_NEEDS_TWO,
        *endpoint_kind_rules(),
        *shadow_rules(),
    )
    # The fields naming the image a shadow's artifact runs in (set by the built-in and custom requests).
    IMAGE_FIELDS: ClassVar[tuple[str, ...]] = ()

    inference_instance: Staged[HostingInstanceType] | None = Field(
        default=None,
        description="Instance type, e.g. ml.m5.large; per environment in multi-account mode. Not with serverless.",
    )
    data_capture_location: Staged[S3Location] | None = Field(
        default=None, description="bucket/prefix receiving captured requests. Not with serverless."
    )
    endpoint_name: Staged[SageMakerName] | None = Field(
        default=None, description="Endpoint name; derived from the pipeline id and environment when absent."
    )
    data_capture_percentage: int = Field(default=100, ge=0, le=100, description="Share of requests captured.")
    instance_count: Staged[PositiveInt] = Field(default=1, description="Instances behind the endpoint.")
    deployment: DeploymentStrategy = Field(default_factory=DeploymentStrategy)
    autoscaling: Autoscaling | None = None
    subnet_ids: list[Annotated[str, Field(pattern=r"^subnet-[0-9a-f]{8,17}$")]] = Field(
        default_factory=list, max_length=16, description="Run the model in these VPC subnets."
    )
    security_group_ids: list[Annotated[str, Field(pattern=r"^sg-[0-9a-f]{8,17}$")]] = Field(
        default_factory=list, max_length=5
    )
    serverless: Serverless | None = Field(
        default=None, description="Serve on demand (SageMaker Serverless Inference) instead of on instances."
    )
    async_inference: AsyncInference | None = Field(
        default=None, description="Queue requests and write responses to S3 (SageMaker Asynchronous Inference)."
    )

    @model_validator(mode="after")
    def _endpoint_kind(self) -> Self:
        """Serverless endpoints have no instances, capture, VPC or stepped rollout; instances need a type."""
        if self.serverless is None:
            for name in ("inference_instance", "data_capture_location"):
                if getattr(self, name) is None:
                    raise field_problem(name, "is required")
            if self.autoscaling and self.autoscaling.min_capacity == 0 and self.async_inference is None:
                raise field_problem(
                    "autoscaling.min_capacity", "may be 0 only on an async_inference endpoint; give at least 1", 0
                )
            return self
        if self.async_inference is not None:
            raise field_problem("async_inference", "cannot be combined with serverless: choose one of them")
        for name, problem in SERVERLESS_EXCLUSIONS.items():
            # Against the default, not the fields given: a stored request (model_dump) spells defaults out.
            if getattr(self, name) != type(self).model_fields[name].get_default(call_default_factory=True):
                raise field_problem(name, problem)
        if self.deployment.steps:  # a shadow is refused by `_shadow_fits`, with its own reason
            raise field_problem(
                "deployment.type",
                "must be all_at_once on a serverless endpoint (it has no instances to shift traffic in steps)",
                self.deployment.type,
            )
        return self

    @model_validator(mode="after")
    def _shadow_fits(self, info: ValidationInfo) -> Self:
        registry = bool((info.context or {}).get("use_model_registry"))
        problem = shadow_problem(self, self.IMAGE_FIELDS, registry)
        if problem is not None:
            raise field_problem(*problem)
        return self

    @model_validator(mode="after")
    def _vpc_pairs(self) -> Self:
        if bool(self.subnet_ids) != bool(self.security_group_ids):
            missing = "security_group_ids" if self.subnet_ids else "subnet_ids"
            raise field_problem(missing, "is required when the other VPC field is given")
        return self

    @model_validator(mode="after")
    def _rollout_fits_capacity(self) -> Self:
        # Canary and linear shifts need at least two instances to split traffic across.
        if self.serverless is not None:
            return self  # `_endpoint_kind` refuses any stepped rollout of a serverless endpoint
        counts = self.instance_count.values() if isinstance(self.instance_count, dict) else [self.instance_count]
        if self.deployment.steps and min(counts) < 2:
            raise field_problem("instance_count", f"must be at least 2 for a {self.deployment.type} deployment")
        return self

    def for_env(self, env: Environment) -> Self:
        """As `PipelineSpec.for_env`, with the per-environment values of the endpoint options resolved too."""
        spec = super().for_env(env)
        update: dict[str, Any] = {}
        for name in ("serverless", "async_inference"):
            option = getattr(spec, name)
            if option is not None:
                update[name] = option.model_copy(
                    update={field: at_env(getattr(option, field), env) for field in type(option).model_fields}
                )
        if spec.deployment.shadow is not None:
            update["deployment"] = spec.deployment.model_copy(update={"shadow": spec.deployment.shadow.at(env)})
        return spec.model_copy(update=update) if update else spec


class RealtimeBuiltinSpec(RealtimeFields, BuiltinImageSpec):
    """Serve a model on a real-time endpoint with a SageMaker built-in algorithm image."""

    TYPE_SLUG: ClassVar[str] = "realtime-builtin"
    IMAGE_FIELDS: ClassVar[tuple[str, ...]] = ("model_framework", "model_framework_version")
    pipeline_type: Literal["byom_realtime_builtin"]


class RealtimeCustomSpec(RealtimeFields, CustomImageSpec):
    """Serve a model on a real-time endpoint with a custom image."""

    TYPE_SLUG: ClassVar[str] = "realtime-custom"
    IMAGE_FIELDS: ClassVar[tuple[str, ...]] = ("custom_image_uri",)
    pipeline_type: Literal["byom_realtime_custom"]
