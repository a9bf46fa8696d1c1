"""Answering a delivery pipeline's manual approval: the decisions, the approval stages and the comment limit.

Shared by the API function, the CLI and the OpenAPI document. No pydantic here: the API function
imports this at cold start.
"""

from __future__ import annotations

# Our word for a decision -> CodePipeline's approval status.
DECISIONS: dict[str, str] = {"approve": "Approved", "reject": "Rejected"}
# The manual approval stages of a multi-account delivery pipeline (components/delivery.py names each
# stage and its one action `Approve<Env>`), in promotion order.
APPROVAL_STAGES: tuple[str, ...] = ("ApproveStaging", "ApproveProd")
# CodePipeline takes at most 512 characters of approval summary.
COMMENT_LIMIT = 512
