"""SageMaker on-demand prices from the AWS Price List API (the `pricing` client), for cost estimates
(mlops_spec/costs.py) when credentials exist, and for scripts/generate_prices.py, which writes the
committed table estimates use otherwise.

The Price List holds one product per region, instance type and usage: its attributes name the
region (`regionCode`), the instance (`instanceName`, e.g. ml.m5.large) and the usage type, which
says how SageMaker bills it: `USE1-Host:ml.m5.large` is an endpoint instance-hour in us-east-1 (the
region prefix differs per region). Its OnDemand term holds the USD price of one unit (`Hrs`).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from mlops_spec.base import PipelineSpec
from mlops_spec.common import Environment
from mlops_spec.costs import (
    LIVE_SOURCE,
    PRICE_USAGES,
    PriceLookup,
    PriceUsage,
    cost_document,
    estimates,
    price_table,
)
from mlops_spec.partitions import partition_of

SERVICE_CODE = "AmazonSageMaker"
# The Price List API answers in a few regions only: us-east-1 serves the aws partition's prices (and
# GovCloud's, listed there too), cn-northwest-1 China's (in CNY: estimates leave those unknown).
PRICING_REGIONS: dict[str, str] = {"aws": "us-east-1", "aws-us-gov": "us-east-1", "aws-cn": "cn-northwest-1"}
# usage -> the operation part of its usage type (USE1-Host:ml.m5.large -> "Host").
USAGE_OPERATIONS: dict[PriceUsage, str] = {
    "hosting": "Host",
    "async": "AsyncInf",
    "transform": "Tsform",
    "processing": "Processing",
    "training": "Train",
}
_OPERATION_USAGES = {operation: usage for usage, operation in USAGE_OPERATIONS.items()}
# [region prefix-]operation:instance; us-east-1's older usage types carry no prefix.
_USAGE_TYPE = re.compile(r"^(?:[A-Z0-9]+-)?(?P<operation>[A-Za-z]+):(?P<instance>ml\.[a-z0-9.-]+)$")


def pricing_region(region: str) -> str:
    """Where the Price List API serves the prices of `region`'s partition."""
    return PRICING_REGIONS[partition_of(region)]


def pricing_client(region: str = "us-east-1") -> Any:
    """A client of the Price List API serving `region`'s prices (not in the caller's own region)."""
    import boto3

    return boto3.client("pricing", region_name=pricing_region(region))


@dataclass(frozen=True)
class Product:
    """One Price List product reduced to what an estimate reads."""

    region: str
    instance_type: str
    usage: PriceUsage
    usd_per_hour: float


def read_product(item: str) -> Product | None:
    """A PriceList entry (a JSON document) as a Product; None for anything other than an instance-hour
    of a usage estimates price (notebooks, Studio, storage, a price in another unit)."""
    document = json.loads(item)
    attributes = document.get("product", {}).get("attributes", {})
    found = _USAGE_TYPE.match(str(attributes.get("usagetype", "")))
    if not found or found.group("operation") not in _OPERATION_USAGES:
        return None
    price = _hourly_usd(document.get("terms", {}).get("OnDemand", {}))
    region = attributes.get("regionCode")
    if price is None or not region:
        return None
    return Product(str(region), found.group("instance"), _OPERATION_USAGES[found.group("operation")], price)


def _hourly_usd(on_demand: dict[str, Any]) -> float | None:
    """The positive USD price per hour of an OnDemand term; None when there is none (or several
    differing ones, which would leave the choice to chance)."""
    prices = {
        float(dimension["pricePerUnit"]["USD"])
        for term in on_demand.values()
        for dimension in term.get("priceDimensions", {}).values()
        if dimension.get("unit") == "Hrs" and "USD" in dimension.get("pricePerUnit", {})
    }
    positive = {price for price in prices if price > 0}
    return positive.pop() if len(positive) == 1 else None


def products(client: Any, region: str, instance_type: str | None = None) -> Iterator[Product]:
    """The instance-hour products of `region` (of one instance type when given), page by page."""
    filters = [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}]
    if instance_type is not None:
        filters.append({"Type": "TERM_MATCH", "Field": "instanceName", "Value": instance_type})
    for page in client.get_paginator("get_products").paginate(
        ServiceCode=SERVICE_CODE, Filters=filters, FormatVersion="aws_v1"
    ):
        for item in page.get("PriceList", []):
            product = read_product(item)
            if product is not None and product.region == region:
                yield product


def unambiguous(found: Iterable[Product]) -> dict[tuple[PriceUsage, str], float]:
    """(usage, instance type) -> USD an hour; one the Price List prices twice, differently, is left out
    (unknown): choosing between them would be a guess."""
    prices: dict[tuple[PriceUsage, str], set[float]] = {}
    for product in found:
        prices.setdefault((product.usage, product.instance_type), set()).add(product.usd_per_hour)
    return {key: values.pop() for key, values in prices.items() if len(values) == 1}


def region_prices(client: Any, region: str) -> dict[str, dict[str, float]]:
    """usage -> instance type -> USD an hour, for every instance-hour product of `region`."""
    table: dict[str, dict[str, float]] = {usage: {} for usage in PRICE_USAGES}
    for (usage, instance_type), price in unambiguous(products(client, region)).items():
        table[usage][instance_type] = price
    return {usage: dict(sorted(prices.items())) for usage, prices in table.items() if prices}


# Live answers are kept in function memory (a warm function answers many requests): prices change
# rarely, and a flood of dry runs must not throttle the account's Price List. An answer that a price is
# unknown is kept for less (a new instance type gets priced); a failure is never kept.
PRICE_SECONDS = 3600
UNKNOWN_PRICE_SECONDS = 300
# (pricing region, region, instance type, usage) -> (monotonic time it expires, USD an hour or None).
_remembered: dict[tuple[str, str, str, str], tuple[float, float | None]] = {}


def forget_prices() -> None:
    """Empties the remembered answers (tests)."""
    _remembered.clear()


@dataclass
class LivePrices:
    """A PriceLookup (mlops_spec/costs.py) asking the Price List API, one call set per region and
    instance type, its answers remembered (see PRICE_SECONDS) for every lookup of this process."""

    client: Any = None
    """One client for every region (tests); otherwise one per pricing region, made on first use."""
    clock: Callable[[], float] = time.monotonic
    _clients: dict[str, Any] = field(default_factory=dict)

    def _client_for(self, region: str) -> Any:
        if self.client is not None:
            return self.client
        where = pricing_region(region)
        if where not in self._clients:
            self._clients[where] = pricing_client(region)
        return self._clients[where]

    def __call__(self, region: str, instance_type: str, usage: PriceUsage) -> float | None:
        key = (pricing_region(region), region, instance_type, usage)
        kept = _remembered.get(key)
        if kept is not None and kept[0] > self.clock():
            return kept[1]
        found = unambiguous(products(self._client_for(region), region, instance_type))
        self._remember(region, instance_type, {found_usage: price for (found_usage, _), price in found.items()})
        return _remembered[key][1]

    def _remember(self, region: str, instance_type: str, prices: dict[PriceUsage, float]) -> None:
        """Every usage of the instance type the answer covers: those it prices, and those it does not."""
        now = self.clock()
        for usage in PRICE_USAGES:
            price = prices.get(usage)
            expires = now + (PRICE_SECONDS if price is not None else UNKNOWN_PRICE_SECONDS)
            _remembered[(pricing_region(region), region, instance_type, usage)] = (expires, price)


def credentials_available() -> bool:
    """Whether boto3 finds AWS credentials (environment, profile, instance role): then prices are live."""
    import boto3

    return boto3.session.Session().get_credentials() is not None


def price_lookup(live: bool) -> tuple[PriceLookup, str]:
    """The lookup cost estimates use and its source: the Price List API (`live`, e.g. when
    `credentials_available()`) or the committed table, named with its retrieval date."""
    if live:
        return LivePrices(), LIVE_SOURCE
    table = price_table()
    return table.lookup, table.label


def cost_of(
    specs: Iterable[PipelineSpec],
    mode: str,
    region: str,
    *,
    live: bool = False,
    limit_usd: float | None = None,
    environments: Iterable[str] | None = None,
    home: Environment = "dev",
) -> dict[str, Any]:
    """The `cost` object (mlops_spec.costs.cost_document) of `specs` in `region`: every environment each
    deploys to, or those of `environments` only (a stack plans its own), priced live or from the table."""
    lookup, source = price_lookup(live)
    wanted = set(environments) if environments is not None else None
    found = [
        cost
        for spec in specs
        for cost in estimates(spec, mode, region, lookup, source, home)
        if wanted is None or cost.environment in wanted
    ]
    return {**cost_document(found, limit_usd), "source": source}
