"""POST /pipelines/{id}/promote: the shadow of a shadow-tested endpoint becomes its production model.

A normal update: the pipeline's current request with its shadow made the production model and the
shadow removed (mlops_spec/pipelines/shadow_variants.py `promoted_request`) is submitted as a new version would
be (registry version + 1, a delivery run, the approvals between environments in multi-account mode),
the caller its requester and `promote:<caller>` its source on the registry record.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from lambda_src.api.pipelines import find
from lambda_src.common import submission
from lambda_src.common.errors import Conflict, field_error
from lambda_src.common.settings import Settings
from lambda_src.registry import IN_PROGRESS, PipelineRecord, Status
from mlops_spec.approvers import Principal
from mlops_spec.pipelines.shadow_variants import promoted_request

logger = Logger(child=True)


def promote(pipeline_id: str, requester: Principal, settings: Settings) -> dict[str, Any]:
    """Queue the pipeline's request with its shadow promoted; 404 unknown, 409 when there is no deployed
    shadow to promote, 400 when the promoted request does not validate (nothing is written then)."""
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
    source = f"promote:{requester.arn}" if requester.arn else "promote"
    outcome = submission.submit(request, settings, source=source, requested_by=requester)
    logger.info("shadow promoted", pipeline_id=record.pipeline_id, version=outcome.record.version)
    body = outcome.body()
    del body["idempotent_replay"]
    return {**body, "requested_by": requester.label(), "source": source}


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
