"""Reconcile: queue a DEPLOYED pipeline's current spec again as a new version (the normal update path),
which restores what it declares over drifted stacks. Unlike a request sent again, an unchanged spec is
not a replay here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from lambda_src.common.errors import Conflict, NotFound, field_error
from lambda_src.common.settings import Settings
from lambda_src.common.submission import MAX_ATTEMPTS, Outcome, start_queued
from lambda_src.registry import IN_PROGRESS, ConcurrentUpdate, PipelineRecord, Registry, Status, now
from mlops_spec.approvers import Principal

# The source of a version queued by a drift check for a pipeline that asks for auto_remediate.
AUTO_REMEDIATION_SOURCE = "reconcile:auto-remediate"


def reconcile(
    pipeline_id: str,
    settings: Settings,
    source: str,
    requested_by: Principal | None = None,
    *,
    version: int | None = None,
) -> Outcome:
    """Queue the pipeline's current spec again as a new version and start the provisioner: the normal
    update, which restores what the spec declares over drifted stacks. Unlike `submit`, an unchanged
    spec is not a replay. Only a DEPLOYED pipeline (and, when `version` is given, only that version);
    `requested_by` becomes the new version's requester, as with any update; without one (a drift
    check's auto-remediation, queued by no person) the deployed version's requester stays it. Either
    way the principals the record bars from approving into prod stay barred."""
    registry = Registry(settings.registry_table)
    for _ in range(MAX_ATTEMPTS):
        current = registry.get(pipeline_id)
        if current is None:
            raise NotFound(f"pipeline {pipeline_id!r} not found")
        check_reconcilable(current)
        if version is not None and current.version != version:
            raise Conflict(f"pipeline {pipeline_id} is at version {current.version} now, not {version}")
        again = replace(current, updated_at=now(), source=source, requested_by=requester_of(current, requested_by))
        try:
            queued = registry.replace_spec(current, again)
        except ConcurrentUpdate:
            continue  # changed meanwhile: judge the fresh record
        start_queued(registry, queued, str(current.spec), settings)
        return Outcome(queued, queued=True)
    raise Conflict(f"pipeline {pipeline_id} is being changed by other requests; retry")


def requester_of(current: PipelineRecord, requested_by: Principal | None) -> dict[str, str] | None:
    """The requester of a reconcile's version. A person who reconciles is its requester, as with any update.
    An auto-remediation keeps the deployed version's requester: the spec is theirs, unchanged, so they still
    may not approve it into prod, and anyone else may (with no requester recorded, approvals into prod
    are refused to everyone and the remediation would wait forever)."""
    if requested_by is not None:
        return requested_by.as_dict() or None
    return current.requested_by


def check_reconcilable(current: PipelineRecord) -> None:
    """Raise the Conflict of a pipeline that has no deployment to restore, or whose work still runs. A
    FAILED pipeline is not reconciled: its record holds the version that failed, never deployed nor
    approved, which a reconcile would queue again under the reconciler's name."""
    if current.status == Status.DEPLOYED and current.spec:
        return
    if current.status in IN_PROGRESS:
        why = "wait until its current operation has finished"
    elif current.status == Status.AWAITING_APPROVAL:
        why = "answer its pending approval first (mlops approve or mlops reject)"
    elif current.status == Status.DEPLOYED:
        why = "its record holds no spec to deploy again; send its request again (mlops provision)"
    elif current.status == Status.FAILED:
        why = "its last version did not deploy; send its request again (mlops provision)"
    else:
        why = "it has no deployment to restore; send its request again (mlops provision)"
    raise Conflict(
        f"pipeline {current.pipeline_id} is {current.status}: only a DEPLOYED pipeline can be reconciled; {why}",
        [field_error("pipeline_id", f"is {current.status}")],
    )


def remediate_drift(pipeline_id: str, version: int, settings: Settings) -> Outcome:
    """Reconcile `version` of a pipeline whose drift check found it drifted and which asks for
    auto_remediate: the normal update, queued by no person (the deployed version's requester stays its
    requester). Once per detection: a second call for the same check finds the version replaced (or the
    pipeline no longer DEPLOYED) and raises Conflict. A pipeline a monitor blocked is not remediated: its
    deploys are refused until a person sends a version, so the update would only fail."""
    return reconcile(pipeline_id, settings, AUTO_REMEDIATION_SOURCE, version=version)


def replace_while(
    registry: Registry,
    read: PipelineRecord,
    candidate: PipelineRecord,
    still_holds: Callable[[PipelineRecord | None], PipelineRecord],
) -> PipelineRecord:
    """Queue `candidate` as the version after the record as `read`, a compare-and-swap: `still_holds`
    judges the record each time before the write (raising when it no longer may be replaced, returning it
    when it may); a write in between (an approval recorded, a note) is read again and judged anew."""
    current: PipelineRecord | None = read
    for _ in range(MAX_ATTEMPTS):
        try:
            return registry.replace_spec(still_holds(current), candidate)
        except ConcurrentUpdate:
            current = registry.get(read.pipeline_id)
    raise Conflict(f"pipeline {read.pipeline_id} is being changed by other requests; retry")
