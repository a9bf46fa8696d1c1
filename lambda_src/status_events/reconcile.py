"""Bringing a PROVISIONING record that has heard nothing for a while back in line with its run.

A PROVISIONING record moves on with its delivery run's events. An event can be lost (EventBridge
gives up after a day of failed deliveries, a provisioner run can die before recording its run), and
then nothing would ever move the record: the sweep asks CodePipeline where the run is instead.

- No run recorded after sweeper.PROVISIONING_QUIET: the provisioner run that claimed the record died
  before it started the delivery pipeline (a run lasts at most 15 minutes): FAILED, retryable.
- The run has ended: its end is applied as its final event would have been.
- The run waits at a manual approval: AWAITING_APPROVAL, as the approval's event would have set.
- The run is still going after PROVISIONING_LIMIT without an event: it is stopped and the record
  FAILED, retryable. One deploy build lasts at most an hour (the deploy projects' timeout), so a
  run that has not progressed in three hours is stuck.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from lambda_src.common import aws
from lambda_src.registry import EXECUTION_PENDING, PipelineRecord
from lambda_src.status_events import records
from lambda_src.status_events.transitions import PipelineEvent
from mlops_spec.approvals import APPROVAL_STAGES

if TYPE_CHECKING:
    from lambda_src.status_events.handler import StatusUpdater

logger = Logger(child=True)

PROVISIONING_LIMIT = timedelta(hours=3)


def reconcile(updater: StatusUpdater, record: PipelineRecord, quiet_for: timedelta) -> str:
    """Move a PROVISIONING record that has been quiet for `quiet_for` as its run says; the outcome."""
    if record.execution_id in (None, EXECUTION_PENDING) or not record.codepipeline_name:
        return _fail(
            updater, record, "provisioner-lost", "the provisioner run ended before it started the delivery run"
        )
    name, execution_id = record.codepipeline_name, str(record.execution_id)
    execution = _execution(updater.codepipeline, name, execution_id)
    if execution is None:
        return _fail(updater, record, "run-gone", "CodePipeline no longer knows the delivery run")
    ended = updater.apply_end(record.pipeline_id, name, {"pipelineExecutionId": execution_id, **execution})
    if ended is not None:
        return str(ended["outcome"])
    waiting = _waiting_approval(updater.codepipeline, name, execution_id)
    if waiting is not None:
        event = PipelineEvent(
            record.pipeline_id, "action", "STARTED", name, execution_id, waiting, waiting, category="Approval"
        )
        return str(updater.apply(event)["outcome"])
    if quiet_for <= PROVISIONING_LIMIT:
        return "still running"
    _stop(updater.codepipeline, name, execution_id)
    hours = int(PROVISIONING_LIMIT.total_seconds() // 3600)
    return _fail(updater, record, "timed-out", f"the delivery run made no progress in {hours} h and was stopped")


def _execution(codepipeline: Any, name: str, execution_id: str) -> dict[str, Any] | None:
    """The run as CodePipeline describes it; None when the pipeline or the run no longer exists
    (deleted outside the orchestrator, or its history expired). Other errors are raised."""
    try:
        answer = codepipeline.get_pipeline_execution(pipelineName=name, pipelineExecutionId=execution_id)
    except Exception as exc:
        if aws.error_code(exc) in ("PipelineNotFoundException", "PipelineExecutionNotFoundException"):
            return None
        raise
    execution = answer.get("pipelineExecution")
    return execution if isinstance(execution, dict) else None


def _waiting_approval(codepipeline: Any, name: str, execution_id: str) -> str | None:
    """The approval stage at which `execution_id` waits, if it does."""
    try:
        stages = codepipeline.get_pipeline_state(name=name).get("stageStates", [])
    except Exception as exc:
        logger.warning("could not read the pipeline state", codepipeline=name, error=str(exc))
        return None
    for stage in stages if isinstance(stages, list) else []:
        latest = stage.get("latestExecution") or {}
        if (
            stage.get("stageName") in APPROVAL_STAGES
            and latest.get("pipelineExecutionId") == execution_id
            and latest.get("status") == "InProgress"
        ):
            return str(stage["stageName"])
    return None


def _stop(codepipeline: Any, name: str, execution_id: str) -> None:
    try:
        codepipeline.stop_pipeline_execution(
            pipelineName=name, pipelineExecutionId=execution_id, abandon=True, reason="no progress; stopped"
        )
    except Exception as exc:
        # Already stopping or finished: the record is failed either way, and its events are stale.
        logger.info("stuck run not stopped", codepipeline=name, error=str(exc))


def _fail(updater: StatusUpdater, record: PipelineRecord, reason: str, why: str) -> str:
    failed = records.fail_retryably(updater.registry, record, reason, why)
    if failed is None:
        return "no change: the record moved on"
    updater.notify_failure(failed)
    return str(failed.status)
