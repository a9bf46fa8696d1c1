"""Estimated cost of a pipeline in each environment, with the assumptions it rests on, and the
`mlops:maxMonthlyCostPerPipeline` guardrail. Pure Python: prices come in through a lookup.

What is priced: SageMaker instance-hours at on-demand list prices. Endpoints run all month (730 hours),
between autoscaling's minimum and maximum; monitors run per schedule, each run assumed to last its time
limit; training, tuning and batch transform runs are priced at their time limit (an upper bound). What
is not: serverless inference (priced per request duration, so it depends on traffic), storage (data
capture, volumes), data transfer, CloudWatch, CodeBuild. A price the lookup does not know is reported as
unknown with its instance type, never as 0, and leaves the total unknown.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeGuard

from mlops_spec.base import PipelineSpec
from mlops_spec.common import Environment
from mlops_spec.cost_setting import COST_SETTING as COST_SETTING
from mlops_spec.cost_setting import max_monthly_cost_problem as max_monthly_cost_problem
from mlops_spec.schedule_runs import HOURS_PER_MONTH, runs_per_month

if TYPE_CHECKING:
    from mlops_spec.pipelines.batch import BatchFields
    from mlops_spec.pipelines.monitors import MonitorSpec
    from mlops_spec.pipelines.realtime import RealtimeFields
    from mlops_spec.pipelines.training import BuiltinTrainingFields

# How SageMaker bills an instance, as the Price List's usage types name it (USE1-Host:ml.m5.large, ...).
PriceUsage = Literal["hosting", "async", "transform", "processing", "training"]
PRICE_USAGES: tuple[PriceUsage, ...] = ("hosting", "async", "transform", "processing", "training")
# (region, instance type, usage) -> USD an instance-hour, or None when the price is not known.
PriceLookup = Callable[[str, str, PriceUsage], float | None]

PRICE_TABLE_FILE = Path(__file__).parent / "data" / "sagemaker_prices.json"
# The regions the project documents (README: its examples' us-east-1 and eu-west-1); the committed
# table covers these, live prices (the Price List API) any region.
PRICED_REGIONS = ("us-east-1", "eu-west-1")
LIVE_SOURCE = "AWS Price List API (AmazonSageMaker, on-demand)"
UNKNOWN_PRICE_FIX = "run scripts/generate_prices.py with AWS credentials or use --prices live"
# A batch transform run is stopped after two days (components/pipelines/batch.py RUN_TIMEOUT_SECONDS),
# and a baseline job without a limit after a day (components/pipelines/monitors/plan.py).
BATCH_RUN_LIMIT_SECONDS = 2 * 24 * 3600
DEFAULT_BASELINE_SECONDS = 86400

ASSUMPTIONS = (
    "on-demand list prices in USD before tax, without Savings Plans, reserved capacity or free tier",
    "a month is 730 hours",
    "data-capture storage (S3), ML storage volumes, data transfer and CloudWatch are left out",
)


@dataclass(frozen=True)
class CostLine:
    """One priced item: `quantity` instance-hours (up to `max_quantity`) at `unit_price_usd` an hour.
    `monthly`: every month; otherwise once per deployment (a job run when the pipeline deploys)."""

    description: str
    instance_type: str | None
    usage: PriceUsage | None
    quantity: float
    max_quantity: float
    unit_price_usd: float | None
    monthly: bool = True
    note: str | None = None

    @property
    def price_unknown(self) -> bool:
        return self.instance_type is not None and self.unit_price_usd is None

    @property
    def amount_usd(self) -> float | None:
        return None if self.unit_price_usd is None else round(self.quantity * self.unit_price_usd, 2)

    @property
    def max_amount_usd(self) -> float | None:
        return None if self.unit_price_usd is None else round(self.max_quantity * self.unit_price_usd, 2)

    def as_dict(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "instance_type": self.instance_type,
            "usage": self.usage,
            "quantity": round(self.quantity, 2),
            "max_quantity": round(self.max_quantity, 2),
            "unit": "instance-hours a month" if self.monthly else "instance-hours a deployment",
            "unit_price_usd": self.unit_price_usd,
            "amount_usd": self.amount_usd,
            "max_amount_usd": self.max_amount_usd,
            "note": self.note,
        }


@dataclass(frozen=True)
class CostEstimate:
    """A pipeline's estimated cost in one environment."""

    pipeline_id: str
    environment: str
    region: str
    source: str
    lines: tuple[CostLine, ...]
    assumptions: tuple[str, ...]

    def _sum(self, monthly: bool, amount: Callable[[CostLine], float | None]) -> float | None:
        if all(line.instance_type is None for line in self.lines):
            return None  # nothing is priced (serverless, Autopilot, image builds): no figure, not $0
        chosen = [line for line in self.lines if line.monthly == monthly and line.instance_type is not None]
        amounts = [amount(line) for line in chosen]
        return None if None in amounts else round(sum(a for a in amounts if a is not None), 2)

    @property
    def total_monthly_usd(self) -> float | None:
        """Every month, at the least (autoscaling at its minimum); None while a price is unknown."""
        return self._sum(True, lambda line: line.amount_usd)

    @property
    def max_monthly_usd(self) -> float | None:
        """Every month, at the most (autoscaling at its maximum, runs at their time limits)."""
        return self._sum(True, lambda line: line.max_amount_usd)

    @property
    def per_deployment_usd(self) -> float | None:
        """Jobs run once per deployment (training, tuning, baselines, unscheduled transforms), at most."""
        return self._sum(False, lambda line: line.max_amount_usd)

    @property
    def unknown_prices(self) -> list[str]:
        return sorted({f"{line.instance_type} ({line.usage})" for line in self.lines if line.price_unknown})

    def as_dict(self) -> dict[str, Any]:
        return {
            "pipeline_id": self.pipeline_id,
            "environment": self.environment,
            "region": self.region,
            "total_monthly_usd": self.total_monthly_usd,
            "max_monthly_usd": self.max_monthly_usd,
            "per_deployment_usd": self.per_deployment_usd,
            "unknown_prices": self.unknown_prices,
            "lines": [line.as_dict() for line in self.lines],
            "assumptions": list(self.assumptions),
            "source": self.source,
            "summary": self.summary(),
        }

    def summary(self) -> str:
        """One line: `pipeline (env): $low-$high a month, $x a deployment` or why it is unknown."""
        head = f"{self.pipeline_id} ({self.environment}, {self.region})"
        if self.unknown_prices:
            # Live prices that lack one: the Price List has no such offer; the table: it is out of date.
            fix = (
                "the AWS Price List has no on-demand price for it" if self.source == LIVE_SOURCE else UNKNOWN_PRICE_FIX
            )
            return f"{head}: price unknown for {', '.join(self.unknown_prices)}: {fix}"
        unpriced = "; ".join(line.note for line in self.lines if line.instance_type is None and line.note)
        if all(line.instance_type is None for line in self.lines):
            return f"{head}: not priced: {unpriced}"
        low, high, once = self.total_monthly_usd, self.max_monthly_usd, self.per_deployment_usd
        monthly = f"${low:,.2f}" if low == high else f"${low:,.2f}-${high:,.2f}"
        text = f"{head}: {monthly} a month" + (f", up to ${once:,.2f} a deployment" if once else "")
        return text + (f"; not priced: {unpriced}" if unpriced else "")


@dataclass
class _Pricer:
    """Builds the lines of one environment's estimate, priced in one region."""

    region: str
    lookup: PriceLookup
    lines: list[CostLine] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)

    def add(
        self, description: str, instance_type: str, usage: PriceUsage, hours: float, max_hours: float | None = None
    ) -> None:
        price = self.lookup(self.region, instance_type, usage)
        note = None if price is not None else f"price unknown for {instance_type} ({usage}) in {self.region}"
        high = hours if max_hours is None else max_hours
        self.lines.append(CostLine(description, instance_type, usage, hours, high, price, note=note))

    def add_run(self, description: str, instance_type: str, usage: PriceUsage, hours: float) -> None:
        """A job run once per deployment, priced at its time limit."""
        self.add(description, instance_type, usage, hours)
        self.lines.append(replace(self.lines.pop(), monthly=False))

    def unpriced(self, description: str, why: str) -> None:
        self.lines.append(CostLine(description, None, None, 0, 0, None, note=why))
        self.assumptions.append(why)


def estimate(spec: PipelineSpec, env: Environment, region: str, lookup: PriceLookup, source: str) -> CostEstimate:
    """The estimated cost of `spec` in `env`, priced in `region` by `lookup` (whose origin is `source`)."""
    pricer = _Pricer(region, lookup)
    resolved = spec.for_env(env)
    if _is(resolved, "realtime", "RealtimeFields"):
        _endpoint(resolved, env, pricer)
    elif _is(resolved, "batch", "BatchFields"):
        _batch(resolved, pricer)
    elif _is(resolved, "monitors", "MonitorSpec"):
        _monitor(resolved, pricer)
    elif _is(resolved, "training", "BuiltinTrainingFields"):
        _training(resolved, pricer)
    elif _is(resolved, "autopilot", "AutopilotSpec"):
        pricer.unpriced(
            "Autopilot job",
            "Autopilot chooses its instance types as it runs, so its cost cannot be priced beforehand (at most "
            f"{resolved.job_max_candidates} candidates within {resolved.total_max_runtime // 3600} hours)",
        )
    elif _is(resolved, "image_builder", "ImageBuilderSpec"):
        pricer.unpriced("image build", "an image build runs on CodeBuild (build minutes and ECR storage not priced)")
    return CostEstimate(
        spec.pipeline_id, env, region, source, tuple(pricer.lines), (*ASSUMPTIONS, *dict.fromkeys(pricer.assumptions))
    )


def _is(spec: PipelineSpec, module: str, name: str) -> TypeGuard[Any]:
    """isinstance(spec, mlops_spec.pipelines.<module>.<name>) without importing the module: a spec of one of
    its classes exists only once it is loaded, and a request imports its own type's module alone."""
    loaded = sys.modules.get(f"mlops_spec.pipelines.{module}")
    return loaded is not None and isinstance(spec, getattr(loaded, name))


def estimates(
    spec: PipelineSpec, mode: str, region: str, lookup: PriceLookup, source: str, home: Environment = "dev"
) -> list[CostEstimate]:
    """One estimate per environment the pipeline deploys to, in promotion order."""
    return [estimate(spec, env, region, lookup, source) for env in spec.environments(mode, home)]


def _endpoint(spec: RealtimeFields, env: Environment, pricer: _Pricer) -> None:
    if spec.serverless is not None:
        pricer.unpriced(
            "serverless endpoint",
            "serverless inference is charged per request duration (GB-seconds) and data processed, "
            "so its cost depends on traffic and is not in the total",
        )
        return
    instance, count = str(spec.inference_instance), int(spec.instance_count)  # type: ignore[arg-type]
    low = high = count
    if spec.autoscaling is not None:
        low, high = spec.autoscaling.min_capacity, spec.autoscaling.max_capacity
        pricer.assumptions.append(f"autoscaling keeps the endpoint between {low} and {high} instances")
    usage: PriceUsage = "async" if spec.async_inference is not None else "hosting"
    what = "asynchronous endpoint" if usage == "async" else "endpoint"
    month = float(HOURS_PER_MONTH)
    pricer.add(f"{what}: {_instances(low, high)} x {HOURS_PER_MONTH} h", instance, usage, low * month, high * month)
    shadow = getattr(spec.deployment, "shadow", None)  # shadow tests (mlops_spec/pipelines/shadow.py)
    if shadow is not None:
        resolved = shadow.at(env)
        shadow_count = int(resolved.instance_count)
        what = f"shadow variant: {_instances(shadow_count, shadow_count)} x {HOURS_PER_MONTH} h"
        pricer.add(what, str(resolved.instance_type), "hosting", shadow_count * month)


def _instances(low: int, high: int) -> str:
    count = str(low) if low == high else f"{low}-{high}"
    return f"{count} instance{'' if count == '1' else 's'}"


def _batch(spec: BatchFields, pricer: _Pricer) -> None:
    instance, count = str(spec.inference_instance), int(spec.instance_count)  # type: ignore[arg-type]
    run_hours = BATCH_RUN_LIMIT_SECONDS / 3600
    pricer.assumptions.append(
        f"a batch transform run is priced at its time limit ({run_hours:g} hours), an upper bound: "
        "its real length depends on the data"
    )
    schedule = spec.schedule_expression
    if schedule is None:
        pricer.add_run(
            f"transform run: {_instances(count, count)} x {run_hours:g} h", instance, "transform", count * run_hours
        )
        return
    runs = runs_per_month(str(schedule))
    # Runs cannot hold the instances for longer than the month has.
    hours = min(runs * run_hours, float(HOURS_PER_MONTH)) * count
    pricer.add(
        f"{runs:g} transform runs a month ({schedule}): {_instances(count, count)}, at most {run_hours:g} h each",
        instance,
        "transform",
        hours,
    )


def _monitor(spec: MonitorSpec, pricer: _Pricer) -> None:
    instance = str(spec.instance_type)
    runs = runs_per_month(str(spec.schedule_expression))
    run_hours = int(spec.monitor_max_runtime_seconds) / 3600  # type: ignore[arg-type]
    pricer.assumptions.append(
        f"each monitoring run lasts its time limit (monitor_max_runtime_seconds, {run_hours:g} h), an upper bound"
    )
    hours = min(runs * run_hours, float(HOURS_PER_MONTH))
    pricer.add(
        f"{runs:g} monitoring runs a month ({spec.schedule_expression}): 1 instance, {run_hours:g} h each",
        instance,
        "processing",
        hours,
    )
    limit = spec.baseline_max_runtime_seconds
    baseline_hours = (int(limit) if limit is not None else DEFAULT_BASELINE_SECONDS) / 3600  # type: ignore[arg-type]
    pricer.add_run(
        f"baseline job: 1 instance x {baseline_hours:g} h (its time limit)", instance, "processing", baseline_hours
    )


def _training(spec: BuiltinTrainingFields, pricer: _Pricer) -> None:
    run_hours = spec.max_runtime_per_job / 3600
    tuner = spec if _is(spec, "training", "TunerSpec") else None
    jobs = tuner.tuner_configs.max_jobs if tuner else 1
    what = f"{jobs} tuning jobs" if tuner else "training job"
    count = spec.instance_count
    hours = jobs * count * run_hours
    pricer.add_run(
        f"{what}: {_instances(count, count)} x {run_hours:g} h (max_runtime_per_job)",
        spec.instance_type,
        "training",
        hours,
    )
    pricer.assumptions.append("training runs are priced at their time limit (max_runtime_per_job), an upper bound")
    if spec.use_spot_instances:
        pricer.assumptions.append(
            "managed spot training is billed at most the on-demand price, shown here (usually far less)"
        )


def cost_violation(estimate: CostEstimate, limit_usd: float) -> str | None:
    """The guardrail: the problem when `estimate` may exceed `limit_usd` in a month (its monthly maximum
    plus the jobs a deployment runs), naming the figure; None when within it or not priced (see
    `unknown_prices`: an unknown price is no figure to refuse)."""
    monthly, once = estimate.max_monthly_usd, estimate.per_deployment_usd
    if monthly is None or once is None:
        return None
    worst = round(monthly + once, 2)
    if worst <= limit_usd:
        return None
    parts = f"${monthly:,.2f} a month" + (f" and ${once:,.2f} a deployment" if once else "")
    return (
        f"{estimate.pipeline_id} in {estimate.environment} is estimated at up to ${worst:,.2f} ({parts}), "
        f"above {COST_SETTING} ${limit_usd:,.2f}"
    )


def limit_unchecked(estimate: CostEstimate, limit_usd: float) -> str | None:
    """Why `estimate` cannot be held to `limit_usd` (a price unknown, nothing priced), or None when it can."""
    if estimate.max_monthly_usd is not None and estimate.per_deployment_usd is not None:
        return None
    why = f"price unknown for {', '.join(estimate.unknown_prices)}" if estimate.unknown_prices else "it is not priced"
    return f"{estimate.pipeline_id} in {estimate.environment}: {COST_SETTING} ${limit_usd:,.2f} not checked: {why}"


def cost_document(found: list[CostEstimate], limit_usd: float | None = None) -> dict[str, Any]:
    """The `cost` object of a JSON plan or a dry run: each environment's estimate, where the prices come
    from, the `mlops:maxMonthlyCostPerPipeline` limit, the estimates above it (`violations`) and those
    it could not be checked against (`unchecked`: an unknown price is no figure to refuse)."""
    violations: list[str] = []
    unchecked: list[str] = []
    if limit_usd is not None:
        violations = [problem for cost in found if (problem := cost_violation(cost, limit_usd))]
        unchecked = [why for cost in found if (why := limit_unchecked(cost, limit_usd))]
    return {
        "source": found[0].source if found else None,
        "estimates": [cost.as_dict() for cost in found],
        "max_monthly_cost_per_pipeline": limit_usd,
        "violations": violations,
        "unchecked": unchecked,
    }


@dataclass(frozen=True)
class PriceTable:
    """The committed snapshot of SageMaker prices: region -> usage -> instance type -> USD an hour."""

    source: str
    retrieved: str | None
    prices: dict[str, dict[str, dict[str, float]]]

    @property
    def label(self) -> str:
        """The source as estimates show it: where the prices come from and when they were read."""
        when = f"retrieved {self.retrieved}" if self.retrieved else "no prices retrieved yet"
        return f"{PRICE_TABLE_FILE.name}: {self.source}, {when}"

    def lookup(self, region: str, instance_type: str, usage: PriceUsage) -> float | None:
        return self.prices.get(region, {}).get(usage, {}).get(instance_type)


@cache
def price_table() -> PriceTable:
    data = json.loads(PRICE_TABLE_FILE.read_text())
    return PriceTable(str(data["source"]), data.get("retrieved"), dict(data["regions"]))


def offline_estimates(spec: PipelineSpec, mode: str, region: str, home: Environment = "dev") -> list[CostEstimate]:
    """Estimates priced from the committed table (what `mlops plan` shows without credentials)."""
    table = price_table()
    return estimates(spec, mode, region, table.lookup, table.label, home)
