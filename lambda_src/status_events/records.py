"""Small registry updates shared by the status function and the provisioner: outputs, errors, status."""

from __future__ import annotations

import logging
from typing import Any

from lambda_src.registry import (
    ConcurrentUpdate,
    InvalidTransition,
    PipelineRecord,
    RecordNotFound,
    Registry,
    Status,
)

logger = logging.getLogger(__name__)

# Optimistic-locking rounds: each re-reads the record, so concurrent writers (status events,
# deploy builds, the provisioner) all land.
ATTEMPTS = 5


def error_text(reason: str, message: str, retryable: bool) -> str:
    """`last_error` as users read it: the short reason first, and whether sending again may help."""
    return f"{reason}{' (retryable)' if retryable else ''}: {message}"


def merge_outputs(
    registry: Registry,
    pipeline_id: str,
    key: str,
    value: Any,
    *,
    codepipeline_name: str | None = None,
    expected_version: int | None = None,
    expected_status: Status | None = None,
    execution_id: str | None = None,
) -> PipelineRecord | None:
    """Set `outputs[key]` (e.g. "dev" -> the dev stack's outputs) without changing the status.

    Each round writes onto the record exactly as it read it (its revision): a change that lands in
    between, a status or another environment's outputs, is never undone; the next round merges
    into it.
    """
    for _ in range(ATTEMPTS):
        current = registry.get(pipeline_id)
        if current is None:
            return None
        if expected_version is not None and current.version != expected_version:
            return None
        if expected_status is not None and current.status != expected_status:
            return None
        try:
            return registry.transition(
                pipeline_id,
                current.status,
                expected_status=current.status,
                expected_version=current.version,
                expected_revision=current.revision,
                last_error=current.last_error if current.status in (Status.FAILED, Status.REJECTED) else None,
                outputs={**current.outputs, key: value},
                codepipeline_name=codepipeline_name,
                execution_id=execution_id,
            )
        except RecordNotFound:
            return None
        except ConcurrentUpdate:
            continue
    logger.warning("outputs of %s could not be recorded after %d attempts", pipeline_id, ATTEMPTS)
    return None


def set_status(
    registry: Registry,
    pipeline_id: str,
    status: Status,
    *,
    last_error: str | None = None,
    expected_version: int | None = None,
    expected_status: Status | None = None,
    outputs: dict[str, Any] | None = None,
) -> PipelineRecord | None:
    """Move to `status` if the status machine allows it; None when it does not (or the record is gone).

    `expected_status` / `expected_version`: the state the decision was taken in. Once the record
    has left it the decision no longer holds and nothing is written (None); a concurrent write
    that kept it (outputs, an error text) only costs another round.

    Never raises for a refused transition: status updates come from events that may be stale, and
    a stale event must not turn into an error of its own.
    """
    for _ in range(ATTEMPTS):
        try:
            return registry.transition(
                pipeline_id,
                status,
                expected_status=expected_status,
                expected_version=expected_version,
                last_error=last_error,
                outputs=outputs,
            )
        except (InvalidTransition, RecordNotFound) as exc:
            logger.info("status of %s not changed to %s: %s", pipeline_id, status, exc)
            return None
        except ConcurrentUpdate:
            current = registry.get(pipeline_id)
            if current is None or not _still(current, expected_status, expected_version):
                logger.info("status of %s not changed to %s: the record moved on", pipeline_id, status)
                return None
            continue
    logger.warning("status of %s could not be changed to %s after %d attempts", pipeline_id, status, ATTEMPTS)
    return None


def _still(record: PipelineRecord, status: Status | None, version: int | None) -> bool:
    return (status is None or record.status == status) and (version is None or record.version == version)


def fail_retryably(registry: Registry, record: PipelineRecord, reason: str, why: str) -> PipelineRecord | None:
    """FAILED, retryable, for a record still in the status and version it was found waiting in (a
    run that was lost or never came); None when it has moved on meanwhile."""
    return set_status(
        registry,
        record.pipeline_id,
        Status.FAILED,
        last_error=error_text(reason, f"{why}; send the request again", retryable=True),
        expected_status=record.status,
        expected_version=record.version,
    )
