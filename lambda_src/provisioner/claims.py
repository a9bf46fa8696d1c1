"""Which provisioner run does which work: a request's run claims its record, a duplicate or stale
event is skipped, and the outcome says so."""

from __future__ import annotations

import uuid
from typing import Any, TypeGuard

from aws_lambda_powertools import Logger

from lambda_src.provisioner.teardown import TeardownRequest
from lambda_src.registry import PipelineRecord, Status

logger = Logger(child=True)


def claimable(record: PipelineRecord | None, status: Status, version: int | None) -> TypeGuard[PipelineRecord]:
    """Work runs only for the request that queued it: a duplicate or superseded event is skipped."""
    if record is None or record.status != status:
        return False
    return version is None or record.version == version


def held_by(record: PipelineRecord | None, request: TeardownRequest) -> TypeGuard[PipelineRecord]:
    """The record is still the deletion `request` was started for: DELETING, that version, that claim."""
    return claimable(record, Status.DELETING, request.version) and record.claimed_by == request.claim


def already_claimed(pipeline_id: str, action: str) -> dict[str, Any]:
    logger.info("request skipped: already claimed by another run", pipeline_id=pipeline_id, action=action)
    return {"pipeline_id": pipeline_id, "action": action, "skipped": "already claimed"}


def invocation_id(context: Any) -> str:
    """Lambda's request id (the same for a retry of this invocation); a fresh id without a context."""
    request_id = getattr(context, "aws_request_id", None)
    return request_id if isinstance(request_id, str) and request_id else f"local-{uuid.uuid4()}"


def skipped(pipeline_id: str, action: str, record: PipelineRecord | None) -> dict[str, Any]:
    found = f"{record.status} v{record.version}" if record else "no record"
    logger.info("request skipped: not the current one", pipeline_id=pipeline_id, action=action, found=found)
    return {"pipeline_id": pipeline_id, "action": action, "skipped": found}
