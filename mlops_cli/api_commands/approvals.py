"""`mlops approve|reject`: answer a multi-account pipeline's pending manual approval."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from mlops_cli.api_commands.calls import EXIT_FAILED, api_errors, connect
from mlops_cli.api_commands.options import ApiUrlOption, PipelineIdArg, ProfileOption, RegionOption, YesOption
from mlops_cli.api_commands.render import follow_hint, headline, text
from mlops_spec.approvals import APPROVAL_STAGES, COMMENT_LIMIT

StageOption = Annotated[
    str | None,
    typer.Option(
        "--stage",
        help=f"The approval stage to answer ({' or '.join(APPROVAL_STAGES)}); it must be the pending one "
        "(default: the one pending).",
    ),
]
CommentOption = Annotated[
    str | None,
    typer.Option("--comment", help=f"Why (at most {COMMENT_LIMIT} characters); recorded with your identity."),
]
_VERBS = {"approve": "approved", "reject": "rejected"}


def _answer_approval(
    decision: str,
    pipeline_id: str,
    stage: str | None,
    comment: str | None,
    api_url: str | None,
    region: str | None,
    profile: str | None,
) -> None:
    """Send the decision (POST /pipelines/{id}/approval) and print which approval it answered."""
    with api_errors():
        answer = connect(api_url, region, profile).answer_approval(pipeline_id, decision, stage, comment)
    answered = text(answer.get("stage") or stage or "the pending approval")
    console = Console()
    console.print(headline(answer.get("pipeline_id", pipeline_id), f"{answered} {_VERBS[decision]}"))
    who = answer.get(f"{_VERBS[decision]}_by")
    if who or answer.get("requested_by"):
        # Both principals, as the registry keeps them (separation of duties).
        requested = text(answer.get("requested_by") or "unknown")
        console.print(f"{_VERBS[decision]} by {text(who or 'an unidentified caller')}; requested by {requested}")


def _check_approval_options(stage: str | None, comment: str | None) -> None:
    """Catch what the API would refuse before asking anything: one line on stderr and exit 1."""
    problem = None
    if stage is not None and stage not in APPROVAL_STAGES:
        problem = f"--stage must be one of {', '.join(APPROVAL_STAGES)} (got {stage!r})"
    elif comment is not None and len(comment) > COMMENT_LIMIT:
        problem = f"--comment must be at most {COMMENT_LIMIT} characters (got {len(comment)})"
    if problem:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(EXIT_FAILED)


def approve(
    pipeline_id: PipelineIdArg,
    stage: StageOption = None,
    comment: CommentOption = None,
    api_url: ApiUrlOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Approve the pipeline's pending manual approval, promoting it to the next environment."""
    _check_approval_options(stage, comment)
    _answer_approval("approve", pipeline_id, stage, comment, api_url, region, profile)
    Console().print(follow_hint(pipeline_id))


def reject(
    pipeline_id: PipelineIdArg,
    stage: StageOption = None,
    comment: CommentOption = None,
    yes: YesOption = False,
    api_url: ApiUrlOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Reject the pipeline's pending manual approval: its promotion stops (the pipeline becomes REJECTED)."""
    _check_approval_options(stage, comment)
    if not yes:
        which = f"the {stage} approval" if stage else "the pending approval"
        typer.confirm(f"Reject {which} of pipeline {pipeline_id} and stop its promotion?", abort=True)
    _answer_approval("reject", pipeline_id, stage, comment, api_url, region, profile)
