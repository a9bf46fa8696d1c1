"""Re-start provisioner runs whose start was lost, so no request waits in QUEUED or DELETING forever.

The API records a request and then invokes the provisioner; a crash between the two (or an async
event dropped after Lambda's retries) would leave the record waiting for a run that never comes.
A scheduled sweep re-sends the start of such records. Re-sending is safe: the provisioner skips
events whose version is no longer the record's, and of two deliveries of the same one only the
first to claim the record runs.

Each re-send is counted on the record (`restarts`) and restarts its staleness clock, so one lost
start is re-sent once per staleness period, not at every sweep; after MAX_RESTARTS the record is
marked FAILED (retryable), for the user to send the request again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from lambda_src.registry import ConcurrentUpdate, InvalidTransition, PipelineRecord, Registry, Status
from lambda_src.status_events import records

# How long a record may wait before its run counts as lost. A QUEUED record is claimed (moved to
# PROVISIONING) as soon as its run starts; a re-sent start whose original was only late is
# harmless (one of the two claims it). A DELETING record stays DELETING while its run destroys the
# stacks: the start may wait up to an hour in Lambda's queue (the provisioner's maximum event age)
# and the run lasts up to 15 minutes, so only after both has it certainly been lost.
STALE_AFTER: dict[Status, timedelta] = {
    Status.QUEUED: timedelta(minutes=10),
    Status.DELETING: timedelta(minutes=75),
}
MAX_RESTARTS = 3
ACTION: dict[Status, Literal["provision", "delete"]] = {Status.QUEUED: "provision", Status.DELETING: "delete"}
PAGE = 100

Starter = Callable[[Literal["provision", "delete"], PipelineRecord], None]
Notifier = Callable[[PipelineRecord], None]


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


def sweep(registry: Registry, start: Starter, now: datetime | None = None, failed: Notifier | None = None) -> list[str]:
    """Re-start the run of every stale QUEUED or DELETING record; the ids re-started.

    A record already re-started MAX_RESTARTS times is marked FAILED instead (and passed to `failed`).
    """
    moment = now or datetime.now(UTC)
    restarted = []
    for status in STALE_AFTER:
        for record in waiting_records(registry, status):
            if not is_stale(record, moment):
                continue
            if record.restarts >= MAX_RESTARTS:
                given_up = give_up(registry, record)
                if given_up is not None and failed is not None:
                    failed(given_up)
                continue
            try:
                # Counted first, on condition that the record is as found: of two overlapping sweeps
                # only one re-sends, and none once the run has started after all.
                counted = registry.record_restart(record)
            except ConcurrentUpdate:
                continue
            start(ACTION[status], counted)
            restarted.append(record.pipeline_id)
    return restarted


def give_up(registry: Registry, record: PipelineRecord) -> PipelineRecord | None:
    """Mark a record whose run never started FAILED; None if it moved on meanwhile."""
    text = records.error_text(
        "provisioner-not-started",
        f"provisioner never started ({record.restarts} restarts); send the request again",
        retryable=True,
    )
    try:
        return registry.transition(
            record.pipeline_id,
            Status.FAILED,
            expected_status=record.status,
            expected_version=record.version,
            last_error=text,
        )
    except (ConcurrentUpdate, InvalidTransition):
        return None
