"""Which registry status a delivery pipeline event leads to: plain decisions, no AWS calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from lambda_src.registry import EXECUTION_PENDING, Status
from mlops_spec.naming import pipeline_id_of

EventKind = Literal["pipeline", "stage", "action", "unknown"]
Notice = Literal["succeeded", "failed", "rejected"]

# GetPipelineExecution statuses of a finished run -> the state of its final EventBridge event.
FINISHED = {"Succeeded": "SUCCEEDED", "Failed": "FAILED", "Stopped": "STOPPED", "Cancelled": "CANCELED"}

_KINDS: dict[str, EventKind] = {
    "CodePipeline Pipeline Execution State Change": "pipeline",
    "CodePipeline Stage Execution State Change": "stage",
    "CodePipeline Action Execution State Change": "action",
}


@dataclass(frozen=True)
class PipelineEvent:
    """The parts of a CodePipeline EventBridge event the status depends on."""

    pipeline_id: str
    kind: EventKind
    state: str
    codepipeline_name: str = ""
    execution_id: str = ""
    stage: str = ""
    action: str = ""
    category: str = ""
    summary: str = ""
    url: str = ""
    time: str = ""

    @classmethod
    def parse(cls, event: dict[str, Any]) -> PipelineEvent | None:
        """An EventBridge event of a delivery pipeline; None for events of any other CodePipeline."""
        detail = event.get("detail")
        if not isinstance(detail, dict):
            return None
        pipeline_id = pipeline_id_of(str(detail.get("pipeline", "")))
        if pipeline_id is None:
            return None
        result = detail.get("execution-result") or {}
        return cls(
            pipeline_id=pipeline_id,
            kind=_KINDS.get(str(event.get("detail-type")), "unknown"),
            state=str(detail.get("state", "")).upper(),
            codepipeline_name=str(detail.get("pipeline", "")),
            execution_id=str(detail.get("execution-id", "")),
            stage=str(detail.get("stage", "")),
            action=str(detail.get("action", "")),
            category=str((detail.get("type") or {}).get("category", "")),
            summary=str(result.get("external-execution-summary", "")),
            url=str(result.get("external-execution-url", "")),
            time=str(event.get("time", "")),
        )

    @property
    def is_approval(self) -> bool:
        return self.kind == "action" and self.category == "Approval"


@dataclass(frozen=True)
class Change:
    """A registry update: the new status, an error to record, and the email to send if it changes."""

    status: Status
    last_error: str | None = None
    notify: Notice | None = None
    only_if_running: bool = False
    """Apply only while the execution still runs (a late STARTED must not undo a finished run)."""
    keep_existing_error: bool = False
    """Record `last_error` only when none is recorded (a deploy build records a better one)."""


# The statuses a delivery pipeline run drives. QUEUED (a version waiting for the provisioner) and
# DELETING belong to the provisioner: an event of the run it is replacing or stopping (e.g. the
# STOPPED of a deleted pipeline's run) must not move them. REJECTED and DELETED are final for a run.
EXECUTION_DRIVEN = frozenset({Status.PROVISIONING, Status.AWAITING_APPROVAL, Status.DEPLOYED, Status.FAILED})


def ignored(event: PipelineEvent, current: Status, execution_id: str | None) -> str | None:
    """Why an event must not touch the record (None: it may). `execution_id` is the record's: the run
    the provisioner started for the current version, EXECUTION_PENDING before it has recorded one,
    or None on records older than execution tracking (matched on status alone)."""
    if current not in EXECUTION_DRIVEN:
        return f"ignored: the pipeline is {current}"
    if execution_id is not None and (execution_id == EXECUTION_PENDING or event.execution_id != execution_id):
        return "stale: not the run of the current request"
    return None


def decide(event: PipelineEvent, current: Status) -> Change | None:
    """The change an event asks for, given the pipeline's current status (None: nothing to do).

    Stage events change nothing: the status API reads stages live from CodePipeline.
    """
    if event.kind == "pipeline":
        return _pipeline_change(event, current)
    if event.is_approval:
        return _approval_change(event)
    if event.kind == "action" and event.state == "FAILED":
        detail = f": {event.summary}" if event.summary else ""
        link = f" ({event.url})" if event.url else ""
        return Change(
            current, last_error=f"{event.stage}/{event.action} failed{detail}{link}", keep_existing_error=True
        )
    return None


def _pipeline_change(event: PipelineEvent, current: Status) -> Change | None:
    if event.state in ("STARTED", "RESUMED"):
        return Change(Status.PROVISIONING, only_if_running=True)
    if event.state == "SUCCEEDED":
        return Change(Status.DEPLOYED, notify="succeeded")
    if event.state == "FAILED":
        # While an approval waits nothing else runs: a failure then is a rejection (or its timeout).
        if current == Status.AWAITING_APPROVAL:
            return Change(Status.REJECTED, last_error="the deployment was not approved", notify="rejected")
        return Change(Status.FAILED, notify="failed")
    if event.state in ("STOPPED", "CANCELED"):
        return Change(Status.FAILED, last_error="the delivery pipeline run was stopped", notify="failed")
    return None  # STOPPING, SUPERSEDED: a newer run or a stop is on its way; its own event decides


def _approval_change(event: PipelineEvent) -> Change | None:
    # EventBridge retries deliveries for up to a day: a late STARTED or SUCCEEDED of a finished run
    # must not take a DEPLOYED (or FAILED) pipeline back to waiting or running.
    if event.state == "STARTED":
        # No email here: the approval action itself notifies the topic, with the review link.
        return Change(Status.AWAITING_APPROVAL, only_if_running=True)
    if event.state == "SUCCEEDED":
        return Change(Status.PROVISIONING, only_if_running=True)
    if event.state == "FAILED":
        why = f": {event.summary}" if event.summary else ""
        return Change(Status.REJECTED, last_error=f"{event.action} was rejected{why}", notify="rejected")
    return None


def notification(
    pipeline_id: str, status: Status, notice: Notice, last_error: str | None, outputs: dict[str, Any], console_url: str
) -> tuple[str, str]:
    """Subject (at most 100 characters, SNS's limit) and text of a result email."""
    headline = {
        "succeeded": "is deployed",
        "failed": "failed",
        "rejected": "was not approved",
    }[notice]
    subject = f"MLOps pipeline {pipeline_id} {headline}"[:100]
    lines = [f"Pipeline: {pipeline_id}", f"Status: {status}"]
    if last_error and notice != "succeeded":
        lines.append(f"Error: {last_error}")
    for env, values in sorted(outputs.items()):
        if isinstance(values, dict) and values:
            shown = ", ".join(f"{k}={v}" for k, v in sorted(values.items()) if isinstance(v, str | int | float))
            lines.append(f"{env}: {shown}")
    if console_url:
        lines.append(f"Delivery pipeline: {console_url}")
    return subject, "\n".join(lines)


def console_url(codepipeline_name: str, region: str) -> str:
    if not codepipeline_name or not region:
        return ""
    return (
        f"https://{region}.console.aws.amazon.com/codesuite/codepipeline/pipelines/"
        f"{codepipeline_name}/view?region={region}"
    )


@dataclass(frozen=True)
class ProvisionerCrash:
    """Lambda's on-failure record of a provisioner invocation that ended without recording a result
    (killed by its timeout or out of memory, or raised before the registry was reachable)."""

    pipeline_id: str
    version: int | None
    action: str
    cause: str

    @classmethod
    def parse(cls, event: dict[str, Any]) -> ProvisionerCrash | None:
        payload = event.get("requestPayload")
        context = event.get("requestContext")
        if not isinstance(payload, dict) or not isinstance(context, dict):
            return None
        pipeline_id, version = payload.get("pipeline_id"), payload.get("version")
        if not isinstance(pipeline_id, str) or not (version is None or isinstance(version, int)):
            return None
        response = event.get("responsePayload")
        detail = response.get("errorMessage") if isinstance(response, dict) else None
        cause = str(context.get("condition", "failed")) + (f": {detail}" if detail else "")
        return cls(pipeline_id, version, str(payload.get("action", "")), cause[:500])

    @property
    def left_statuses(self) -> frozenset[Status]:
        """The statuses the crashed run may have left behind: only a record still in one is marked
        FAILED. A provision run that ended before its claim (killed early, or its event expired in
        Lambda's queue) left its version QUEUED; that is only known for a payload naming its version."""
        if self.action == "delete":
            return frozenset({Status.DELETING})
        if self.action == "drift":
            # A drift check writes nothing but its result: its crash leaves nothing to fail.
            return frozenset()
        if self.version is None:
            return frozenset({Status.PROVISIONING})
        return frozenset({Status.PROVISIONING, Status.QUEUED})

    def last_error(self) -> str:
        return (
            "provisioner-crashed (retryable): the provisioner ended without recording a result "
            f"({self.cause}); send the request again"
        )
