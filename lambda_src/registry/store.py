"""The registry table: reads, and the conditional writes that keep concurrent writers from undoing each other.

Table schema (created by components/orchestrator):
  partition key `pipeline_id` (S), no sort key;
  GSI `client_token` with partition key `client_token` (S), projection ALL (sparse: only
  items that carry a token are indexed).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from lambda_src.common import aws
from lambda_src.registry.conditions import (
    ConcurrentUpdate,
    ConditionFailed,
    RecordNotFound,
    write_if,
)
from lambda_src.registry.notes import RunNotes
from lambda_src.registry.record import EXECUTION_PENDING, PipelineRecord, lifts_block, now
from mlops_spec.status import Status, check_transition

CLIENT_TOKEN_INDEX = "client_token"
logger = logging.getLogger(__name__)
# In-place updates count as writes too: they increment the revision the full writes compare.
# Rounds of read-and-reapply for a move that does not depend on the state it was decided from.
UNCONDITIONAL_ATTEMPTS = 5


@dataclass(frozen=True)
class _Move:
    """What `transition` writes: the new status and the fields given with it."""

    to: Status
    last_error: str | None
    outputs: dict[str, Any] | None
    codepipeline_name: str | None
    execution_id: str | None

    def applied_to(self, current: PipelineRecord) -> PipelineRecord:
        failed = self.to in (Status.FAILED, Status.REJECTED)
        moved = self.to != current.status
        # Each version that reaches DEPLOYED joins the history a rollback returns to, in this same
        # compare-and-swap write (whoever moves it: the status function, the provisioner).
        reached = self.to == Status.DEPLOYED and current.status != Status.DEPLOYED
        kept_error = current.last_error if failed else None
        return replace(
            current,
            status=self.to,
            updated_at=now(),
            last_error=self.last_error if self.last_error is not None else kept_error,
            outputs=self.outputs if self.outputs is not None else current.outputs,
            codepipeline_name=self.codepipeline_name or current.codepipeline_name,
            execution_id=self.execution_id or current.execution_id,
            restarts=0 if moved else current.restarts,
            claimed_by=None if moved else current.claimed_by,
            deployed=current.with_deployed() if reached else current.deployed,
        )


class Registry(RunNotes):
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
            write_if(
                self._db.put_item,
                TableName=self.table,
                Item=replace(record, revision=1).to_item(),
                ConditionExpression="attribute_not_exists(pipeline_id)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ConditionFailed as failed:
            return PipelineRecord.from_item(failed.item) if failed.item else self.get(record.pipeline_id)
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
            # Who queued this version; the approvals answered were the previous version's.
            requested_by=new.requested_by,
            approvals=(),
            last_error=None,
            errors=(),
            execution_id=EXECUTION_PENDING,
            restarts=0,
            claimed_by=None,
            # A deleted pipeline's id is free: the new request's name and owner become its identity.
            # Otherwise the identity stays (records written before identities were kept take the new one).
            name=new.name if _identity_is_free(current) else current.name,
            owner=new.owner if _identity_is_free(current) else current.owner,
            # A monitor's block waits for a person: a version a known person sent lifts it, an automated
            # one (or one whose sender is not known) does not.
            blocked=None if lifts_block(new.source, new.requested_by) else current.blocked,
            # Besides the requester, who may not approve this version into prod (a rollback's).
            barred=new.barred,
            # A re-created pipeline starts a history of its own; a monitor finds its pipeline again.
            deployed=() if current.status == Status.DELETED else current.deployed,
            monitored=None,
        )
        return self._conditional_put(updated, current)

    def transition(
        self,
        pipeline_id: str,
        to: Status,
        *,
        expected_status: Status | None = None,
        expected_version: int | None = None,
        expected_revision: int | None = None,
        last_error: str | None = None,
        outputs: dict[str, Any] | None = None,
        codepipeline_name: str | None = None,
        execution_id: str | None = None,
    ) -> PipelineRecord:
        """Move a pipeline to `to` if the status machine allows it. A non-failure status clears last_error.

        `expected_status` and `expected_version` are the state the caller decided from: the write is
        conditional on the record still being in it (ConcurrentUpdate otherwise), so a decision taken
        on a state that has changed since never lands. `expected_revision` asks for the record exactly
        as the caller read it: for values the caller computed from that read (merged outputs).
        Without any of them the move applies to whatever the record holds now: a write that lands
        between our read and ours makes us read again and re-apply the move on top of it. A change
        of status drops the bookkeeping of the status it leaves (`restarts`, `claimed_by`).
        """
        change = _Move(to, last_error, outputs, codepipeline_name, execution_id)
        unconditional = expected_status is None and expected_version is None and expected_revision is None
        for attempt in range(UNCONDITIONAL_ATTEMPTS if unconditional else 1):
            current = self.get(pipeline_id)
            if current is None:
                raise RecordNotFound(pipeline_id)
            if expected_status is not None and current.status != expected_status:
                raise ConcurrentUpdate(f"{pipeline_id} is {current.status}, not {expected_status}")
            if expected_version is not None and current.version != expected_version:
                raise ConcurrentUpdate(f"{pipeline_id} is at version {current.version}, not {expected_version}")
            if expected_revision is not None and current.revision != expected_revision:
                raise ConcurrentUpdate(f"{pipeline_id} changed since it was read")
            check_transition(current.status, to)
            updated = change.applied_to(current)
            try:
                return self._conditional_put(updated, current)
            except ConcurrentUpdate:
                if not unconditional or attempt + 1 == UNCONDITIONAL_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def record_rejection(self, record: PipelineRecord) -> bool:
        """Store a REJECTED record (a config file that did not validate); replaces an earlier rejection only."""
        try:
            write_if(
                self._db.put_item,
                TableName=self.table,
                Item=record.to_item(),
                ConditionExpression="attribute_not_exists(pipeline_id) OR #status = :rejected",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":rejected": {"S": str(Status.REJECTED)}},
            )
        except ConditionFailed:
            return False
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

    def each(self, status: str | None = None, page: int = 100) -> Iterator[PipelineRecord]:
        """Every record (of `status`, if given), page by page."""
        start_after: str | None = None
        while True:
            records, start_after = self.list(page, start_after=start_after, status=status)
            yield from records
            if start_after is None:
                return

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
                decoded = _decoded(item)
                if decoded is None:
                    continue
                records.append(decoded)
                if len(records) == limit:
                    last_of_all = position == len(items) - 1 and not more_pages
                    return records, None if last_of_all else records[-1].pipeline_id
            if not more_pages:
                return records, None
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return records, request["ExclusiveStartKey"]["pipeline_id"]["S"]

    def _conditional_put(self, updated: PipelineRecord, current: PipelineRecord) -> PipelineRecord:
        """Compare-and-swap on the record's revision: the write lands only on the record as we read
        it, and carries the next revision. Returns what was written.

        Every writer increments the revision (the in-place claim and restart writes too), so a full
        write never undoes a change that landed after our read, not even one that kept the status
        (two environments' outputs, say). Records written before revisions existed have none: the
        first write gives them one, conditional on status, version, claim and restart count as before.
        """
        written = replace(updated, revision=current.revision + 1)
        conditions = ["#status = :status", "#version = :version"]
        values: dict[str, Any] = {":status": {"S": str(current.status)}, ":version": {"N": str(current.version)}}
        if current.revision:
            conditions.append("revision = :revision")
            values[":revision"] = {"N": str(current.revision)}
        else:
            conditions.append("attribute_not_exists(revision)")
        conditions += _legacy_conditions(current, values)
        try:
            write_if(
                self._db.put_item,
                TableName=self.table,
                Item=written.to_item(),
                ConditionExpression=" AND ".join(conditions),
                ExpressionAttributeNames={"#status": "status", "#version": "version"},
                ExpressionAttributeValues=values,
            )
        except ConditionFailed:
            raise ConcurrentUpdate(f"{current.pipeline_id} changed while it was being updated") from None
        return written


def _decoded(item: dict[str, Any]) -> PipelineRecord | None:
    """A listed item as a record; None (logged) for one that is malformed, so a single bad item
    neither hides the others nor stops the sweep."""
    try:
        return PipelineRecord.from_item(item)
    except (KeyError, TypeError, ValueError, StopIteration) as exc:
        pipeline_id = item.get("pipeline_id", {}).get("S", "?") if isinstance(item, dict) else "?"
        logger.error("malformed registry item skipped: %s (%s)", pipeline_id, exc)
        return None


def _identity_is_free(current: PipelineRecord) -> bool:
    """A deleted pipeline, or a record written before identities were kept, takes the next request's."""
    return current.status == Status.DELETED or current.name is None


def _legacy_conditions(current: PipelineRecord, values: dict[str, Any]) -> list[str]:
    """The claim and restart count as read: what guarded full writes before revisions existed."""
    conditions = []
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
    return conditions


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
