"""How rules read input values (unknowns, lists, JSON policy documents); changes when the engine's value shapes do."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from components.guardrails.core import UNKNOWN


def present(value: Any) -> bool:
    """Set to something: an unknown value counts, since it is an output the engine fills in later."""
    return value is UNKNOWN or (value is not None and value != "" and value != {} and value != [])


def is_true(value: Any) -> bool:
    """True, or unknown until the update (the benefit of the doubt, as for `present`)."""
    return value is True or value is UNKNOWN


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def document(value: Any) -> Any:
    """A JSON document given as text (how policies and definitions travel) or already parsed; None when
    it is unknown or not JSON (the service would refuse it anyway)."""
    if isinstance(value, Mapping | list):
        return value
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return None


def statements(policy: Any) -> list[Mapping[str, Any]]:
    """A policy document's statements; IAM accepts one statement object as well as a list."""
    parsed = document(policy)
    if not isinstance(parsed, Mapping):
        return []
    return [s for s in as_list(parsed.get("Statement")) if isinstance(s, Mapping)]
