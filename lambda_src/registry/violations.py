"""What monitors that act note on records: the runs a monitor acted on, and a block on promotions.

Each note is an update of its own attribute, conditional on the record's revision as read (a
compare-and-swap, never a blind write), that increments the revision: no other writer's change is
undone, and a full write that read the record before fails its own compare-and-swap and reads again.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from lambda_src.common import aws
from lambda_src.registry.attributes import to_attr
from lambda_src.registry.conditions import (
    NEXT_REVISION,
    REVISION_INCREMENT,
    ConcurrentUpdate,
    ConditionFailed,
    write_if,
)
from lambda_src.registry.record import PipelineRecord

# How many runs a monitor's record remembers: events of a run come within minutes, runs hours apart.
REMEMBERED_RUNS = 20
ATTEMPTS = 5


def handled(record: PipelineRecord, execution: str) -> bool:
    return any(entry.get("execution") == execution for entry in record.violations)


def _set_if_unchanged(table: str, record: PipelineRecord, attribute: str, value: Any) -> bool:
    """SET `attribute` on the record as read (its revision); False when it changed since."""
    condition = "revision = :revision" if record.revision else "attribute_not_exists(revision)"
    values = {":value": to_attr(value), **NEXT_REVISION}
    if record.revision:
        values[":revision"] = {"N": str(record.revision)}
    try:
        write_if(
            aws.client("dynamodb").update_item,
            TableName=table,
            Key={"pipeline_id": {"S": record.pipeline_id}},
            UpdateExpression=f"SET #attribute = :value, {REVISION_INCREMENT}",
            ConditionExpression=f"attribute_exists(pipeline_id) AND {condition}",
            ExpressionAttributeNames={"#attribute": attribute},
            ExpressionAttributeValues=values,
        )
    except ConditionFailed:
        return False
    return True


def claim_run(registry: Any, pipeline_id: str, entry: dict[str, Any]) -> bool:
    """Note that the monitor acts on the run `entry["execution"]`; False when it was noted already
    (a second delivery of its event) or the record is gone. Concurrent writers make it read again."""
    for _ in range(ATTEMPTS):
        record = registry.get(pipeline_id)
        if record is None or handled(record, entry["execution"]):
            return False
        runs = [entry, *record.violations][:REMEMBERED_RUNS]
        if _set_if_unchanged(registry.table, record, "violations", runs):
            return True
    raise RuntimeError(f"{pipeline_id}: the record kept changing; run {entry['execution']} not noted")


def release_run(registry: Any, pipeline_id: str, execution: str) -> None:
    """Forget a run whose action failed, so that the retried event acts on it."""
    for _ in range(ATTEMPTS):
        record = registry.get(pipeline_id)
        if record is None or not handled(record, execution):
            return
        runs = [entry for entry in record.violations if entry.get("execution") != execution]
        if _set_if_unchanged(registry.table, record, "violations", runs):
            return


def block(registry: Any, pipeline_id: str, note: dict[str, Any]) -> PipelineRecord | None:
    """Block the pipeline's promotions until a person acts (note: which monitor, run, when); the
    record as it was before, or None when it is gone. An existing block is kept (the first cause)."""
    for _ in range(ATTEMPTS):
        record = registry.get(pipeline_id)
        if record is None or record.blocked:
            return record
        if _set_if_unchanged(registry.table, record, "blocked", note):
            return record
    raise RuntimeError(f"{pipeline_id}: the record kept changing; block not written")


def record_monitored(registry: Any, monitor: PipelineRecord, pipeline_id: str) -> bool:
    """Note on the monitor's record (as read) the pipeline whose endpoint it watches; False when the
    record changed since (it is found again next time). A full compare-and-swap write (PutItem), which
    the deploy builds' role may make (it may not UpdateItem)."""
    try:
        registry._conditional_put(replace(monitor, monitored=pipeline_id), monitor)
    except ConcurrentUpdate:
        return False
    return True
