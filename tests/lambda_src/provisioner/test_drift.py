"""Drift detection (issue 15): a preview-only refresh of each deployed target stack, recorded on the
registry item and announced once per change of drift."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from pulumi.automation import events as engine

from lambda_src.provisioner.drift import drift_document, environment_entry, newly_drifted
from lambda_src.provisioner.errors import AssumeRoleDenied
from lambda_src.provisioner.handler import run
from lambda_src.provisioner.runner import DriftedResource, DriftReport
from lambda_src.provisioner.runner.automation import drifted_resources
from lambda_src.registry import Status
from lambda_src.status_events.transitions import ProvisionerCrash
from tests.lambda_src.provisioner.test_races import provisioned

ENDPOINT_URN = (
    "urn:pulumi:p-dev::mlops-targets::mlops:pipelines:RealtimeEndpoint$aws:sagemaker/endpoint:Endpoint::p-dev"
)
DRIFTED = DriftReport(
    changes={"same": 4, "update": 1},
    resources=(DriftedResource(ENDPOINT_URN, "aws:sagemaker/endpoint:Endpoint", "update", ("endpointConfigName",)),),
)


# -- decisions ---------------------------------------------------------------------------------------------
@pytest.mark.fast
def test_a_document_is_in_sync_only_when_every_environment_is_and_unknown_when_one_could_not_be_checked():
    in_sync = environment_entry(DriftReport(changes={"same": 4}))
    drifted = environment_entry(DRIFTED)
    unknown = environment_entry(AssumeRoleDenied("staging: access denied"))

    assert in_sync == {"in_sync": True, "changes": {}, "resources": []}
    assert drifted == {
        "in_sync": False,
        "changes": {"update": 1},
        "resources": [
            {
                "urn": ENDPOINT_URN,
                "type": "aws:sagemaker/endpoint:Endpoint",
                "op": "update",
                "properties": ["endpointConfigName"],
            }
        ],
    }
    assert unknown == {"in_sync": None, "error": "assume-role-denied: staging: access denied"}
    assert drift_document({"dev": in_sync}, "t")["in_sync"] is True
    assert drift_document({"dev": in_sync, "prod": drifted, "staging": unknown}, "t")["in_sync"] is False
    assert drift_document({"dev": in_sync, "staging": unknown}, "t")["in_sync"] is None


@pytest.mark.fast
def test_drift_is_announced_once_per_change_of_what_drifted():
    drifted = drift_document({"dev": environment_entry(DRIFTED)}, "t1")
    other = DriftReport(resources=(DriftedResource("urn:x::y", "aws:s3/bucket:Bucket", "delete"),))

    assert newly_drifted(None, drifted) == ["dev"]
    assert newly_drifted(drifted, drift_document({"dev": environment_entry(DRIFTED)}, "t2")) == []
    assert newly_drifted(drifted, drift_document({"dev": environment_entry(other)}, "t2")) == ["dev"]
    assert newly_drifted(drifted, drift_document({"dev": environment_entry(DriftReport())}, "t2")) == []


@pytest.mark.fast
def test_the_engine_events_of_a_preview_refresh_name_what_drifted():
    def state(urn: str, outputs: dict[str, Any] | None) -> engine.StepEventStateMetadata | None:
        if outputs is None:
            return None
        return engine.StepEventStateMetadata(
            type="",
            urn=urn,
            custom=True,
            delete=False,
            id="i",
            parent="",
            protect=False,
            provider="",
            inputs={},
            outputs=outputs,
        )

    def step(op: str, urn: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> engine.EngineEvent:
        meta = engine.StepEventMetadata(
            op=engine.OpType(op),
            urn=urn,
            type=urn.split("::")[-2].split("$")[-1],
            provider="",
            old=state(urn, old),
            new=state(urn, new),
        )
        return engine.EngineEvent(sequence=1, timestamp=1, res_outputs_event=engine.ResOutputsEvent(metadata=meta))

    events = [
        step("refresh", "urn:a::b::aws:s3/bucket:Bucket::same", {"acl": "private"}, {"acl": "private"}),
        step(
            "refresh", "urn:a::b::aws:sagemaker/endpoint:Endpoint::changed", {"cfg": "a", "n": 1}, {"cfg": "b", "n": 1}
        ),
        step("refresh", "urn:a::b::aws:cloudwatch/metricAlarm:MetricAlarm::gone", {"x": 1}, None),
        step("same", "urn:a::b::aws:iam/role:Role::plain", {}, {}),
    ]

    found = drifted_resources(events)

    assert [(r.urn.split("::")[-1], r.op, r.properties) for r in found] == [
        ("gone", "delete", ("x",)),
        ("changed", "update", ("cfg",)),
    ]


@pytest.mark.fast
def test_a_crashed_drift_check_fails_no_pipeline():
    crash = ProvisionerCrash("p", 3, "drift", "timeout")
    assert crash.left_statuses == frozenset()


# -- the check, through the provisioner's entry ------------------------------------------------------------
def deployed(world: Any, body: dict[str, Any]) -> str:
    pipeline_id, name, execution = provisioned(world, body)
    world.codepipeline.finish(name, "Succeeded")
    world.event(name, execution, "pipeline", "SUCCEEDED")
    world.registry.transition(pipeline_id, Status.DEPLOYED, outputs={"dev": {"endpoint_name": "e"}})
    world.backend.stacks[f"{pipeline_id}-dev"] = {"endpoint_name": "e"}
    world.emails()
    return pipeline_id


def check(world: Any, pipeline_id: str) -> dict[str, Any]:
    version = world.record(pipeline_id).version
    result: dict[str, Any] = run(
        world.provisioner(), {"action": "drift", "pipeline_id": pipeline_id, "version": version}
    )
    return result


def test_a_deployed_pipeline_in_sync_is_recorded_so_and_nothing_is_sent(
    single: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    pipeline_id = deployed(single, example_body("byom_realtime_builtin"))
    revision = single.record(pipeline_id).revision

    result = check(single, pipeline_id)

    assert result == {"pipeline_id": pipeline_id, "action": "drift", "in_sync": True, "announced": []}
    record = single.record(pipeline_id)
    assert record.drift["in_sync"] is True and record.drift["environments"]["dev"]["in_sync"] is True
    assert (record.status, record.revision) == (Status.DEPLOYED, revision + 1)
    assert ("drift", f"{pipeline_id}-dev") in single.backend.history
    assert ("up", f"{pipeline_id}-dev") not in single.backend.history  # nothing is changed
    assert single.emails() == []


def test_new_drift_is_recorded_and_announced_once(single: Any, example_body: Callable[..., dict[str, Any]]) -> None:
    pipeline_id = deployed(single, example_body("byom_realtime_builtin"))
    single.backend.drift[f"{pipeline_id}-dev"] = DRIFTED

    first = check(single, pipeline_id)
    again = check(single, pipeline_id)

    assert (first["in_sync"], first["announced"], again["announced"]) == (False, ["dev"], [])
    assert single.emails() == [f"MLOps pipeline {pipeline_id} has drifted"]
    entry = single.record(pipeline_id).drift["environments"]["dev"]
    assert entry["resources"][0]["properties"] == ["endpointConfigName"]


def test_an_environment_that_cannot_be_checked_is_recorded_unknown(
    single: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    pipeline_id = deployed(single, example_body("byom_realtime_builtin"))
    single.backend.faults["drift"] = [AssumeRoleDenied("dev: not authorized to perform sts:AssumeRole")]

    result = check(single, pipeline_id)

    assert result["in_sync"] is None
    assert single.record(pipeline_id).drift["environments"]["dev"]["error"].startswith("assume-role-denied: dev:")
    assert single.record(pipeline_id).status == Status.DEPLOYED


def test_only_a_deployed_version_is_checked(single: Any, example_body: Callable[..., dict[str, Any]]) -> None:
    pipeline_id, _, _ = provisioned(single, example_body("byom_realtime_builtin"))

    result = run(single.provisioner(), {"action": "drift", "pipeline_id": pipeline_id, "version": 1})

    assert result == {"pipeline_id": pipeline_id, "action": "drift", "skipped": "PROVISIONING v1"}
    assert single.record(pipeline_id).drift is None
    assert not [op for op, _ in single.backend.history if op == "drift"]


@pytest.mark.fast
def test_a_check_that_checked_nothing_is_unknown_and_a_long_report_is_bounded():
    huge = DriftReport(
        changes={"update": 40},
        resources=tuple(
            DriftedResource("urn:" + "x" * 5000 + f"::r{i}", "aws:t", "update", tuple("p" * 900 for _ in range(80)))
            for i in range(40)
        ),
    )

    entry = environment_entry(huge)

    assert drift_document({}, "t", 3) == {"checked_at": "t", "version": 3, "in_sync": None, "environments": {}}
    assert len(entry["resources"]) == 25
    assert max(len(r["urn"]) for r in entry["resources"]) == 256
    assert {len(r["properties"]) for r in entry["resources"]} == {20}
    assert len(json.dumps(entry)) < 200_000


def test_a_stored_request_that_no_longer_validates_is_recorded_unknown_not_in_sync(
    single: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    pipeline_id = deployed(single, example_body("byom_realtime_builtin"))
    provisioner = single.provisioner()
    provisioner._spec_of = lambda record: None  # as for a request today's rules refuse

    result = provisioner.check_drift(pipeline_id, single.record(pipeline_id).version)

    assert result["in_sync"] is None
    entry = single.record(pipeline_id).drift["environments"]["dev"]
    assert entry["error"].startswith("provisioning-failed: the stored request no longer validates")
