"""The committed SageMaker price table (mlops_spec/data/sagemaker_prices.json) and the script that
writes it from AWS's price data (scripts/generate_prices.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlops_spec import costs
from tests.support.examples import REPO_ROOT
from tests.support.scripts import load_script

pytestmark = pytest.mark.fast

GENERATOR = load_script("generate_prices")
README = (REPO_ROOT / "README.md").read_text()


class FakePricing:
    """The Price List API's pages of one region, as region_prices reads them (via get_paginator)."""

    def __init__(self, items: dict[str, list[str]]) -> None:
        self.items = items

    def get_paginator(self, operation: str) -> Any:
        assert operation == "get_products"
        return self

    def paginate(self, **request: Any) -> list[dict[str, Any]]:
        (region,) = [f["Value"] for f in request["Filters"] if f["Field"] == "regionCode"]
        return [{"PriceList": self.items.get(region, [])}]


def item(usage_type: str, usd: str, region: str) -> str:
    attributes = {"regionCode": region, "usagetype": usage_type, "instanceName": usage_type.split(":")[1]}
    dimension = {"unit": "Hrs", "pricePerUnit": {"USD": usd}}
    terms = {"OnDemand": {"T": {"priceDimensions": {"D": dimension}}}}
    return json.dumps({"product": {"attributes": attributes}, "terms": terms})


def test_the_committed_table_is_consistent_with_the_validation_tables_and_documented_regions() -> None:
    committed = json.loads(costs.PRICE_TABLE_FILE.read_text())
    assert GENERATOR.table_problems(committed, README) == []


def test_every_priced_region_is_documented() -> None:
    assert [region for region in costs.PRICED_REGIONS if region not in README] == []


def test_the_consistency_check_names_what_is_wrong() -> None:
    bad = {
        "source": "",
        "retrieved": "2026-11-01",
        "regions": {
            "ap-south-1": {},
            "us-east-1": {"hosting": {"ml.m5.large": 0, "ml.bogus.large": 0.1}, "notebooks": {}},
        },
    }
    assert GENERATOR.table_problems(bad, README) == [
        "the table names no source",
        "ap-south-1: not a region the project documents",
        "us-east-1 hosting ml.m5.large: 0 is not a positive price",
        "us-east-1 hosting: ml.bogus.large is not accepted by the validation tables",
        "us-east-1: notebooks is not a usage estimates price",
    ]


def test_the_script_keeps_documented_regions_and_accepted_instance_types_only() -> None:
    client = FakePricing(
        {
            "us-east-1": [
                item("USE1-Host:ml.m5.large", "0.115", "us-east-1"),
                item("USE1-Host:ml.bogus.x", "1", "us-east-1"),
            ],
            "eu-west-1": [item("EU-Train:ml.m5.large", "0.128", "eu-west-1")],
        }
    )
    table = GENERATOR.generate([], client)
    assert table["regions"]["us-east-1"]["hosting"] == {"ml.m5.large": 0.115}
    assert table["regions"]["eu-west-1"]["training"] == {"ml.m5.large": 0.128}
    assert set(table["regions"]) == set(costs.PRICED_REGIONS)
    assert GENERATOR.table_problems(table, README) == []


def test_check_mode_says_whether_the_committed_table_is_current(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    client = FakePricing({"us-east-1": [item("USE1-Host:ml.m5.large", "0.115", "us-east-1")]})
    monkeypatch.setattr(GENERATOR, "PRICE_TABLE_FILE", tmp_path / "sagemaker_prices.json")
    monkeypatch.setattr(GENERATOR, "ROOT", tmp_path)
    assert GENERATOR.main([], client) == 0
    assert GENERATOR.main(["--check"], client) == 0
    changed = FakePricing({"us-east-1": [item("USE1-Host:ml.m5.large", "0.12", "us-east-1")]})
    assert GENERATOR.main(["--check"], changed) == 1
    assert capsys.readouterr().out.splitlines()[-1].startswith("sagemaker_prices.json differs from AWS Price List API")


def test_no_prices_leave_the_table_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "sagemaker_prices.json"
    monkeypatch.setattr(GENERATOR, "PRICE_TABLE_FILE", target)
    assert GENERATOR.main([], FakePricing({})) == 1
    assert not target.exists()


def test_the_script_reads_aws_offer_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    offer = {
        "offerCode": "AmazonSageMaker",
        "version": "20261101000000",
        "publicationDate": "2026-11-01T00:00:00Z",
        "products": {
            "SKU1": {"sku": "SKU1", "attributes": {"regionCode": "eu-west-1", "usagetype": "EU-Processing:ml.m5.large"}}
        },
        "terms": {
            "OnDemand": {
                "SKU1": {"SKU1.T": {"priceDimensions": {"D": {"unit": "Hrs", "pricePerUnit": {"USD": "0.13"}}}}}
            }
        },
    }
    path = tmp_path / "index.json"
    path.write_text(json.dumps(offer))
    table = GENERATOR.generate(["--offer", str(path)])
    assert table["regions"]["eu-west-1"]["processing"] == {"ml.m5.large": 0.13}
    assert (table["retrieved"], table["source"].endswith("version 20261101000000")) == ("2026-11-01", True)
