"""Re-start provisioner runs whose start was lost, so no request waits in QUEUED or DELETING forever.

The API records a request and then invokes the provisioner; a crash between the two (or an async
event dropped after Lambda's retries) would leave the record waiting for a run that never comes.
A scheduled sweep re-sends the start of such records. Re-sending is safe: the provisioner skips
events whose version is no longer the record's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from lambda_src.registry import PipelineRecord, Registry, Status

# How long a record may wait before its run counts as lost. A provisioner run lasts at most 15
# minutes (Lambda's limit), and a DELETING record is normally moved on by its run.
STALE_AFTER: dict[Status, timedelta] = {
    Status.QUEUED: timedelta(minutes=10),
    Status.DELETING: timedelta(minutes=20),
}
ACTION: dict[Status, Literal["provision", "delete"]] = {Status.QUEUED: "provision", Status.DELETING: "delete"}
PAGE = 100

Starter = Callable[[Literal["provision", "delete"], PipelineRecord], None]


def is_scheduled_sweep(event: dict[str, Any]) -> bool:
    """The orchestrator's schedule rule sends EventBridge's "Scheduled Event"."""
    return event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event"


def is_stale(record: PipelineRecord, now: datetime) -> bool:
    limit = STALE_AFTER.get(record.status)
    if limit is None:
        return False
    try:
        updated = datetime.fromisoformat(record.updated_at.replace("Z", "+00:00"))
    except ValueError:
        return True  # an unreadable time cannot prove the run is alive
    return now - updated > limit


def waiting_records(registry: Registry, status: Status) -> Iterator[PipelineRecord]:
    start_after: str | None = None
    while True:
        records, start_after = registry.list(PAGE, start_after=start_after, status=str(status))
        yield from records
        if start_after is None:
            return


def sweep(registry: Registry, start: Starter, now: datetime | None = None) -> list[str]:
    """Re-start the run of every stale QUEUED or DELETING record; the ids re-started."""
    moment = now or datetime.now(UTC)
    restarted = []
    for status in STALE_AFTER:
        for record in waiting_records(registry, status):
            if is_stale(record, moment):
                start(ACTION[status], record)
                restarted.append(record.pipeline_id)
    return restarted
