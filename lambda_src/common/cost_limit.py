"""A request's estimated cost as the API and the trigger see it, and the mlops:maxMonthlyCostPerPipeline limit.

The functions have credentials, so prices are the AWS Price List's (lambda_src/common/prices.py); when
it cannot be read (a role without pricing:GetProducts, a timeout), the committed table's, and the
`source` says so. Above the limit, provisioning is refused (400) before anything is written. An
estimate the limit cannot check (a price unknown) is refused too, by default (mlops:costLimitUnknownPrices
"refuse"): 503 when the Price List could not be read, 400 when it holds no price; with "allow" it is
accepted and `unchecked` says the limit could not be checked.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from lambda_src.common import aws
from lambda_src.common.errors import InvalidRequest, ServiceUnavailable, field_error
from lambda_src.common.settings import Settings
from mlops_spec.cost_setting import UNKNOWN_PRICES_SETTING

if TYPE_CHECKING:
    from mlops_spec.base import PipelineSpec
    from mlops_spec.costs import CostEstimate, PriceLookup

logger = Logger(child=True)

# The Price List is asked within the API's 29 s (the dry run also waits for the quota preflight):
# one attempt, a few seconds for each answer.
PRICE_LIST_SECONDS = 4
# ... and all the lookups of one request within this (the dry run waits for the preflight meanwhile).
PRICE_LIST_DEADLINE_SECONDS = 6.0
# The request fields that name a pipeline's instance type, in the order they are looked for.
INSTANCE_FIELDS = ("inference_instance", "instance_type")


def live_prices(region: str) -> PriceLookup:
    """The Price List lookup of `region`'s prices (its answers remembered by the process for an hour:
    lambda_src/common/prices.py), through a client bounded as above."""
    from lambda_src.common.prices import LivePrices

    return LivePrices(client=_pricing_client(region))


def _pricing_client(region: str) -> Any:
    """The Price List client of `region`'s partition, bounded as above."""
    from lambda_src.common.prices import pricing_region

    where = pricing_region(region)
    return aws.bounded_client(
        f"pricing:{where}",
        "pricing",
        region=where,
        connect_timeout=2,
        read_timeout=PRICE_LIST_SECONDS,
        retries={"total_max_attempts": 1, "mode": "standard"},
    )


class PriceListDeadline(Exception):
    """The Price List lookups of one request did not all answer within PRICE_LIST_DEADLINE_SECONDS."""


@dataclass(frozen=True)
class Priced:
    """A request's estimates and their `cost` object, and why the Price List could not be read (None
    when it was: the estimates are at its prices)."""

    estimates: list[CostEstimate]
    cost: dict[str, Any]
    price_list_failure: str | None = None


def request_cost(
    spec: PipelineSpec, settings: Settings, region: str | None = None, lookup: PriceLookup | None = None
) -> dict[str, Any]:
    """The `cost` object (mlops_spec.costs.cost_document) of `spec` in every environment it deploys to,
    priced in the orchestrator's region at the Price List's prices, or the table's when it cannot be read."""
    return priced_cost(spec, settings, region, lookup).cost


def priced_cost(
    spec: PipelineSpec, settings: Settings, region: str | None = None, lookup: PriceLookup | None = None
) -> Priced:
    """As request_cost, keeping the estimates and why the Price List could not be read. `lookup` (the live
    one of the region by default) is made by the caller's thread: a boto3 session makes clients in one
    thread at a time, and the lookups run in another (see within_deadline)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from mlops_spec.costs import LIVE_SOURCE, cost_document

    where = estimate_region(region)
    live = lookup or live_prices(where)
    limit = settings.max_monthly_cost_per_pipeline
    try:
        found = within_deadline(lambda: list(_estimates(spec, settings, where, live, LIVE_SOURCE)))
    except (BotoCoreError, ClientError, PriceListDeadline) as exc:
        reason = _failure_reason(exc)
        logger.info("the AWS Price List could not be read; the committed table prices the estimate", reason=reason)
        found = _table_estimates(spec, settings, where, f"the AWS Price List could not be read: {reason}")
        return Priced(found, cost_document(found, limit), reason)
    return Priced(found, cost_document(found, limit))


def within_deadline(lookups: Callable[[], list[CostEstimate]]) -> list[CostEstimate]:
    """`lookups()` run in a worker thread, waited for PRICE_LIST_DEADLINE_SECONDS at most (PriceListDeadline
    then): however many prices one request needs, the API still answers well within its 29 s. A late
    thread is left to end on its own (its client's timeouts bound it); its answers are remembered."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="price-list")
    try:
        return pool.submit(lookups).result(timeout=PRICE_LIST_DEADLINE_SECONDS)
    except FutureTimeout:
        raise PriceListDeadline(f"no answer within {PRICE_LIST_DEADLINE_SECONDS:g} s") from None
    finally:
        pool.shutdown(wait=False)


def table_cost(spec: PipelineSpec, settings: Settings, region: str | None = None) -> dict[str, Any]:
    """The `cost` object priced at the committed table alone, for a dry run asked not to call AWS
    (checks=false): the same estimates and limit, and a `source` that says the Price List was not asked."""
    from mlops_spec.costs import cost_document

    found = _table_estimates(spec, settings, estimate_region(region), "checks=false: the AWS Price List was not asked")
    return cost_document(found, settings.max_monthly_cost_per_pipeline)


def estimate_region(region: str | None = None) -> str:
    """The region estimates are priced in: the one given, else the function's own (the orchestrator's)."""
    return region or os.environ.get("AWS_REGION") or "us-east-1"


def _table_estimates(spec: PipelineSpec, settings: Settings, region: str, why: str) -> list[CostEstimate]:
    """The estimates at the committed table's prices, their source saying why the Price List's are not used."""
    from mlops_spec.costs import price_table

    table = price_table()
    return list(_estimates(spec, settings, region, table.lookup, f"{table.label} ({why})"))


def _failure_reason(exc: Exception) -> str:
    if isinstance(exc, PriceListDeadline):
        return str(exc)
    return aws.error_code(exc) or type(exc).__name__


def _estimates(
    spec: PipelineSpec, settings: Settings, region: str, lookup: PriceLookup, source: str
) -> Iterator[CostEstimate]:
    from mlops_spec.costs import estimates

    yield from estimates(spec, settings.mode, region, lookup, source, settings.orchestrator_environment)


def check_cost_limit(spec: PipelineSpec, settings: Settings) -> dict[str, Any] | None:
    """The request's cost object when the install sets a limit, after refusing (InvalidRequest, 400) an
    estimate above it with a field error on the pipeline's instance type naming the figure and the limit,
    and one the limit cannot check (see refuse_unchecked) unless mlops:costLimitUnknownPrices is "allow";
    None (nothing asked of the Price List) without a limit."""
    limit = settings.max_monthly_cost_per_pipeline
    if limit is None:
        return None
    priced = priced_cost(spec, settings)
    cost = priced.cost
    if cost["violations"]:
        field = instance_field(spec)
        raise InvalidRequest(
            "the pipeline's estimated cost is above mlops:maxMonthlyCostPerPipeline",
            [field_error(field, problem) for problem in cost["violations"]],
        )
    if settings.cost_limit_unknown_prices == "refuse":
        refuse_unchecked(spec, priced, limit)
    for why in cost["unchecked"]:
        logger.info("cost limit not checked", pipeline_id=spec.pipeline_id, why=why)
    return cost


def refuse_unchecked(spec: PipelineSpec, priced: Priced, limit_usd: float) -> None:
    """Refuses an estimate with an unknown price: 503 (try again) when the Price List could not be read,
    400 on the instance field when it holds no price for it. A request that is not priced by design
    (serverless, Autopilot, an image build: nothing with an instance type to price) is accepted."""
    from mlops_spec.costs import limit_unchecked

    unknown = [why for cost in priced.estimates if cost.unknown_prices and (why := limit_unchecked(cost, limit_usd))]
    if not unknown:
        return
    if priced.price_list_failure is not None:
        raise ServiceUnavailable(
            "the cost limit could not be checked: the AWS Price List could not be read "
            f"({priced.price_list_failure}); try again"
        )
    raise InvalidRequest(
        f"the cost limit could not be checked: the AWS Price List holds no price for the pipeline's instance type "
        f"(set {UNKNOWN_PRICES_SETTING} to allow such requests)",
        [field_error(instance_field(spec), why) for why in unknown],
    )


def instance_field(spec: PipelineSpec) -> str:
    """The request field naming the instance type the estimate prices (the first of INSTANCE_FIELDS the
    request type has); "(body)" for a type without one."""
    for name in INSTANCE_FIELDS:
        if name in type(spec).model_fields:
            return name
    return "(body)"
