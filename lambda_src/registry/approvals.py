"""Recording an answered manual approval on its pipeline's record: an attribute-level append.

An in-place update that touches the `approvals` list only and increments the record's revision, so
it never undoes another writer's field, and a full write that read the record before it fails its
compare-and-swap and reads again (store.py) instead of dropping the entry.
"""

from __future__ import annotations

from typing import Any

from lambda_src.common import aws
from lambda_src.registry.attributes import to_attr
from lambda_src.registry.conditions import ConditionFailed, write_if

_APPEND = (
    "SET approvals = list_append(if_not_exists(approvals, :none), :entry), "
    "revision = if_not_exists(revision, :zero) + :one"
)


def record_approval(table: str, pipeline_id: str, version: int, entry: dict[str, Any]) -> bool:
    """Append `entry` to the approvals of `version`; False when the record holds another version by now
    (the answer then belonged to the version it replaced, whose approvals were dropped with it)."""
    try:
        write_if(
            aws.client("dynamodb").update_item,
            TableName=table,
            Key={"pipeline_id": {"S": pipeline_id}},
            UpdateExpression=_APPEND,
            ConditionExpression="#version = :version",
            ExpressionAttributeNames={"#version": "version"},
            ExpressionAttributeValues={
                ":none": {"L": []},
                ":entry": {"L": [to_attr(entry)]},
                ":version": {"N": str(version)},
                ":zero": {"N": "0"},
                ":one": {"N": "1"},
            },
        )
    except ConditionFailed:
        return False
    return True
