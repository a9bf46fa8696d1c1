"""Requests for real-time endpoints (built-in or custom image), with safe-rollout and autoscaling options."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, Self

from pydantic import Field, model_validator

from mlops_spec.common import PositiveInt, S3Location, SageMakerName, Staged, StrictModel, field_problem
from mlops_spec.pipelines.model_source import BuiltinImageSpec, CustomImageSpec, ServedModelSpec
from mlops_spec.published import Rule, given, rule, value_in, when

AlarmName = Annotated[str, Field(min_length=1, max_length=255)]


class DeploymentStrategy(StrictModel):
    """How an endpoint update shifts traffic to the new fleet (SageMaker blue/green deployment).

    all_at_once: one step. canary: `canary_percentage` first, then the rest. linear: steps of
    `linear_step_percentage`. With `auto_rollback`, any alarm going off during the bake time
    rolls back to the old fleet.
    """

    type: Literal["all_at_once", "canary", "linear"] = "all_at_once"
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


class Autoscaling(StrictModel):
    """Target-tracking autoscaling on invocations per instance."""

    SCHEMA_RULES: ClassVar[tuple[Rule, ...]] = (rule("max_capacity", "must be at least min_capacity"),)

    min_capacity: int = Field(default=1, ge=1, le=100)
    max_capacity: int = Field(default=4, ge=1, le=100)
    target_invocations_per_instance: int = Field(default=1000, ge=1)
    scale_in_cooldown_seconds: int = Field(default=300, ge=0)
    scale_out_cooldown_seconds: int = Field(default=60, ge=0)

    @model_validator(mode="after")
    def _capacity_order(self) -> Self:
        if self.max_capacity < self.min_capacity:
            raise field_problem("max_capacity", "must be at least min_capacity", self.max_capacity)
        return self


# JSON Schema of `_rollout_fits_capacity`: a canary or linear rollout needs two instances (in each environment).
_SPLIT_NEEDS_TWO = when(
    {
        "required": ["deployment"],
        "properties": {"deployment": {"type": "object", **value_in("type", ("canary", "linear"))}},
    },
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
)


class RealtimeFields(ServedModelSpec):
    """Endpoint options shared by the built-in and custom real-time requests."""

    SCHEMA_RULES: ClassVar[tuple[Rule, ...]] = (
        # `_vpc_pairs`: subnets and security groups come together.
        when(given("subnet_ids", non_empty=True), given("security_group_ids", non_empty=True)),
        when(given("security_group_ids", non_empty=True), given("subnet_ids", non_empty=True)),
        _SPLIT_NEEDS_TWO,
    )

    data_capture_location: Staged[S3Location] = Field(description="bucket/prefix receiving captured requests.")
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

    @model_validator(mode="after")
    def _vpc_pairs(self) -> Self:
        if bool(self.subnet_ids) != bool(self.security_group_ids):
            missing = "security_group_ids" if self.subnet_ids else "subnet_ids"
            raise field_problem(missing, "is required when the other VPC field is given")
        return self

    @model_validator(mode="after")
    def _rollout_fits_capacity(self) -> Self:
        # Canary and linear shifts need at least two instances to split traffic across.
        counts = self.instance_count.values() if isinstance(self.instance_count, dict) else [self.instance_count]
        if self.deployment.type != "all_at_once" and min(counts) < 2:
            raise field_problem("instance_count", f"must be at least 2 for a {self.deployment.type} deployment")
        return self


class RealtimeBuiltinSpec(RealtimeFields, BuiltinImageSpec):
    """Serve a model on a real-time endpoint with a SageMaker built-in algorithm image."""

    TYPE_SLUG: ClassVar[str] = "realtime-builtin"
    pipeline_type: Literal["byom_realtime_builtin"]


class RealtimeCustomSpec(RealtimeFields, CustomImageSpec):
    """Serve a model on a real-time endpoint with a custom image."""

    TYPE_SLUG: ClassVar[str] = "realtime-custom"
    pipeline_type: Literal["byom_realtime_custom"]
