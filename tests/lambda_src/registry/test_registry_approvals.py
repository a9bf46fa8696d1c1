"""Answered approvals on the record (issue 10, point 5): an attribute-level append inside the revision scheme,
so neither it nor a full write can undo the other."""

from __future__ import annotations

import pytest

from lambda_src.registry import ConcurrentUpdate, Registry, Status
from lambda_src.registry.approvals import record_approval
from tests.lambda_src.registry.test_registry import record
from tests.support.moto_orchestrator import TABLE

PIPELINE = "p-realtime-builtin"
ALICE = {"arn": "arn:aws:iam::111111111111:user/alice", "principal_id": "AIDAALICE"}
BOB = {"arn": "arn:aws:sts::111111111111:assumed-role/Reviewer/bob", "principal_id": "AROAREVIEWER:bob"}


def answer(stage: str) -> dict[str, object]:
    return {"stage": stage, "decision": "approve", "approved_by": BOB, "requested_by": ALICE, "version": 1}


@pytest.fixture
def awaiting(orchestrator):  # type: ignore[no-untyped-def]
    registry = Registry(TABLE)
    registry.create(record(requested_by=ALICE))
    registry.transition(PIPELINE, Status.PROVISIONING)
    registry.transition(PIPELINE, Status.AWAITING_APPROVAL)
    return registry


def test_answers_are_appended_in_order_and_counted_as_writes(awaiting):
    before = awaiting.get(PIPELINE)

    assert record_approval(TABLE, PIPELINE, 1, answer("ApproveStaging")) is True
    assert record_approval(TABLE, PIPELINE, 1, answer("ApproveProd")) is True

    after = awaiting.get(PIPELINE)
    assert [entry["stage"] for entry in after.approvals] == ["ApproveStaging", "ApproveProd"]
    assert after.approvals[0]["approved_by"] == BOB
    assert after.requested_by == ALICE
    assert after.revision == before.revision + 2
    assert (after.status, after.updated_at) == (before.status, before.updated_at)


def test_a_full_write_decided_before_the_answer_cannot_drop_it(awaiting):
    stale = awaiting.get(PIPELINE)
    record_approval(TABLE, PIPELINE, 1, answer("ApproveStaging"))

    with pytest.raises(ConcurrentUpdate):
        awaiting.transition(PIPELINE, Status.PROVISIONING, expected_revision=stale.revision)
    # A move that does not depend on what it read re-reads and keeps the answer.
    awaiting.transition(PIPELINE, Status.PROVISIONING)

    assert [entry["stage"] for entry in awaiting.get(PIPELINE).approvals] == ["ApproveStaging"]


def test_an_answer_for_a_replaced_version_is_not_recorded(awaiting):
    assert record_approval(TABLE, PIPELINE, 2, answer("ApproveStaging")) is False
    assert awaiting.get(PIPELINE).approvals == ()
