"""Pipeline operations behind the API other than submitting: read status, list, delete."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from aws_lambda_powertools import Logger

from lambda_src.api.status import pipeline_status, summary
from lambda_src.common.errors import Conflict, InvalidRequest, NotFound, ServiceUnavailable, field_error, invalid
from lambda_src.common.settings import Settings
from lambda_src.common.submission import start_provisioner
from lambda_src.registry import ConcurrentUpdate, InvalidTransition, PipelineRecord, Registry, Status
from mlops_spec import routes
from mlops_spec.approvers import Principal

logger = Logger(child=True)

# Every id we create matches this (naming.pipeline_id slugs, "rejected-<hash>"); anything else
# cannot exist, so it is answered with 404 without a table read (and never reaches DynamoDB's
# key validation).
_PIPELINE_ID = re.compile(routes.PATH_PARAMETER_PATTERNS["pipeline_id"])
DEFAULT_LIMIT = 25
MAX_LIMIT = 100


def caller(event: dict[str, Any]) -> Principal:
    """Who signed an API request: API Gateway's IAM auth puts the ARN (`userArn`) and the principal id
    (`caller`: AIDA... for a user, AROA...:<session> for a role's session) in the request context."""
    identity = (event.get("requestContext") or {}).get("identity") or {}
    arn, principal_id = identity.get("userArn"), identity.get("caller")
    return Principal(
        arn if isinstance(arn, str) and arn else None,
        principal_id if isinstance(principal_id, str) and principal_id else None,
    )


def _registry(settings: Settings) -> Registry:
    return Registry(settings.registry_table)


def find(pipeline_id: Any, settings: Settings) -> PipelineRecord:
    if isinstance(pipeline_id, str) and _PIPELINE_ID.fullmatch(pipeline_id):
        record = _registry(settings).get(pipeline_id)
        if record is not None:
            return record
    raise NotFound(f"pipeline {str(pipeline_id)[:128]!r} not found")


def status(pipeline_id: Any, settings: Settings) -> dict[str, Any]:
    return pipeline_status(find(pipeline_id, settings))


def status_request(body: Any, settings: Settings) -> dict[str, Any]:
    """POST /pipelinestatus {"pipeline_id": ...} (the MWO route)."""
    if not isinstance(body, dict):
        raise invalid("(body)", "must be a JSON object", "request body must be a JSON object")
    unknown = sorted(str(key) for key in body if key != "pipeline_id")
    if unknown:
        raise InvalidRequest("invalid status request", [field_error(key, "is not a known field") for key in unknown])
    pipeline_id = body.get("pipeline_id")
    if not isinstance(pipeline_id, str) or not pipeline_id.strip():
        problem = "is required" if pipeline_id is None else "must be a non-empty string"
        raise invalid("pipeline_id", problem, "invalid status request")
    return status(pipeline_id.strip(), settings)


def delete(pipeline_id: Any, settings: Settings) -> dict[str, Any]:
    """Mark the pipeline DELETING and ask the provisioner to destroy its stacks.

    Accepted in every state: a deletion supersedes a queued or running deployment (the provisioner
    stops its runs and builds first). Deleting a DELETING pipeline sends the start again, which is
    safe (one run claims the deletion); a DELETED pipeline has nothing left to delete.
    """
    record = find(pipeline_id, settings)
    if record.status == Status.DELETED:
        return _deletion_body(record)
    deleting = record if record.status == Status.DELETING else _mark_deleting(record, settings)
    try:
        start_provisioner("delete", deleting, settings)
    except Exception:
        # The pipeline stays DELETING (its stacks are untouched): nothing healthy is marked FAILED,
        # and the sweep re-sends the start of a DELETING pipeline that waits too long.
        logger.exception("could not start the deletion", pipeline_id=deleting.pipeline_id)
        raise ServiceUnavailable(
            f"pipeline {deleting.pipeline_id} is marked DELETING but its deletion could not be started; "
            "send DELETE again (or wait for the sweep to start it)"
        ) from None
    logger.info("pipeline deletion queued", pipeline_id=deleting.pipeline_id, was=str(record.status))
    return _deletion_body(deleting)


def _mark_deleting(record: PipelineRecord, settings: Settings) -> PipelineRecord:
    try:
        return _registry(settings).transition(
            record.pipeline_id, Status.DELETING, expected_status=record.status, expected_version=record.version
        )
    except InvalidTransition:
        raise Conflict(
            f"pipeline {record.pipeline_id} is {record.status} and cannot be deleted now",
            [field_error("pipeline_id", f"is {record.status}")],
        ) from None
    except ConcurrentUpdate:
        raise Conflict(f"pipeline {record.pipeline_id} changed while it was being deleted; retry") from None


def _deletion_body(record: PipelineRecord) -> dict[str, Any]:
    return {"pipeline_id": record.pipeline_id, "status": str(record.status), "version": record.version}


@dataclass(frozen=True)
class ListQuery:
    PARAMETERS: ClassVar[frozenset[str]] = frozenset({"limit", "next_token", "pipeline_type", "status"})

    limit: int = DEFAULT_LIMIT
    start_after: str | None = None
    pipeline_type: str | None = None
    status: str | None = None

    @classmethod
    def parse(cls, params: dict[str, str]) -> ListQuery:
        """GET /pipelines query parameters (already restricted to PARAMETERS)."""
        errors: list[dict[str, str]] = []
        limit = _limit(params.get("limit"), errors)
        start_after = _decode_token(params.get("next_token"), errors)
        # Given but empty (`?status=`) is an error too, as the published enum says.
        status = params.get("status")
        if status is not None and status not in Status.__members__:
            errors.append(field_error("status", f"must be one of {', '.join(Status)}"))
        pipeline_type = params.get("pipeline_type")
        if pipeline_type is not None and not _known_pipeline_type(pipeline_type):
            errors.append(field_error("pipeline_type", "is not a known pipeline type"))
        if errors:
            raise InvalidRequest("invalid query parameters", errors)
        return cls(limit, start_after, pipeline_type, status)


def list_pipelines(query: ListQuery, settings: Settings) -> dict[str, Any]:
    records, after = _registry(settings).list(
        query.limit, start_after=query.start_after, pipeline_type=query.pipeline_type, status=query.status
    )
    return {"pipelines": [summary(r) for r in records], "next_token": encode_token(after) if after else None}


def _known_pipeline_type(value: str) -> bool:
    from mlops_spec.pipeline_types import TYPE_MODULES

    return value in TYPE_MODULES


def _limit(raw: str | None, errors: list[dict[str, str]]) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    # isdecimal() alone admits non-ASCII digits ("²", "٣") that int() refuses or reads differently.
    if raw.isascii() and raw.isdecimal() and 1 <= int(raw) <= MAX_LIMIT:
        return int(raw)
    errors.append(field_error("limit", f"must be a whole number from 1 to {MAX_LIMIT}"))
    return DEFAULT_LIMIT


def encode_token(pipeline_id: str) -> str:
    """An opaque continuation token: the id the next page starts after."""
    return base64.urlsafe_b64encode(json.dumps({"after": pipeline_id}).encode()).decode().rstrip("=")


def _decode_token(token: str | None, errors: list[dict[str, str]]) -> str | None:
    if not token:
        return None
    if len(token) > 512:
        errors.append(field_error("next_token", "is not a token returned by this API"))
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        after = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))["after"]
    except (ValueError, TypeError, KeyError, RecursionError, binascii.Error, UnicodeEncodeError):
        after = None
    if isinstance(after, str) and _PIPELINE_ID.fullmatch(after):
        return after
    errors.append(field_error("next_token", "is not a token returned by this API"))
    return None
