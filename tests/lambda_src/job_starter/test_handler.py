"""The job starter's run, retry and wait rules, against a stubbed Step Functions client."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from lambda_src.job_starter import handler as starter
from lambda_src.job_starter.handler import StarterEvent

MACHINE_ARN = "arn:aws:states:us-east-1:111111111111:stateMachine:churn-dev-baseline"
RUN_NAME = "churn-dev-baseline-ab12cd"


class FakeLambdaContext:
    def __init__(self, remaining_millis: int = 600_000):
        self.remaining_millis = remaining_millis

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_millis


@pytest.fixture
def stubber(aws_credentials: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """The handler's Step Functions client, stubbed; waiting polls without sleeping."""
    client = boto3.client("stepfunctions", region_name="us-east-1")
    monkeypatch.setattr(starter, "stepfunctions", lambda: client)
    monkeypatch.setattr(starter, "POLL_SECONDS", 0)
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def execution(name: str, status: str) -> dict[str, Any]:
    return {
        "executionArn": f"{MACHINE_ARN.replace(':stateMachine:', ':execution:')}:{name}",
        "stateMachineArn": MACHINE_ARN,
        "name": name,
        "status": status,
        "startDate": datetime(2026, 11, 1, tzinfo=UTC),
    }


def expect_executions(stubber: Stubber, *executions: dict[str, Any]) -> None:
    stubber.add_response("list_executions", {"executions": list(executions)}, {"stateMachineArn": MACHINE_ARN})


def expect_start(stubber: Stubber, name: str, run_input: str = "{}") -> None:
    stubber.add_response(
        "start_execution",
        {"executionArn": execution(name, "RUNNING")["executionArn"], "startDate": datetime(2026, 11, 1, tzinfo=UTC)},
        {"stateMachineArn": MACHINE_ARN, "name": name, "input": run_input},
    )


def expect_status(stubber: Stubber, name: str, status: str, cause: str | None = None) -> None:
    response = {**execution(name, status), "input": "{}"}
    if cause:
        response["cause"] = cause
    stubber.add_response("describe_execution", response, {"executionArn": execution(name, status)["executionArn"]})


def event(run_name: str = RUN_NAME, wait: bool = False, limit: int = 63) -> StarterEvent:
    return {"state_machine_arn": MACHINE_ARN, "run_name": run_name, "name_limit": limit, "wait": wait}


def test_first_deploy_starts_the_run_under_its_run_name(stubber: Stubber) -> None:
    expect_executions(stubber)
    expect_start(stubber, RUN_NAME)
    result = starter.handler(event(), FakeLambdaContext())
    assert result["status"] == "RUNNING"
    assert result["execution_arn"].endswith(f":execution:churn-dev-baseline:{RUN_NAME}")


def test_the_events_input_becomes_the_executions_input(stubber: Stubber) -> None:
    expect_executions(stubber)
    expect_start(stubber, RUN_NAME, run_input='{"a": 1}')
    starter.handler({**event(), "input": {"a": 1}}, FakeLambdaContext())


def test_a_run_that_succeeded_is_never_started_again(stubber: Stubber) -> None:
    expect_executions(stubber, execution(RUN_NAME, "SUCCEEDED"))
    result = starter.handler(event(), FakeLambdaContext())
    assert result["execution_arn"].endswith(f":{RUN_NAME}")


def test_a_running_run_is_joined_not_duplicated(stubber: Stubber) -> None:
    expect_executions(stubber, execution(RUN_NAME, "RUNNING"))
    assert starter.handler(event(), FakeLambdaContext())["status"] == "RUNNING"


def test_a_failed_run_is_retried_under_the_next_attempt_name(stubber: Stubber) -> None:
    expect_executions(stubber, execution(RUN_NAME, "FAILED"), execution(f"{RUN_NAME}-2", "TIMED_OUT"))
    expect_start(stubber, f"{RUN_NAME}-3")
    starter.handler(event(), FakeLambdaContext())


def test_retry_names_are_trimmed_to_the_job_name_limit(stubber: Stubber) -> None:
    run_name = "r" * 32
    expect_executions(stubber, execution(run_name, "FAILED"))
    expect_start(stubber, "r" * 30 + "-2")
    starter.handler(event(run_name, limit=32), FakeLambdaContext())


def test_executions_of_other_runs_and_schedules_are_ignored(stubber: Stubber) -> None:
    expect_executions(
        stubber, execution("churn-dev-baseline-ff0000", "SUCCEEDED"), execution("0b9e1c6e-scheduled-run", "SUCCEEDED")
    )
    expect_start(stubber, RUN_NAME)
    starter.handler(event(), FakeLambdaContext())


def test_waiting_returns_once_the_run_succeeds(stubber: Stubber) -> None:
    expect_executions(stubber)
    expect_start(stubber, RUN_NAME)
    expect_status(stubber, RUN_NAME, "RUNNING")
    expect_status(stubber, RUN_NAME, "SUCCEEDED")
    assert starter.handler(event(wait=True), FakeLambdaContext())["status"] == "SUCCEEDED"


def test_waiting_fails_the_deploy_with_the_runs_cause(stubber: Stubber) -> None:
    expect_executions(stubber)
    expect_start(stubber, RUN_NAME)
    expect_status(stubber, RUN_NAME, "FAILED", cause="ClientError: baseline data not found")
    with pytest.raises(RuntimeError, match=r"ended FAILED.*baseline data not found"):
        starter.handler(event(wait=True), FakeLambdaContext())


def test_waiting_gives_up_before_the_lambda_times_out(stubber: Stubber) -> None:
    expect_executions(stubber)
    expect_start(stubber, RUN_NAME)
    result = starter.handler(event(wait=True), FakeLambdaContext(remaining_millis=10_000))
    assert result["status"] == "RUNNING"


@pytest.mark.parametrize(
    ("name", "attempt"),
    [(RUN_NAME, 1), (f"{RUN_NAME}-2", 2), (f"{RUN_NAME}-x", None), ("churn-dev-baseline-ff0000", None)],
)
def test_attempt_of_recognises_only_this_runs_attempts(name: str, attempt: int | None) -> None:
    assert starter.attempt_of(name, RUN_NAME, 63) == attempt


def test_importing_the_handler_loads_only_boto3_from_outside_the_standard_library() -> None:
    """It runs in Lambda with boto3 only: no pulumi, no pydantic, nothing of `components` or `mlops_spec`."""
    code = (
        "import json, sys; import lambda_src.job_starter.handler; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    loaded = set(
        json.loads(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout)
    )
    assert "boto3" in loaded
    assert not loaded & {"pulumi", "pulumi_aws", "pydantic", "components", "mlops_spec", "aws_lambda_powertools"}
