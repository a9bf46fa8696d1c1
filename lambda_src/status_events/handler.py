"""Lambda entry of the status function: apply one delivery pipeline event to the registry, email results."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Literal

from aws_lambda_powertools import Logger

from lambda_src.common import aws, submission
from lambda_src.common.settings import Settings
from lambda_src.registry import ConcurrentUpdate, InvalidTransition, PipelineRecord, RecordNotFound, Registry, Status
from lambda_src.status_events import reconcile, records, sweeper
from lambda_src.status_events.transitions import (
    FINISHED,
    Change,
    PipelineEvent,
    ProvisionerCrash,
    console_url,
    decide,
    ignored,
    notification,
)

logger = Logger(service="mlops-status")


class EventNotApplied(RuntimeError):
    """An event that could not be written after every attempt: raised so that it is retried, not lost."""


@dataclass
class StatusUpdater:
    registry: Registry
    codepipeline: Any
    sns: Any
    topic_arn: str
    region: str

    @classmethod
    def from_env(cls) -> StatusUpdater:
        settings = Settings.from_env()
        return cls(
            registry=Registry(settings.registry_table),
            codepipeline=aws.client("codepipeline"),
            sns=aws.client("sns"),
            topic_arn=settings.topic_arn,
            region=os.environ.get("AWS_REGION", ""),
        )

    def apply(self, event: PipelineEvent) -> dict[str, Any]:
        """Decide from the record as read and write on condition that it is still so; when another
        writer got there first, decide again from what it wrote (a bounded number of times)."""
        running: bool | None = None
        for _ in range(records.ATTEMPTS):
            record = self.registry.get(event.pipeline_id)
            if record is None:
                return _result(event, "unknown pipeline")
            why_not = ignored(event, record.status, record.execution_id)
            if why_not is not None:
                return _result(event, why_not)
            change = decide(event, record.status)
            if change is None:
                return _result(event, "no change")
            if change.only_if_running:
                running = self._still_running(event) if running is None else running
                if not running:
                    return _result(event, "stale: the execution has finished")
            try:
                updated = self._write(record, change)
            except ConcurrentUpdate:
                continue
            if updated is None:
                return _result(event, "refused by the status machine")
            if change.notify and updated.status != record.status:
                self._notify(updated, change)
            return _result(event, str(updated.status))
        # Never dropped: failing makes Lambda retry the event, then hand it to the function's failure
        # destination (a queue with an alarm), where an operator sees it.
        raise EventNotApplied(f"{event.pipeline_id}: the record kept changing; {event.kind} {event.state} not applied")

    def catch_up(self, pipeline_id: str, codepipeline_name: str, execution_id: str) -> dict[str, Any] | None:
        """Apply the end of a run that finished before its id was recorded (its events were dropped
        as not yet the current request's). None while the run is still going."""
        execution = self.codepipeline.get_pipeline_execution(
            pipelineName=codepipeline_name, pipelineExecutionId=execution_id
        )["pipelineExecution"]
        return self.apply_end(pipeline_id, codepipeline_name, execution)

    def apply_end(self, pipeline_id: str, codepipeline_name: str, execution: dict[str, Any]) -> dict[str, Any] | None:
        """Apply a run's end as its final event would have (`execution` as GetPipelineExecution
        describes it); None while the run is still going."""
        state = FINISHED.get(str(execution.get("status")))
        if state is None:
            return None
        execution_id = str(execution.get("pipelineExecutionId", ""))
        return self.apply(PipelineEvent(pipeline_id, "pipeline", state, codepipeline_name, execution_id))

    def record_crash(self, crash: ProvisionerCrash) -> dict[str, Any]:
        """A provisioner run that died mid-way must not leave its pipeline PROVISIONING forever."""
        record = self.registry.get(crash.pipeline_id)
        if (
            record is None
            or record.status not in crash.left_statuses
            or (crash.version is not None and record.version != crash.version)
        ):
            logger.info("provisioner failure of a finished or superseded run", pipeline_id=crash.pipeline_id)
            return {"pipeline_id": crash.pipeline_id, "outcome": "no change"}
        updated = records.set_status(
            self.registry,
            crash.pipeline_id,
            Status.FAILED,
            last_error=crash.last_error(),
            expected_status=record.status,
            expected_version=record.version,
        )
        if updated is not None:
            self.notify_failure(updated)
        return {"pipeline_id": crash.pipeline_id, "outcome": str(updated.status) if updated else "no change"}

    def notify_failure(self, record: PipelineRecord) -> None:
        self._notify(record, Change(Status.FAILED, notify="failed"))

    def _write(self, record: PipelineRecord, change: Change) -> PipelineRecord | None:
        """Write `change` on condition that the record is still in the status and version it was
        decided from (ConcurrentUpdate otherwise); None when the status machine refuses it."""
        last_error = change.last_error
        if change.keep_existing_error and record.last_error:
            last_error = record.last_error
        if change.status == record.status and last_error == record.last_error:
            return record
        try:
            return self.registry.transition(
                record.pipeline_id,
                change.status,
                expected_status=record.status,
                expected_version=record.version,
                # `last_error` was decided from this read (keep_existing_error): land on it exactly.
                expected_revision=record.revision,
                last_error=last_error,
            )
        except (InvalidTransition, RecordNotFound) as exc:
            logger.info("status not changed", pipeline_id=record.pipeline_id, to=str(change.status), reason=str(exc))
            return None

    def _still_running(self, event: PipelineEvent) -> bool:
        try:
            execution = self.codepipeline.get_pipeline_execution(
                pipelineName=event.codepipeline_name, pipelineExecutionId=event.execution_id
            )["pipelineExecution"]
        except Exception as exc:
            # Unknown is treated as running: a missed PROVISIONING is worse than a brief wrong one.
            logger.warning("could not read the pipeline execution", error=str(exc), pipeline_id=event.pipeline_id)
            return True
        return str(execution.get("status")) == "InProgress"

    def _notify(self, record: PipelineRecord, change: Change) -> None:
        if not self.topic_arn or change.notify is None:
            return
        subject, message = notification(
            record.pipeline_id,
            record.status,
            change.notify,
            record.last_error,
            record.outputs,
            console_url(record.codepipeline_name or "", self.region),
        )
        try:
            self.sns.publish(TopicArn=self.topic_arn, Subject=subject, Message=message)
        except Exception:
            # The status is recorded; a lost email must not make EventBridge retry the update.
            logger.exception("could not publish the notification", pipeline_id=record.pipeline_id)


def _sweep() -> dict[str, Any]:
    settings = Settings.from_env()

    def start(action: Literal["provision", "delete"], record: PipelineRecord) -> None:
        submission.start_provisioner(action, record, settings)

    updater = StatusUpdater.from_env()
    restarted = sweeper.sweep(
        updater.registry,
        start,
        failed=updater.notify_failure,
        reconcile=lambda record, quiet_for: reconcile.reconcile(updater, record, quiet_for),
        teardowns=lambda build_ids: sweeper.build_states(aws.client("codebuild"), build_ids),
    )
    if restarted:
        logger.warning("re-started lost provisioner runs", pipeline_ids=restarted)
    return {"outcome": "swept", "restarted": restarted}


def _drift_checks() -> dict[str, Any]:
    """One provisioner run per DEPLOYED pipeline checks its stacks for drift (lambda_src/provisioner/drift.py)."""
    settings = Settings.from_env()
    registry = StatusUpdater.from_env().registry
    started = []
    for record in sweeper.waiting_records(registry, Status.DEPLOYED):
        try:
            submission.start_provisioner("drift", record, settings)
        except Exception:
            # One start that fails must not stop the others; the next schedule checks it again.
            logger.exception("drift check not started", pipeline_id=record.pipeline_id)
            continue
        started.append(record.pipeline_id)
    return {"outcome": "drift checks started", "pipeline_ids": started}


def _result(event: PipelineEvent, outcome: str) -> dict[str, Any]:
    logger.info("status event", pipeline_id=event.pipeline_id, kind=event.kind, state=event.state, outcome=outcome)
    return {"pipeline_id": event.pipeline_id, "outcome": outcome}


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """CodePipeline state changes (the orchestrator's event rule), the provisioner's failed
    invocations (its asynchronous on-failure destination), and the periodic sweep for lost runs."""
    if sweeper.is_drift_schedule(event):
        return _drift_checks()
    if sweeper.is_scheduled_sweep(event):
        return _sweep()
    crash = ProvisionerCrash.parse(event)
    if crash is not None:
        return StatusUpdater.from_env().record_crash(crash)
    parsed = PipelineEvent.parse(event)
    if parsed is None:
        logger.warning("not a status event of a delivery pipeline", keys=sorted(event)[:10])
        return {"outcome": "ignored"}
    return StatusUpdater.from_env().apply(parsed)
