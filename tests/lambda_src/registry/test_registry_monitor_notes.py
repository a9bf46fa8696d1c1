"""What monitors that act (issue 14) keep on records: the history of deployed versions (each DEPLOYED joins it
once, in the same compare-and-swap write; a re-created pipeline starts its own), who besides the requester is
barred from prod, and which versions lift a monitor's block (a known person's only)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lambda_src.registry import PipelineRecord, Registry, Status
from lambda_src.registry.record import lifts_block
from tests.support.moto_orchestrator import TABLE

PERSON = {"arn": "arn:aws:iam::111111111111:user/alice", "principal_id": "AIDAALICE"}
BLOCK = {"monitor": "m", "run": "r", "at": "T"}


def queued(**changes: object) -> PipelineRecord:
    values: dict[str, object] = {
        "pipeline_id": "p-realtime-builtin",
        "status": Status.QUEUED,
        "pipeline_type": "byom_realtime_builtin",
        "version": 1,
        "created_at": "2026-12-06T09:00:00.000Z",
        "updated_at": "2026-12-06T09:00:00.000Z",
        "spec": '{"a":1}',
        "spec_hash": "h1",
        "environments": ("dev",),
        "requested_by": PERSON,
        "source": "api",
    }
    values.update(changes)
    return PipelineRecord(**values)  # type: ignore[arg-type]


def deploy(registry: Registry, pipeline_id: str) -> PipelineRecord:
    registry.transition(pipeline_id, Status.PROVISIONING)
    return registry.transition(pipeline_id, Status.DEPLOYED)


def test_each_version_that_deploys_joins_the_history_once(orchestrator):
    registry = Registry(TABLE)
    registry.create(queued())
    deploy(registry, "p-realtime-builtin")
    current = registry.get("p-realtime-builtin")
    second = registry.replace_spec(current, queued(spec_hash="h2", source="monitor: m", barred=(PERSON,)))
    deploy(registry, "p-realtime-builtin")
    registry.transition("p-realtime-builtin", Status.DEPLOYED)  # outputs merged: no second entry

    history = registry.get("p-realtime-builtin").deployed

    assert second.barred == (PERSON,)
    assert [(e["version"], e["spec_hash"], e["source"], e["requested_by"]) for e in history] == [
        (1, "h1", "api", PERSON),
        (2, "h2", "monitor: m", PERSON),
    ]


def test_a_pipeline_created_again_after_its_deletion_starts_its_own_history(orchestrator):
    registry = Registry(TABLE)
    registry.create(queued())
    deploy(registry, "p-realtime-builtin")
    registry.transition("p-realtime-builtin", Status.DELETING)
    deleted = registry.transition("p-realtime-builtin", Status.DELETED)

    again = registry.replace_spec(deleted, queued(spec_hash="h9"))

    assert (again.deployed, again.version) == ((), 2)


def test_an_automated_version_keeps_the_block_and_a_persons_lifts_it(orchestrator):
    registry = Registry(TABLE)
    registry.create(queued())
    blocked = replace(deploy(registry, "p-realtime-builtin"), blocked=BLOCK)
    registry._conditional_put(blocked, registry.get("p-realtime-builtin"))

    kept = registry.replace_spec(registry.get("p-realtime-builtin"), queued(source="reconcile:auto-remediate"))
    registry.transition("p-realtime-builtin", Status.FAILED)
    lifted = registry.replace_spec(registry.get("p-realtime-builtin"), queued(spec_hash="h3"))

    assert (kept.blocked, lifted.blocked) == (BLOCK, None)


@pytest.mark.fast
@pytest.mark.parametrize(
    ("source", "requested_by", "lifts"),
    [
        ("api", PERSON, True),
        ("s3://assets/team/mlops-config.json", {"principal_id": "AROAUPLOADER:bob"}, True),
        # An upload whose uploader the event did not name: anyone's, or no one's.
        ("s3://assets/team/mlops-config.json", None, False),
        ("s3://assets/team/mlops-config.json", {"principal_id": "111111111111"}, False),
        ("reconcile:auto-remediate", None, False),
        ("monitor: churn-xgb-data-quality", PERSON, False),
        ("model registry: arn:aws:sagemaker:::model-package/p/1", PERSON, False),
        (f"reconcile:{PERSON['arn']}", PERSON, True),
    ],
)
def test_only_a_known_persons_version_lifts_a_block(source, requested_by, lifts):
    assert lifts_block(source, requested_by) is lifts


# -- review 3: barred kept, the same request deployed again replaces the last entry ------------------------
BOB = {"arn": "arn:aws:iam::111111111111:user/bob", "principal_id": "AIDABOB"}
CAROL = {"arn": "arn:aws:iam::111111111111:user/carol", "principal_id": "AIDACAROL"}


@pytest.mark.fast
def test_a_deployed_entry_keeps_who_the_version_barred_and_a_rollback_bars_them_with_its_requester() -> None:
    from lambda_src.registry.record import entry_barred

    entry = queued(barred=(BOB,)).deployed_entry()

    assert entry["barred"] == [BOB]
    assert entry_barred(entry) == (PERSON, BOB)
    # Entries written before `barred` was kept bar their requester only; a principal is named once.
    assert entry_barred({"requested_by": PERSON}) == (PERSON,)
    assert entry_barred({"requested_by": PERSON, "barred": [PERSON, {"principal_id": "111111111111"}]}) == (PERSON,)


@pytest.mark.fast
def test_the_same_request_deployed_again_replaces_the_last_entry_keeping_everyone_barred() -> None:
    first = {"version": 2, "spec_hash": "h1", "requested_by": BOB, "source": "monitor: m", "deployed_at": "T2"}
    history = ({"version": 1, "spec_hash": "h0", "deployed_at": "T1"}, {**first, "barred": [CAROL]})
    remediated = queued(version=3, requested_by=PERSON, source="reconcile:x", deployed=history)

    merged = remediated.with_deployed()

    assert merged[0] == history[0] and len(merged) == 2
    # The new version, live since the first deploy of this request, still a rollback's; Bob's request.
    assert {k: merged[1][k] for k in ("version", "spec_hash", "requested_by", "source", "deployed_at")} == {
        "version": 3,
        "spec_hash": "h1",
        "requested_by": PERSON,
        "source": "monitor: m",
        "deployed_at": "T2",
    }
    assert merged[1]["barred"] == [CAROL, BOB]
    # Another request is appended.
    assert [e["version"] for e in queued(version=4, spec_hash="h9", deployed=merged).with_deployed()] == [1, 3, 4]
