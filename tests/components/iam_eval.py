"""A small IAM policy evaluator for tests: does a set of statements allow one call on one resource?

It covers what this project's policies use: Allow and Deny, Action and Resource with wildcards, and
the condition operators below, with the request context given as a dict (keys case-insensitive; a
missing key is absent). Anything else raises, so a policy using more cannot pass by accident.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase
from typing import Any

Context = Mapping[str, Any]


def _values(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def _like(value: str, pattern: str) -> bool:
    return fnmatchcase(value, pattern)


def _equals(value: str, pattern: str) -> bool:
    return value == pattern


_MATCH = {"StringEquals": _equals, "ArnEquals": _equals, "StringLike": _like, "ArnLike": _like}


def _condition_holds(operator: str, key: str, expected: Any, context: Context) -> bool:
    lowered = {k.lower(): v for k, v in context.items()}
    present = key.lower() in lowered
    actual = _values(lowered[key.lower()]) if present else []
    wanted = _values(expected)
    if operator == "Null":
        return (not present) == (wanted == ["true"])
    if operator == "Bool":
        return present and actual == [w.lower() for w in wanted]
    qualifier, _, base = operator.rpartition(":")
    negated = base.startswith(("StringNot", "ArnNot"))
    match = _MATCH[base.replace("Not", "", 1) if negated else base]
    hits = [any(match(value, w) for w in wanted) for value in actual]
    if negated:
        hits = [not hit for hit in hits]
    if qualifier == "ForAllValues":
        return all(hits)
    if qualifier == "ForAnyValue":
        return any(hits)
    if qualifier:
        raise ValueError(f"operator {operator} is not supported")
    return present and any(hits)


def _applies(statement: Mapping[str, Any], action: str, resource: str, context: Context | None) -> bool:
    actions = _values(statement.get("Action", []))
    if not any(fnmatchcase(action.lower(), a.lower()) for a in actions):
        return False
    if not any(_like(resource, r) for r in _values(statement.get("Resource", []))):
        return False
    if context is None:  # conditions not judged (what the policy could ever allow)
        return True
    return all(
        _condition_holds(operator, key, expected, context)
        for operator, keys in statement.get("Condition", {}).items()
        for key, expected in keys.items()
    )


def allowed(statements: Iterable[Mapping[str, Any]], action: str, resource: str, context: Context | None) -> bool:
    """Whether `statements` allow `action` on `resource` in `context` (None: whatever the conditions)."""
    listed = list(statements)
    deny = [s for s in listed if s.get("Effect") == "Deny"]
    if context is not None and any(_applies(s, action, resource, context) for s in deny):
        return False
    if context is None and any(_applies(s, action, resource, {}) and not s.get("Condition") for s in deny):
        return False
    return any(_applies(s, action, resource, context) for s in listed if s.get("Effect") == "Allow")
