"""Which AWS partition a region belongs to, and what follows from it: ARNs, DNS names, the Powertools layer.

Changes when AWS opens a region or a partition we deploy to, or when Powertools publishes elsewhere.

The partition of a region comes from botocore's own endpoint data (`botocore/data/partitions.json`,
read as a file: this layer never imports the AWS SDK); where botocore is not installed (the light
client install) the partitions' documented region patterns answer the same.
"""

from __future__ import annotations

import importlib.util
import json
import re
from functools import cache
from pathlib import Path
from typing import Any, Literal

Partition = Literal["aws", "aws-cn", "aws-us-gov"]
SUPPORTED_PARTITIONS: tuple[Partition, ...] = ("aws", "aws-cn", "aws-us-gov")

# botocore's regionRegex of every partition, for when its data file is not at hand: the ones we do not
# deploy to as well, so that their regions are refused by name instead of taken for commercial ones.
_REGION_PATTERNS: dict[str, str] = {
    "aws": r"^(us|eu|ap|sa|ca|me|af|il|mx)\-\w+\-\d+$",
    "aws-cn": r"^cn\-\w+\-\d+$",
    "aws-eusc": r"^eusc\-(de)\-\w+\-\d+$",
    "aws-iso": r"^us\-iso\-\w+\-\d+$",
    "aws-iso-b": r"^us\-isob\-\w+\-\d+$",
    "aws-iso-e": r"^eu\-isoe\-\w+\-\d+$",
    "aws-iso-f": r"^us\-isof\-\w+\-\d+$",
    "aws-us-gov": r"^us\-gov\-\w+\-\d+$",
}
# Endpoints (and so regional service names such as `logs.<region>.<suffix>`) end in these.
_DNS_SUFFIXES: dict[Partition, str] = {
    "aws": "amazonaws.com",
    "aws-cn": "amazonaws.com.cn",
    "aws-us-gov": "amazonaws.com",
}

# Powertools for AWS Lambda (Python) publishes its layer from one account in every commercial
# region, and from one account per region in GovCloud and China (its docs, "Lambda Layer": China
# only in cn-north-1). The version numbers move together in every region.
POWERTOOLS_COMMERCIAL_ACCOUNT = "017000801446"
POWERTOOLS_REGION_ACCOUNTS = {
    "us-gov-east-1": "165087284144",
    "us-gov-west-1": "165093116878",
    "cn-north-1": "498634801083",
}


class UnsupportedRegion(ValueError):
    """A region of a partition this orchestrator does not deploy to (aws-iso, aws-eusc, ...)."""


@cache
def _known_partitions() -> tuple[tuple[str, frozenset[str], re.Pattern[str]], ...]:
    """(partition, its listed regions, its region pattern) for every partition botocore knows, in
    botocore's order; from our own copy of its patterns when botocore is not installed."""
    data = _botocore_partitions()
    if data is None:
        return tuple((name, frozenset(), re.compile(pattern)) for name, pattern in _REGION_PATTERNS.items())
    return tuple(
        (entry["id"], frozenset(entry.get("regions", {})), re.compile(entry["regionRegex"]))
        for entry in data["partitions"]
    )


def _botocore_partitions() -> dict[str, Any] | None:
    """botocore's partitions.json, found without importing botocore (slow, and not a dependency here)."""
    found = importlib.util.find_spec("botocore")
    if found is None or not found.submodule_search_locations:
        return None
    path = Path(next(iter(found.submodule_search_locations))) / "data" / "partitions.json"
    try:
        loaded: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return loaded


def partition_of(region: str) -> Partition:
    """The ARN partition of a region: aws, aws-cn (China) or aws-us-gov (GovCloud).

    As botocore resolves it: a region a partition lists, else the first partition whose pattern
    matches. UnsupportedRegion for a region of any other partition, and for a name no partition's
    pattern matches (a typo or garbage: botocore would guess aws, and every ARN would be wrong).
    """
    known = _known_partitions()
    name = next((name for name, regions, _ in known if region in regions), None)
    if name is None:
        name = next((name for name, _, pattern in known if pattern.match(region)), None)
    if name is None:
        raise UnsupportedRegion(
            f"{region!r} is not an AWS region (regions look like us-east-1, eu-west-1, cn-north-1, us-gov-west-1)"
        )
    if name not in SUPPORTED_PARTITIONS:
        raise UnsupportedRegion(
            f"{region} is in the {name} partition, which this orchestrator does not deploy to; "
            f"choose a region of {', '.join(SUPPORTED_PARTITIONS)}"
        )
    return name  # type: ignore[return-value]


def arn(partition: str, service: str, resource: str, region: str = "", account: str = "") -> str:
    """`arn:<partition>:<service>:<region>:<account>:<resource>`; region and account stay empty for
    global resources (`arn:aws:s3:::bucket`, `arn:aws:iam::123456789012:role/x`)."""
    return f"arn:{partition}:{service}:{region}:{account}:{resource}"


def dns_suffix(region: str) -> str:
    """What the region's endpoints end in: amazonaws.com, or amazonaws.com.cn in China."""
    return _DNS_SUFFIXES[partition_of(region)]


def regional_service(service: str, region: str) -> str:
    """A service's regional name, as `kms:ViaService` and regional service principals spell it
    (`s3.us-east-1.amazonaws.com`, `logs.cn-north-1.amazonaws.com.cn`).

    Global service principals (`lambda.amazonaws.com`) are the same in every partition."""
    return f"{service}.{region}.{dns_suffix(region)}"


def ecr_registry(account: str, region: str) -> str:
    """An account's ECR registry host in a region (`<account>.dkr.ecr.<region>.amazonaws.com[.cn]`)."""
    return f"{account}.dkr.ecr.{region}.{dns_suffix(region)}"


def powertools_layer_account(region: str) -> str | None:
    """The account publishing the Powertools layer in `region`; None where it publishes none
    (China outside cn-north-1)."""
    if partition_of(region) == "aws":
        return POWERTOOLS_COMMERCIAL_ACCOUNT
    return POWERTOOLS_REGION_ACCOUNTS.get(region)


def region_problem(region: str, runs_functions: bool = True) -> str | None:
    """Why a stack cannot deploy to `region`, in plain words with the fix; None when it can.

    `runs_functions`: the stack hosts the orchestrator, whose functions need the Powertools layer.
    """
    try:
        partition_of(region)
    except UnsupportedRegion as exc:
        return str(exc)
    if runs_functions and powertools_layer_account(region) is None:
        published = ", ".join(sorted(POWERTOOLS_REGION_ACCOUNTS))
        return (
            f"{region} has no Powertools for AWS Lambda layer, which the orchestrator's functions run with "
            f"(outside the commercial regions it is published in {published}); choose one of those"
        )
    return None
