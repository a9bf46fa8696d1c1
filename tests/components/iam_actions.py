"""IAM's own reference of actions, resource types and condition keys, as shipped (offline) by parliament.

Tests ask it what AWS supports instead of guessing: whether an action has resource-level permissions
at all (otherwise "*" is the only resource it takes), and whether a condition key is available on an
action (a key the request cannot carry makes a statement deny silently what it was written for).
"""

from __future__ import annotations

import functools
import re
from typing import Any

import parliament


@functools.cache
def _services() -> dict[str, dict[str, Any]]:
    return {service["prefix"]: service for service in parliament.iam_definition}


def privilege(action: str) -> dict[str, Any]:
    prefix, _, name = action.partition(":")
    service = _services()[prefix]
    found = [p for p in service["privileges"] if p["privilege"].lower() == name.lower()]
    if not found:
        raise KeyError(f"{action} is not an IAM action")
    return found[0]


def resource_types(action: str) -> list[str]:
    """The resource types an action is authorized on ('*' marks the required ones); empty: '*' only."""
    return [rt["resource_type"] for rt in privilege(action)["resource_types"] if rt["resource_type"]]


def _resource_keys(action: str, resource_type: str) -> list[str]:
    prefix = action.partition(":")[0]
    name = resource_type.rstrip("*")
    return next((r["condition_keys"] for r in _services()[prefix]["resources"] if r["resource"] == name), [])


def _matches(template: str, key: str) -> bool:
    """`aws:ResourceTag/${TagKey}` matches `aws:ResourceTag/mlops:pipeline-id`."""
    pattern = re.escape(template).replace(re.escape("${TagKey}"), ".+")
    pattern = re.sub(r"\\\$\\\{[A-Za-z]+\\\}", ".+", pattern)
    return re.fullmatch(pattern, key, re.IGNORECASE) is not None


def supports(action: str, key: str) -> bool:
    """Whether requests for `action` carry condition key `key`: a key of the action itself, or a key
    of every resource type the action needs (aws:ResourceTag: the resource must support tags)."""
    entries = privilege(action)["resource_types"]
    if any(_matches(k, key) for entry in entries for k in entry["condition_keys"]):
        return True
    required = [e["resource_type"] for e in entries if e["resource_type"].endswith("*")]
    types = required or [e["resource_type"] for e in entries if e["resource_type"]]
    return bool(types) and all(any(_matches(k, key) for k in _resource_keys(action, t)) for t in types)
