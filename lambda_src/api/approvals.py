"""POST /pipelines/{id}/approval: approve or reject the pending manual approval of a pipeline's delivery pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from lambda_src.api.pipelines import find
from lambda_src.api.status import normalise_pipeline_state
from lambda_src.common import aws
from lambda_src.common.errors import Conflict, InvalidRequest, field_error, invalid
from lambda_src.common.settings import Settings
from lambda_src.registry import PipelineRecord
from mlops_spec.approvals import APPROVAL_STAGES, COMMENT_LIMIT, DECISIONS

logger = Logger(child=True)

FIELDS = ("decision", "comment", "stage")
# CodePipeline's limit on an approval result's summary.
SUMMARY_LIMIT = 512
# PutApprovalResult errors meaning the approval we read a moment ago is no longer waiting for an answer.
_NO_LONGER_PENDING = frozenset(
    {
        "InvalidApprovalTokenException",
        "ApprovalAlreadyCompletedException",
        "PipelineNotFoundException",
        "StageNotFoundException",
        "ActionNotFoundException",
    }
)


@dataclass(frozen=True)
class ApprovalRequest:
    decision: str
    comment: str | None = None
    stage: str | None = None

    @classmethod
    def parse(cls, body: Any) -> ApprovalRequest:
        """The request body, or InvalidRequest naming every bad or unknown field. null means absent
        for the optional fields; a blank comment is no comment."""
        if not isinstance(body, dict):
            raise invalid("(body)", "must be a JSON object", "request body must be a JSON object")
        errors = [field_error(str(key), "is not a known field") for key in sorted(body) if key not in FIELDS]
        decision = body.get("decision")
        if "decision" not in body:
            errors.append(field_error("decision", "is required"))
        elif not isinstance(decision, str) or decision not in DECISIONS:
            errors.append(field_error("decision", f"must be one of {', '.join(DECISIONS)}"))
        comment = body.get("comment")
        if comment is not None and not isinstance(comment, str):
            errors.append(field_error("comment", "must be a string"))
        elif comment is not None and len(comment) > COMMENT_LIMIT:
            errors.append(field_error("comment", f"must be at most {COMMENT_LIMIT} characters"))
        stage = body.get("stage")
        if stage is not None and (not isinstance(stage, str) or stage not in APPROVAL_STAGES):
            errors.append(field_error("stage", f"must be one of {', '.join(APPROVAL_STAGES)}"))
        if errors:
            raise InvalidRequest("invalid approval request", errors)
        return cls(str(decision), (comment or "").strip() or None, stage)

    def summary(self, caller: str | None) -> str:
        """What CodePipeline records with the decision: who answered (for the audit trail), then the comment."""
        verb = "approved" if self.decision == "approve" else "rejected"
        text = f"{verb} by {caller or 'an unidentified caller'} via the mlops API"
        if self.comment:
            text += f": {self.comment}"
        return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 1] + "\u2026"


def answer(pipeline_id: Any, request: ApprovalRequest, caller: str | None, settings: Settings) -> dict[str, Any]:
    """Find the pipeline's pending approval (the one at `request.stage`, if given) and answer it."""
    record = find(pipeline_id, settings)
    approval = _choose(record, _pending_approvals(record), request.stage)
    try:
        aws.client("codepipeline").put_approval_result(
            pipelineName=record.codepipeline_name,
            stageName=approval["stage"],
            actionName=approval["action"],
            result={"summary": request.summary(caller), "status": DECISIONS[request.decision]},
            token=approval["token"],
        )
    except Exception as exc:
        code = aws.error_code(exc)
        if code not in _NO_LONGER_PENDING:
            raise
        raise Conflict(
            f"the approval {_label(approval)} of pipeline {record.pipeline_id} is no longer pending ({code}); "
            f"see its status"
        ) from None
    logger.info(
        "approval answered",
        pipeline_id=record.pipeline_id,
        stage=approval["stage"],
        action=approval["action"],
        decision=request.decision,
        caller=caller,
    )
    return {
        "pipeline_id": record.pipeline_id,
        "stage": approval["stage"],
        "action": approval["action"],
        "decision": request.decision,
    }


def _pending_approvals(record: PipelineRecord) -> list[dict[str, Any]]:
    """The manual approvals of the pipeline's delivery pipeline that wait for an answer (with their tokens)."""
    if not record.codepipeline_name:
        raise Conflict(
            f"pipeline {record.pipeline_id} has no pending approval: "
            f"its delivery pipeline does not exist yet (status {record.status})"
        )
    try:
        state = aws.client("codepipeline").get_pipeline_state(name=record.codepipeline_name)
    except Exception as exc:
        if aws.error_code(exc) != "PipelineNotFoundException":
            raise
        raise Conflict(
            f"pipeline {record.pipeline_id} has no pending approval: "
            f"its delivery pipeline {record.codepipeline_name} does not exist (not created yet or deleted)"
        ) from None
    approvals: list[dict[str, Any]] = normalise_pipeline_state(state)["pending_approvals"]
    return approvals


def _choose(record: PipelineRecord, pending: list[dict[str, Any]], stage: str | None) -> dict[str, Any]:
    """The one approval to answer; 409 naming what is pending when that is not exactly one."""
    waiting = ", ".join(_label(approval) for approval in pending)
    if stage is not None:
        if not any(approval["stage"] == stage for approval in pending):
            now = f"pending: {waiting}" if pending else "no approval is pending"
            raise Conflict(f"pipeline {record.pipeline_id} is not waiting for approval at {stage} ({now})")
        pending = [approval for approval in pending if approval["stage"] == stage]
    if not pending:
        raise Conflict(f"pipeline {record.pipeline_id} has no pending approval (status {record.status})")
    if len(pending) > 1:
        raise Conflict(f"pipeline {record.pipeline_id} has more than one pending approval ({waiting}): give `stage`")
    return pending[0]


def _label(approval: dict[str, Any]) -> str:
    """`ApproveStaging` (stage and action share a name in our pipelines), else `stage/action`."""
    stage, action = approval["stage"], approval["action"]
    return str(stage) if stage == action else f"{stage}/{action}"
