"""Monitors that act (issue 14): a monitoring run with violations, as SageMaker sends it, through the trigger
function: every action emails the monitor, the endpoint, the violated constraints and the report; block,
rollback and retrain do what they say, through the normal update path; each run acts once."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambda_src.common import aws
from lambda_src.registry import Registry, Status
from lambda_src.trigger import monitor_violations
from lambda_src.trigger.handler import handler
from lambda_src.trigger.monitor_violations import Violation, retrain_job_name
from tests.support.api_gateway import LAMBDA_CONTEXT, api_event, call
from tests.support.examples import load_example
from tests.support.moto_orchestrator import TABLE, Orchestrator
from tests.support.requests import realtime_body

# The example monitor's monitoring_output_location: its runs' reports are read there and nowhere else.
REPORTS = "mlops-dev-artifacts-111111111111-us-east-1"
REPORT = f"s3://{REPORTS}/monitoring/churn-xgb/reports/churn-xgb/churn-xgb-data-quality-dev-schedule/2026/12/06/09"
RUN = "arn:aws:sagemaker:us-east-1:111111111111:processing-job/model-monitoring-202612060900-1a2b3c4d"
MONITOR = "churn-xgb-data-quality"
SERVED = "churn-xgb-realtime-builtin"


@pytest.fixture(autouse=True)
def accounts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environments' accounts, as the orchestrator sets them on its functions (single-account mode)."""
    monkeypatch.setenv("MLOPS_ACCOUNTS", '{"dev": "111111111111"}')


def violation_event(run: str = RUN, schedule: str = f"{MONITOR}-dev-schedule") -> dict[str, Any]:
    """A "Processing Job State Change" of a monitoring run that found violations (the fields we read)."""
    return {
        "version": "0",
        "id": "e-1",
        "detail-type": "SageMaker Processing Job State Change",
        "source": "aws.sagemaker",
        "account": "111111111111",
        "region": "us-east-1",
        "resources": [run],
        "detail": {
            "ProcessingJobArn": run,
            "ProcessingJobName": run.rsplit("/", 1)[-1],
            "ProcessingJobStatus": "Completed",
            "ExitMessage": "CompletedWithViolations: Job completed successfully with 2 violations.",
            "MonitoringScheduleArn": f"arn:aws:sagemaker:us-east-1:111111111111:monitoring-schedule/{schedule}",
            "ProcessingOutputConfig": {"Outputs": [{"OutputName": "result", "S3Output": {"S3Uri": REPORT}}]},
        },
    }


def submitted(body: dict[str, Any], deploy: bool = True) -> str:
    response = call(api_event("POST", "/provisionpipeline", body))
    assert response.status in (200, 202), response.body
    pipeline_id = str(response.body["pipeline_id"])
    if deploy:
        deployed(pipeline_id)
    return pipeline_id


def deployed(pipeline_id: str) -> None:
    """The provisioner's part, done: the pipeline's current version is live."""
    registry = Registry(TABLE)
    registry.transition(pipeline_id, Status.PROVISIONING)
    registry.transition(pipeline_id, Status.DEPLOYED)


def instance(pipeline_id: str) -> str:
    """The endpoint instance type of the pipeline's current version."""
    return str(json.loads(record(pipeline_id).spec)["inference_instance"])


def monitor(on_violation: Any) -> str:
    body = {**load_example("byom_data_quality_monitor"), "endpoint_name": "churn-xgb", "on_violation": on_violation}
    return submitted(body)


def served(**changes: Any) -> str:
    return submitted(realtime_body(endpoint_name="churn-xgb", **changes))


def with_report(orchestrator: Orchestrator) -> None:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=REPORTS)
    violations = [
        {"feature_name": "tenure", "constraint_check_type": "data_type_check", "description": "Integral 82%"},
        {"feature_name": "charges", "constraint_check_type": "baseline_drift_check", "description": "Drift 0.4"},
    ]
    key = REPORT.removeprefix(f"s3://{REPORTS}/") + "/constraint_violations.json"
    s3.put_object(Bucket=REPORTS, Key=key, Body=json.dumps({"violations": violations}).encode())


def emails(orchestrator: Orchestrator) -> list[dict[str, Any]]:
    return [a for a in orchestrator.announcements() if a.get("Subject", "").startswith("MLOps monitor")]


def record(pipeline_id: str) -> Any:
    return Registry(TABLE).get(pipeline_id)


# -- notify ------------------------------------------------------------------------------------------------
def test_notify_emails_the_monitor_endpoint_violated_constraints_and_report(orchestrator: Orchestrator) -> None:
    monitor_id = monitor("notify")
    with_report(orchestrator)
    orchestrator.announcements()

    result = handler(violation_event(), LAMBDA_CONTEXT)

    assert result == {"outcome": "notified", "pipeline_id": MONITOR, "action": "notify", "run": RUN}
    [email] = emails(orchestrator)
    assert email["Subject"] == f"MLOps monitor {MONITOR}: violations on churn-xgb"
    assert (
        f"Monitor {MONITOR} (byom_data_quality_monitor) found violations on endpoint churn-xgb (dev)."
        in (email["Message"])
    )
    assert f"Report: {REPORT}/constraint_violations.json" in email["Message"]
    assert "- tenure: data_type_check: Integral 82%" in email["Message"]
    assert "- charges: baseline_drift_check: Drift 0.4" in email["Message"]
    assert [entry["execution"] for entry in record(monitor_id).violations] == [RUN]


def test_a_run_delivered_three_times_acts_once(orchestrator: Orchestrator) -> None:
    monitor("notify")
    orchestrator.announcements()

    results = [handler(violation_event(), LAMBDA_CONTEXT)["outcome"] for _ in range(3)]

    assert results == ["notified", "already handled", "already handled"]
    assert len(emails(orchestrator)) == 1


def test_an_unreadable_report_is_named_and_runs_of_unknown_schedules_are_ignored(orchestrator: Orchestrator) -> None:
    monitor("notify")
    orchestrator.announcements()

    assert handler(violation_event(schedule="someone-elses-schedule"), LAMBDA_CONTEXT)["outcome"] == "ignored"
    handler(violation_event(), LAMBDA_CONTEXT)

    [email] = emails(orchestrator)
    assert "Violated constraints: see the report above." in email["Message"]
    assert f"{REPORT}/constraint_violations.json" in email["Message"]


# -- block -------------------------------------------------------------------------------------------------
def test_block_marks_the_monitored_pipeline_until_a_person_sends_a_new_version(orchestrator: Orchestrator) -> None:
    served_id = served()
    monitor("block")
    orchestrator.announcements()

    assert handler(violation_event(), LAMBDA_CONTEXT)["outcome"] == "blocked"

    blocked = record(served_id).blocked
    assert (blocked["monitor"], blocked["run"], blocked["environment"]) == (MONITOR, RUN, "dev")
    [email] = emails(orchestrator)
    assert f"Promotions of {served_id} now wait for a person" in email["Message"]
    # A person's new request version lifts the block.
    submitted(realtime_body(endpoint_name="churn-xgb", inference_instance="ml.m5.xlarge"), deploy=False)
    assert record(served_id).blocked is None


# -- rollback ----------------------------------------------------------------------------------------------
def test_rollback_sends_the_previous_request_version_again(orchestrator: Orchestrator) -> None:
    served_id = served()
    served(inference_instance="ml.m5.xlarge")
    monitor("rollback")
    before = len(orchestrator.invocations.calls)

    assert handler(violation_event(), LAMBDA_CONTEXT)["outcome"] == "queued"

    now = record(served_id)
    assert (now.status, now.version, now.source) == (Status.QUEUED, 3, f"monitor: {MONITOR}")
    # Who asked for the monitor's action is the version's requester (they may not approve it to prod).
    assert now.requested_by == record(MONITOR).requested_by is not None
    assert json.loads(now.spec)["inference_instance"] == "ml.m5.large"  # version 1's
    assert orchestrator.invocations.payloads[before:] == [
        {"action": "provision", "pipeline_id": served_id, "version": 3}
    ]


def test_rollback_without_a_previous_version_only_notifies(orchestrator: Orchestrator) -> None:
    served_id = served()
    monitor("rollback")
    orchestrator.announcements()
    before = (record(served_id), len(orchestrator.invocations.calls))

    assert handler(violation_event(), LAMBDA_CONTEXT)["outcome"] == "not rolled back"

    assert (record(served_id), len(orchestrator.invocations.calls)) == before
    [email] = emails(orchestrator)
    assert f"{served_id} has no earlier deployed version to return to: nothing was sent." in email["Message"]


# -- retrain -----------------------------------------------------------------------------------------------
def test_retrain_starts_a_new_run_of_the_named_training_pipeline(orchestrator: Orchestrator) -> None:
    training_id = submitted(load_example("model_training_builtin"))
    monitor({"retrain": {"training_pipeline_id": training_id}})
    orchestrator.announcements()
    before = len(orchestrator.invocations.calls)

    assert handler(violation_event(), LAMBDA_CONTEXT)["outcome"] == "queued"

    retrained = record(training_id)
    job_name = retrain_job_name(training_id, RUN, 63)
    assert (retrained.status, retrained.version, json.loads(retrained.spec)["job_name"]) == (
        Status.QUEUED,
        2,
        job_name,
    )
    assert orchestrator.invocations.payloads[before:] == [
        {"action": "provision", "pipeline_id": training_id, "version": 2}
    ]
    [email] = emails(orchestrator)
    assert f"{training_id} trains again as job {job_name}: queued as version 2." in email["Message"]


@pytest.mark.fast
def test_retrain_job_names_fit_and_differ_per_run() -> None:
    first, second = retrain_job_name("a" * 40, "run-1", 32), retrain_job_name("a" * 40, "run-2", 32)
    assert len(first) <= 32 and first != second and not first.startswith("-")


@pytest.mark.fast
def test_only_completed_runs_with_violations_are_violations() -> None:
    event = violation_event()
    assert Violation.parse(event) is not None
    clean = {
        **event,
        "detail": {**event["detail"], "ExitMessage": "Completed: Job completed successfully with no violations."},
    }
    assert Violation.parse(clean) is None
    assert Violation.parse({**event, "detail-type": "SageMaker Training Job State Change"}) is None


def test_an_action_that_fails_forgets_the_run_so_that_the_retried_event_acts(
    orchestrator: Orchestrator, monkeypatch: pytest.MonkeyPatch
) -> None:
    served()
    served(inference_instance="ml.m5.xlarge")
    monitor_id = monitor("rollback")
    real = monitor_violations.stored_request

    def unavailable(*args: Any) -> Any:
        raise RuntimeError("S3 is unavailable")

    monkeypatch.setattr(monitor_violations, "stored_request", unavailable)
    with pytest.raises(RuntimeError, match="S3 is unavailable"):
        handler(violation_event(), LAMBDA_CONTEXT)
    assert record(monitor_id).violations == ()

    monkeypatch.setattr(monitor_violations, "stored_request", real)
    assert handler(violation_event(), LAMBDA_CONTEXT)["outcome"] == "queued"
