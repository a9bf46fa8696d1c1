"""POST /pipelines/{id}/approval: approve or reject the pending manual approval of a pipeline's delivery pipeline.

Separation of duties (mlops_spec/approvers.py) is checked before CodePipeline is asked anything that
changes it: a caller who is not an approver of the environment, the requester of the version
approving its promotion to prod (or anyone, when that requester is not recorded), or an approval at a
stage that promotes into no environment of ours, gets 403 and no answer is sent. The token comes from
CodePipeline itself, never from the caller. CodePipeline's summary names both principals (the record of
last resort); the registry record of the answer, with both, is best effort.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from lambda_src.api.pipelines import find
from lambda_src.api.status import approval_tokens
from lambda_src.common import aws
from lambda_src.common.errors import ApiError, Conflict, InvalidRequest, field_error, invalid
from lambda_src.common.settings import Settings
from lambda_src.registry import EXECUTION_PENDING, PipelineRecord, now
from lambda_src.registry.approvals import record_approval
from mlops_spec.approvals import APPROVAL_STAGES, COMMENT_LIMIT, DECISIONS, approval_stage
from mlops_spec.approvers import APPROVAL_ENVIRONMENTS, ApprovalRules, Principal

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


# The environment each approval stage promotes into: ApproveProd -> prod.
_ENVIRONMENT_OF = {approval_stage(env): env for env in APPROVAL_ENVIRONMENTS}
_ANSWERED_BY = {"approve": "approved_by", "reject": "rejected_by"}


class Forbidden(ApiError):
    """The caller may not give this answer: the errors say why (separation of duties)."""

    status_code = 403


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

    def summary(self, caller: str | None, requester: str | None) -> str:
        """What CodePipeline records with the decision: who answered and who requested (the audit trail
        that stays when the registry's record of the answer could not be written), then the comment."""
        verb = "approved" if self.decision == "approve" else "rejected"
        text = f"{verb} by {caller or 'an unidentified caller'} via the mlops API"
        text += f"; requested by {requester or 'an unrecorded requester'}"
        if self.comment:
            text += f": {self.comment}"
        return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 1] + "\u2026"


def answer(pipeline_id: Any, request: ApprovalRequest, caller: Principal, settings: Settings) -> dict[str, Any]:
    """Find the pipeline's pending approval (the one at `request.stage`, if given), check that `caller`
    may give this answer, answer it, and record who requested and who answered."""
    record = find(pipeline_id, settings)
    approval = _choose(record, _pending_approvals(record), request.stage)
    stale = _stale_run(record, approval, request.decision)
    refuse_while_blocked(record, request.decision)
    # The record's requester is its current version's; an earlier version's run has none we know.
    requester = Principal() if stale else Principal.from_dict(record.requested_by)
    barred = () if stale else tuple(Principal.from_dict(other) for other in record.barred)
    check_duties(record, approval["stage"], request.decision, caller, requester, settings.approval_rules, barred)
    _put_result(record, approval, request, caller, requester)
    answered_at = now()
    entry = {
        "stage": approval["stage"],
        "action": approval["action"],
        "environment": _ENVIRONMENT_OF.get(approval["stage"]),
        "decision": request.decision,
        _ANSWERED_BY[request.decision]: caller.as_dict(),
        "requested_by": requester.as_dict(),
        "version": None if stale else record.version,
        "at": answered_at,
        "comment": request.comment,
    }
    entry = {key: value for key, value in entry.items() if value is not None}
    if stale:
        # The record holds a newer version, whose approvals these are not: CodePipeline's summary keeps it.
        logger.info("approval of an earlier version's run answered", execution_id=approval.get("execution_id"))
    else:
        _record(record, entry, settings)
    logger.info("approval answered", pipeline_id=record.pipeline_id, **{k: v for k, v in entry.items() if k != "at"})
    return {
        "pipeline_id": record.pipeline_id,
        "stage": approval["stage"],
        "action": approval["action"],
        "decision": request.decision,
        _ANSWERED_BY[request.decision]: caller.label(),
        "requested_by": requester.label(),
        "answered_at": answered_at,
    }


def check_duties(
    record: PipelineRecord,
    stage: str,
    decision: str,
    caller: Principal,
    requester: Principal,
    rules: ApprovalRules,
    barred: tuple[Principal, ...] = (),
) -> None:
    """403 naming every reason `caller` may not give `decision` at `stage`; nothing is sent then. A stage
    that promotes into no environment of ours is refused (naming it): none of the rules could be checked.
    `barred`: who else may not approve the version into prod (the requester of what a rollback sends again)."""
    environment = _ENVIRONMENT_OF.get(stage)
    problems = rules.refusals(environment, decision, caller, requester, barred)
    if problems:
        who = caller.label() or "an unidentified caller"
        what = f"the promotion of pipeline {record.pipeline_id} to {environment}"
        if environment is None:
            what = f"the approval at stage {stage} of pipeline {record.pipeline_id}"
        field = "(caller)" if environment else "stage"
        raise Forbidden(f"{who} may not {decision} {what}", [field_error(field, problem) for problem in problems])


def refuse_while_blocked(record: PipelineRecord, decision: str) -> None:
    """409 for approving a promotion of a pipeline a monitor blocked (on_violation: block): it waits for a
    person to send a new request version. Rejecting stays possible (it stops the run)."""
    if not record.blocked or decision != "approve":
        return
    monitor, run = record.blocked.get("monitor", "unknown"), record.blocked.get("run", "unknown")
    raise Conflict(
        f"pipeline {record.pipeline_id} is blocked by monitor {monitor} (run {run}, {record.blocked.get('at', '')}):"
        " its promotions may not be approved; to lift the block, send the pipeline a new request version"
        " (mlops provision) as yourself",
        [field_error("pipeline_id", f"is blocked by monitor {monitor}")],
    )


def _stale_run(record: PipelineRecord, approval: dict[str, Any], decision: str) -> bool:
    """Whether the waiting approval belongs to another run than the record's version (a newer version was
    queued meanwhile; records written before runs were tracked have no execution id: nothing to compare).
    Rejecting it is safe (it stops an old run); approving it is a 409: its requester is not the record's."""
    if record.execution_id is None or approval.get("execution_id") == record.execution_id:
        return False
    if decision == "reject":
        return True
    run = "has not started yet" if record.execution_id == EXECUTION_PENDING else f"is {record.execution_id}"
    raise Conflict(
        f"the approval {_label(approval)} of pipeline {record.pipeline_id} waits in run "
        f"{approval.get('execution_id')}, not in version {record.version}'s run (which {run}); it may only be "
        "rejected; see its status"
    )


def _put_result(
    record: PipelineRecord, approval: dict[str, Any], request: ApprovalRequest, caller: Principal, requester: Principal
) -> None:
    """Answer the approval in CodePipeline; 409 when it was answered (or went away) meanwhile."""
    summary = request.summary(caller.label(), requester.label())
    try:
        aws.client("codepipeline").put_approval_result(
            pipelineName=record.codepipeline_name,
            stageName=approval["stage"],
            actionName=approval["action"],
            result={"summary": summary, "status": DECISIONS[request.decision]},
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


def _record(record: PipelineRecord, entry: dict[str, Any], settings: Settings) -> None:
    """Keep the answer on the record. CodePipeline has taken it already (with the caller in its summary),
    so a failure here is logged, not answered: the caller could not send the same answer again."""
    try:
        if not record_approval(settings.registry_table, record.pipeline_id, record.version, entry):
            logger.warning(
                "approval not recorded: the pipeline moved to another version", pipeline_id=record.pipeline_id
            )
    except Exception:
        logger.exception("approval not recorded", pipeline_id=record.pipeline_id)


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
    return approval_tokens(state)


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
