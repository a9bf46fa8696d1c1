"""Regenerate mlops_spec/data/sagemaker_prices.json, the SageMaker price table cost estimates use
without credentials, from AWS's own price data:

    .venv/bin/python scripts/generate_prices.py                  # the Price List API (AWS credentials)
    .venv/bin/python scripts/generate_prices.py --offer F.json   # or AWS's offer files, one per region:
        # https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonSageMaker/current/<region>/index.json
    .venv/bin/python scripts/generate_prices.py --check          # exit 1 when the table is not current

The table keeps, for each region the project documents (mlops_spec/costs.py PRICED_REGIONS), the
on-demand USD price an instance-hour of every instance type the validation tables accept
(mlops_spec/instance_types.py), per usage: hosting, async, transform, processing, training.
Never add a price by hand: a price nobody read from AWS is worse than "price unknown".
tests/mlops_spec/test_costs.py checks the table against the validation tables and the regions.
"""

from __future__ import annotations

import datetime
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lambda_src.common.prices import (  # noqa: E402  (after the path fix)
    Product,
    pricing_client,
    read_product,
    region_prices,
    unambiguous,
)
from mlops_spec.costs import PRICE_TABLE_FILE, PRICE_USAGES, PRICED_REGIONS  # noqa: E402
from mlops_spec.instance_types import Purpose, valid_instance_types  # noqa: E402

# usage -> the validation tables whose instance types it prices (tuning jobs are billed as training).
USAGE_PURPOSES: dict[str, tuple[Purpose, ...]] = {
    "hosting": ("hosting",),
    "async": ("hosting",),
    "transform": ("transform",),
    "processing": ("processing",),
    "training": ("training", "tuning"),
}
API_SOURCE = "AWS Price List API (AmazonSageMaker, on-demand, USD per instance-hour)"


def accepted(usage: str) -> set[str]:
    """The instance types a request may ask for under `usage`."""
    return {name for purpose in USAGE_PURPOSES[usage] for name in valid_instance_types(purpose)}


def table(prices: dict[str, dict[str, dict[str, float]]], source: str, retrieved: str) -> dict[str, Any]:
    """The committed table: the documented regions' prices of accepted instance types only."""
    regions = {
        region: {
            usage: dict(
                sorted((name, price) for name, price in by_usage.get(usage, {}).items() if name in accepted(usage))
            )
            for usage in PRICE_USAGES
        }
        for region, by_usage in sorted(prices.items())
        if region in PRICED_REGIONS
    }
    return {"source": source, "retrieved": retrieved, "regions": regions}


def table_problems(data: dict[str, Any], documented: str) -> list[str]:
    """What is wrong with a price table: a region the project does not document (`documented`: the
    README's text), a usage or instance type no request can ask for, a price that is not positive."""
    problems = [f"'{key}' is missing" for key in ("source", "retrieved", "regions") if key not in data]
    if not str(data.get("source", "")).strip():
        problems.append("the table names no source")
    for region, by_usage in data.get("regions", {}).items():
        if region not in PRICED_REGIONS or region not in documented:
            problems.append(f"{region}: not a region the project documents")
        for usage, prices in by_usage.items():
            if usage not in PRICE_USAGES:
                problems.append(f"{region}: {usage} is not a usage estimates price")
                continue
            for name, price in prices.items():
                if name not in accepted(usage):
                    problems.append(f"{region} {usage}: {name} is not accepted by the validation tables")
                if isinstance(price, bool) or not isinstance(price, int | float) or price <= 0:
                    problems.append(f"{region} {usage} {name}: {price!r} is not a positive price")
    return problems


def offer_prices(offers: Iterable[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """region -> usage -> instance type -> USD an hour, from offer files (products and OnDemand terms
    by SKU, as the Price List API's entries hold them one product at a time)."""
    by_region: dict[str, list[Product]] = {}
    for offer in offers:
        on_demand = offer.get("terms", {}).get("OnDemand", {})
        for sku, product in offer.get("products", {}).items():
            entry = read_product(json.dumps({"product": product, "terms": {"OnDemand": on_demand.get(sku, {})}}))
            if entry is not None:
                by_region.setdefault(entry.region, []).append(entry)
    found: dict[str, dict[str, dict[str, float]]] = {}
    for region, entries in by_region.items():
        for (usage, instance_type), price in unambiguous(entries).items():
            found.setdefault(region, {}).setdefault(usage, {})[instance_type] = price
    return found


def offer_source(offers: list[dict[str, Any]]) -> str:
    versions = sorted({str(offer.get("version")) for offer in offers})
    return (
        f"AWS Price List offer files (AmazonSageMaker, on-demand, USD per instance-hour), version {', '.join(versions)}"
    )


def generate(argv: list[str], client: Any = None) -> dict[str, Any]:
    """The table from `--offer FILE...` when given, otherwise from the Price List API."""
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    if "--offer" in argv:
        files = argv[argv.index("--offer") + 1 :]
        offers = [json.loads(Path(name).read_text()) for name in files if not name.startswith("--")]
        published = max(str(offer.get("publicationDate", today))[:10] for offer in offers)
        return table(offer_prices(offers), offer_source(offers), published)
    client = client or pricing_client()
    return table({region: region_prices(client, region) for region in PRICED_REGIONS}, API_SOURCE, today)


def main(argv: list[str], client: Any = None) -> int:
    """Write the table; with `--check`, compare instead (exit 1 when the prices differ)."""
    try:
        fresh = generate(argv, client)
    except Exception as exc:  # credentials, network, a file that is not an offer: one line, no traceback
        print(f"generate_prices: cannot read prices: {exc}", file=sys.stderr)
        return 1
    if not any(prices for by_usage in fresh["regions"].values() for prices in by_usage.values()):
        print("generate_prices: the source held no SageMaker instance prices; the table is unchanged", file=sys.stderr)
        return 1
    name = PRICE_TABLE_FILE.relative_to(ROOT)
    if "--check" in argv:
        committed = json.loads(PRICE_TABLE_FILE.read_text())
        same = committed.get("regions") == fresh["regions"]
        print(f"{name} {'matches' if same else 'differs from'} {fresh['source']}")
        return 0 if same else 1
    PRICE_TABLE_FILE.write_text(json.dumps(fresh, indent=1, sort_keys=True) + "\n")
    print(f"wrote {name} from {fresh['source']} ({fresh['retrieved']})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
