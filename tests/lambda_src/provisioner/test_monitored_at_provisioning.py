"""A monitor that acts (issue 14) records, once provisioned, the pipeline whose endpoint it watches: the one
DEPLOYED real-time pipeline of its owner serving it, never a FAILED record claiming the same endpoint name nor
another owner's pipeline."""

from __future__ import annotations

import json

from lambda_src.provisioner.deploy import _record_monitored
from lambda_src.registry import PipelineRecord, Registry, Status
from mlops_spec.request import parse_pipeline_request
from tests.support.examples import load_example
from tests.support.moto_orchestrator import TABLE

MONITOR = "churn-xgb-data-quality"


def created(pipeline_id: str, status: Status, document: dict[str, object], owner: str | None = None) -> None:
    registry = Registry(TABLE)
    registry.create(
        PipelineRecord(
            pipeline_id=pipeline_id,
            status=Status.QUEUED,
            pipeline_type=str(document["pipeline_type"]),
            version=1,
            created_at="2026-12-06T09:00:00.000Z",
            updated_at="2026-12-06T09:00:00.000Z",
            spec=json.dumps(document),
            environments=("dev",),
            owner=owner,
        )
    )
    if status != Status.QUEUED:
        registry.transition(pipeline_id, Status.PROVISIONING)
        registry.transition(pipeline_id, status)


def serving(owner: str | None = None) -> dict[str, object]:
    return {"pipeline_type": "byom_realtime_builtin", "endpoint_name": "churn-xgb", "owner": owner}


def test_the_deployed_pipeline_of_the_monitors_owner_is_recorded(orchestrator):
    body = {**load_example("byom_data_quality_monitor"), "on_violation": "block"}
    created(MONITOR, Status.PROVISIONING, body)
    created("aaa-impostor-realtime-builtin", Status.FAILED, serving())
    created("bbb-other-team-realtime-builtin", Status.DEPLOYED, serving("team-b"), owner="team-b")
    created("churn-xgb-realtime-builtin", Status.DEPLOYED, serving())

    _record_monitored(Registry(TABLE), MONITOR, parse_pipeline_request(body, mode="single"), "dev")

    assert Registry(TABLE).get(MONITOR).monitored == "churn-xgb-realtime-builtin"


def test_a_monitor_that_only_notifies_records_nothing(orchestrator):
    body = {**load_example("byom_data_quality_monitor"), "on_violation": "notify"}
    created(MONITOR, Status.PROVISIONING, body)
    created("churn-xgb-realtime-builtin", Status.DEPLOYED, serving())

    _record_monitored(Registry(TABLE), MONITOR, parse_pipeline_request(body, mode="single"), "dev")

    assert Registry(TABLE).get(MONITOR).monitored is None
