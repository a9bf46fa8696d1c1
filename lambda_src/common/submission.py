"""Accepting a pipeline request: validate, record idempotently, store the spec, start the provisioner.

Shared by the API (POST /provisionpipeline) and the config-file trigger, so both paths behave
the same. Idempotency rules:
  - a client_token names one request: sent again with a different spec (hash) it is a Conflict
    (409, "client_token was used for a different request");
  - the same spec (hash), with or without the record's client_token, while the pipeline is live
    (QUEUED, PROVISIONING, AWAITING_APPROVAL, DEPLOYED): a replay; nothing is written, the
    existing record is returned (HTTP 200);
  - a different spec while work runs (QUEUED, PROVISIONING, DELETING): Conflict (409);
  - otherwise a new spec version is queued (HTTP 202): a different spec updates the pipeline, and
    the same request (token included) retries a FAILED or REJECTED pipeline or re-creates a
    DELETED one.
Identity rules, checked first: a pipeline id is derived from a name (lower-cased, separators
folded), so names that differ only in case or separators give the same id. A request whose name is
not written exactly as the existing pipeline's (unless it names the pipeline by `pipeline_id`), or
whose owner differs, is a Conflict (409) naming the existing pipeline: it never updates, replays or
retries someone else's pipeline. A DELETED pipeline's id is free again.
The record keeps the spec hash and client_token of the request that queued its version (both are
written together), so a token is always compared with the spec it was sent with.
Reconciling (`reconcile`, POST /pipelines/{id}/reconcile) is the one way to queue an unchanged spec of a
deployed pipeline again: it bypasses the replay rule on purpose, to restore what the spec declares
over stacks that drifted.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from aws_lambda_powertools import Logger

from lambda_src.common import aws
from lambda_src.common.cost_limit import check_cost_limit
from lambda_src.common.errors import Conflict, InvalidRequest, PayloadTooLarge, field_error
from lambda_src.common.settings import ConfigurationError, Settings
from lambda_src.registry import (
    EXECUTION_PENDING,
    IN_PROGRESS,
    LIVE,
    ConcurrentUpdate,
    PipelineRecord,
    Registry,
    Status,
    now,
)
from lambda_src.registry.approvals import record_requester
from lambda_src.registry.monitored import check_monitor_request
from mlops_spec import naming
from mlops_spec.approvers import Principal

if TYPE_CHECKING:
    from mlops_spec.base import PipelineSpec
    from mlops_spec.request import ReadRequest

logger = Logger(child=True)

# The normalised spec is stored in one DynamoDB attribute (items are limited to 400 kB).
MAX_SPEC_BYTES = 300_000
# Optimistic-locking rounds before telling the caller to retry; each round re-reads the record.
MAX_ATTEMPTS = 5

Decision = Literal["replay", "conflict", "token-reused", "other-name", "other-owner", "update"]


class ProvisioningNotStarted(RuntimeError):
    """The request was recorded but its spec could not be stored or the provisioner not started."""


def parse_spec(body: Any, settings: Settings, strict: bool = False) -> ReadRequest:
    """The validated spec of a request body and its warnings (unknown keys ignored; refused when
    `strict`), or InvalidRequest naming each bad field."""
    # Imported here: the union of every pipeline type is the heaviest import of the function,
    # and only provisioning requests need it (status, list and model-card calls do not).
    from mlops_spec.errors import SpecError
    from mlops_spec.request import read_pipeline_request

    mode, registry = settings.mode, settings.use_model_registry
    # Lambda's own region is the orchestrator's, where built-in images must exist.
    region = os.environ.get("AWS_REGION")
    try:
        return read_pipeline_request(body, mode=mode, use_model_registry=registry, strict=strict, region=region)
    except SpecError as exc:
        warnings = [e.as_dict() for e in getattr(exc, "warnings", [])]
        raise InvalidPipelineRequest(exc.message, [e.as_dict() for e in exc.errors], warnings) from None


class InvalidPipelineRequest(InvalidRequest):
    """A pipeline request that does not validate; its answer also names the unknown keys it carried
    (the warnings a valid request is answered with), so every path reports the same lists."""

    def __init__(self, message: str, errors: list[dict[str, str]], warnings: list[dict[str, str]]):
        super().__init__(message, errors)
        self.warnings = warnings

    def body(self) -> dict[str, Any]:
        body = super().body()
        if self.warnings:
            body["warnings"] = self.warnings
        return body


def stack_names(pipeline_id: str, environments: tuple[str, ...] | list[str]) -> list[str]:
    """The Pulumi stacks of a pipeline: its delivery stack, then one target stack per environment."""
    return [naming.delivery_stack_name(pipeline_id)] + [naming.target_stack_name(pipeline_id, e) for e in environments]


@dataclass(frozen=True)
class Plan:
    """What a valid request asks for, before anything is written."""

    spec: PipelineSpec
    pipeline_id: str
    environments: tuple[str, ...]
    spec_json: str
    spec_hash: str
    # Unknown keys that were ignored ({field, problem}), for the answer.
    warnings: tuple[dict[str, str], ...] = ()

    @property
    def pipeline_type(self) -> str:
        return str(self.spec.pipeline_type)

    @property
    def stacks(self) -> list[str]:
        return stack_names(self.pipeline_id, self.environments)

    def dry_run_body(self, config: Settings | None = None, checks: bool = True) -> dict[str, Any]:
        """The dry run's answer, with the quota preflight of every environment (asked of the provisioner:
        quota_preflight.py) and the estimated cost (cost_limit.py); a shortfall, or an estimate above
        mlops:maxMonthlyCostPerPipeline, is a failed check in a 200, as the provisioning would refuse it.
        Without `checks`, AWS is not asked: no preflight, and the cost at the committed table's prices."""
        from lambda_src.common.quota_preflight import checks_skipped, preflight_and_cost
        from lambda_src.common.settings import settings

        config = config or settings()
        if checks:
            preflight, cost = preflight_and_cost(self.pipeline_id, self.spec_json, self.spec, config)
        else:
            preflight, cost = checks_skipped(self.spec, config)
        return {
            "dry_run": True,
            "pipeline_id": self.pipeline_id,
            "pipeline_type": self.pipeline_type,
            "environments": list(self.environments),
            "stacks": self.stacks,
            "spec": json.loads(self.spec_json),
            "warnings": list(self.warnings),
            "preflight": preflight,
            "cost": cost,
        }

    def new_record(self, source: str, requested_by: Principal | None = None) -> PipelineRecord:
        timestamp = now()
        return PipelineRecord(
            pipeline_id=self.pipeline_id,
            status=Status.QUEUED,
            pipeline_type=self.pipeline_type,
            version=1,
            created_at=timestamp,
            updated_at=timestamp,
            spec=self.spec_json,
            spec_hash=self.spec_hash,
            client_token=self.spec.client_token,
            environments=self.environments,
            source=source,
            execution_id=EXECUTION_PENDING,
            name=self.spec.identity_name,
            owner=self.spec.owner,
            # Who asked for this version: by default they may not approve its promotion to prod.
            requested_by=(requested_by.as_dict() or None) if requested_by else None,
        )

    @property
    def names_pipeline(self) -> bool:
        """The request names its pipeline by id (`pipeline_id`), not only by its name."""
        return self.spec.named_pipeline_id is not None


def plan(body: Any, settings: Settings, strict: bool = False) -> Plan:
    """What a request body asks for; its unknown keys are errors when the caller asks (`strict`) or
    the install does (mlops:strictRequests), warnings otherwise."""
    read = parse_spec(body, settings, strict or settings.strict_requests)
    spec = read.spec
    spec_json = json.dumps(spec.model_dump(mode="json", exclude_none=True), sort_keys=True, separators=(",", ":"))
    if len(spec_json) > MAX_SPEC_BYTES:
        raise PayloadTooLarge(
            "pipeline request is too large",
            [field_error("(body)", f"must normalise to at most {MAX_SPEC_BYTES} bytes")],
        )
    environments = tuple(spec.environments(settings.mode, home=settings.orchestrator_environment))
    warnings = tuple(warning.as_dict() for warning in read.warnings)
    return Plan(spec, spec.pipeline_id, environments, spec_json, spec.spec_hash(), warnings)


@dataclass(frozen=True)
class Outcome:
    record: PipelineRecord
    queued: bool  # True: a new spec version was queued; False: an idempotent replay
    # Why mlops:maxMonthlyCostPerPipeline could not be checked (a price unknown), said in the answer.
    cost_limit_unchecked: tuple[str, ...] = ()

    def body(self) -> dict[str, Any]:
        unchecked = {"cost_limit_unchecked": list(self.cost_limit_unchecked)} if self.cost_limit_unchecked else {}
        return {
            "pipeline_id": self.record.pipeline_id,
            "status": str(self.record.status),
            "pipeline_type": self.record.pipeline_type,
            "version": self.record.version,
            "environments": list(self.record.environments),
            "stacks": stack_names(self.record.pipeline_id, self.record.environments),
            "idempotent_replay": not self.queued,
            **unchecked,
        }


def decide(current: PipelineRecord, new: PipelineRecord, names_pipeline: bool = False) -> Decision:
    """What a request for an existing pipeline id does (see the module docstring)."""
    # Records written before identities were kept (no name) and deleted pipelines have none to defend.
    if current.status != Status.DELETED and current.name is not None:
        if current.name != new.name and not names_pipeline:
            return "other-name"
        if current.owner != new.owner:
            return "other-owner"
    if new.client_token and current.client_token == new.client_token and current.spec_hash != new.spec_hash:
        return "token-reused"
    if current.spec_hash == new.spec_hash and current.status in LIVE:
        return "replay"
    if current.status in IN_PROGRESS:
        return "conflict"
    return "update"


def submit(
    request: Plan,
    settings: Settings,
    source: str,
    requested_by: Principal | None = None,
    barred: tuple[Principal, ...] = (),
) -> Outcome:
    """Record the request (idempotently) and, when something new was queued, start the provisioner.
    `requested_by` is kept with a queued version (a replay keeps the requester of the version it repeats,
    and names it only where none is recorded); `barred` too may not approve it into prod (a rollback's)."""
    # Above mlops:maxMonthlyCostPerPipeline: refused (400) before anything is written.
    cost = check_cost_limit(request.spec, settings)
    registry = Registry(settings.registry_table)
    # A monitor acts only on pipelines of its own owner (lambda_src/registry/monitored.py).
    check_monitor_request(registry, request.spec)
    candidate = replace(request.new_record(source, requested_by), barred=tuple(p.as_dict() for p in barred if p.known))
    if candidate.client_token:
        # A token found on another pipeline was sent with another request (one with another model
        # name). On this pipeline's own record it is judged by `decide`, from a consistent read:
        # the index is eventually consistent.
        earlier = registry.find_by_client_token(candidate.client_token)
        if earlier is not None and earlier.pipeline_id != candidate.pipeline_id:
            _check_decision(earlier, "token-reused")
    outcome = _record(registry, candidate, request.names_pipeline, settings)
    if outcome.queued:
        start_queued(registry, outcome.record, request.spec_json, settings)
    return replace(outcome, cost_limit_unchecked=tuple(cost["unchecked"]) if cost else ())


def _record(registry: Registry, candidate: PipelineRecord, names_pipeline: bool, settings: Settings) -> Outcome:
    for _ in range(MAX_ATTEMPTS):
        current = registry.create(candidate)
        if current is None:
            return Outcome(candidate, queued=True)
        decision = decide(_hashed_today(current, candidate, settings), candidate, names_pipeline)
        if decision == "replay":
            return Outcome(_with_requester(registry, current, candidate), queued=False)
        _check_decision(current, decision)
        try:
            return Outcome(registry.replace_spec(current, candidate), queued=True)
        except ConcurrentUpdate:
            continue  # someone else changed it: decide again from the fresh record
    raise Conflict(f"pipeline {candidate.pipeline_id} is being changed by other requests; retry")


def _hashed_today(current: PipelineRecord, candidate: PipelineRecord, settings: Settings) -> PipelineRecord:
    """The record as today's hashing sees it. A version recorded by an earlier release was hashed with
    every default spelled out (mlops_spec/base.py spec_hash): the same request sent again must still be
    a replay (and its client token not "reused"), so its stored spec is hashed again when they differ."""
    if current.spec_hash == candidate.spec_hash:
        return current
    spec = stored_spec(current, settings)
    # A stored spec today's rules refuse is not the same request as a valid one.
    return replace(current, spec_hash=spec.spec_hash()) if spec is not None else current


def stored_spec(record: PipelineRecord, settings: Settings) -> PipelineSpec | None:
    """The record's stored request read under today's rules; None when it has none, or they refuse it."""
    document = record.spec_document()
    if document is None:
        return None
    try:
        return parse_spec(document, settings).spec
    except Exception as exc:
        logger.info("stored request no longer validates", pipeline_id=record.pipeline_id, error=str(exc))
        return None


def _with_requester(registry: Registry, current: PipelineRecord, replay: PipelineRecord) -> PipelineRecord:
    """The replayed record, naming the replay's sender as its requester when it has none that can be
    compared (an upload whose event did not name its uploader, or named a federated or root principal
    id; a version queued before requesters were kept): the same request sent again by a known principal
    makes the prod approval checkable. A requester that can be compared is never replaced."""
    sender = Principal.from_dict(replay.requested_by)
    if Principal.from_dict(current.requested_by).known or not sender.known:
        return current
    if not record_requester(registry.table, current.pipeline_id, current.revision, sender.as_dict()):
        return current  # changed since it was read: another version, or another replay named one first
    logger.info("requester recorded by a replay", pipeline_id=current.pipeline_id, version=current.version)
    return replace(current, requested_by=sender.as_dict(), revision=current.revision + 1)


def _check_decision(current: PipelineRecord, decision: Decision) -> None:
    """Raise the Conflict of a refused request."""
    if decision == "other-name":
        raise Conflict(
            f"pipeline {current.pipeline_id} already exists, created as {current.name!r}; to update it, write "
            f'its name exactly so, or name it with "pipeline_id": "{current.pipeline_id}"',
            [field_error("pipeline_id", f"is taken by the pipeline created as {current.name!r}")],
        )
    if decision == "other-owner":
        owner = repr(current.owner) if current.owner else "no owner"
        raise Conflict(
            f"pipeline {current.pipeline_id} already exists and belongs to {owner}; "
            "a request with another owner cannot change it",
            [field_error("owner", f"differs from the owner of pipeline {current.pipeline_id} ({owner})")],
        )
    if decision == "token-reused":
        raise Conflict(
            "client_token was used for a different request; send a new token with a changed request",
            [field_error("client_token", "was used for a different request")],
        )
    if decision == "conflict":
        raise Conflict(
            f"pipeline {current.pipeline_id} is {current.status}; "
            "send the new request when the current operation has finished",
            [field_error("pipeline_id", f"is {current.status}")],
        )


def start_queued(registry: Registry, record: PipelineRecord, spec_json: str, settings: Settings) -> None:
    """Store the spec (the delivery pipeline's source) and start the provisioner asynchronously.

    If either fails the record is marked FAILED, so the same request can be sent again.
    """
    try:
        store_spec(record, spec_json, settings)
        start_provisioner("provision", record, settings)
    except Exception as exc:
        logger.exception("could not start provisioning", pipeline_id=record.pipeline_id)
        mark_failed(registry, record, f"provisioning could not be started: {type(exc).__name__}")
        raise ProvisioningNotStarted(record.pipeline_id) from exc
    logger.info("pipeline queued", pipeline_id=record.pipeline_id, version=record.version)


def store_spec(record: PipelineRecord, spec_json: str, settings: Settings) -> None:
    extra: dict[str, Any] = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": settings.assets_kms_key_arn}
    aws.client("s3").put_object(
        Bucket=settings.assets_bucket,
        Key=naming.spec_key(record.pipeline_id),
        Body=spec_json.encode(),
        ContentType="application/json",
        Metadata={"pipeline-id": record.pipeline_id, "spec-version": str(record.version)},
        # Without an explicit key the bucket's default encryption (the orchestrator's CMK) applies.
        **(extra if settings.assets_kms_key_arn else {}),
    )


def start_provisioner(
    action: Literal["provision", "delete", "drift"], record: PipelineRecord, settings: Settings
) -> None:
    if not settings.provisioner_function:
        raise ConfigurationError("environment variable MLOPS_PROVISIONER_FUNCTION is not set")
    payload = {"action": action, "pipeline_id": record.pipeline_id, "version": record.version}
    aws.client("lambda").invoke(
        FunctionName=settings.provisioner_function, InvocationType="Event", Payload=json.dumps(payload).encode()
    )


def mark_failed(registry: Registry, record: PipelineRecord, error: str) -> None:
    """Record that starting work failed, so the request can be retried (best effort)."""
    try:
        # Only while still QUEUED: a run that received the start after all (the answer of the invoke
        # was lost) has claimed the record, and its run must not be failed under it.
        registry.transition(
            record.pipeline_id,
            Status.FAILED,
            expected_status=Status.QUEUED,
            expected_version=record.version,
            last_error=error,
        )
    except Exception:
        # The record moved on (or the table is unreachable); the original error is what matters.
        logger.exception("could not mark the pipeline FAILED", pipeline_id=record.pipeline_id)
