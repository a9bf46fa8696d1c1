"""Drift detection's contract: the schedule's setting (`mlops:driftSchedule`) and the event its rule
sends the status function (lambda_src/status_events), which starts the checks
(lambda_src/provisioner/drift.py). Pure Python."""

from __future__ import annotations

from mlops_spec.schedules import eventbridge_schedule_problem

DEFAULT_DRIFT_SCHEDULE = "rate(1 day)"
DRIFT_OFF = "off"
# The input the orchestrator's drift-check rule sends instead of EventBridge's scheduled event.
DRIFT_CHECK_EVENT = {"mlops": "drift-check"}


def drift_schedule_problem(value: str) -> str | None:
    """None for a schedule EventBridge accepts, or "off"; otherwise what is wrong with it."""
    if value == DRIFT_OFF:
        return None
    problem = eventbridge_schedule_problem(value)
    return f'{problem}, or "{DRIFT_OFF}" to check no stack' if problem else None
