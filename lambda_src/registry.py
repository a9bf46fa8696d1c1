"""The pipeline registry: one DynamoDB item per pipeline, its allowed status transitions, and conditional writes.

Status names and transitions: mlops_spec/status.py.

Table schema (created by components/orchestrator.py):
  partition key `pipeline_id` (S), no sort key;
  GSI `client_token` with partition key `client_token` (S), projection ALL (sparse: only
  items that carry a token are indexed).
Item attributes: status, pipeline_type, spec (normalised request as JSON text), spec_hash,
client_token, version (N, the spec version), created_at, updated_at (ISO-8601 UTC),
environments (L of S), codepipeline_name, last_error, errors (L of M {field, problem}),
outputs (M), source, execution_id (the delivery pipeline execution of the current version, or
EXECUTION_PENDING until the provisioner has started it), restarts (N, how often the sweep re-sent
the provisioner's start in the current waiting status), claimed_by (the provisioner invocation
that runs a deletion).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from lambda_src.common import aws
from mlops_spec.status import (  # noqa: F401  (re-exported: the registry's callers name them here)
    IN_PROGRESS,
    LIVE,
    TRANSITIONS,
    InvalidTransition,
    Status,
    check_transition,
)

CLIENT_TOKEN_INDEX = "client_token"
# `execution_id` of a version whose delivery pipeline run the provisioner has not recorded yet:
# events of any execution are then someone else's (an earlier version's run). Records written
# before execution ids were tracked have none at all (None) and are matched on status alone.
EXECUTION_PENDING = "pending"


class ConcurrentUpdate(RuntimeError):
    """Someone else changed the record between our read and our conditional write."""


class RecordNotFound(LookupError):
    pass


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True)
class PipelineRecord:
    pipeline_id: str
    status: Status
    pipeline_type: str
    version: int
    created_at: str
    updated_at: str
    spec: str | None = None
    spec_hash: str | None = None
    client_token: str | None = None
    environments: tuple[str, ...] = ()
    codepipeline_name: str | None = None
    last_error: str | None = None
    errors: tuple[dict[str, str], ...] = ()
    outputs: dict[str, Any] = field(default_factory=dict)
    source: str | None = None
    execution_id: str | None = None
    restarts: int = 0
    claimed_by: str | None = None

    def spec_document(self) -> dict[str, Any] | None:
        return json.loads(self.spec) if self.spec else None

    def to_item(self) -> dict[str, Any]:
        """The DynamoDB item; absent values are left out (a GSI key may not be empty)."""
        plain: dict[str, Any] = {
            "pipeline_id": self.pipeline_id,
            "status": str(self.status),
            "pipeline_type": self.pipeline_type,
            "version": self.version,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "spec": self.spec,
            "spec_hash": self.spec_hash,
            "client_token": self.client_token,
            "environments": list(self.environments),
            "codepipeline_name": self.codepipeline_name,
            "last_error": self.last_error,
            "errors": [dict(e) for e in self.errors],
            "outputs": self.outputs,
            "source": self.source,
            "execution_id": self.execution_id,
            "restarts": self.restarts or None,
            "claimed_by": self.claimed_by,
        }
        return {key: to_attr(value) for key, value in plain.items() if value not in (None, [], {})}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> PipelineRecord:
        plain = {key: from_attr(value) for key, value in item.items()}
        return cls(
            pipeline_id=plain["pipeline_id"],
            status=Status(plain["status"]),
            pipeline_type=plain.get("pipeline_type", ""),
            version=int(plain.get("version", 0)),
            created_at=plain.get("created_at", ""),
            updated_at=plain.get("updated_at", ""),
            spec=plain.get("spec"),
            spec_hash=plain.get("spec_hash"),
            client_token=plain.get("client_token"),
            environments=tuple(plain.get("environments", ())),
            codepipeline_name=plain.get("codepipeline_name"),
            last_error=plain.get("last_error"),
            errors=tuple(plain.get("errors", ())),
            outputs=plain.get("outputs", {}),
            source=plain.get("source"),
            execution_id=plain.get("execution_id"),
            restarts=int(plain.get("restarts", 0)),
            claimed_by=plain.get("claimed_by"),
        )


# -- attribute values (boto3.dynamodb.types would pull boto3 into the import) -----------------------


def to_attr(value: Any) -> dict[str, Any]:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, dict):
        return {"M": {str(k): to_attr(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [to_attr(v) for v in value]}
    raise TypeError(f"cannot store {type(value).__name__} in the registry")


def from_attr(attr: dict[str, Any]) -> Any:
    kind, value = next(iter(attr.items()))
    if kind == "N":
        return float(value) if any(c in value for c in ".eE") else int(value)
    if kind == "M":
        return {k: from_attr(v) for k, v in value.items()}
    if kind == "L":
        return [from_attr(v) for v in value]
    if kind == "NULL":
        return None
    return value  # S, BOOL


# -- the repository ----------------------------------------------------------------------------------


class Registry:
    """Reads and conditional writes of pipeline records in one table."""

    def __init__(self, table: str):
        self.table = table

    @property
    def _db(self) -> Any:
        return aws.client("dynamodb")

    def get(self, pipeline_id: str) -> PipelineRecord | None:
        response = self._db.get_item(TableName=self.table, Key={"pipeline_id": {"S": pipeline_id}}, ConsistentRead=True)
        item = response.get("Item")
        return PipelineRecord.from_item(item) if item else None

    def create(self, record: PipelineRecord) -> PipelineRecord | None:
        """Write a new record unless the id is taken: None when written, else the record that holds it."""
        check_transition(None, record.status)
        try:
            self._db.put_item(
                TableName=self.table,
                Item=record.to_item(),
                ConditionExpression="attribute_not_exists(pipeline_id)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except Exception as exc:
            if aws.error_code(exc) != "ConditionalCheckFailedException":
                raise
            item = getattr(exc, "response", {}).get("Item")
            return PipelineRecord.from_item(item) if item else self.get(record.pipeline_id)
        return None

    def replace_spec(self, current: PipelineRecord, new: PipelineRecord) -> PipelineRecord:
        """Queue a new spec version; raises ConcurrentUpdate if `current` is no longer current."""
        check_transition(current.status, Status.QUEUED)
        updated = replace(
            current,
            status=Status.QUEUED,
            version=current.version + 1,
            updated_at=new.updated_at,
            spec=new.spec,
            spec_hash=new.spec_hash,
            client_token=new.client_token,
            pipeline_type=new.pipeline_type,
            environments=new.environments,
            source=new.source,
            last_error=None,
            errors=(),
            execution_id=EXECUTION_PENDING,
            restarts=0,
            claimed_by=None,
        )
        self._conditional_put(updated, current)
        return updated

    def transition(
        self,
        pipeline_id: str,
        to: Status,
        *,
        expected_status: Status | None = None,
        expected_version: int | None = None,
        last_error: str | None = None,
        outputs: dict[str, Any] | None = None,
        codepipeline_name: str | None = None,
        execution_id: str | None = None,
    ) -> PipelineRecord:
        """Move a pipeline to `to` if the status machine allows it. A non-failure status clears last_error.

        `expected_status` and `expected_version` are the state the caller decided from: the write is
        conditional on the record still being in it (ConcurrentUpdate otherwise), so a decision taken
        on a state that has changed since never lands. Without them the move applies to whatever the
        record holds now. A change of status drops the bookkeeping of the status it leaves
        (`restarts`, `claimed_by`).
        """
        current = self.get(pipeline_id)
        if current is None:
            raise RecordNotFound(pipeline_id)
        if expected_status is not None and current.status != expected_status:
            raise ConcurrentUpdate(f"{pipeline_id} is {current.status}, not {expected_status}")
        if expected_version is not None and current.version != expected_version:
            raise ConcurrentUpdate(f"{pipeline_id} is at version {current.version}, not {expected_version}")
        check_transition(current.status, to)
        failed = to in (Status.FAILED, Status.REJECTED)
        moved = to != current.status
        updated = replace(
            current,
            status=to,
            updated_at=now(),
            last_error=last_error if last_error is not None else (current.last_error if failed else None),
            outputs=outputs if outputs is not None else current.outputs,
            codepipeline_name=codepipeline_name or current.codepipeline_name,
            execution_id=execution_id or current.execution_id,
            restarts=0 if moved else current.restarts,
            claimed_by=None if moved else current.claimed_by,
        )
        self._conditional_put(updated, current)
        return updated

    def claim_deletion(self, pipeline_id: str, version: int, claimant: str) -> bool:
        """Make `claimant` (a provisioner invocation) the one run that destroys this DELETING version.

        False when another invocation holds the claim or the record moved on. The same claimant may
        claim again (a retry of its own invocation). The sweep drops a claim when it re-sends the start.
        """
        try:
            self._db.update_item(
                TableName=self.table,
                Key={"pipeline_id": {"S": pipeline_id}},
                UpdateExpression="SET claimed_by = :me, updated_at = :now",
                ConditionExpression=(
                    "#status = :deleting AND #version = :version "
                    "AND (attribute_not_exists(claimed_by) OR claimed_by = :me)"
                ),
                ExpressionAttributeNames={"#status": "status", "#version": "version"},
                ExpressionAttributeValues={
                    ":me": {"S": claimant},
                    ":now": {"S": now()},
                    ":deleting": {"S": str(Status.DELETING)},
                    ":version": {"N": str(version)},
                },
            )
        except Exception as exc:
            if aws.error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def record_restart(self, record: PipelineRecord) -> PipelineRecord:
        """Count one re-sent start of a waiting record and restart its staleness clock.

        Conditional on the record being exactly as read (status, version and last write time), so
        two overlapping sweeps re-send once; a deletion claim left by a run that died is dropped, so
        the re-sent run can claim. Raises ConcurrentUpdate when the record changed meanwhile.
        """
        try:
            response = self._db.update_item(
                TableName=self.table,
                Key={"pipeline_id": {"S": record.pipeline_id}},
                UpdateExpression="SET restarts = :restarts, updated_at = :now REMOVE claimed_by",
                ConditionExpression="#status = :status AND #version = :version AND updated_at = :seen",
                ExpressionAttributeNames={"#status": "status", "#version": "version"},
                ExpressionAttributeValues={
                    ":restarts": {"N": str(record.restarts + 1)},
                    ":now": {"S": now()},
                    ":status": {"S": str(record.status)},
                    ":version": {"N": str(record.version)},
                    ":seen": {"S": record.updated_at},
                },
                ReturnValues="ALL_NEW",
            )
        except Exception as exc:
            if aws.error_code(exc) == "ConditionalCheckFailedException":
                raise ConcurrentUpdate(f"{record.pipeline_id} changed since it was found waiting") from None
            raise
        return PipelineRecord.from_item(response["Attributes"])

    def record_rejection(self, record: PipelineRecord) -> bool:
        """Store a REJECTED record (a config file that did not validate); replaces an earlier rejection only."""
        try:
            self._db.put_item(
                TableName=self.table,
                Item=record.to_item(),
                ConditionExpression="attribute_not_exists(pipeline_id) OR #status = :rejected",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":rejected": {"S": str(Status.REJECTED)}},
            )
        except Exception as exc:
            if aws.error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def find_by_client_token(self, token: str) -> PipelineRecord | None:
        # The GSI is eventually consistent: a token used a moment ago may not be found yet. The
        # deterministic pipeline id still makes such a retry a replay (same spec) or an update.
        response = self._db.query(
            TableName=self.table,
            IndexName=CLIENT_TOKEN_INDEX,
            KeyConditionExpression="client_token = :token",
            ExpressionAttributeValues={":token": {"S": token}},
            Limit=1,
        )
        items = response.get("Items", [])
        return PipelineRecord.from_item(items[0]) if items else None

    def list(
        self,
        limit: int,
        start_after: str | None = None,
        pipeline_type: str | None = None,
        status: str | None = None,
        max_pages: int = 10,
    ) -> tuple[list[PipelineRecord], str | None]:
        """Up to `limit` records after `start_after`, and the id to continue after (None at the end).

        A filtered scan may return fewer than `limit` records with a continuation id when it
        gives up after `max_pages` pages, as DynamoDB itself does.
        """
        request: dict[str, Any] = {"TableName": self.table, "Limit": 100, **_filters(pipeline_type, status)}
        if start_after:
            request["ExclusiveStartKey"] = {"pipeline_id": {"S": start_after}}
        records: list[PipelineRecord] = []
        for _ in range(max_pages):
            response = self._db.scan(**request)
            more_pages = "LastEvaluatedKey" in response
            items = response.get("Items", [])
            for position, item in enumerate(items):
                records.append(PipelineRecord.from_item(item))
                if len(records) == limit:
                    last_of_all = position == len(items) - 1 and not more_pages
                    return records, None if last_of_all else records[-1].pipeline_id
            if not more_pages:
                return records, None
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return records, request["ExclusiveStartKey"]["pipeline_id"]["S"]

    def _conditional_put(self, updated: PipelineRecord, current: PipelineRecord) -> None:
        """Optimistic locking on (status, version): the write only lands on the state we decided from.

        The claim and restart count, which claim_deletion and record_restart write in place, are
        part of the condition too, so a full write never undoes one that landed after our read.
        """
        conditions = ["#status = :status", "#version = :version"]
        values: dict[str, Any] = {":status": {"S": str(current.status)}, ":version": {"N": str(current.version)}}
        if current.claimed_by:
            conditions.append("claimed_by = :claimed_by")
            values[":claimed_by"] = {"S": current.claimed_by}
        else:
            conditions.append("attribute_not_exists(claimed_by)")
        if current.restarts:
            conditions.append("restarts = :restarts")
            values[":restarts"] = {"N": str(current.restarts)}
        else:
            conditions.append("attribute_not_exists(restarts)")
        try:
            self._db.put_item(
                TableName=self.table,
                Item=updated.to_item(),
                ConditionExpression=" AND ".join(conditions),
                ExpressionAttributeNames={"#status": "status", "#version": "version"},
                ExpressionAttributeValues=values,
            )
        except Exception as exc:
            if aws.error_code(exc) == "ConditionalCheckFailedException":
                raise ConcurrentUpdate(f"{current.pipeline_id} changed while it was being updated") from None
            raise


def _filters(pipeline_type: str | None, status: str | None) -> dict[str, Any]:
    clauses: list[str] = []
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    for attribute, value in (("pipeline_type", pipeline_type), ("status", status)):
        if value:
            clauses.append(f"#{attribute} = :{attribute}")
            names[f"#{attribute}"] = attribute
            values[f":{attribute}"] = {"S": value}
    if not clauses:
        return {}
    return {
        "FilterExpression": " AND ".join(clauses),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
