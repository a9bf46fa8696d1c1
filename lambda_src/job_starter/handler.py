"""Start one run of a pipeline job's state machine at most once, retry it if it failed, optionally wait.

Changes when the rules for starting, retrying or waiting for a run change. Invoked once per run name
by `aws.lambda_.Invocation` during `pulumi up` (see components/pipelines/run_on_deploy.py, which
writes the event). It runs in Lambda with boto3 alone: it imports nothing else from this repository.

A run's first attempt is its run name; a failed run is retried as `<run name>-<attempt>`. An attempt
that is running or has succeeded is joined, never repeated, so an unchanged request never runs twice.
"""

from __future__ import annotations

import functools
import json
import time
from typing import Any, Protocol, TypedDict

import boto3

UNFINISHED_OR_GOOD = ("RUNNING", "SUCCEEDED")
POLL_SECONDS = 15
# Stop waiting this long before Lambda's own time limit, so the function answers instead of timing out.
SAFETY_MILLIS = 30_000


class RunRequest(TypedDict):
    """What the deploy always sends: which state machine, which run, the job-name limit, whether to wait."""

    state_machine_arn: str
    run_name: str
    name_limit: int
    wait: bool


# The optional key is declared by inheritance: NotRequired[...] is not recognised in postponed
# (string) annotations on Python 3.11.
class StarterEvent(RunRequest, total=False):
    """A run request, optionally with the `input` of the execution it starts."""

    input: dict[str, Any]


class StarterResult(TypedDict):
    execution_arn: str
    status: str
    """SUCCEEDED once waited for; RUNNING when not waiting, or when waiting ran out of time."""


class LambdaContext(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


Execution = dict[str, Any]


@functools.cache
def stepfunctions() -> Any:
    """One Step Functions client per warm function, made on first use so that importing needs no region."""
    return boto3.client("stepfunctions")


def attempt_name(run_name: str, attempt: int, limit: int) -> str:
    """The first attempt is the run name; retries end in -<attempt>, trimmed to fit `limit`."""
    if attempt == 1:
        return run_name
    suffix = f"-{attempt}"
    return run_name[: limit - len(suffix)] + suffix


def attempt_of(name: str, run_name: str, limit: int) -> int | None:
    """The attempt number of an execution of this run, or None for another run's execution."""
    if name == run_name:
        return 1
    number = name.rpartition("-")[2]
    if number.isdigit() and attempt_name(run_name, int(number), limit) == name:
        return int(number)
    return None


def latest_attempt(sfn: Any, machine_arn: str, run_name: str, limit: int) -> tuple[int, Execution] | None:
    """(attempt number, execution) of this run's latest attempt, or None before its first."""
    attempts: list[tuple[int, Execution]] = []
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine_arn):
        for execution in page["executions"]:
            number = attempt_of(execution["name"], run_name, limit)
            if number is not None:
                attempts.append((number, execution))
    return max(attempts, key=lambda item: item[0], default=None)


def start_or_join(sfn: Any, event: StarterEvent) -> str:
    """The ARN of the execution that carries this run: the latest attempt if running or done, else a new one."""
    machine_arn, run_name, limit = event["state_machine_arn"], event["run_name"], int(event["name_limit"])
    latest = latest_attempt(sfn, machine_arn, run_name, limit)
    if latest and latest[1]["status"] in UNFINISHED_OR_GOOD:
        # Running or done: the same configuration never runs twice.
        return str(latest[1]["executionArn"])
    name = attempt_name(run_name, latest[0] + 1 if latest else 1, limit)
    started = sfn.start_execution(stateMachineArn=machine_arn, name=name, input=json.dumps(event.get("input", {})))
    return str(started["executionArn"])


def wait_for(sfn: Any, execution_arn: str, context: LambdaContext) -> str:
    """SUCCEEDED when the execution succeeds, RUNNING when time runs out first; raises when it fails."""
    while context.get_remaining_time_in_millis() > SAFETY_MILLIS:
        execution = sfn.describe_execution(executionArn=execution_arn)
        status = str(execution["status"])
        if status == "SUCCEEDED":
            return status
        if status != "RUNNING":
            detail = " ".join(filter(None, (execution.get("error"), execution.get("cause"))))
            raise RuntimeError(f"{execution_arn} ended {status}. {detail}".strip())
        time.sleep(POLL_SECONDS)
    return "RUNNING"


def handler(event: StarterEvent, context: LambdaContext) -> StarterResult:
    sfn = stepfunctions()
    execution_arn = start_or_join(sfn, event)
    status = wait_for(sfn, execution_arn, context) if event.get("wait") else "RUNNING"
    return {"execution_arn": execution_arn, "status": status}
