"""Lambda entry of the status function: apply one delivery pipeline event to the registry, email results."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Literal

from aws_lambda_powertools import Logger

from lambda_src.common import aws, submission
from lambda_src.common.settings import Settings
from lambda_src.registry import PipelineRecord, Registry, Status
from lambda_src.status_events import records, sweeper
from lambda_src.status_events.transitions import (
    Change,
    PipelineEvent,
    ProvisionerCrash,
    console_url,
    decide,
    notification,
)

logger = Logger(service="mlops-status")


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
        record = self.registry.get(event.pipeline_id)
        if record is None:
            return _result(event, "unknown pipeline")
        change = decide(event, record.status)
        if change is None:
            return _result(event, "no change")
        if change.only_if_running and not self._still_running(event):
            return _result(event, "stale: the execution has finished")
        updated = self._write(record, change)
        if updated is None:
            return _result(event, "refused by the status machine")
        if change.notify and updated.status != record.status:
            self._notify(updated, change)
        return _result(event, str(updated.status))

    def record_crash(self, crash: ProvisionerCrash) -> dict[str, Any]:
        """A provisioner run that died mid-way must not leave its pipeline PROVISIONING forever."""
        record = self.registry.get(crash.pipeline_id)
        if (
            record is None
            or record.status != crash.in_progress_status
            or (crash.version is not None and record.version != crash.version)
        ):
            logger.info("provisioner failure of a finished or superseded run", pipeline_id=crash.pipeline_id)
            return {"pipeline_id": crash.pipeline_id, "outcome": "no change"}
        updated = records.set_status(
            self.registry,
            crash.pipeline_id,
            Status.FAILED,
            last_error=crash.last_error(),
            expected_version=record.version,
        )
        if updated is not None:
            self._notify(updated, Change(Status.FAILED, notify="failed"))
        return {"pipeline_id": crash.pipeline_id, "outcome": str(updated.status) if updated else "no change"}

    def _write(self, record: PipelineRecord, change: Change) -> PipelineRecord | None:
        last_error = change.last_error
        if change.keep_existing_error and record.last_error:
            last_error = record.last_error
        if change.status == record.status and last_error == record.last_error:
            return record
        return records.set_status(self.registry, record.pipeline_id, change.status, last_error=last_error)

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

    restarted = sweeper.sweep(Registry(settings.registry_table), start)
    if restarted:
        logger.warning("re-started lost provisioner runs", pipeline_ids=restarted)
    return {"outcome": "swept", "restarted": restarted}


def _result(event: PipelineEvent, outcome: str) -> dict[str, Any]:
    logger.info("status event", pipeline_id=event.pipeline_id, kind=event.kind, state=event.state, outcome=outcome)
    return {"pipeline_id": event.pipeline_id, "outcome": outcome}


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """CodePipeline state changes (the orchestrator's event rule), the provisioner's failed
    invocations (its asynchronous on-failure destination), and the periodic sweep for lost runs."""
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
