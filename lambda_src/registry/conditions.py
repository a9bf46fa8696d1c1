"""Conditional writes: DynamoDB's "condition failed" answer as one exception the registry can act on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lambda_src.common import aws


class ConcurrentUpdate(RuntimeError):
    """Someone else changed the record between our read and our conditional write."""


class RecordNotFound(LookupError):
    pass


class ConditionFailed(Exception):
    """A conditional write did not land; `item` is the item as it stood, when DynamoDB returned it."""

    def __init__(self, item: dict[str, Any] | None):
        super().__init__("condition failed")
        self.item = item


def write_if(call: Callable[..., Any], **request: Any) -> Any:
    """Run one conditional DynamoDB call; ConditionFailed when its condition did not hold, any other
    error as it is."""
    try:
        return call(**request)
    except Exception as exc:
        if aws.error_code(exc) != "ConditionalCheckFailedException":
            raise
        raise ConditionFailed(getattr(exc, "response", {}).get("Item")) from None


# Every write increments the record's revision (absent on records written before revisions: 0).
REVISION_INCREMENT = "revision = if_not_exists(revision, :zero) + :one"
NEXT_REVISION = {":zero": {"N": "0"}, ":one": {"N": "1"}}
