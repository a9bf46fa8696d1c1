"""The drift-check schedule (issue 15): the status function starts one provisioner drift check per
DEPLOYED pipeline, and nothing for the others."""

from __future__ import annotations

from lambda_src.registry import Registry, Status
from lambda_src.status_events.handler import handler
from mlops_spec.drift import DRIFT_CHECK_EVENT
from tests.lambda_src.status_events.test_sweeper import SCHEDULED_EVENT, submit
from tests.support.api_gateway import LAMBDA_CONTEXT
from tests.support.moto_orchestrator import Orchestrator
from tests.support.requests import realtime_body


def test_each_deployed_pipeline_gets_one_drift_check_and_no_other_does(orchestrator: Orchestrator) -> None:
    registry = Registry(orchestrator.table)
    deployed = submit(realtime_body(model_name="live-model"))
    registry.transition(deployed, Status.PROVISIONING)
    registry.transition(deployed, Status.DEPLOYED, outputs={"dev": {"endpoint_name": "e"}})
    submit(realtime_body(model_name="queued-model"))
    before = len(orchestrator.invocations.calls)

    result = handler(dict(DRIFT_CHECK_EVENT), LAMBDA_CONTEXT)

    assert result == {"outcome": "drift checks started", "pipeline_ids": [deployed]}
    assert orchestrator.invocations.payloads[before:] == [{"action": "drift", "pipeline_id": deployed, "version": 1}]


def test_the_sweep_schedule_is_not_a_drift_check(orchestrator: Orchestrator) -> None:
    result = handler(SCHEDULED_EVENT, LAMBDA_CONTEXT)
    assert result["outcome"] == "swept"
