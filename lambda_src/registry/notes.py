"""What provisioner runs and the sweep note on a record besides its status: the deletion claim, the
teardown build, re-sent starts, the drift check. Each is a conditional update of its own attributes
(and the revision), so none undoes another writer's change."""

from __future__ import annotations

from typing import Any

from lambda_src.registry.attributes import to_attr
from lambda_src.registry.conditions import (
    NEXT_REVISION,
    REVISION_INCREMENT,
    ConcurrentUpdate,
    ConditionFailed,
    write_if,
)
from lambda_src.registry.record import PipelineRecord, now
from mlops_spec.status import Status


class RunNotes:
    """Mixed into Registry: `table` and `_db` are its."""

    table: str

    @property
    def _db(self) -> Any:
        raise NotImplementedError

    def claim_deletion(self, pipeline_id: str, version: int, claimant: str) -> bool:
        """Make `claimant` (a provisioner invocation) the one run that destroys this DELETING version.

        False when another invocation holds the claim or the record moved on. The same claimant may
        claim again (a retry of its own invocation). The sweep drops a claim when it re-sends the start.
        """
        return self._note_if(
            pipeline_id,
            (Status.DELETING, version),
            "claimed_by = :me, updated_at = :now",
            {":me": {"S": claimant}, ":now": {"S": now()}},
            also="(attribute_not_exists(claimed_by) OR claimed_by = :me)",
        )

    def record_teardown(self, pipeline_id: str, version: int, claimant: str, build_id: str) -> bool:
        """Note the teardown build `claimant` started for this DELETING version (the sweep watches it,
        the next deletion waits for it). False when the record moved on or another run holds the claim."""
        return self._note_if(
            pipeline_id,
            (Status.DELETING, version),
            "teardown_build = :build, teardown_claim = :me, updated_at = :now",
            {":build": {"S": build_id}, ":me": {"S": claimant}, ":now": {"S": now()}},
            also="claimed_by = :me",
        )

    def record_drift(self, pipeline_id: str, version: int, drift: dict[str, Any]) -> bool:
        """Keep the latest drift check of a DEPLOYED version (an attribute of its own: no other field is
        written, so no other writer's change is undone). False when the record moved on meanwhile."""
        return self._note_if(pipeline_id, (Status.DEPLOYED, version), "drift = :drift", {":drift": to_attr(drift)})

    def _note_if(
        self,
        pipeline_id: str,
        state: tuple[Status, int],
        assignments: str,
        values: dict[str, Any],
        also: str | None = None,
    ) -> bool:
        """SET `assignments` (and the next revision) while the record is in `state` (status, version)
        and `also` holds; False when it is not."""
        condition = "#status = :expected_status AND #version = :expected_version" + (f" AND {also}" if also else "")
        try:
            write_if(
                self._db.update_item,
                TableName=self.table,
                Key={"pipeline_id": {"S": pipeline_id}},
                UpdateExpression=f"SET {assignments}, {REVISION_INCREMENT}",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#status": "status", "#version": "version"},
                ExpressionAttributeValues={
                    **values,
                    **NEXT_REVISION,
                    ":expected_status": {"S": str(state[0])},
                    ":expected_version": {"N": str(state[1])},
                },
            )
        except ConditionFailed:
            return False
        return True

    def record_restart(self, record: PipelineRecord) -> PipelineRecord:
        """Count one re-sent start of a waiting record and restart its staleness clock.

        Conditional on the record being exactly as read (status, version and last write time), so
        two overlapping sweeps re-send once; a deletion claim left by a run that died is dropped, so
        the re-sent run can claim. Raises ConcurrentUpdate when the record changed meanwhile.
        """
        try:
            response = write_if(
                self._db.update_item,
                TableName=self.table,
                Key={"pipeline_id": {"S": record.pipeline_id}},
                UpdateExpression=(
                    f"SET restarts = :restarts, updated_at = :now, {REVISION_INCREMENT} REMOVE claimed_by"
                ),
                ConditionExpression="#status = :status AND #version = :version AND updated_at = :seen",
                ExpressionAttributeNames={"#status": "status", "#version": "version"},
                ExpressionAttributeValues={
                    ":restarts": {"N": str(record.restarts + 1)},
                    ":now": {"S": now()},
                    **NEXT_REVISION,
                    ":status": {"S": str(record.status)},
                    ":version": {"N": str(record.version)},
                    ":seen": {"S": record.updated_at},
                },
                ReturnValues="ALL_NEW",
            )
        except ConditionFailed:
            raise ConcurrentUpdate(f"{record.pipeline_id} changed since it was found waiting") from None
        return PipelineRecord.from_item(response["Attributes"])
