"""SageMaker prices from the AWS Price List API (issue 15), answered by botocore's Stubber with entries
shaped as GetProducts returns them (format aws_v1: a JSON document per product)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from lambda_src.common.prices import (
    PRICE_SECONDS,
    UNKNOWN_PRICE_SECONDS,
    LivePrices,
    Product,
    cost_of,
    forget_prices,
    price_lookup,
    pricing_region,
    read_product,
    region_prices,
)
from mlops_spec.costs import LIVE_SOURCE, price_table
from mlops_spec.request import parse_pipeline_request
from tests.support.examples import load_example

pytestmark = pytest.mark.fast


def price_list_item(
    usage_type: str, usd: str, region: str = "us-east-1", unit: str = "Hrs", component: str = "Hosting"
) -> str:
    """One PriceList entry as the Price List API writes it (test prices, not AWS's)."""
    instance = usage_type.split(":")[1]
    sku = "JDZQJFUVUR8SUWHS"
    return json.dumps(
        {
            "product": {
                "productFamily": "ML Instance",
                "attributes": {
                    "regionCode": region,
                    "servicecode": "AmazonSageMaker",
                    "usagetype": usage_type,
                    "locationType": "AWS Region",
                    "location": "US East (N. Virginia)",
                    "servicename": "Amazon SageMaker",
                    "instanceName": instance,
                    "operation": "RunInstance",
                    "component": component,
                    "vCpu": "2",
                    "memory": "8 GiB",
                },
                "sku": sku,
            },
            "serviceCode": "AmazonSageMaker",
            "terms": {
                "OnDemand": {
                    f"{sku}.JRTCKXETXF": {
                        "priceDimensions": {
                            f"{sku}.JRTCKXETXF.6YS6EN2CT7": {
                                "unit": unit,
                                "endRange": "Inf",
                                "description": f"${usd} per {component} {instance} hour",
                                "appliesTo": [],
                                "rateCode": f"{sku}.JRTCKXETXF.6YS6EN2CT7",
                                "beginRange": "0",
                                "pricePerUnit": {"USD": usd},
                            }
                        },
                        "sku": sku,
                        "effectiveDate": "2026-11-01T00:00:00Z",
                        "offerTermCode": "JRTCKXETXF",
                        "termAttributes": {},
                    }
                }
            },
            "version": "20261101000000",
            "publicationDate": "2026-11-01T00:00:00Z",
        }
    )


@pytest.fixture(autouse=True)
def nothing_remembered() -> Iterator[None]:
    """Live answers are remembered by the process: each test starts and ends without any."""
    forget_prices()
    yield
    forget_prices()


@pytest.fixture
def pricing(aws_credentials: None) -> Iterator[tuple[Any, Stubber]]:
    client = botocore.session.get_session().create_client("pricing", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def asked(region: str, instance_type: str | None = None) -> dict[str, Any]:
    filters = [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}]
    if instance_type:
        filters.append({"Type": "TERM_MATCH", "Field": "instanceName", "Value": instance_type})
    return {"ServiceCode": "AmazonSageMaker", "Filters": filters, "FormatVersion": "aws_v1"}


def test_an_entry_is_read_as_its_region_instance_usage_and_hourly_price() -> None:
    product = read_product(price_list_item("USE1-Host:ml.m5.large", "0.1150000000"))
    assert product == Product("us-east-1", "ml.m5.large", "hosting", 0.115)


@pytest.mark.parametrize(
    ("usage_type", "usage"),
    [
        ("EU-AsyncInf:ml.m5.large", "async"),
        ("EU-Tsform:ml.m5.large", "transform"),
        ("EU-Processing:ml.m5.large", "processing"),
        ("EU-Train:ml.m5.large", "training"),
        ("Host:ml.m5.large", "hosting"),  # us-east-1's usage types without a region prefix
    ],
)
def test_each_usage_type_is_the_usage_it_bills(usage_type: str, usage: str) -> None:
    product = read_product(price_list_item(usage_type, "0.12", region="eu-west-1"))
    assert product is not None and product.usage == usage


@pytest.mark.parametrize(
    "item",
    [
        price_list_item("USE1-Notebk:ml.t3.medium", "0.05", component="Notebook"),  # not a usage estimates price
        price_list_item("USE1-Host:ml.m5.large", "0.115", unit="GB-Mo"),  # not an hourly price
        price_list_item("USE1-Host:ml.m5.large", "0.0000000000"),  # a zero price is no price
        price_list_item("USE1-ML:VolumeUsage.gp2", "0.14", component="Storage"),
    ],
)
def test_what_is_not_an_instance_hour_is_left_out(item: str) -> None:
    assert read_product(item) is None


def test_a_live_lookup_asks_once_per_region_and_instance_type(pricing: tuple[Any, Stubber]) -> None:
    client, stubber = pricing
    items = [price_list_item("USE1-Host:ml.m5.large", "0.115"), price_list_item("USE1-Train:ml.m5.large", "0.1")]
    stubber.add_response("get_products", {"PriceList": items}, asked("us-east-1", "ml.m5.large"))
    prices = LivePrices(client)
    assert prices("us-east-1", "ml.m5.large", "hosting") == 0.115
    # Answered from the first call: the Stubber fails any call it was not given an answer for.
    assert prices("us-east-1", "ml.m5.large", "training") == 0.1
    assert prices("us-east-1", "ml.m5.large", "transform") is None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_live_answers_are_remembered_across_requests_for_an_hour(pricing: tuple[Any, Stubber]) -> None:
    client, stubber = pricing
    clock = Clock()
    answer = {"PriceList": [price_list_item("USE1-Host:ml.m5.large", "0.115")]}
    stubber.add_response("get_products", answer, asked("us-east-1", "ml.m5.large"))
    assert LivePrices(client, clock)("us-east-1", "ml.m5.large", "hosting") == 0.115
    clock.now += PRICE_SECONDS - 1
    # A second request (a new lookup) is answered without a call: the Stubber has no second answer.
    assert LivePrices(client, clock)("us-east-1", "ml.m5.large", "hosting") == 0.115
    stubber.add_response("get_products", answer, asked("us-east-1", "ml.m5.large"))
    clock.now += 1
    assert LivePrices(client, clock)("us-east-1", "ml.m5.large", "hosting") == 0.115  # asked again
    stubber.assert_no_pending_responses()


def test_an_unknown_price_is_remembered_for_five_minutes_and_a_failure_not_at_all(
    pricing: tuple[Any, Stubber],
) -> None:
    client, stubber = pricing
    clock = Clock()
    stubber.add_client_error("get_products", "ThrottlingException", "Rate exceeded", 400)
    with pytest.raises(ClientError):
        LivePrices(client, clock)("us-east-1", "ml.p4d.24xlarge", "hosting")
    stubber.add_response("get_products", {"PriceList": []}, asked("us-east-1", "ml.p4d.24xlarge"))
    assert LivePrices(client, clock)("us-east-1", "ml.p4d.24xlarge", "hosting") is None  # asked: failure not kept
    clock.now += UNKNOWN_PRICE_SECONDS - 1
    assert LivePrices(client, clock)("us-east-1", "ml.p4d.24xlarge", "training") is None  # remembered
    stubber.add_response("get_products", {"PriceList": []}, asked("us-east-1", "ml.p4d.24xlarge"))
    clock.now += 1
    assert LivePrices(client, clock)("us-east-1", "ml.p4d.24xlarge", "hosting") is None  # asked again
    stubber.assert_no_pending_responses()


def test_a_price_listed_twice_differently_is_unknown_not_chosen(pricing: tuple[Any, Stubber]) -> None:
    client, stubber = pricing
    items = [
        price_list_item("USE1-Host:ml.m5.large", "0.115"),
        price_list_item("Host:ml.m5.large", "0.12"),  # the same usage in us-east-1, priced otherwise
        price_list_item("USE1-Train:ml.m5.large", "0.1"),
        price_list_item("Train:ml.m5.large", "0.1"),  # the same price twice is no ambiguity
    ]
    stubber.add_response("get_products", {"PriceList": items}, asked("us-east-1", "ml.m5.large"))
    prices = LivePrices(client)
    assert (prices("us-east-1", "ml.m5.large", "hosting"), prices("us-east-1", "ml.m5.large", "training")) == (
        None,
        0.1,
    )


def test_a_region_table_reads_every_page(pricing: tuple[Any, Stubber]) -> None:
    client, stubber = pricing
    first = [price_list_item("EU-Host:ml.m5.large", "0.128", region="eu-west-1")]
    second = [
        price_list_item("EU-Tsform:ml.m5.large", "0.128", region="eu-west-1"),
        price_list_item("EU-Notebk:ml.t3.medium", "0.05", region="eu-west-1", component="Notebook"),
    ]
    stubber.add_response("get_products", {"PriceList": first, "NextToken": "page-2"}, asked("eu-west-1"))
    stubber.add_response("get_products", {"PriceList": second}, {**asked("eu-west-1"), "NextToken": "page-2"})
    assert region_prices(client, "eu-west-1") == {
        "hosting": {"ml.m5.large": 0.128},
        "transform": {"ml.m5.large": 0.128},
    }


def test_without_live_prices_estimates_read_the_committed_table_named_with_its_date() -> None:
    table_lookup, table_source = price_lookup(live=False)
    live_lookup, live_source = price_lookup(live=True)
    assert table_source == price_table().label and table_source.startswith("sagemaker_prices.json: ")
    assert table_lookup == price_table().lookup  # the committed table's, not a copy
    assert (isinstance(live_lookup, LivePrices), live_source) == (True, LIVE_SOURCE)


def test_the_cost_of_a_stacks_pipelines_is_that_of_its_own_environment() -> None:

    spec = parse_pipeline_request(load_example("byom_realtime_builtin", "multi"), mode="multi")
    every = cost_of([spec], "multi", "eu-west-1", limit_usd=10)
    prod = cost_of([spec], "multi", "eu-west-1", environments=["prod"])

    assert [e["environment"] for e in every["estimates"]] == ["dev", "staging", "prod"]
    assert [e["environment"] for e in prod["estimates"]] == ["prod"]
    prod_instance = load_example("byom_realtime_builtin", "multi")["inference_instance"]["prod"]
    assert prod["estimates"][0]["lines"][0]["instance_type"] == prod_instance
    assert (every["source"], every["max_monthly_cost_per_pipeline"]) == (price_table().label, 10)


@pytest.mark.parametrize(
    ("region", "served_from"),
    [("eu-west-1", "us-east-1"), ("us-gov-west-1", "us-east-1"), ("cn-north-1", "cn-northwest-1")],
)
def test_prices_are_asked_where_the_price_list_serves_the_regions_partition(region: str, served_from: str) -> None:
    assert pricing_region(region) == served_from
