"""A delivery pipeline's manual approvals: stage names, the decisions, and the comment limit.

Shared by the API function, the CLI and the OpenAPI document. No pydantic here: the API function
imports this at cold start.
"""

from __future__ import annotations

from mlops_spec.environments import ENVIRONMENTS

# Our word for a decision -> CodePipeline's approval status.
DECISIONS: dict[str, str] = {"approve": "Approved", "reject": "Rejected"}


def approval_stage(environment: str) -> str:
    """The manual approval stage (and its one action) guarding `environment`: `ApproveStaging`."""
    return f"Approve{environment.capitalize()}"


def deploy_stage(environment: str) -> str:
    """The stage (and its one action) deploying `environment` in a multi-account run: `DeployProd`."""
    return f"Deploy{environment.capitalize()}"


# The manual approval stages of a multi-account delivery pipeline, in promotion order: every
# environment after the first is guarded by one (components/delivery/stages.py builds them).
APPROVAL_STAGES: tuple[str, ...] = tuple(approval_stage(env) for env in ENVIRONMENTS[1:])
# CodePipeline takes at most 512 characters of approval summary.
COMMENT_LIMIT = 512
