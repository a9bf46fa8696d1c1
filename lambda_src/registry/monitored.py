"""Whose pipelines a monitor may act on: the pipeline serving its endpoint, and the training pipeline it retrains.

A monitor acts (block, rollback, retrain) only on pipelines of its own owner: the update path it sends
versions through would refuse its owner's request for another owner's pipeline, so acting for it there
would let one team roll back, block or retrain another's. Checked when the monitor is requested
(submission) and again when it acts (lambda_src/trigger/monitor_violations.py). Plain functions over
records and stored request documents: no request is parsed here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lambda_src.common.errors import Conflict, field_error
from lambda_src.registry.record import PipelineRecord
from mlops_spec import naming
from mlops_spec.status import Status

# Records that hold no pipeline any more. Not REJECTED: a version whose approval was rejected leaves the
# previous version's endpoints serving (a monitor still watches, blocks and rolls them back).
GONE = frozenset({Status.DELETED, Status.DELETING})


def serves(record: PipelineRecord, endpoint: str, env: str | None = None) -> bool:
    """Whether the real-time pipeline of `record` names `endpoint` as its endpoint (in `env`, or in any
    environment), as its stored request writes it (its name, or one per environment), or by default."""
    document = record.spec_document() or {}
    if not _is_realtime(record):
        return False
    named = document.get("endpoint_name")
    envs = [env] if env else list(record.environments)
    # Per environment: its own name, else the pipeline's name for every environment, else the default.
    names = {_named_in(named, e) or naming.resource_name(record.pipeline_id, e, "endpoint") for e in envs}
    return endpoint in names


def still_serves(record: PipelineRecord, endpoint: str, env: str, owner: str | None) -> bool:
    """Whether the pipeline a monitor recorded still serves its endpoint in `env`, for the monitor's owner
    (a later version may have renamed the endpoint, or the id been deleted and taken by another owner)."""
    return record.owner == owner and env in record.environments and serves(record, endpoint, env)


def _named_in(named: Any, env: str) -> str | None:
    value = named.get(env) if isinstance(named, dict) else named
    return value if isinstance(value, str) and value else None


def monitored_pipeline(records: Iterable[PipelineRecord], endpoint: str, env: str, owner: str | None) -> str | None:
    """The one DEPLOYED real-time pipeline of `owner` serving `endpoint` in `env`; None when there is none,
    or more than one (which it is cannot be told: nothing is acted on)."""
    found = [
        record.pipeline_id
        for record in records
        if record.status == Status.DEPLOYED
        and record.owner == owner
        and env in record.environments
        and serves(record, endpoint, env)
    ]
    return found[0] if len(found) == 1 else None


def owner_problems(
    monitor_owner: str | None, monitored: PipelineRecord | None, training: PipelineRecord | None
) -> list[str]:
    """Why a monitor of `monitor_owner` may not act on these pipelines (empty: it may)."""
    problems = []
    for role, record in (("monitored pipeline", monitored), ("training pipeline", training)):
        if record is not None and record.owner != monitor_owner:
            owner = repr(record.owner) if record.owner else "no owner"
            problems.append(f"the {role} {record.pipeline_id} belongs to {owner}, not to the monitor's owner")
    return problems


def check_monitor_request(registry: Any, spec: Any) -> None:
    """Conflict (409) for a monitor request that names another owner's training pipeline, or whose endpoint
    another owner's pipeline serves, and acts on violations (notify acts on no pipeline)."""
    action = getattr(spec, "violation_action", None)
    if action in (None, "notify"):
        return
    errors = []
    training_id = getattr(spec, "retrain_pipeline_id", None)
    if training_id:
        training = registry.get(training_id)
        if training is not None and training.status not in GONE and training.owner != spec.owner:
            errors.append(field_error("on_violation.retrain.training_pipeline_id", _other("training", training)))
    if action in ("block", "rollback"):
        endpoints = _endpoint_names(spec)
        for record in registry.each():
            if record.status not in GONE and record.owner != spec.owner and any(serves(record, e) for e in endpoints):
                errors.append(field_error("endpoint_name", _other("serving", record)))
                break
    if errors:
        raise Conflict("a monitor acts only on pipelines of its own owner", errors)


def _other(what: str, record: PipelineRecord) -> str:
    owner = repr(record.owner) if record.owner else "no owner"
    return f"names the {what} pipeline {record.pipeline_id} of {owner}, not of this monitor's owner"


def _endpoint_names(spec: Any) -> set[str]:
    named = spec.endpoint_name
    return {str(value) for value in named.values()} if isinstance(named, dict) else {str(named)}


def _is_realtime(record: PipelineRecord) -> bool:
    from mlops_spec.pipeline_types import spec_type
    from mlops_spec.pipelines.realtime import RealtimeFields

    kind = spec_type(record.pipeline_type)
    return kind is not None and issubclass(kind, RealtimeFields)
