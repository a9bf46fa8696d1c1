"""The registry: status machine, item round-trip, conditional writes, concurrency and pagination."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from lambda_src.common import submission
from lambda_src.common.settings import Settings
from lambda_src.registry import (
    TRANSITIONS,
    ConcurrentUpdate,
    InvalidTransition,
    PipelineRecord,
    RecordNotFound,
    Registry,
    Status,
    check_transition,
    from_attr,
    to_attr,
)
from lambda_src.status_events import records
from tests.support.moto_orchestrator import TABLE
from tests.support.requests import realtime_body


def record(pipeline_id: str = "p-realtime-builtin", **changes: object) -> PipelineRecord:
    values: dict[str, object] = {
        "pipeline_id": pipeline_id,
        "status": Status.QUEUED,
        "pipeline_type": "byom_realtime_builtin",
        "version": 1,
        "created_at": "2026-11-25T13:00:00.000Z",
        "updated_at": "2026-11-25T13:00:00.000Z",
        "spec": '{"a":1}',
        "spec_hash": "abc",
        "environments": ("dev",),
    }
    values.update(changes)
    return PipelineRecord(**values)  # type: ignore[arg-type]


# -- status machine ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (None, Status.QUEUED),
        (None, Status.REJECTED),
        (Status.QUEUED, Status.PROVISIONING),
        (Status.PROVISIONING, Status.AWAITING_APPROVAL),
        (Status.AWAITING_APPROVAL, Status.PROVISIONING),
        (Status.AWAITING_APPROVAL, Status.REJECTED),
        (Status.PROVISIONING, Status.DEPLOYED),
        (Status.DEPLOYED, Status.QUEUED),
        (Status.DEPLOYED, Status.DELETING),
        (Status.QUEUED, Status.DELETING),
        (Status.PROVISIONING, Status.DELETING),
        (Status.FAILED, Status.QUEUED),
        (Status.DELETING, Status.DELETED),
        (Status.DELETED, Status.QUEUED),
        (Status.DEPLOYED, Status.DEPLOYED),
        (Status.DELETING, Status.DELETING),
    ],
)
def test_allowed_transitions(old, new):
    check_transition(old, new)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (None, Status.DEPLOYED),
        (None, Status.DELETING),
        (Status.QUEUED, Status.DEPLOYED),
        (Status.DELETING, Status.QUEUED),
        (Status.DELETED, Status.DELETING),
        (Status.DELETED, Status.PROVISIONING),
        (Status.REJECTED, Status.DEPLOYED),
    ],
)
def test_forbidden_transitions(old, new):
    with pytest.raises(InvalidTransition, match=f"to {new}"):
        check_transition(old, new)


def test_every_status_has_a_row_and_every_existing_pipeline_can_be_deleted():
    assert set(TRANSITIONS) == {None, *Status}
    for status in Status:
        if status not in (Status.DELETING, Status.DELETED):
            assert Status.DELETING in TRANSITIONS[status], status


# -- items ------------------------------------------------------------------------------------------


def test_a_record_round_trips_through_a_dynamodb_item():
    original = record(
        client_token="tok",
        codepipeline_name="mlops-p",
        last_error="boom",
        errors=({"field": "model_name", "problem": "is required"},),
        outputs={"endpoint_name": "p-dev", "instances": 2, "ratio": 0.5, "enabled": True},
        source="api",
        execution_id="exec-1",
        restarts=2,
        claimed_by="req-1",
    )
    item = original.to_item()
    assert item["version"] == {"N": "1"}
    assert item["outputs"]["M"]["instances"] == {"N": "2"}
    assert PipelineRecord.from_item(item) == original


def test_absent_values_are_not_stored():
    item = record().to_item()
    assert "client_token" not in item  # a GSI key attribute may not be empty
    assert "last_error" not in item
    assert "outputs" not in item


@pytest.mark.parametrize("value", [None, True, 0, -3, 1.25, "x", [1, "a"], {"k": {"n": [None]}}])
def test_attribute_values_round_trip(value):
    assert from_attr(to_attr(value)) == value


# -- conditional writes -------------------------------------------------------------------------------


def test_create_returns_the_existing_record_when_the_id_is_taken(orchestrator):
    registry = Registry(TABLE)
    assert registry.create(record()) is None
    existing = registry.create(record(spec_hash="other"))
    assert existing is not None
    assert existing.spec_hash == "abc"


def test_transition_checks_the_status_machine_and_the_version(orchestrator):
    registry = Registry(TABLE)
    registry.create(record())
    with pytest.raises(InvalidTransition):
        registry.transition("p-realtime-builtin", Status.DEPLOYED)
    with pytest.raises(ConcurrentUpdate):
        registry.transition("p-realtime-builtin", Status.PROVISIONING, expected_version=7)
    with pytest.raises(RecordNotFound):
        registry.transition("nope", Status.PROVISIONING)
    updated = registry.transition(
        "p-realtime-builtin", Status.PROVISIONING, codepipeline_name="mlops-p", outputs={"endpoint": "e"}
    )
    assert updated.status == Status.PROVISIONING
    assert registry.get("p-realtime-builtin") == updated


def test_transition_lands_only_on_the_status_the_caller_decided_from(orchestrator):
    registry = Registry(TABLE)
    registry.create(record())
    with pytest.raises(ConcurrentUpdate, match="is QUEUED, not PROVISIONING"):
        registry.transition("p-realtime-builtin", Status.FAILED, expected_status=Status.PROVISIONING)
    assert registry.get("p-realtime-builtin").status == Status.QUEUED

    claimed = registry.transition("p-realtime-builtin", Status.PROVISIONING, expected_status=Status.QUEUED)
    assert claimed.status == Status.PROVISIONING
    # The same claim again: the record is no longer QUEUED, so it is not claimed twice.
    with pytest.raises(ConcurrentUpdate):
        registry.transition(
            "p-realtime-builtin", Status.PROVISIONING, expected_status=Status.QUEUED, expected_version=1
        )


class RacingRegistry(Registry):
    """Runs `race` right after its next read: another writer lands between that read and the write."""

    def __init__(self, table, race):  # type: ignore[no-untyped-def]
        super().__init__(table)
        self.race = race

    def get(self, pipeline_id):  # type: ignore[no-untyped-def]
        found = super().get(pipeline_id)
        race, self.race = self.race, None
        if race is not None:
            race()
        return found


def test_recording_outputs_never_undoes_a_status_change_that_lands_meanwhile(orchestrator):
    registry = Registry(TABLE)
    registry.create(record())
    registry.transition("p-realtime-builtin", Status.PROVISIONING)
    racing = RacingRegistry(
        TABLE, lambda: registry.transition("p-realtime-builtin", Status.FAILED, last_error="the run failed")
    )

    merged = records.merge_outputs(racing, "p-realtime-builtin", "dev", {"endpoint_name": "e"})

    assert merged is not None
    stored = registry.get("p-realtime-builtin")
    assert (stored.status, stored.last_error) == (Status.FAILED, "the run failed")
    assert stored.outputs == {"dev": {"endpoint_name": "e"}}


def test_a_status_decided_from_a_state_that_changed_is_not_written(orchestrator):
    registry = Registry(TABLE)
    registry.create(record())
    registry.transition("p-realtime-builtin", Status.PROVISIONING)
    racing = RacingRegistry(TABLE, lambda: registry.transition("p-realtime-builtin", Status.FAILED))

    assert racing.get("p-realtime-builtin").status == Status.PROVISIONING  # decided from this...
    written = records.set_status(
        registry, "p-realtime-builtin", Status.DEPLOYED, expected_status=Status.PROVISIONING, expected_version=1
    )

    assert written is None
    assert registry.get("p-realtime-builtin").status == Status.FAILED


def test_a_status_change_drops_the_bookkeeping_of_the_status_left(orchestrator):
    registry = Registry(TABLE)
    registry.create(record(status=Status.QUEUED))
    registry.transition("p-realtime-builtin", Status.PROVISIONING)
    registry.transition("p-realtime-builtin", Status.DEPLOYED)
    registry.transition("p-realtime-builtin", Status.DELETING)
    assert registry.claim_deletion("p-realtime-builtin", 1, "req-1")
    assert registry.claim_deletion("p-realtime-builtin", 1, "req-1")  # its own retry
    assert not registry.claim_deletion("p-realtime-builtin", 1, "req-2")
    assert not registry.claim_deletion("p-realtime-builtin", 2, "req-1")
    restarted = registry.record_restart(registry.get("p-realtime-builtin"))
    assert (restarted.restarts, restarted.claimed_by) == (1, None)
    registry.claim_deletion("p-realtime-builtin", 1, "req-3")
    stale = registry.get("p-realtime-builtin")

    failed = registry.transition("p-realtime-builtin", Status.FAILED, last_error="destroy failed")

    assert (failed.restarts, failed.claimed_by) == (0, None)
    assert registry.get("p-realtime-builtin") == failed
    with pytest.raises(ConcurrentUpdate):
        registry.record_restart(stale)


def test_a_full_write_never_undoes_a_claim_that_landed_after_its_read(orchestrator):
    registry = Registry(TABLE)
    registry.create(record(status=Status.QUEUED))
    for status in (Status.PROVISIONING, Status.DEPLOYED, Status.DELETING):
        registry.transition("p-realtime-builtin", status)
    racing = RacingRegistry(TABLE, lambda: registry.claim_deletion("p-realtime-builtin", 1, "req-1"))

    # The first write is refused (the claim changed the revision); the move is re-applied on top of it.
    written = racing.transition("p-realtime-builtin", Status.DELETING, outputs={"late": "build output"})

    stored = registry.get("p-realtime-builtin")
    assert (stored.claimed_by, stored.outputs) == ("req-1", {"late": "build output"})
    assert written == stored


def test_a_decision_taken_on_a_record_that_changed_meanwhile_never_lands(orchestrator):
    registry = Registry(TABLE)
    registry.create(record(status=Status.QUEUED))
    registry.transition("p-realtime-builtin", Status.PROVISIONING)
    racing = RacingRegistry(
        TABLE, lambda: registry.transition("p-realtime-builtin", Status.PROVISIONING, outputs={"dev": {"a": 1}})
    )

    with pytest.raises(ConcurrentUpdate):
        racing.transition(
            "p-realtime-builtin", Status.PROVISIONING, expected_status=Status.PROVISIONING, outputs={"staging": {}}
        )

    assert registry.get("p-realtime-builtin").outputs == {"dev": {"a": 1}}


def test_every_write_increments_the_revision(orchestrator):
    registry = Registry(TABLE)
    registry.create(record(status=Status.QUEUED))
    registry.transition("p-realtime-builtin", Status.PROVISIONING)
    registry.transition("p-realtime-builtin", Status.DEPLOYED)
    registry.transition("p-realtime-builtin", Status.DELETING)
    registry.claim_deletion("p-realtime-builtin", 1, "req-1")
    registry.record_restart(registry.get("p-realtime-builtin"))

    assert orchestrator.item("p-realtime-builtin")["revision"] == {"N": "6"}


def test_a_failure_keeps_its_error_until_the_pipeline_moves_on(orchestrator):
    registry = Registry(TABLE)
    registry.create(record())
    registry.transition("p-realtime-builtin", Status.FAILED, last_error="quota exceeded")
    assert registry.get("p-realtime-builtin").last_error == "quota exceeded"
    registry.transition("p-realtime-builtin", Status.PROVISIONING)
    assert registry.get("p-realtime-builtin").last_error is None


def test_replace_spec_fails_on_a_stale_record(orchestrator):
    registry = Registry(TABLE)
    registry.create(record(status=Status.QUEUED))
    registry.transition("p-realtime-builtin", Status.PROVISIONING)
    registry.transition("p-realtime-builtin", Status.DEPLOYED)
    stale = registry.get("p-realtime-builtin")
    registry.transition("p-realtime-builtin", Status.PROVISIONING)  # the delivery pipeline re-ran meanwhile
    with pytest.raises(ConcurrentUpdate):
        registry.replace_spec(stale, record(spec_hash="new"))


def test_a_rejection_never_replaces_a_real_pipeline(orchestrator):
    registry = Registry(TABLE)
    registry.create(record())
    assert registry.record_rejection(record(status=Status.REJECTED)) is False
    assert registry.get("p-realtime-builtin").status == Status.QUEUED
    assert registry.record_rejection(record("rejected-1", status=Status.REJECTED)) is True
    assert registry.record_rejection(record("rejected-1", status=Status.REJECTED, last_error="again")) is True
    assert registry.get("rejected-1").last_error == "again"


# -- concurrency --------------------------------------------------------------------------------------


def test_twenty_concurrent_identical_requests_make_exactly_one_pipeline(orchestrator):
    """Twenty API instances receive the same request at the same moment."""
    config = Settings.from_env()
    body = realtime_body(model_name="concurrent")
    barrier = threading.Barrier(20)

    def one_request(_: int) -> submission.Outcome:
        request = submission.plan(body, config)
        barrier.wait()
        return submission.submit(request, config, source="api")

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(one_request, range(20)))

    assert sum(o.queued for o in outcomes) == 1
    assert {o.record.pipeline_id for o in outcomes} == {"concurrent-realtime-builtin"}
    assert {o.record.version for o in outcomes} == {1}
    items = orchestrator.items()
    assert len(items) == 1
    assert items[0]["version"] == {"N": "1"}
    assert len(orchestrator.spec_versions("concurrent-realtime-builtin")) == 1
    assert len(orchestrator.invocations.calls) == 1


def test_concurrent_updates_of_a_deployed_pipeline_queue_one_version(orchestrator):
    config = Settings.from_env()
    registry = Registry(TABLE)
    first = submission.submit(submission.plan(realtime_body(model_name="upd"), config), config, source="api")
    registry.transition(first.record.pipeline_id, Status.PROVISIONING)
    registry.transition(first.record.pipeline_id, Status.DEPLOYED)
    body = realtime_body(model_name="upd", inference_instance="ml.c5.xlarge")
    barrier = threading.Barrier(10)

    def one_request(_: int) -> str:
        request = submission.plan(body, config)
        barrier.wait()
        try:
            return "queued" if submission.submit(request, config, source="api").queued else "replay"
        except submission.Conflict:
            return "conflict"

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(one_request, range(10)))

    # One wins; the others see the same spec now QUEUED (a replay).
    assert results.count("queued") == 1
    assert results.count("replay") == 9
    assert registry.get("upd-realtime-builtin").version == 2
    assert len(orchestrator.invocations.calls) == 2


# -- listing --------------------------------------------------------------------------------------------


def test_list_pages_through_every_record_once(orchestrator):
    registry = Registry(TABLE)
    ids = {f"p{n:02d}-realtime-builtin" for n in range(23)}
    for pipeline_id in ids:
        registry.create(record(pipeline_id))
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page, after = registry.list(5, start_after=after)
        seen += [r.pipeline_id for r in page]
        pages += 1
        assert len(page) == 5 or after is None
        if after is None:
            break
    assert sorted(seen) == sorted(ids)
    assert pages == 5


def test_list_filters_before_counting(orchestrator):
    registry = Registry(TABLE)
    for n in range(12):
        registry.create(record(f"p{n:02d}-realtime-builtin"))
        if n % 3 == 0:
            registry.transition(f"p{n:02d}-realtime-builtin", Status.PROVISIONING)
    page, after = registry.list(3, status="PROVISIONING")
    assert [r.status for r in page] == [Status.PROVISIONING] * 3
    rest, end = registry.list(3, start_after=after, status="PROVISIONING")
    assert len(rest) == 1
    assert end is None
    assert {r.pipeline_id for r in page + rest} == {
        "p00-realtime-builtin",
        "p03-realtime-builtin",
        "p06-realtime-builtin",
        "p09-realtime-builtin",
    }


def test_two_environments_recording_outputs_at_once_keep_both(orchestrator):
    """Issue 11, case 4: dev's outputs were lost when staging's landed between dev's read and write."""
    from lambda_src.status_events import records

    registry = Registry(TABLE)
    registry.create(record(status=Status.QUEUED))
    registry.transition("p-realtime-builtin", Status.PROVISIONING)
    racing = RacingRegistry(
        TABLE, lambda: records.merge_outputs(registry, "p-realtime-builtin", "staging", {"endpoint": "p-staging"})
    )

    records.merge_outputs(racing, "p-realtime-builtin", "dev", {"endpoint": "p-dev"})

    stored = registry.get("p-realtime-builtin")
    assert stored.outputs == {"dev": {"endpoint": "p-dev"}, "staging": {"endpoint": "p-staging"}}
    assert stored.status == Status.PROVISIONING
