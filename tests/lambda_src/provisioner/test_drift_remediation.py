"""auto_remediate (issue 15): a drift check that finds new drift of a pipeline asking for it queues the
normal update (as mlops reconcile does), once per detected drift, and says so in the drift email."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lambda_src.common.reconciling import AUTO_REMEDIATION_SOURCE
from lambda_src.provisioner import drift
from lambda_src.provisioner.drift import Remediation, drift_document, drift_message, environment_entry
from lambda_src.registry import Status
from lambda_src.status_events.names import codepipeline_name
from mlops_spec.request import parse_pipeline_request
from tests.lambda_src.provisioner.test_drift import DRIFTED, deployed

PROVISIONER = {"AWS_LAMBDA_FUNCTION_NAME": "mlops-orch-provisioner"}


def auto_remediating(example_body: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return {**example_body("byom_realtime_builtin"), "auto_remediate": True}


def check(world: Any, pipeline_id: str) -> dict[str, Any]:
    """The scheduled check of the pipeline's current version, remediating through the provisioner's own
    function (its async invokes land in world.invocations)."""
    provisioner = world.provisioner()
    return drift.check(
        pipeline_id,
        world.record(pipeline_id).version,
        registry=world.registry,
        runners=provisioner.runners,
        settings=world.settings,
        spec_of=provisioner._spec_of,
        announce=drift.announcer(provisioner.sns, world.topic_arn),
        clock=lambda: world.now[0],
        remediate=drift.reconciler(world.settings, PROVISIONER),
    )


def bodies(world: Any) -> list[str]:
    """The bodies of the emails sent since the last look (world.emails gives subjects only)."""
    import json

    from lambda_src.common import aws

    sqs = aws.client("sqs")
    messages = sqs.receive_message(QueueUrl=world.queue_url, MaxNumberOfMessages=10).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=world.queue_url, ReceiptHandle=message["ReceiptHandle"])
    return [json.loads(m["Body"])["Message"] for m in messages]


def finish_update(world: Any, pipeline_id: str) -> None:
    """Run the queued update through the provisioner and its delivery pipeline to DEPLOYED."""
    world.advance()
    world.run_provisioner()
    name = codepipeline_name(pipeline_id)
    execution = world.codepipeline.executions[name][0]["pipelineExecutionId"]  # newest first
    world.codepipeline.finish(name, "Succeeded")
    world.event(name, execution, "pipeline", "SUCCEEDED")
    if world.record(pipeline_id).status != Status.DEPLOYED:
        world.registry.transition(pipeline_id, Status.DEPLOYED, outputs={"dev": {"endpoint_name": "e"}})


@pytest.mark.fast
def test_the_request_field_is_off_unless_asked_for(example_body: Callable[..., dict[str, Any]]) -> None:
    plain = parse_pipeline_request(example_body("byom_realtime_builtin"), mode="single")
    asked = parse_pipeline_request({**example_body("byom_realtime_builtin"), "auto_remediate": "True"}, mode="single")
    assert (plain.auto_remediate, asked.auto_remediate) == (False, True)
    # How drift is handled says nothing about the pipeline's jobs: switching it re-runs none.
    assert plain.run_name("dev", "baseline") == asked.run_name("dev", "baseline")
    assert drift.should_remediate(asked, ["dev"]) and not drift.should_remediate(asked, [])
    assert not drift.should_remediate(plain, ["dev"]) and not drift.should_remediate(None, ["dev"])


@pytest.mark.fast
def test_the_drift_email_says_what_auto_remediate_did() -> None:
    document = drift_document({"dev": environment_entry(DRIFTED)}, "t")
    _, queued = drift_message("p", document, ["dev"], Remediation(4))
    _, refused = drift_message("p", document, ["dev"], Remediation(None, "pipeline p is QUEUED"))

    assert queued.splitlines()[-1].startswith("auto_remediate is on: version 4 restores what the request declares")
    assert "mlops reconcile" not in queued
    assert refused.splitlines()[-1] == (
        "auto_remediate is on, but no update could be queued (pipeline p is QUEUED); restore what it declares "
        "with `mlops reconcile p` (POST /pipelines/p/reconcile)."
    )


def test_new_drift_of_an_auto_remediating_pipeline_queues_the_normal_update_and_says_so(
    single: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    pipeline_id = deployed(single, auto_remediating(example_body))
    single.backend.drift[f"{pipeline_id}-dev"] = DRIFTED

    result = check(single, pipeline_id)

    assert result["remediation"] == {"version": 2, "problem": None}
    record = single.record(pipeline_id)
    assert (record.status, record.version, record.source) == (Status.QUEUED, 2, AUTO_REMEDIATION_SOURCE)
    assert record.drift["in_sync"] is False  # the check that found it stays on the record
    assert single.invocations == [{"action": "provision", "pipeline_id": pipeline_id, "version": 2}]
    (body,) = bodies(single)
    assert "auto_remediate is on: version 2 restores what the request declares" in body

    single.advance()
    single.run_provisioner()
    assert ("up", f"{pipeline_id}-delivery") in single.backend.history
    assert single.codepipeline.started == [codepipeline_name(pipeline_id)]  # the update's delivery run
    assert single.record(pipeline_id).status == Status.PROVISIONING


def test_the_same_drift_is_remediated_once(single: Any, example_body: Callable[..., dict[str, Any]]) -> None:
    pipeline_id = deployed(single, auto_remediating(example_body))
    single.backend.drift[f"{pipeline_id}-dev"] = DRIFTED
    check(single, pipeline_id)
    finish_update(single, pipeline_id)
    bodies(single)

    again = check(single, pipeline_id)  # version 2 deployed, the same resources still differ

    assert "remediation" not in again and again["announced"] == []
    assert (single.record(pipeline_id).version, single.invocations, bodies(single)) == (2, [], [])


def test_a_pipeline_without_auto_remediate_is_only_announced(
    single: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    pipeline_id = deployed(single, example_body("byom_realtime_builtin"))
    single.backend.drift[f"{pipeline_id}-dev"] = DRIFTED

    result = check(single, pipeline_id)

    assert "remediation" not in result and result["announced"] == ["dev"]
    assert (single.record(pipeline_id).status, single.invocations) == (Status.DEPLOYED, [])
    assert "Restore what it declares with `mlops reconcile" in bodies(single)[0]


def test_a_version_replaced_since_its_check_is_not_remediated(
    single: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    pipeline_id = deployed(single, auto_remediating(example_body))
    remediate = drift.reconciler(single.settings, PROVISIONER)
    assert remediate(pipeline_id, 1).version == 2

    second = remediate(pipeline_id, 1)  # the same detection handled again

    assert second.version is None and "only a DEPLOYED pipeline can be reconciled" in str(second.problem)
    assert single.record(pipeline_id).version == 2 and len(single.invocations) == 1


def test_a_pipeline_a_monitor_blocked_is_not_remediated_and_the_email_says_so(
    single: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    from dataclasses import replace

    pipeline_id = deployed(single, auto_remediating(example_body))
    current = single.record(pipeline_id)
    single.registry._conditional_put(replace(current, blocked={"monitor": "churn-dq", "run": "r1"}), current)
    single.backend.drift[f"{pipeline_id}-dev"] = DRIFTED

    result = check(single, pipeline_id)

    problem = "its promotions are blocked by churn-dq, so the update would be refused"
    assert result["remediation"] == {"version": None, "problem": problem}
    assert (single.record(pipeline_id).status, single.record(pipeline_id).version, single.invocations) == (
        Status.DEPLOYED,
        1,
        [],
    )
    assert f"no update could be queued ({problem}); restore what it declares" in bodies(single)[0]
