"""A pipeline's normalised status: the registry record plus its delivery pipeline's stages and approvals."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from lambda_src.api.drift import drift_state
from lambda_src.api.shadow_metrics import shadow_test
from lambda_src.common import aws
from lambda_src.common.settings import settings
from lambda_src.common.submission import stack_names
from lambda_src.registry import PipelineRecord
from mlops_spec.approvers import Principal

logger = Logger(child=True)

# CodePipeline stage/action execution statuses -> ours (one vocabulary for stages and actions).
_EXECUTION_STATUS = {
    "InProgress": "IN_PROGRESS",
    "Succeeded": "SUCCEEDED",
    "Failed": "FAILED",
    "Stopped": "STOPPED",
    "Stopping": "STOPPING",
    "Cancelled": "CANCELLED",
    "Abandoned": "ABANDONED",
}
NOT_STARTED = "NOT_STARTED"


def _status(execution: dict[str, Any] | None) -> str:
    raw = (execution or {}).get("status")
    return _EXECUTION_STATUS.get(str(raw), str(raw).upper()) if raw else NOT_STARTED


def _error(execution: dict[str, Any] | None) -> str | None:
    details = (execution or {}).get("errorDetails")
    if not details:
        return None
    code, message = details.get("code"), details.get("message")
    return f"{code}: {message}" if code and message else (message or code)


def _waiting(action: dict[str, Any]) -> bool:
    """A manual approval waiting for an answer: only those carry a token, and only while in progress."""
    latest = action.get("latestExecution") or {}
    return bool(latest.get("token")) and latest.get("status") == "InProgress"


def normalise_pipeline_state(state: dict[str, Any]) -> dict[str, Any]:
    """GetPipelineState -> {stages: [{name, status, actions: [{name, status, last_error}]}],
    pending_approvals: [{stage, action}], last_error}.

    Never the approval tokens: whoever may read a status is not thereby allowed to answer an approval
    (the approval handler reads the token from CodePipeline itself, see `approval_tokens`)."""
    stages: list[dict[str, Any]] = []
    approvals: list[dict[str, Any]] = []
    last_error: str | None = None
    for stage in state.get("stageStates", []):
        actions = []
        for action in stage.get("actionStates", []):
            latest = action.get("latestExecution")
            error = _error(latest)
            last_error = last_error or error
            actions.append({"name": action.get("actionName"), "status": _status(latest), "last_error": error})
            if _waiting(action):
                approvals.append({"stage": stage.get("stageName"), "action": action.get("actionName")})
        stages.append(
            {"name": stage.get("stageName"), "status": _status(stage.get("latestExecution")), "actions": actions}
        )
    return {"stages": stages, "pending_approvals": approvals, "last_error": last_error}


def approval_tokens(state: dict[str, Any]) -> list[dict[str, Any]]:
    """GetPipelineState -> the approvals waiting for an answer, with their tokens and the run they belong
    to: [{stage, action, token, execution_id}]. For answering them only (lambda_src/api/approvals.py);
    no answer of the API carries a token."""
    return [
        {
            "stage": stage.get("stageName"),
            "action": action.get("actionName"),
            "token": action["latestExecution"]["token"],
            "execution_id": (stage.get("latestExecution") or {}).get("pipelineExecutionId"),
        }
        for stage in state.get("stageStates", [])
        for action in stage.get("actionStates", [])
        if _waiting(action)
    ]


def delivery_state(pipeline_name: str) -> dict[str, Any]:
    """The normalised state of a delivery pipeline; a read failure is reported, not raised.

    The registry status is still worth returning when CodePipeline cannot be read.
    """
    try:
        state = aws.client("codepipeline").get_pipeline_state(name=pipeline_name)
    except Exception as exc:
        code = aws.error_code(exc)
        if code is None:
            from botocore.exceptions import BotoCoreError

            if not isinstance(exc, BotoCoreError):
                raise
            # Timeouts and connection failures: the registry's answer is still worth giving.
            code = type(exc).__name__
        if code != "PipelineNotFoundException":
            logger.warning("could not read the delivery pipeline", pipeline=pipeline_name, error_code=code)
        note = "not created yet or deleted" if code == "PipelineNotFoundException" else f"unreadable ({code})"
        return {"stages": [], "pending_approvals": [], "last_error": None, "delivery_pipeline_state": note}
    return normalise_pipeline_state(state)


def summary(record: PipelineRecord) -> dict[str, Any]:
    """A record as listed by GET /pipelines."""
    return {
        "pipeline_id": record.pipeline_id,
        "pipeline_type": record.pipeline_type,
        "status": str(record.status),
        "version": record.version,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "last_error": record.last_error,
        # The last drift check's verdict (mlops list's column); its details: GET /pipelines/{id}/drift.
        "drift": drift_state(record.drift),
        # A monitor's block on its promotions (on_violation: block): who, which run, when; null when none.
        "blocked": blocked_state(record.blocked),
    }


def blocked_state(blocked: dict[str, Any] | None) -> dict[str, Any] | None:
    """A block as the API shows it, with how to lift it."""
    if not blocked:
        return None
    shown = {key: blocked.get(key) for key in ("monitor", "run", "environment", "at")}
    return {**shown, "lift": "send the pipeline a new request version (mlops provision) as yourself"}


def answered_approvals(record: PipelineRecord) -> list[dict[str, Any]]:
    """The current version's answered approvals as a status shows them: who answered (ARN, else principal
    id), what and when."""
    answered = []
    for entry in record.approvals:
        item = {"stage": entry.get("stage"), "decision": entry.get("decision"), "at": entry.get("at")}
        for who in ("approved_by", "rejected_by"):
            if who in entry:
                item[who] = Principal.from_dict(entry[who]).label()
        if entry.get("comment"):
            item["comment"] = entry["comment"]
        answered.append(item)
    return answered


def pipeline_status(record: PipelineRecord) -> dict[str, Any]:
    """GET /pipelines/{id} and POST /pipelinestatus: the registry state (with who requested this version
    and who answered its approvals) and, once it exists, the delivery pipeline's stages and pending
    approvals."""
    body = {
        **summary(record),
        "requested_by": Principal.from_dict(record.requested_by).label(),
        "approvals": answered_approvals(record),
        "environments": list(record.environments),
        "stacks": stack_names(record.pipeline_id, record.environments) if record.environments else [],
        "source": record.source,
        "outputs": record.outputs,
        "errors": list(record.errors),
        "codepipeline_name": record.codepipeline_name,
        "spec": record.spec_document(),
        "stages": [],
        "pending_approvals": [],
    }
    if record.codepipeline_name:
        delivery = delivery_state(record.codepipeline_name)
        body["last_error"] = record.last_error or delivery.pop("last_error")
        body.update({k: v for k, v in delivery.items() if k != "last_error"})
    shadow = shadow_test(body["spec"], record.outputs, settings().orchestrator_environment)
    if shadow is not None:
        # A shadow-tested endpoint: both variants' invocations, errors and latency, side by side.
        body["shadow_test"] = shadow
    return body
