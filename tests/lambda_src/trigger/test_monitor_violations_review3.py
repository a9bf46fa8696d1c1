"""Monitors that act (issue 14), the third review's findings as regression tests: a rollback bars everyone
the version it returns to barred; it replaces only the version the run watched, still DEPLOYED (a
compare-and-swap on it); a rejected version's pipeline is still monitored; remediations do not push
requests out of the rollback history; the recorded monitored pipeline is checked again."""

from __future__ import annotations

from typing import Any

import pytest

from lambda_src.common import reconciling
from lambda_src.common import settings as settings_mod
from lambda_src.registry import Registry, Status
from lambda_src.registry.violations import record_monitored
from lambda_src.trigger.handler import handler
from tests.lambda_src.trigger.test_monitor_violations import (
    MONITOR,
    RUN,
    deployed,
    emails,
    instance,
    monitor,
    record,
    violation_event,
)
from tests.support.api_gateway import LAMBDA_CONTEXT, api_event, call
from tests.support.examples import load_example
from tests.support.moto_orchestrator import TABLE, Orchestrator
from tests.support.requests import realtime_body

ALICE = {"arn": "arn:aws:iam::111111111111:user/alice", "principal_id": "AIDAALICE"}
BOB = {"arn": "arn:aws:iam::111111111111:user/bob", "principal_id": "AIDABOB"}
CAROL = {"arn": "arn:aws:iam::111111111111:user/carol", "principal_id": "AIDACAROL"}


@pytest.fixture(autouse=True)
def accounts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_ACCOUNTS", '{"dev": "111111111111"}')


def send(who: dict[str, str] | None, deploy: bool = True, **changes: Any) -> str:
    """A real-time request for the watched endpoint, sent by `who` (the default test caller when None)."""
    event = api_event("POST", "/provisionpipeline", realtime_body(**{"endpoint_name": "churn-xgb", **changes}))
    if who is not None:
        event["requestContext"]["identity"].update(
            userArn=who["arn"], caller=who["principal_id"], user=who["principal_id"]
        )
    response = call(event)
    assert response.status in (200, 202), response.body
    pipeline_id = str(response.body["pipeline_id"])
    if deploy:
        deployed(pipeline_id)
    return pipeline_id


def arns(principals: Any) -> set[str]:
    return {p["arn"] for p in principals}


# -- M1: who a rollback bars -----------------------------------------------------------------------------
def test_a_rollback_to_a_rolled_back_version_bars_the_spec_author_again(orchestrator: Orchestrator) -> None:
    served_id = send(ALICE)  # v1, Alice's
    send(BOB, inference_instance="ml.m5.xlarge")  # v2, bad
    monitor("rollback")
    assert handler(violation_event(run=RUN + "-a"), LAMBDA_CONTEXT)["outcome"] == "queued"  # v3: Alice's again
    deployed(served_id)
    assert record(served_id).deployed[-1]["barred"] == [ALICE]
    send(CAROL, inference_instance="ml.c5.xlarge")  # v4, bad again

    assert handler(violation_event(run=RUN + "-b"), LAMBDA_CONTEXT)["outcome"] == "queued"

    v5 = record(served_id)
    assert (v5.version, instance(served_id)) == (5, "ml.m5.large")  # Alice's request a third time
    assert v5.requested_by == record(MONITOR).requested_by
    # v3's requester (the monitor's) and whom v3 barred (Alice): she may not approve her own request to prod.
    assert arns(v5.barred) == {ALICE["arn"], record(MONITOR).requested_by["arn"]}


def test_a_retrain_bars_the_training_requests_requester(orchestrator: Orchestrator) -> None:
    event = api_event("POST", "/provisionpipeline", load_example("model_training_builtin"))
    event["requestContext"]["identity"].update(userArn=ALICE["arn"], caller=ALICE["principal_id"], user="AIDAALICE")
    training_id = str(call(event).body["pipeline_id"])
    deployed(training_id)
    monitor({"retrain": {"training_pipeline_id": training_id}})

    assert handler(violation_event(), LAMBDA_CONTEXT)["outcome"] == "queued"

    retrained = record(training_id)
    assert (retrained.version, retrained.requested_by, retrained.barred) == (2, record(MONITOR).requested_by, (ALICE,))


# -- M2: only the version the run watched, still deployed -------------------------------------------------
def test_a_stale_run_does_not_roll_back_a_newer_version(orchestrator: Orchestrator) -> None:
    served_id = send(ALICE)  # v1
    send(BOB, inference_instance="ml.m5.xlarge")  # v2, live when the run happened
    monitor("rollback")
    event = violation_event()
    event["time"] = record(served_id).deployed[-1]["deployed_at"]
    send(CAROL, inference_instance="ml.c5.2xlarge")  # v3: Carol's fix, deployed after the run
    orchestrator.announcements()

    assert handler(event, LAMBDA_CONTEXT)["outcome"] == "not rolled back"

    assert (record(served_id).version, instance(served_id)) == (3, "ml.c5.2xlarge")
    [email] = emails(orchestrator)
    assert (
        f"Not done: {served_id} was not rolled back: a newer version was deployed since this run." in (email["Message"])
    )


def test_a_run_on_a_version_awaiting_approval_rolls_nothing_back(orchestrator: Orchestrator) -> None:
    served_id = send(ALICE)  # v1
    send(BOB, inference_instance="ml.m5.xlarge")  # v2, in prod
    monitor_id = monitor("rollback")
    assert record_monitored(Registry(TABLE), record(monitor_id), served_id)
    send(CAROL, deploy=False, inference_instance="ml.c5.2xlarge")  # v3
    registry = Registry(TABLE)
    registry.transition(served_id, Status.PROVISIONING)
    registry.transition(served_id, Status.AWAITING_APPROVAL)  # live in dev, waiting for the next stage
    orchestrator.announcements()

    assert handler(violation_event(), LAMBDA_CONTEXT)["outcome"] == "not rolled back"

    assert (record(served_id).version, record(served_id).status) == (3, Status.AWAITING_APPROVAL)
    [email] = emails(orchestrator)
    assert f"{served_id} was not rolled back: the pipeline is AWAITING_APPROVAL." in email["Message"]


def test_a_version_sent_between_the_read_and_the_write_is_not_replaced(orchestrator: Orchestrator) -> None:
    from lambda_src.common.errors import Conflict
    from lambda_src.trigger.monitor_targets import queue_over

    served_id = send(ALICE)
    read = record(served_id)
    send(BOB, deploy=False, inference_instance="ml.m5.xlarge")  # v2, queued after the read

    with pytest.raises(Conflict, match="changed since the run was judged"):
        queue_over(Registry(TABLE), read, read)

    assert (record(served_id).version, instance(served_id)) == (2, "ml.m5.xlarge")


# -- L1: a rejected version leaves its pipeline monitored ----------------------------------------------
def test_a_pipeline_whose_last_version_was_rejected_is_still_blocked(orchestrator: Orchestrator) -> None:
    served_id = send(ALICE)
    monitor("block")
    assert handler(violation_event(run=RUN + "-a"), LAMBDA_CONTEXT)["outcome"] == "blocked"
    send(ALICE, deploy=False, inference_instance="ml.c5.2xlarge")  # lifts the block
    registry = Registry(TABLE)
    for status in (Status.PROVISIONING, Status.AWAITING_APPROVAL, Status.REJECTED):
        registry.transition(served_id, status)  # prod approval rejected: v1 still serves

    assert handler(violation_event(run=RUN + "-b"), LAMBDA_CONTEXT)["outcome"] == "blocked"

    assert record(served_id).blocked["run"] == RUN + "-b"


# -- L2: remediations keep the history ---------------------------------------------------------------------
def test_remediations_of_one_request_keep_the_earlier_requests_to_return_to(orchestrator: Orchestrator) -> None:
    served_id = send(ALICE)
    send(BOB, inference_instance="ml.m5.xlarge")
    for _ in range(3):
        reconciling.remediate_drift(served_id, record(served_id).version, settings_mod.settings())
        deployed(served_id)
    assert [e["version"] for e in record(served_id).deployed] == [1, 5]
    monitor("rollback")

    assert handler(violation_event(), LAMBDA_CONTEXT)["outcome"] == "queued"

    assert (record(served_id).version, instance(served_id)) == (6, "ml.m5.large")


# -- L3: the recorded pipeline is checked again -----------------------------------------------------------
def test_a_recorded_pipeline_that_no_longer_serves_the_endpoint_is_not_acted_on(orchestrator: Orchestrator) -> None:
    served_id = send(ALICE)
    monitor("block")
    assert handler(violation_event(run=RUN + "-a"), LAMBDA_CONTEXT)["outcome"] == "blocked"
    assert record(MONITOR).monitored == served_id
    send(ALICE, endpoint_name="churn-xgb-v2")  # the same pipeline now serves another endpoint (unblocked)
    orchestrator.announcements()

    assert handler(violation_event(run=RUN + "-b"), LAMBDA_CONTEXT)["outcome"] == "not blocked"

    assert record(served_id).blocked is None
    [email] = emails(orchestrator)
    assert "serves churn-xgb: nothing blocked." in email["Message"]
