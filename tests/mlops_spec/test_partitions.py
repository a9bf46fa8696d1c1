"""Partition-aware names (issue 13, point 7): a region's partition as botocore resolves it, the ARNs,
DNS names and Powertools layer that follow from it, and which regions a stack config accepts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mlops_spec import partitions
from mlops_spec.errors import SpecError
from mlops_spec.partitions import (
    UnsupportedRegion,
    arn,
    dns_suffix,
    ecr_registry,
    partition_of,
    powertools_layer_account,
    region_problem,
    regional_service,
)
from mlops_spec.stack_config import load_stack_config

pytestmark = pytest.mark.fast

MULTI: dict[str, Any] = {
    "mlops:mode": "multi",
    "mlops:accounts": '{"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}',
    "mlops:notificationEmail": "team@example.com",
}


@pytest.fixture
def without_botocore(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As in the light client install: no botocore data file to read."""
    partitions._known_partitions.cache_clear()
    monkeypatch.setattr(partitions, "_botocore_partitions", lambda: None)
    yield
    partitions._known_partitions.cache_clear()


REGIONS = [
    ("us-east-1", "aws"),
    ("eu-west-1", "aws"),
    ("mx-central-1", "aws"),
    ("cn-north-1", "aws-cn"),
    ("cn-northwest-1", "aws-cn"),
    ("us-gov-west-1", "aws-us-gov"),
    ("us-gov-east-1", "aws-us-gov"),
]


@pytest.mark.parametrize(("region", "partition"), REGIONS)
def test_the_partition_follows_the_region_as_botocore_resolves_it(region: str, partition: str) -> None:
    assert partition_of(region) == partition


@pytest.mark.parametrize(("region", "partition"), REGIONS)
def test_without_botocore_the_partitions_patterns_give_the_same_answer(
    region: str, partition: str, without_botocore: None
) -> None:
    assert partition_of(region) == partition


def test_the_partition_table_is_botocores_when_it_is_installed() -> None:
    # botocore lists partitions this orchestrator does not deploy to; the fallback table does not.
    assert "aws-iso" in {name for name, _, _ in partitions._known_partitions()}


def test_a_region_of_another_partition_is_refused_naming_it() -> None:
    with pytest.raises(UnsupportedRegion) as refused:
        partition_of("us-iso-east-1")
    assert str(refused.value) == (
        "us-iso-east-1 is in the aws-iso partition, which this orchestrator does not deploy to; "
        "choose a region of aws, aws-cn, aws-us-gov"
    )


@pytest.mark.parametrize(("region", "partition"), [("us-iso-east-1", "aws-iso"), ("eusc-de-east-1", "aws-eusc")])
def test_without_botocore_iso_and_eusc_regions_are_refused_naming_their_partition(
    region: str, partition: str, without_botocore: None
) -> None:
    with pytest.raises(UnsupportedRegion, match=f"^{region} is in the {partition} partition"):
        partition_of(region)


@pytest.mark.parametrize("region", ["us-east-l", "useast1", "", "garbage"])
def test_a_name_no_partition_matches_is_refused_not_taken_for_aws(region: str) -> None:
    with pytest.raises(UnsupportedRegion) as refused:
        partition_of(region)
    assert str(refused.value) == (
        f"{region!r} is not an AWS region (regions look like us-east-1, eu-west-1, cn-north-1, us-gov-west-1)"
    )
    assert region_problem(region) == str(refused.value)


def test_arns_name_the_partition_and_leave_region_and_account_empty_for_global_resources() -> None:
    assert arn("aws", "s3", "bucket/key") == "arn:aws:s3:::bucket/key"
    assert arn("aws-us-gov", "iam", "role/x", account="111111111111") == "arn:aws-us-gov:iam::111111111111:role/x"
    assert arn("aws-cn", "states", "sagemaker:createTransformJob.sync") == (
        "arn:aws-cn:states:::sagemaker:createTransformJob.sync"
    )


def test_china_endpoints_and_regional_service_names_end_in_com_cn() -> None:
    assert (dns_suffix("us-east-1"), dns_suffix("us-gov-west-1"), dns_suffix("cn-north-1")) == (
        "amazonaws.com",
        "amazonaws.com",
        "amazonaws.com.cn",
    )
    assert regional_service("logs", "cn-north-1") == "logs.cn-north-1.amazonaws.com.cn"
    assert regional_service("s3", "us-gov-east-1") == "s3.us-gov-east-1.amazonaws.com"
    assert ecr_registry("111111111111", "cn-northwest-1") == "111111111111.dkr.ecr.cn-northwest-1.amazonaws.com.cn"


def test_powertools_publishes_its_layer_from_one_account_per_govcloud_and_china_region() -> None:
    assert powertools_layer_account("eu-west-1") == "017000801446"
    assert powertools_layer_account("us-gov-west-1") == "165093116878"
    assert powertools_layer_account("us-gov-east-1") == "165087284144"
    assert powertools_layer_account("cn-north-1") == "498634801083"
    assert powertools_layer_account("cn-northwest-1") is None


def test_only_the_orchestrators_stack_needs_a_region_with_the_powertools_layer() -> None:
    assert region_problem("cn-northwest-1", runs_functions=False) is None
    assert region_problem("cn-northwest-1") == (
        "cn-northwest-1 has no Powertools for AWS Lambda layer, which the orchestrator's functions run with "
        "(outside the commercial regions it is published in cn-north-1, us-gov-east-1, us-gov-west-1); "
        "choose one of those"
    )


@pytest.mark.parametrize(("region", "partition"), [("us-gov-west-1", "aws-us-gov"), ("cn-north-1", "aws-cn")])
def test_govcloud_and_china_stacks_are_accepted_in_their_partition(region: str, partition: str) -> None:
    config = load_stack_config({**MULTI, "aws:region": region}, "dev")
    assert (config.region, config.partition) == (region, partition)


def test_a_china_region_without_the_layer_is_refused_for_the_orchestrator_stack_only() -> None:
    values = {**MULTI, "aws:region": "cn-northwest-1"}
    assert load_stack_config({**values, "mlops:environment": "prod"}, "prod").partition == "aws-cn"
    with pytest.raises(SpecError) as refused:
        load_stack_config(values, "dev")
    assert str(refused.value).startswith("aws:region: cn-northwest-1 has no Powertools for AWS Lambda layer")
