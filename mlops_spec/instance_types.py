"""Facts about SageMaker instance types that decide what a request may ask for. Pure Python.

Changes when AWS adds instance families (regenerate data/instance_types.json with
scripts/generate_instance_types.py after upgrading botocore).
"""

from __future__ import annotations

import difflib
import json
import re
from functools import cache
from pathlib import Path
from typing import Any, Literal

Purpose = Literal["hosting", "transform", "processing", "training", "tuning"]

# purpose -> (structure, member) of SageMaker's API whose InstanceType enum lists the accepted types.
# Monitors run their baseline and schedule as processing jobs; tuning's own instance configs.
PURPOSE_SOURCES: dict[str, tuple[str, str]] = {
    "hosting": ("ProductionVariant", "InstanceType"),
    "transform": ("TransformResources", "InstanceType"),
    "processing": ("MonitoringClusterConfig", "InstanceType"),
    "training": ("ResourceConfig", "InstanceType"),
    "tuning": ("HyperParameterTuningInstanceConfig", "InstanceType"),
}
# Words of an error message: "must be a SageMaker instance type for <words>".
_PURPOSE_WORDS = {
    "hosting": "endpoints",
    "transform": "batch transform jobs",
    "processing": "processing (monitoring) jobs",
    "training": "training jobs",
    "tuning": "tuning jobs",
}
DATA_FILE = Path(__file__).parent / "data" / "instance_types.json"


@cache
def valid_instance_types(purpose: Purpose) -> tuple[str, ...]:
    """The instance types SageMaker's API accepts for `purpose`, sorted. Read on first use (the API's
    cold start does not pay for it) from the table generated from botocore."""
    return tuple(_table()["purposes"][purpose])


@cache
def _table() -> dict[str, Any]:
    return dict(json.loads(DATA_FILE.read_text()))


def instance_type_problem(value: str, purpose: Purpose) -> str | None:
    """None for a valid instance type of `purpose`; otherwise the problem: the family that does not run
    this purpose, or the closest valid type (a typo), or an example."""
    valid = valid_instance_types(purpose)
    if value in valid:
        return None
    problem = f"must be a SageMaker instance type for {_PURPOSE_WORDS[purpose]}"
    family = _family(value)
    if family and family in _families_of_other_purposes(purpose):
        return f"{problem} (no ml.{family} type runs them), like {_example(valid, value)}"
    close = closest_instance_type(value, valid)
    if close:
        return f"{problem}; did you mean {close}?"
    return f"{problem}, like {_example(valid, value)} ({len(valid)} types are valid here)"


def _family(value: str) -> str | None:
    """ "m5" of "ml.m5.large"; None for what is not written ml.<family>.<size>."""
    parts = value.split(".")
    return parts[1] if len(parts) == 3 and parts[0] == "ml" else None


@cache
def _families_of_other_purposes(purpose: Purpose) -> frozenset[str]:
    """Families SageMaker runs for some other purpose but for none of `purpose`'s types."""
    mine = {_family(kind) for kind in valid_instance_types(purpose)}
    others = {_family(kind) for name in PURPOSE_SOURCES for kind in valid_instance_types(name)}  # type: ignore[arg-type]
    return frozenset(family for family in others - mine if family)


def _example(valid: tuple[str, ...], value: str) -> str:
    """A valid type of the same size if there is one (ml.m5.xlarge for ml.inf1.xlarge), else ml.m5.large."""
    size = value.rsplit(".", 1)[-1]
    for preferred in (f"ml.m5.{size}", "ml.m5.large"):
        if preferred in valid:
            return preferred
    return valid[0]


def closest_instance_type(value: str, valid: tuple[str, ...]) -> str | None:
    """The valid type closest in spelling (difflib), reading "m5.large" as "ml.m5.large"."""
    if not value.startswith("ml."):
        value = f"ml.{value}"
    if value in valid:
        return value
    close = difflib.get_close_matches(value, valid, n=1, cutoff=0.6)
    return close[0] if close else None


# Nitro instances with local NVMe storage encrypt it in hardware, and SageMaker rejects a volume KMS
# key for them ("You can't request a KmsKeyId when using an instance type with local storage").
# Families with a "d" after the generation (m5d, g4dn, p4d, c6id, r6gd) plus those that always ship NVMe.
_INSTANCE_STORAGE = re.compile(r"ml\.(?:[a-z]+\d+[a-z]*d[a-z]*|g5|g6|g6e|gr6|p5|p5e|p5en|trn1|trn1n)\..+")


def has_instance_storage(instance_type: Any) -> bool:
    """True for instance types with local NVMe storage (SageMaker refuses a volume KMS key for them)."""
    return isinstance(instance_type, str) and bool(_INSTANCE_STORAGE.fullmatch(instance_type))
