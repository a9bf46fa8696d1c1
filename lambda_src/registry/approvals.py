"""Recording who answered a manual approval, and who requested the version, on its pipeline's record.

In-place updates that touch one attribute (the `approvals` list, a missing `requested_by`) and
increment the record's revision, so they never undo another writer's field, and a full write that read
the record before them fails its compare-and-swap and reads again (store.py) instead of dropping them.
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


_NAME_REQUESTER = "SET requested_by = :requester, revision = if_not_exists(revision, :zero) + :one"


def record_requester(table: str, pipeline_id: str, revision: int, requester: dict[str, str]) -> bool:
    """Name the requester of the record as it was read (`revision`; 0: written before revisions), which
    the caller found without a requester it can compare (separation of duties: a prod approval needs
    one). False when the record changed since: another version, or another replay named one first."""
    condition = "revision = :revision" if revision else "attribute_not_exists(revision)"
    values = {":requester": to_attr(requester), ":zero": {"N": "0"}, ":one": {"N": "1"}}
    if revision:
        values[":revision"] = {"N": str(revision)}
    try:
        write_if(
            aws.client("dynamodb").update_item,
            TableName=table,
            Key={"pipeline_id": {"S": pipeline_id}},
            UpdateExpression=_NAME_REQUESTER,
            ConditionExpression=condition,
            ExpressionAttributeValues=values,
        )
    except ConditionFailed:
        return False
    return True
