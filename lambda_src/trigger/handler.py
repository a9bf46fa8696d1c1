"""S3 ObjectCreated events for `mlops-config.json` files -> the API's submission path, with results on SNS.

Two event shapes arrive: S3 notification records (`{"Records": [...]}`, the orchestrator's own
assets bucket) and EventBridge "Object Created" events (a user's existing bucket, which sends its
events to EventBridge so that the orchestrator never writes its notification configuration).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambda_src.common import aws, submission, untrusted_json
from lambda_src.common.errors import ApiError, Conflict, PayloadTooLarge, field_error
from lambda_src.common.settings import Settings, settings
from lambda_src.registry import PipelineRecord, Registry, Status, now
from lambda_src.trigger import model_approvals, monitor_violations
from mlops_spec import naming
from mlops_spec.approvers import Principal

logger = Logger()

SUBJECT_LIMIT = 100  # SNS subjects are at most 100 characters


@dataclass
class FileResult:
    source: str
    outcome: str  # queued | unchanged | rejected | conflict | skipped | superseded
    pipeline_id: str | None = None
    errors: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "outcome": self.outcome, "pipeline_id": self.pipeline_id, "errors": self.errors}


def rejection_id(source: str) -> str:
    """The registry id of a rejected file: stable per S3 object, so a re-upload replaces the rejection."""
    return f"rejected-{naming.short_hash(source, 12)}"


class Superseded(Exception):
    """The event names an upload that a newer one has replaced: that upload's own event applies the file."""

    def __init__(self, event_version: str, read_version: str | None):
        super().__init__(f"version {event_version} was replaced by {read_version} before it was read")
        self.event_version = event_version
        self.read_version = read_version


def read_config(bucket: str, key: str, event_version: str | None = None) -> tuple[Any, str | None]:
    """The file as it is now, and the version it is (None: unversioned); Superseded when the event names
    a version (`event_version`) that is no longer the current one.

    S3 delivers notifications at least once and in no particular order: applying the version an
    event names would let an older upload's late event roll the pipeline back to it. The current
    object is always the newest upload, and S3 delivers that upload's own event too, which names its
    uploader: so the event of an older version is skipped, and the newest file is applied by its own
    event, under its real uploader. (Applying the newest file from an older upload's event would queue
    it under no requester, or under the wrong one; ordering events by their `sequencer` would need the
    last sequencer applied per key stored somewhere: comparing versions needs no state.) An event
    without a version (an unversioned bucket) applies what it reads.
    """
    response = aws.client("s3").get_object(Bucket=bucket, Key=key)
    read_version = object_version(response.get("VersionId"))
    if event_version is not None and event_version != read_version:
        raise Superseded(event_version, read_version)
    if response.get("ContentLength", 0) > untrusted_json.MAX_BODY_BYTES:
        raise PayloadTooLarge(
            "mlops-config.json is too large",
            [field_error("(file)", f"must be at most {untrusted_json.MAX_BODY_BYTES} bytes")],
        )
    return untrusted_json.decode(response["Body"].read(), what="mlops-config.json"), read_version


def object_version(value: Any) -> str | None:
    """A version id as S3 names it, None for none: an unversioned object has none, which events and
    reads may also spell "null" (S3's version id of an object written while versioning was off)."""
    return value if isinstance(value, str) and value not in ("", "null") else None


def requester(uploader: str | None, event_version: str | None, read_version: str | None) -> Principal | None:
    """Who requested what was read: the event's uploader (S3's principal id, `AWS:AROA...:<session>`) when
    the event names the version read (an event of another version is skipped before: read_config). An
    event that names no version in a versioned bucket does not say which upload it is: then no
    requester is recorded (docs/security.md)."""
    if not uploader or event_version != read_version:
        return None
    return Principal(principal_id=uploader)


def _announce(config: Settings, subject: str, lines: list[str], outcome: str, pipeline_id: str | None) -> None:
    if not config.topic_arn:
        logger.warning("MLOPS_TOPIC_ARN is not set; result not announced", subject=subject)
        return
    attributes = {"outcome": {"DataType": "String", "StringValue": outcome}}
    if pipeline_id:
        attributes["pipeline_id"] = {"DataType": "String", "StringValue": pipeline_id}
    aws.client("sns").publish(
        TopicArn=config.topic_arn,
        Subject=subject[:SUBJECT_LIMIT],
        Message="\n".join(lines),
        MessageAttributes=attributes,
    )


def _reject(config: Settings, source: str, body: Any, error: ApiError) -> FileResult:
    """Record the file as REJECTED with its field errors and tell the topic why."""
    pipeline_id = rejection_id(source)
    raw_type = body.get("pipeline_type") if isinstance(body, dict) else None
    timestamp = now()
    record = PipelineRecord(
        pipeline_id=pipeline_id,
        status=Status.REJECTED,
        pipeline_type=raw_type[:64] if isinstance(raw_type, str) else "unknown",
        version=1,
        created_at=timestamp,
        updated_at=timestamp,
        last_error=error.message,
        errors=tuple(error.errors[:50]),
        source=source,
    )
    Registry(config.registry_table).record_rejection(record)
    problems = [f"- {e['field']}: {e['problem']}" for e in error.errors] or [f"- {error.message}"]
    # Unknown keys of an invalid request (InvalidPipelineRequest), named as for an accepted one.
    problems += [f"Warning: {w['field']}: {w['problem']}" for w in getattr(error, "warnings", [])]
    _announce(
        config,
        f"MLOps: rejected {source.rsplit('/', 1)[-1]}",
        [
            f"The pipeline request in {source} was rejected; nothing was deployed.",
            "",
            f"{error.message}:",
            *problems,
            "",
            f"Recorded as {pipeline_id} (status REJECTED). Fix the file and upload it again.",
        ],
        "rejected",
        pipeline_id,
    )
    return FileResult(source, "rejected", pipeline_id, error.errors)


def process(
    config: Settings, bucket: str, key: str, version_id: str | None = None, uploader: str | None = None
) -> FileResult:
    """Apply the config file at `key`. `version_id` (the event's) only tells whether `uploader` (the
    event's principal) uploaded what is applied: see read_config."""
    source = f"s3://{bucket}/{key}"
    try:
        body, read_version = read_config(bucket, key, version_id)
    except Superseded as exc:
        # Not announced: the newer upload's event announces what it applies.
        logger.info(
            "event superseded by a newer upload; its own event applies the file", source=source, reason=str(exc)
        )
        return FileResult(source, "superseded", errors=[field_error("(file)", f"{exc}: its own event applies it")])
    except ApiError as exc:
        return _reject(config, source, None, exc)
    except Exception as exc:
        if aws.error_code(exc) not in ("NoSuchKey", "NoSuchVersion"):
            raise
        # Deleted before we got to it: there is nothing left to apply.
        logger.warning("config file is gone", source=source, event_version=version_id)
        return FileResult(source, "skipped")
    try:
        request = submission.plan(body, config)
        requested_by = requester(uploader, version_id, read_version)
        outcome = submission.submit(request, config, source=source, requested_by=requested_by)
    except Conflict as exc:
        _announce(
            config, f"MLOps: {source.rsplit('/', 1)[-1]} not applied", [f"{source}: {exc.message}"], "conflict", None
        )
        return FileResult(source, "conflict", errors=exc.errors)
    except ApiError as exc:
        return _reject(config, source, body, exc)
    record = outcome.record
    verb = "queued" if outcome.queued else "unchanged"
    _announce(
        config,
        f"MLOps: pipeline {record.pipeline_id} {verb}",
        [
            f"Pipeline {record.pipeline_id} ({record.pipeline_type}) from {source}:",
            f"status {record.status}, version {record.version}.",
            "Environments: " + ", ".join(record.environments),
            # Unknown keys the request carried (ignored, as the API ignores them).
            *[f"Warning: {warning['field']}: {warning['problem']}" for warning in request.warnings],
        ],
        verb,
        record.pipeline_id,
    )
    return FileResult(source, verb, record.pipeline_id)


Upload = tuple[str, str, str | None, str | None]


def _config_upload(bucket: Any, raw_key: Any, version: Any, config: Settings, uploader: Any = None) -> Upload | None:
    """(bucket, key, version, uploader) if the object is a config file in the assets bucket; None otherwise.

    Keys arrive quote_plus-encoded ("team+a%2Fmlops-config.json") in S3 notification records; EventBridge
    keys are decoded the same way (as Powertools' S3EventBridgeNotificationObject.key does).
    """
    key = unquote_plus(str(raw_key or ""))
    if bucket != config.assets_bucket or not key.endswith(naming.CONFIG_FILE_NAME):
        return None
    return bucket, key, object_version(version), uploader if isinstance(uploader, str) and uploader else None


def _target(record: dict[str, Any], config: Settings) -> Upload | None:
    """A config-file upload named by an S3 notification record; None for any other record."""
    if not str(record.get("eventName", "")).startswith("ObjectCreated"):
        return None
    s3 = record.get("s3") or {}
    obj = s3.get("object") or {}
    uploader = (record.get("userIdentity") or {}).get("principalId")
    return _config_upload((s3.get("bucket") or {}).get("name"), obj.get("key"), obj.get("versionId"), config, uploader)


def _eventbridge_target(event: dict[str, Any], config: Settings) -> Upload | None:
    """A config-file upload named by an EventBridge "Object Created" event; None for any other object.
    Such events name the uploading account only (`requester`), not a principal: no uploader."""
    detail = event.get("detail") or {}
    obj = detail.get("object") or {}
    return _config_upload((detail.get("bucket") or {}).get("name"), obj.get("key"), obj.get("version-id"), config)


def _targets(event: dict[str, Any], config: Settings) -> list[Upload]:
    """The config-file uploads an invocation names, whichever of the two shapes it has."""
    if event.get("source") == "aws.s3" and event.get("detail-type") == "Object Created":
        found = [_eventbridge_target(event, config)]
    else:
        found = [_target(record, config) for record in event.get("Records") or []]
    return [target for target in found if target is not None]


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Every record is processed; if any failed for an internal reason the invocation fails so that
    Lambda retries it (already-recorded files replay without writing anything). Model package
    approvals in the registry are requests too (model_approvals.py), and so are monitoring runs with
    violations (monitor_violations.py)."""
    config = settings()
    if model_approvals.ApprovalEvent.parse(event) is not None:
        return model_approvals.handle(
            event, config, lambda subject, message: _announce(config, subject, [message], "model-registry", None)
        )
    if monitor_violations.Violation.parse(event) is not None:
        return monitor_violations.handle(
            event, config, lambda subject, message: _announce(config, subject, [message], "monitor-violation", None)
        )
    results: list[dict[str, Any]] = []
    failed: list[str] = []
    for target in _targets(event, config):
        try:
            results.append(process(config, *target).as_dict())
        except Exception:
            logger.exception("config file could not be processed", bucket=target[0], key=target[1])
            failed.append(f"s3://{target[0]}/{target[1]}")
    logger.info("config files processed", results=results, failed=failed)
    if failed:
        raise RuntimeError(f"could not process {', '.join(failed)}")
    return {"results": results}
