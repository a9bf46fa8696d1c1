"""Every waiting status has a bounded lifetime: the sweep re-starts lost provisioner runs (QUEUED,
DELETING) and reconciles PROVISIONING records that heard nothing from their run (reconcile.py).

The API records a request and then invokes the provisioner; a crash between the two (or an async
event dropped after Lambda's retries) would leave the record waiting for a run that never comes.
A scheduled sweep re-sends the start of such records. Re-sending is safe: the provisioner skips
events whose version is no longer the record's, and of two deliveries of the same one only the
first to claim the record runs.

Each re-send is counted on the record (`restarts`) and restarts its staleness clock, so one lost
start is re-sent once per staleness period, not at every sweep; after MAX_RESTARTS the record is
marked FAILED (retryable), for the user to send the request again.

A DELETING record whose teardown build has started is left to that build, however long it runs;
once the build has ended with the record still DELETING (killed by its timeout, or stopped), the
deletion is marked FAILED (retryable): sending DELETE again starts a new teardown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from aws_lambda_powertools import Logger

from lambda_src.registry import ConcurrentUpdate, InvalidTransition, PipelineRecord, RecordNotFound, Registry, Status
from lambda_src.status_events import records
from mlops_spec.drift import DRIFT_CHECK_EVENT

# How long a record may wait before its run counts as lost. A QUEUED record is claimed (moved to
# PROVISIONING) as soon as its run starts; a re-sent start whose original was only late is
# harmless (one of the two claims it). A DELETING record stays DELETING while its run destroys the
# stacks: the start may wait up to an hour in Lambda's queue (the provisioner's maximum event age)
# and the run lasts up to 15 minutes, so only after both has it certainly been lost.
STALE_AFTER: dict[Status, timedelta] = {
    Status.QUEUED: timedelta(minutes=10),
    Status.DELETING: timedelta(minutes=75),
}
# A teardown build in this state is still working; any other (ended, or unknown to CodeBuild) is not.
BUILD_RUNNING = "IN_PROGRESS"
# BatchGetBuilds takes at most this many ids.
BUILDS_PER_READ = 100
# A PROVISIONING record quiet for this long is checked against its run (reconcile.py).
PROVISIONING_QUIET = timedelta(minutes=30)
MAX_RESTARTS = 3
ACTION: dict[Status, Literal["provision", "delete"]] = {Status.QUEUED: "provision", Status.DELETING: "delete"}
PAGE = 100

logger = Logger(child=True)

Starter = Callable[[Literal["provision", "delete"], PipelineRecord], None]
Notifier = Callable[[PipelineRecord], None]
# (record, how long it has been quiet) -> what was done; see reconcile.py.
Reconciler = Callable[[PipelineRecord, timedelta], str]
# build ids -> the status CodeBuild reports for each it knows (see build_states).
BuildStates = Callable[[list[str]], dict[str, str]]


def is_drift_schedule(event: dict[str, Any]) -> bool:
    return event == DRIFT_CHECK_EVENT


def is_scheduled_sweep(event: dict[str, Any]) -> bool:
    """The orchestrator's schedule rule sends EventBridge's "Scheduled Event"."""
    return event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event"


def is_stale(record: PipelineRecord, now: datetime) -> bool:
    limit = STALE_AFTER.get(record.status)
    return limit is not None and quiet_time(record, now) > limit


def waiting_records(registry: Registry, status: Status) -> Iterator[PipelineRecord]:
    return registry.each(status=str(status), page=PAGE)


def sweep(
    registry: Registry,
    start: Starter,
    now: datetime | None = None,
    failed: Notifier | None = None,
    reconcile: Reconciler | None = None,
    teardowns: BuildStates | None = None,
) -> list[str]:
    """Re-start the run of every stale QUEUED or DELETING record; the ids re-started.

    A record already re-started MAX_RESTARTS times is marked FAILED instead (and passed to `failed`).
    DELETING records with a teardown build are checked against it (`teardowns`), not restarted.
    PROVISIONING records quiet for longer than PROVISIONING_QUIET go to `reconcile`.
    """
    moment = now or datetime.now(UTC)
    restarted = []
    tearing_down: list[PipelineRecord] = []
    for status in STALE_AFTER:
        for record in waiting_records(registry, status):
            if record.tearing_down:
                tearing_down.append(record)
            elif is_stale(record, moment) and _restart(registry, record, start, failed):
                restarted.append(record.pipeline_id)
    if teardowns is not None and tearing_down:
        _fail_ended_teardowns(registry, tearing_down, teardowns, failed)
    if reconcile is not None:
        _reconcile_quiet(registry, reconcile, moment)
    return restarted


def _fail_ended_teardowns(
    registry: Registry, tearing_down: list[PipelineRecord], teardowns: BuildStates, failed: Notifier | None
) -> None:
    """A teardown build that ended without recording the deletion's end (killed by its timeout,
    stopped) fails the deletion retryably; one CodeBuild cannot answer for is checked next sweep."""
    try:
        states = teardowns([record.teardown_build for record in tearing_down if record.teardown_build])
    except Exception:
        logger.exception("teardown builds not checked")
        return
    for record in tearing_down:
        state = states.get(record.teardown_build or "", "unknown to CodeBuild")
        if state == BUILD_RUNNING:
            continue
        given_up = _fail_ended_teardown(registry, record, state)
        if given_up is not None and failed is not None:
            failed(given_up)


def _fail_ended_teardown(registry: Registry, record: PipelineRecord, state: str) -> PipelineRecord | None:
    """FAILED, retryable, only if the record is exactly as read: a new claim and build recorded since
    (the deletion sent again) is not failed for the old build's end."""
    why = f"teardown build {record.teardown_build} ended ({state}) before the pipeline was deleted"
    try:
        return registry.transition(
            record.pipeline_id,
            Status.FAILED,
            expected_status=Status.DELETING,
            expected_version=record.version,
            expected_revision=record.revision,
            last_error=records.error_text("teardown-ended", f"{why}; send the request again", retryable=True),
        )
    except (ConcurrentUpdate, InvalidTransition, RecordNotFound):
        return None


def build_states(codebuild: Any, build_ids: list[str]) -> dict[str, str]:
    """Build id -> buildStatus (IN_PROGRESS, SUCCEEDED, FAILED, FAULT, TIMED_OUT, STOPPED) of the
    builds CodeBuild knows."""
    states: dict[str, str] = {}
    for first in range(0, len(build_ids), BUILDS_PER_READ):
        response = codebuild.batch_get_builds(ids=build_ids[first : first + BUILDS_PER_READ])
        states.update({build["id"]: str(build.get("buildStatus")) for build in response.get("builds", [])})
    return states


def _restart(registry: Registry, record: PipelineRecord, start: Starter, failed: Notifier | None) -> bool:
    """Re-send the start of a stale record (True), or give up on it after MAX_RESTARTS."""
    if record.restarts >= MAX_RESTARTS:
        given_up = give_up(registry, record)
        if given_up is not None and failed is not None:
            failed(given_up)
        return False
    try:
        # Counted first, on condition that the record is as found: of two overlapping sweeps
        # only one re-sends, and none once the run has started after all.
        counted = registry.record_restart(record)
    except ConcurrentUpdate:
        return False
    start(ACTION[record.status], counted)
    return True


def _reconcile_quiet(registry: Registry, reconcile: Reconciler, moment: datetime) -> None:
    for record in waiting_records(registry, Status.PROVISIONING):
        quiet_for = quiet_time(record, moment)
        if quiet_for > PROVISIONING_QUIET:
            try:
                outcome = reconcile(record, quiet_for)
            except Exception:
                # One pipeline CodePipeline cannot answer for must not stop the sweep of the others.
                logger.exception("quiet pipeline not reconciled", pipeline_id=record.pipeline_id)
                continue
            logger.info("quiet pipeline reconciled", pipeline_id=record.pipeline_id, outcome=outcome)


def quiet_time(record: PipelineRecord, now: datetime) -> timedelta:
    """How long since the record was last written (an unreadable time counts as long ago)."""
    try:
        updated = datetime.fromisoformat(record.updated_at.replace("Z", "+00:00"))
    except ValueError:
        return timedelta.max
    return now - updated


def give_up(registry: Registry, record: PipelineRecord) -> PipelineRecord | None:
    """Mark a record whose run never started FAILED; None if it moved on meanwhile."""
    why = f"provisioner never started ({record.restarts} restarts)"
    return records.fail_retryably(registry, record, "provisioner-not-started", why)
