"""A pipeline's delivery runs as the provisioner sees them: which run an `up` started, and stopping
every running one before its stacks are destroyed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from lambda_src.common import aws

logger = Logger(child=True)

# Executions that started this shortly before our `up` still count as started by it (clock skew).
CLOCK_SKEW = timedelta(seconds=2)


def started_during(executions: list[dict[str, Any]], since: datetime) -> dict[str, Any] | None:
    """The newest run that began during our `up` (CodePipeline starts a new pipeline by itself);
    None when none did."""
    during = [
        execution
        for execution in executions
        if isinstance(execution.get("startTime"), datetime)
        and execution["startTime"].astimezone(UTC) >= since - CLOCK_SKEW
    ]
    return max(during, key=lambda execution: execution["startTime"].astimezone(UTC), default=None)


def needs_start(executions: list[dict[str, Any]], since: datetime) -> bool:
    """Start a run unless one began during our `up`."""
    return started_during(executions, since) is None


def recent_executions(codepipeline: Any, name: str) -> list[dict[str, Any]]:
    response = codepipeline.list_pipeline_executions(pipelineName=name, maxResults=5)
    return list(response.get("pipelineExecutionSummaries", []))


def executions_or_none(codepipeline: Any, name: str) -> list[dict[str, Any]]:
    """Runs of the pipeline, or none when they cannot be read: an extra run is superseded by the
    next, a missing one would leave the new request undeployed."""
    try:
        return recent_executions(codepipeline, name)
    except Exception as exc:
        logger.warning("could not list pipeline runs; starting one", codepipeline=name, error=str(exc))
        return []


def stop_running(codepipeline: Any, name: str) -> None:
    """Stop the pipeline's running executions, so no deploy or approval re-creates a target stack
    while the stacks are being destroyed."""
    try:
        executions = recent_executions(codepipeline, name)
    except Exception as exc:
        if aws.error_code(exc) == "PipelineNotFoundException":
            return
        raise
    for execution in executions:
        if execution.get("status") != "InProgress":
            continue
        try:
            codepipeline.stop_pipeline_execution(
                pipelineName=name,
                pipelineExecutionId=execution["pipelineExecutionId"],
                abandon=True,
                reason="the pipeline is being deleted",
            )
        except Exception as exc:
            # Already finished or stopping: nothing left to stop.
            logger.info("execution not stopped", codepipeline=name, error_code=aws.error_code(exc))
