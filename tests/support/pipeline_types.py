"""Every pipeline type, read from the spec classes: per-type test tables are checked against this list,
so a new type that a table forgets fails a test instead of silently going untested."""

from __future__ import annotations

from mlops_spec.spec_union import SPEC_TYPES

ALL_TYPES: list[str] = sorted(SPEC_TYPES)


def every_type(table: dict[str, object]) -> list[str]:
    """The parameters of a per-type test: every type. A type missing from `table` fails that type's
    case with a KeyError; a table entry for an unknown type fails at collection."""
    unknown = sorted(set(table) - set(ALL_TYPES))
    if unknown:
        raise AssertionError(f"per-type table names unknown pipeline types: {unknown}")
    return ALL_TYPES
