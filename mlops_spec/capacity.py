"""What a pipeline request needs of an account's SageMaker instance quotas (quota preflight). Pure Python.

A quota of 0 (or a few) for an instance type is the most common first-deploy failure: SageMaker
refuses the endpoint, job or schedule minutes into the deploy. SageMaker's quotas are per account,
region, instance type and usage, named "<instance type> for <usage> usage" in Service Quotas. This
module says which quotas a request draws on and how many instances it needs of each; the check
against the account's values lives with the code that reads them (lambda_src/common/quotas.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from mlops_spec.base import PipelineSpec
from mlops_spec.common import Environment
from mlops_spec.pipelines.autopilot import AutopilotSpec
from mlops_spec.pipelines.batch import BatchFields
from mlops_spec.pipelines.monitors import MonitorSpec
from mlops_spec.pipelines.realtime import RealtimeFields
from mlops_spec.pipelines.training import BuiltinTrainingFields, TunerSpec


class Usage(StrEnum):
    """The usages SageMaker counts instances under, as its quota names spell them."""

    ENDPOINT = "endpoint"
    TRANSFORM = "transform job"
    PROCESSING = "processing job"
    TRAINING = "training job"
    SPOT_TRAINING = "spot training job"


def quota_name(instance_type: str, usage: Usage) -> str:
    """The Service Quotas name of a SageMaker instance quota, e.g. "ml.m5.large for endpoint usage"."""
    return f"{instance_type} for {usage} usage"


@dataclass(frozen=True)
class InstanceNeed:
    """Instances of one type a pipeline holds at once under one usage."""

    instance_type: str
    usage: Usage
    count: int
    why: str

    @property
    def quota(self) -> str:
        return quota_name(self.instance_type, self.usage)


@dataclass(frozen=True)
class Shortfall:
    """A quota the request would exceed: its value, what this project's pipelines already hold, the need."""

    quota: str
    value: int
    in_use: int
    needed: int

    @property
    def message(self) -> str:
        held = f", {self.in_use} held by this project's other pipelines" if self.in_use else ""
        return (
            f"SageMaker quota '{self.quota}' is {self.value}{held}; this request needs {self.needed} more. "
            "Ask for an increase in Service Quotas, or choose another instance type or count."
        )


def instance_needs(
    spec: PipelineSpec, env: Environment, *, updating: bool = False, at_rest: bool = False
) -> list[InstanceNeed]:
    """What `spec` holds in `env` at its peak. `updating`: the pipeline is live there already, so an
    endpoint update may run SageMaker's blue/green deployment, which builds a new fleet of the
    endpoint's instance count beside the old. `at_rest`: what a deployed endpoint holds between
    deployments (its instance count; autoscaling may hold more for a while, which no quota check
    before the fact can know)."""
    resolved = spec.for_env(env)
    if isinstance(resolved, RealtimeFields):
        return _endpoint_needs(resolved, updating, at_rest)
    if isinstance(resolved, BatchFields):
        count = int(resolved.instance_count)  # type: ignore[arg-type]  # resolved for env
        return [InstanceNeed(str(resolved.inference_instance), Usage.TRANSFORM, count, "batch transform job")]
    if isinstance(resolved, MonitorSpec):
        # The baseline job and each scheduled run use one instance; they do not overlap.
        return [InstanceNeed(str(resolved.instance_type), Usage.PROCESSING, 1, "baseline and monitoring jobs")]
    if isinstance(resolved, TunerSpec):
        usage = Usage.SPOT_TRAINING if resolved.use_spot_instances else Usage.TRAINING
        parallel = resolved.tuner_configs.max_parallel_jobs
        count = resolved.instance_count * parallel
        return [InstanceNeed(resolved.instance_type, usage, count, f"{parallel} tuning jobs at a time")]
    if isinstance(resolved, BuiltinTrainingFields):
        usage = Usage.SPOT_TRAINING if resolved.use_spot_instances else Usage.TRAINING
        return [InstanceNeed(resolved.instance_type, usage, resolved.instance_count, "training job")]
    return []


def unknown_needs(spec: PipelineSpec) -> str | None:
    """Why the needs of `spec` cannot be known before it runs, if they cannot."""
    if isinstance(spec, AutopilotSpec):
        return "Autopilot chooses its instance types as it runs; its quotas cannot be checked beforehand"
    return None


def _endpoint_needs(spec: RealtimeFields, updating: bool, at_rest: bool) -> list[InstanceNeed]:
    if spec.serverless is not None:
        return []  # no instances: serverless concurrency has quotas of its own, not instance quotas
    fleet = int(spec.instance_count)  # type: ignore[arg-type]  # resolved for env
    count, why = fleet, f"{fleet} endpoint instance{'s' if fleet > 1 else ''}"
    if not at_rest and spec.autoscaling is not None and spec.autoscaling.max_capacity > fleet:
        count, why = spec.autoscaling.max_capacity, f"up to {spec.autoscaling.max_capacity} with autoscaling"
    if updating:
        # Blue/green: a new fleet of the endpoint's instance count runs beside the old during the switch.
        count, why = count + fleet, f"{why}, and {fleet} more during a blue/green update"
    return [InstanceNeed(str(spec.inference_instance), Usage.ENDPOINT, count, why), *_shadow_needs(spec, updating)]


def _shadow_needs(spec: RealtimeFields, updating: bool) -> list[InstanceNeed]:
    """A shadow test's variant runs on instances of its own (blue/green builds them anew too)."""
    shadow = spec.deployment.shadow
    if shadow is None:
        return []
    fleet = int(shadow.instance_count)  # type: ignore[arg-type]  # resolved for env
    count, why = fleet, f"{fleet} shadow instance{'s' if fleet > 1 else ''}"
    if updating:
        count, why = count + fleet, f"{why}, and {fleet} more during a blue/green update"
    return [InstanceNeed(str(shadow.instance_type), Usage.ENDPOINT, count, why)]


def total_by_quota(needs: Iterable[InstanceNeed]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for need in needs:
        totals[need.quota] = totals.get(need.quota, 0) + need.count
    return totals


def shortfalls(needed: dict[str, int], quotas: dict[str, int], in_use: dict[str, int]) -> list[Shortfall]:
    """The quotas `needed` would exceed, given their values and what is already held; a quota the
    account does not list is left out (the caller says it could not be checked)."""
    short = []
    for quota, count in sorted(needed.items()):
        if quota not in quotas:
            continue
        held = in_use.get(quota, 0)
        if held + count > quotas[quota]:
            short.append(Shortfall(quota, quotas[quota], held, count))
    return short
