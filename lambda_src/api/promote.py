"""POST /pipelines/{id}/promote: the shadow of a shadow-tested endpoint becomes its production model.

A normal update: the pipeline's current request with its shadow made the production model and the
shadow removed (mlops_spec/pipelines/shadow_variants.py `promoted_request`) is queued as a new version
(registry version + 1, a delivery run, the approvals between environments in multi-account mode), the
caller its requester and `promote:<caller>` its source on the registry record.

Compare-and-swap on the version read: the shadow promoted is the one of the DEPLOYED version the caller
could judge. If the record changed before the new version is written (another version was sent, failed,
is being deleted), the promotion is refused with 409 naming the version the pipeline is at now; it never
lands on top of a version whose shadow was not the one read (as `reconcile(version=)` does).

Separation of duties: the caller requests the new version, so the requester rule already keeps them from
approving it into prod; whoever chose the shadow (the requester of the version read, whose request carried
it, and whoever that version already barred) is barred too: promoting is their choice going to production.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aws_lambda_powertools import Logger

from lambda_src.api.pipelines import find
from lambda_src.common import submission
from lambda_src.common.cost_limit import check_cost_limit
from lambda_src.common.errors import Conflict, NotFound, field_error
from lambda_src.common.reconciling import replace_while
from lambda_src.common.settings import Settings
from lambda_src.registry import IN_PROGRESS, PipelineRecord, Registry, Status
from mlops_spec.approvers import Principal, same_principal
from mlops_spec.pipelines.shadow_variants import promoted_request

logger = Logger(child=True)


def promote(pipeline_id: str, requester: Principal, settings: Settings) -> dict[str, Any]:
    """Queue the pipeline's request with its shadow promoted; 404 unknown, 409 when there is no deployed
    shadow to promote or the pipeline changed since it was read, 400 when the promoted request does not
    validate or is estimated above the install's cost limit (nothing is written then)."""
    record = find(pipeline_id, settings)
    check_promotable(record)
    promoted = promoted_request(record.spec_document() or {})
    if promoted is None:
        raise Conflict(
            f"pipeline {record.pipeline_id} runs no shadow test: there is no shadow to promote "
            '(a real-time request with "deployment": {"type": "shadow", "shadow": {...}} runs one)',
            [field_error("pipeline_id", "has no shadow")],
        )
    # Its client token belongs to the request its sender sent, not to this one.
    promoted.pop("client_token", None)
    request = submission.plan(promoted, settings)
    # Above mlops:maxMonthlyCostPerPipeline: refused (400) before anything is written, as any request.
    cost = check_cost_limit(request.spec, settings)
    source = f"promote:{requester.arn}" if requester.arn else "promote"
    registry = Registry(settings.registry_table)
    candidate = replace(request.new_record(source, requester), barred=shadow_choosers(record, requester))
    queued = queue_over(registry, record, candidate)
    submission.start_queued(registry, queued, request.spec_json, settings)
    logger.info("shadow promoted", pipeline_id=queued.pipeline_id, version=queued.version, promoted=record.version)
    unchecked = tuple(cost["unchecked"]) if cost else ()
    body = submission.Outcome(queued, queued=True, cost_limit_unchecked=unchecked).body()
    del body["idempotent_replay"]
    return {**body, "requested_by": requester.label(), "source": source}


def shadow_choosers(read: PipelineRecord, promoter: Principal) -> tuple[dict[str, str], ...]:
    """Who, besides the promoter (the new version's requester), may not approve the promotion into prod:
    the requester of the version read, whose request chose the shadow, and whoever that version already
    barred (a rollback's original requester). Principals no one can be told apart from are left out."""
    barred: list[dict[str, str]] = []
    for entry in (read.requested_by, *read.barred):
        chooser = Principal.from_dict(entry)
        if not chooser.known or same_principal(chooser, promoter):
            continue
        if not any(same_principal(chooser, Principal.from_dict(other)) for other in barred):
            barred.append(chooser.as_dict())
    return tuple(barred)


def queue_over(registry: Registry, read: PipelineRecord, candidate: PipelineRecord) -> PipelineRecord:
    """Queue `candidate` as the version after `read`, only while the pipeline is still at `read`'s version
    and promotable. A write in between that leaves the version as it was (an approval recorded, a note)
    is read again and the promotion retried on it."""

    def still_promotable(current: PipelineRecord | None) -> PipelineRecord:
        if current is None:
            raise NotFound(f"pipeline {read.pipeline_id!r} not found")
        check_same_version(read, current)
        check_promotable(current)
        return current

    return replace_while(registry, read, candidate, still_promotable)


def check_same_version(read: PipelineRecord, current: PipelineRecord) -> None:
    """Raise the Conflict of a pipeline whose version moved on since its shadow was read."""
    if current.version == read.version:
        return
    raise Conflict(
        f"pipeline {current.pipeline_id} is at version {current.version} ({current.status}) now, not version "
        f"{read.version} whose shadow was to be promoted; nothing was promoted: look at its status "
        f"(mlops status {current.pipeline_id}) and promote again if its shadow is the one to promote",
        [field_error("pipeline_id", f"is at version {current.version}, not {read.version}")],
    )


def check_promotable(record: PipelineRecord) -> None:
    """Raise the Conflict of a pipeline whose shadow cannot be promoted now: only a DEPLOYED pipeline's
    shadow has run and can have been judged."""
    if record.status == Status.DEPLOYED and record.spec:
        return
    if record.status == Status.DELETING:
        why = "it is being deleted"
    elif record.status in IN_PROGRESS:
        why = "wait until its current operation has finished"
    elif record.status == Status.AWAITING_APPROVAL:
        why = "answer its pending approval first (mlops approve or mlops reject)"
    else:
        why = "it has no deployed shadow test to promote"
    raise Conflict(
        f"pipeline {record.pipeline_id} is {record.status}: only a DEPLOYED pipeline's shadow can be promoted; {why}",
        [field_error("pipeline_id", f"is {record.status}")],
    )
