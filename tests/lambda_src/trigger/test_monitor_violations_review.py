"""Monitors that act (issue 14), the review's findings as regression tests: only the monitor's own schedule in
its environment's account and region is heard; a rollback returns to the last deployed version (never to one
that did not deploy, nor ping-pongs back to what a rollback replaced) under both requesters' bar; a retried
event replays; monitors act only on their owner's pipelines; the monitored pipeline is recorded once; a
malformed event or a report outside the monitor's output location is not acted on."""

from __future__ import annotations

from typing import Any

import pytest

from lambda_src.common import aws, reconciling
from lambda_src.common import settings as settings_mod
from lambda_src.registry import Registry, Status
from lambda_src.trigger import monitor_violations
from lambda_src.trigger.handler import handler
from lambda_src.trigger.monitor_violations import Violation, run_token
from tests.lambda_src.trigger.test_monitor_violations import (
    MONITOR,
    REPORT,
    RUN,
    deployed,
    emails,
    instance,
    monitor,
    record,
    served,
    submitted,
    violation_event,
)
from tests.support.api_gateway import LAMBDA_CONTEXT, api_event, call
from tests.support.examples import load_example
from tests.support.moto_orchestrator import TABLE, Orchestrator
from tests.support.requests import realtime_body

SCIENTIST = {"arn": "arn:aws:iam::111111111111:user/data-scientist", "principal_id": "AIDAEXAMPLE"}


@pytest.fixture(autouse=True)
def accounts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_ACCOUNTS", '{"dev": "111111111111"}')


def from_elsewhere(account: str = "111111111111", region: str = "us-east-1", arn_account: str = "111111111111") -> Any:
    event = violation_event()
    event["account"], event["region"] = account, region
    event["detail"]["MonitoringScheduleArn"] = (
        f"arn:aws:sagemaker:{region}:{arn_account}:monitoring-schedule/{MONITOR}-dev-schedule"
    )
    return event


# -- H1: whose schedule ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "event",
    [
        pytest.param(dict(account="999999999999", arn_account="999999999999"), id="another account"),
        pytest.param(dict(region="eu-west-1"), id="another region"),
        pytest.param(dict(account="999999999999"), id="the event's account differs from the ARN's"),
        pytest.param(dict(arn_account="999999999999"), id="the ARN's account differs from the event's"),
    ],
)
def test_a_schedule_of_the_same_name_elsewhere_is_not_the_monitors(orchestrator: Orchestrator, event: Any) -> None:
    served_id = served()
    monitor("block")

    result = handler(from_elsewhere(**event), LAMBDA_CONTEXT)

    assert result["outcome"] == "ignored"
    assert record(served_id).blocked is None and record(MONITOR).violations == ()


def test_without_the_accounts_setting_no_run_is_acted_on(orchestrator: Orchestrator, monkeypatch: Any) -> None:
    served_id = served()
    monitor("block")
    monkeypatch.delenv("MLOPS_ACCOUNTS")

    assert handler(violation_event(), LAMBDA_CONTEXT)["outcome"] == "ignored"
    assert record(served_id).blocked is None


# -- H2: where a rollback returns to ---------------------------------------------------------------------
def test_a_second_rollback_does_not_return_to_the_version_the_first_replaced(orchestrator: Orchestrator) -> None:
    served_id = served()  # v1, good
    served(inference_instance="ml.m5.xlarge")  # v2, bad
    monitor("rollback")
    assert handler(violation_event(run=RUN + "-a"), LAMBDA_CONTEXT)["outcome"] == "queued"
    assert (record(served_id).version, instance(served_id)) == (3, "ml.m5.large")
    deployed(served_id)

    result = handler(violation_event(run=RUN + "-b"), LAMBDA_CONTEXT)

    assert result["outcome"] == "not rolled back"
    assert (record(served_id).version, instance(served_id)) == (3, "ml.m5.large")
    assert [e["version"] for e in record(served_id).deployed] == [1, 2, 3]


def test_a_rollback_skips_a_version_that_never_deployed(orchestrator: Orchestrator) -> None:
    served_id = served()  # v1 deployed
    submitted(realtime_body(endpoint_name="churn-xgb", inference_instance="ml.c5.xlarge"), deploy=False)  # v2
    registry = Registry(TABLE)
    registry.transition(served_id, Status.PROVISIONING)
    registry.transition(served_id, Status.FAILED)
    served(inference_instance="ml.m5.xlarge")  # v3 deployed
    monitor("rollback")

    assert handler(violation_event(), LAMBDA_CONTEXT)["outcome"] == "queued"

    assert (record(served_id).version, instance(served_id)) == (4, "ml.m5.large")


def test_the_rollback_bars_the_monitors_and_the_original_requester_and_a_retry_replays(
    orchestrator: Orchestrator, monkeypatch: pytest.MonkeyPatch
) -> None:
    served_id = served()
    served(inference_instance="ml.m5.xlarge")
    monitor("rollback")
    real = monitor_violations.read_findings

    def mail_down(*args: Any) -> Any:
        raise RuntimeError("SNS is unavailable")

    monkeypatch.setattr(monitor_violations, "read_findings", mail_down)
    with pytest.raises(RuntimeError):
        handler(violation_event(), LAMBDA_CONTEXT)
    # The version was sent; the run was forgotten so that the retry emails.
    rolled_back = record(served_id)
    assert (rolled_back.version, rolled_back.client_token) == (3, run_token(MONITOR, RUN))
    assert rolled_back.requested_by == record(MONITOR).requested_by
    assert rolled_back.barred == (SCIENTIST,)  # version 1's requester
    assert record(MONITOR).violations == ()

    monkeypatch.setattr(monitor_violations, "read_findings", real)
    orchestrator.announcements()
    retried = handler(violation_event(), LAMBDA_CONTEXT)
    assert retried["outcome"] == "unchanged", (retried, [e["Message"] for e in emails(orchestrator)])

    assert record(served_id).version == 3
    [email] = emails(orchestrator)
    assert "returns to its deployed version 1: already its current request." in email["Message"]


@pytest.mark.fast
def test_the_rollback_target_is_the_last_deployed_before_the_version_live_at_the_run() -> None:
    from dataclasses import replace

    from lambda_src.registry import PipelineRecord
    from lambda_src.trigger.monitor_targets import live_at, rollback_refusal, rollback_target

    history = [
        {"version": 1, "spec_hash": "h1", "deployed_at": "2026-12-06T08:00:00.000Z"},
        {"version": 2, "spec_hash": "h2", "deployed_at": "2026-12-06T09:00:00.000Z"},
        {"version": 4, "spec_hash": "h4", "deployed_at": "2026-12-06T11:00:00.000Z"},
    ]
    at_4 = PipelineRecord("p", Status.DEPLOYED, "byom_realtime_builtin", 4, "", "", deployed=tuple(history))
    # The run happened while version 2 was live: version 4, deployed since, is a fix the run never saw.
    assert live_at(history, "2026-12-06T10:00:00Z") == history[1]
    assert rollback_refusal(at_4, live_at(history, "2026-12-06T10:00:00Z")) == (
        "a newer version was deployed since this run"
    )
    assert rollback_refusal(at_4, live_at(history, None)) is None
    assert rollback_refusal(replace(at_4, status=Status.AWAITING_APPROVAL), history[2]) == (
        "the pipeline is AWAITING_APPROVAL"
    )
    assert rollback_target(history, None) == history[1]
    assert rollback_target(history[:1], None) is None
    rolled = [*history[:2], {"version": 3, "spec_hash": "h1", "source": "monitor: m", "deployed_at": "x"}]
    assert rollback_target(rolled, None) is None


# -- M1: the monitor's owner -----------------------------------------------------------------------------
def test_a_monitor_of_another_owner_is_refused_when_requested(orchestrator: Orchestrator) -> None:
    served(owner="team-a")
    training_id = submitted({**load_example("model_training_builtin"), "owner": "team-a"})
    rollback = {**load_example("byom_data_quality_monitor"), "endpoint_name": "churn-xgb", "owner": "team-b"}
    retrain = {**rollback, "endpoint_name": "other", "on_violation": {"retrain": {"training_pipeline_id": training_id}}}

    refused = call(api_event("POST", "/provisionpipeline", {**rollback, "on_violation": "rollback"}))
    refused_retrain = call(api_event("POST", "/provisionpipeline", retrain))

    assert refused.status == 409, refused.body
    assert refused.body["message"] == "a monitor acts only on pipelines of its own owner"
    assert refused.body["errors"] == [
        {
            "field": "endpoint_name",
            "problem": "names the serving pipeline churn-xgb-realtime-builtin of 'team-a', not of this monitor's owner",
        }
    ]
    assert refused_retrain.status == 409
    assert refused_retrain.body["errors"][0]["field"] == "on_violation.retrain.training_pipeline_id"
    assert record(MONITOR) is None


def test_a_monitor_acts_on_no_pipeline_of_another_owner(orchestrator: Orchestrator) -> None:
    monitor("rollback")  # no owner, requested before team-a's pipeline existed
    served_id = served(owner="team-a")
    served(owner="team-a", inference_instance="ml.m5.xlarge")

    assert handler(violation_event(), LAMBDA_CONTEXT)["outcome"] == "not rolled back"
    assert record(served_id).version == 2


# -- M2: who lifts a block -------------------------------------------------------------------------------
def test_an_automatic_remediation_keeps_the_block(orchestrator: Orchestrator) -> None:
    served_id = served()
    monitor("block")
    handler(violation_event(), LAMBDA_CONTEXT)

    reconciling.remediate_drift(served_id, record(served_id).version, settings_mod.settings())

    assert record(served_id).source == "reconcile:auto-remediate"
    assert record(served_id).blocked is not None


# -- M4: which pipeline is monitored ---------------------------------------------------------------------
def test_the_monitored_pipeline_is_the_deployed_one_and_is_recorded(orchestrator: Orchestrator) -> None:
    monitor("block")
    # A FAILED pipeline claiming the same endpoint is never the target.
    impostor = submitted(realtime_body(model_name="aaa-impostor", endpoint_name="churn-xgb"), deploy=False)
    registry = Registry(TABLE)
    registry.transition(impostor, Status.PROVISIONING)
    registry.transition(impostor, Status.FAILED)
    served_id = served()

    assert handler(violation_event(), LAMBDA_CONTEXT)["outcome"] == "blocked"

    assert (record(impostor).blocked, record(served_id).blocked["monitor"]) == (None, MONITOR)
    assert record(MONITOR).monitored == served_id


# -- lows ------------------------------------------------------------------------------------------------
@pytest.mark.fast
@pytest.mark.parametrize(
    "config",
    [{"Outputs": [None]}, "x", {"Outputs": [{"S3Output": "x"}]}, {"Outputs": "x"}, {"Outputs": []}],
)
def test_a_malformed_output_config_is_a_run_without_a_report(config: Any) -> None:
    event = violation_event()
    event["detail"]["ProcessingOutputConfig"] = config

    violation = Violation.parse(event)

    assert violation is not None and (violation.run, violation.report) == (RUN, None)


@pytest.mark.fast
def test_an_event_whose_fields_are_not_text_is_no_run() -> None:
    event = violation_event()
    event["detail"]["MonitoringScheduleArn"] = ["x"]
    assert Violation.parse(event) is None
    assert Violation.parse({**violation_event(), "detail": "x"}) is None


def test_a_report_outside_the_monitors_output_location_is_not_read(orchestrator: Orchestrator) -> None:
    monitor("notify")
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="secrets")
    s3.put_object(
        Bucket="secrets", Key="run/constraint_violations.json", Body=b'{"violations": [{"feature_name": "x"}]}'
    )
    event = violation_event()
    event["detail"]["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] = "s3://secrets/run"
    orchestrator.announcements()

    assert handler(event, LAMBDA_CONTEXT)["outcome"] == "notified"

    [email] = emails(orchestrator)
    assert "Violated constraints: see the report above." in email["Message"] and "- x:" not in email["Message"]
    assert REPORT not in email["Message"]


def test_a_run_of_a_monitor_whose_pipeline_is_recorded_reads_no_whole_table(orchestrator: Orchestrator) -> None:
    served_id = served()
    monitor("block")
    handler(violation_event(run=RUN + "-a"), LAMBDA_CONTEXT)  # the first run finds and records it
    assert record(MONITOR).monitored == served_id
    scans: list[str] = []

    def scanned(**_: Any) -> None:
        scans.append("scan")

    events = aws.client("dynamodb").meta.events
    events.register("before-call.dynamodb.Scan", scanned)
    try:
        assert handler(violation_event(run=RUN + "-b"), LAMBDA_CONTEXT)["outcome"] == "already blocked"
    finally:
        events.unregister("before-call.dynamodb.Scan", scanned)
    assert scans == []
