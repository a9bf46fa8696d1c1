"""How a monitoring run with violations reaches the orchestrator: the event, its pattern, the report's name. Pure.

Written once for both sides: the monitor's component (components/pipelines/monitors/violations.py) and
the orchestrator's rule (components/orchestrator/monitor_actions.py) match these events, and the trigger
function (lambda_src/trigger/monitor_violations.py) reads them.

Why this event: every monitoring execution is a SageMaker processing job, and SageMaker sends
"SageMaker Processing Job State Change" to EventBridge with the job as DescribeProcessingJob describes
it (docs: "Events that Amazon SageMaker sends to Amazon EventBridge"), including MonitoringScheduleArn and
ExitMessage. A run that finds violations completes with the execution status CompletedWithViolations
(MonitoringExecutionSummary's MonitoringExecutionStatus values), which its job states in its exit message
("CompletedWithViolations: Job completed successfully with N violations"). This works alike for the data
quality, model quality, bias and explainability monitors and needs no feature names at plan time, where
CloudWatch alarms would (Model Monitor's metrics are per feature, e.g. feature_baseline_drift_<name>).
"""

from __future__ import annotations

from typing import Any

SOURCE = "aws.sagemaker"
DETAIL_TYPE = "SageMaker Processing Job State Change"
VIOLATIONS = "CompletedWithViolations"
# Where the Model Monitor analyzer and Clarify write the violations of a run, in the run's output.
VIOLATIONS_FILE = "constraint_violations.json"
# The orchestrator's own event bus for monitors' runs: its policy is ours outright, unlike the default
# bus's, which other tools (organization-wide forwarding, Security Hub) write too.
BUS_NAME = "mlops-monitor-violations"


def violation_pattern(schedule_arns: list[str] | None = None, accounts: list[str] | None = None) -> dict[str, Any]:
    """Completed monitoring runs that found violations; of the given schedules only, when named; from the
    given accounts only, when named (the orchestrator's rule: its environments' accounts, no other)."""
    detail: dict[str, Any] = {
        "ProcessingJobStatus": ["Completed"],
        "ExitMessage": [{"prefix": VIOLATIONS}],
        "MonitoringScheduleArn": schedule_arns if schedule_arns else [{"exists": True}],
    }
    pattern: dict[str, Any] = {"source": [SOURCE], "detail-type": [DETAIL_TYPE], "detail": detail}
    if accounts:
        pattern["account"] = sorted(set(accounts))
    return pattern


def schedule_arn(partition: str, region: str, account: str, name: str) -> str:
    """The ARN of monitoring schedule `name` in an account and region (SageMaker writes it in lower case)."""
    return f"arn:{partition}:sagemaker:{region}:{account}:monitoring-schedule/{name.lower()}"


def bus_statements(bus_arn: str, accounts: list[str]) -> list[dict[str, Any]]:
    """The orchestrator bus's policy: each other environment account may put on it the monitoring runs'
    state changes, and nothing else (a forged event of another source or kind is refused by the bus)."""
    return [
        {
            "Sid": f"mlops-monitor-violations-{account}",
            "Effect": "Allow",
            "Principal": {"AWS": account},
            "Action": "events:PutEvents",
            "Resource": bus_arn,
            "Condition": {"StringEquals": {"events:source": SOURCE, "events:detail-type": DETAIL_TYPE}},
        }
        for account in sorted(set(accounts))
    ]


def schedule_name(schedule_arn: str) -> str:
    """`arn:...:monitoring-schedule/<name>` -> `<name>` (SageMaker writes schedule ARNs in lower case)."""
    return schedule_arn.rpartition("/")[2]


def bus_arn(partition: str, region: str, account: str) -> str:
    """The ARN of the orchestrator's monitor-violations bus (BUS_NAME) in its account."""
    return f"arn:{partition}:events:{region}:{account}:event-bus/{BUS_NAME}"
