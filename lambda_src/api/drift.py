"""Drift behind the API: a pipeline's last drift check (GET /pipelines/{id}/drift), its one-word drift
state in every listed summary, and reconciling it (POST /pipelines/{id}/reconcile).

The check itself runs in the provisioner on a schedule (lambda_src/provisioner/drift.py) and keeps its
result on the registry record (`drift`); this module only reads it, in the shape the OpenAPI document
publishes (mlops_spec/openapi/answers.py: PipelineDrift), and queues the reconciling update.
"""

from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools import Logger

from lambda_src.common import reconciling
from lambda_src.common.errors import NotFound
from lambda_src.common.settings import Settings
from lambda_src.registry import PipelineRecord, Registry
from mlops_spec import routes
from mlops_spec.approvers import Principal

logger = Logger(child=True)

# The drift states a summary shows (mlops list's column): the last check found every environment in
# sync, found one drifted, could not check one (and found none drifted), or there was no check yet.
IN_SYNC, DRIFTED, UNKNOWN, NOT_CHECKED = "IN_SYNC", "DRIFTED", "UNKNOWN", "NOT_CHECKED"
DRIFT_STATES = (IN_SYNC, DRIFTED, UNKNOWN, NOT_CHECKED)
_PIPELINE_ID = re.compile(routes.PATH_PARAMETER_PATTERNS["pipeline_id"])


def drift_state(document: Any) -> str:
    """The one-word state of a record's `drift` (None: never checked)."""
    if not isinstance(document, dict) or not document.get("checked_at"):
        return NOT_CHECKED
    in_sync = document.get("in_sync")
    return IN_SYNC if in_sync is True else DRIFTED if in_sync is False else UNKNOWN


def _resource(resource: Any) -> dict[str, Any]:
    entry = resource if isinstance(resource, dict) else {}
    properties = entry.get("properties")
    return {
        "urn": str(entry.get("urn", "")),
        "type": str(entry.get("type", "")),
        "op": str(entry.get("op", "")),
        "properties": [str(p) for p in properties] if isinstance(properties, list) else [],
    }


def _environment(entry: Any) -> dict[str, Any]:
    """One environment's result as published: in sync (or null with the reason it could not be checked),
    the count of changes per operation and the resources that differ."""
    entry = entry if isinstance(entry, dict) else {}
    in_sync = entry.get("in_sync")
    changes = entry.get("changes")
    resources = entry.get("resources")
    return {
        "in_sync": in_sync if isinstance(in_sync, bool) else None,
        "changes": {str(op): int(n) for op, n in changes.items()} if isinstance(changes, dict) else {},
        "resources": [_resource(r) for r in resources] if isinstance(resources, list) else [],
        "error": str(entry["error"]) if entry.get("error") else None,
    }


def drift_body(record: PipelineRecord) -> dict[str, Any]:
    """GET /pipelines/{id}/drift: the record's last drift check, or `checked: false` when there was none.
    The pipeline's current status and version come with it: after a reconcile or an update the check
    shown is of the version deployed before, until the next check."""
    document = record.drift if isinstance(record.drift, dict) else {}
    state = drift_state(record.drift)
    environments = document.get("environments") if state != NOT_CHECKED else None
    return {
        "pipeline_id": record.pipeline_id,
        "status": str(record.status),
        "version": record.version,
        "checked": state != NOT_CHECKED,
        "drift": state,
        "checked_at": document.get("checked_at") if state != NOT_CHECKED else None,
        "in_sync": document.get("in_sync") if state in (IN_SYNC, DRIFTED) else None,
        "environments": {str(env): _environment(entry) for env, entry in (environments or {}).items()},
    }


def find(pipeline_id: str, settings: Settings) -> PipelineRecord:
    """The pipeline's record; an id the orchestrator never creates is a 404 without a table read.
    (pipelines.find does the same, but pipelines imports status, which imports this module.)"""
    record = Registry(settings.registry_table).get(pipeline_id) if _PIPELINE_ID.fullmatch(pipeline_id) else None
    if record is None:
        raise NotFound(f"pipeline {pipeline_id[:128]!r} not found")
    return record


def drift(pipeline_id: str, settings: Settings) -> dict[str, Any]:
    return drift_body(find(pipeline_id, settings))


def reconcile(pipeline_id: str, requester: Principal, settings: Settings) -> dict[str, Any]:
    """POST /pipelines/{id}/reconcile: queue the current spec again (a new version, the caller its
    requester); 409 unless DEPLOYED (lambda_src/common/reconciling.py)."""
    find(pipeline_id, settings)
    source = f"reconcile:{requester.arn}" if requester.arn else "reconcile"
    outcome = reconciling.reconcile(pipeline_id, settings, source=source, requested_by=requester)
    logger.info("pipeline reconcile queued", pipeline_id=pipeline_id, version=outcome.record.version)
    body = outcome.body()
    del body["idempotent_replay"]
    return {**body, "requested_by": requester.label(), "source": source}
