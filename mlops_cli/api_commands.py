"""`mlops provision|status|list|delete|approve|reject`: drive a deployed orchestrator's API and show its answers."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from mlops_cli.api_client import ApiClient, ApiError
from mlops_cli.validate_command import ModeOption, RegistryOption, RequestFile, load_and_check
from mlops_spec.approvals import APPROVAL_STAGES, COMMENT_LIMIT

# --wait stops on these; AWAITING_APPROVAL because only a person can move the pipeline on.
STOP_STATUSES = frozenset({"DEPLOYED", "FAILED", "REJECTED", "DELETED", "AWAITING_APPROVAL"})
EXIT_FAILED = 1
EXIT_TIMEOUT = 3
EXIT_AWAITING_APPROVAL = 4
EXIT_BY_STATUS = {
    "DEPLOYED": 0,
    "DELETED": 0,
    "FAILED": EXIT_FAILED,
    "REJECTED": EXIT_FAILED,
    "AWAITING_APPROVAL": EXIT_AWAITING_APPROVAL,
}
_STYLES = {"DEPLOYED": "green", "SUCCEEDED": "green", "FAILED": "red", "REJECTED": "red", "AWAITING_APPROVAL": "yellow"}

ApiUrlOption = Annotated[
    str | None,
    typer.Option(
        "--api-url", help="Orchestrator API URL [default: $MLOPS_API_URL, else `pulumi stack output apiUrl`]."
    ),
]
RegionOption = Annotated[
    str | None, typer.Option("--region", help="Region to sign for [default: from the URL, else the AWS session].")
]
ProfileOption = Annotated[str | None, typer.Option("--profile", help="AWS profile for credentials.")]
PipelineIdArg = Annotated[str, typer.Argument(help="Pipeline id, e.g. churn-xgb-realtime-builtin.", show_default=False)]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the API's JSON answer instead of tables (for scripts).")
]


# -- plumbing -----------------------------------------------------------------------------------


@contextmanager
def _api_errors() -> Iterator[None]:
    """Turn an ApiError into its message (plus one line per field error) on stderr and exit 1."""
    try:
        yield
    except ApiError as exc:
        _print_api_error(exc)
        raise typer.Exit(EXIT_FAILED) from None


def _print_api_error(exc: ApiError) -> None:
    prefix = f"error (HTTP {exc.status})" if exc.status and exc.status < 500 else "error"
    typer.echo(f"{prefix}: {exc.message}", err=True)
    for error in exc.errors:
        typer.echo(f"  {error}", err=True)


def _text(value: Any) -> str:
    """A value as one escaped line for a table cell or message."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return escape(text)


def _styled(status: Any) -> str:
    text = _text(status or "UNKNOWN")
    style = _STYLES.get(str(status))
    return f"[{style}]{text}[/{style}]" if style else text


def _print_json(body: Any) -> None:
    """An API answer as JSON on stdout, unstyled."""
    typer.echo(json.dumps(body, indent=2))


def _describe(item: Any) -> str:
    """An approval or error: `stage / action`, `field: problem`, then its other fields as k=v."""
    if not isinstance(item, dict):
        return _text(item)
    named = ("stage", "action", "name", "field", "problem")
    where = " / ".join(_text(item[k]) for k in named[:3] if item.get(k))
    problem = ": ".join(_text(item[k]) for k in named[3:] if item.get(k))
    rest = ", ".join(f"{_text(k)}={_text(v)}" for k, v in item.items() if k not in named)
    return ": ".join(part for part in (where, problem, rest) if part)


# -- provision ----------------------------------------------------------------------------------


def provision(
    file: RequestFile,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Let the orchestrator validate only; create nothing.")
    ] = False,
    # Checked locally in multi-account mode unless told otherwise: it accepts every single-account
    # request too, so a request is never refused here that the orchestrator would take.
    mode: ModeOption = "multi",
    model_registry: RegistryOption = False,
    api_url: ApiUrlOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Validate a pipeline request locally, then send it to the orchestrator (POST /provisionpipeline)."""
    body, _ = load_and_check(file, mode, model_registry)
    with _api_errors():
        answer = ApiClient.connect(api_url, region, profile).provision(body, dry_run=dry_run)
    console = Console()
    pipeline_id = answer.get("pipeline_id", "?")
    if dry_run:
        console.print(
            f"dry run: the orchestrator accepts pipeline [bold]{_text(pipeline_id)}[/bold]; nothing was created"
        )
        console.print_json(data=answer)
        return
    replay = " (the same request was sent before: nothing new was queued)" if answer.get("idempotent_replay") else ""
    console.print(f"pipeline [bold]{_text(pipeline_id)}[/bold]: {_styled(answer.get('status'))}{replay}")
    if answer.get("stacks"):
        console.print("stacks: " + ", ".join(_text(stack) for stack in answer["stacks"]))
    console.print(f"follow it with: mlops status {_text(pipeline_id)} --wait")


# -- status -------------------------------------------------------------------------------------


def _action(action: Any) -> str:
    """`name: STATUS`, plus the action's last error when it has one."""
    if not isinstance(action, dict):
        return _text(action)
    error = f" ([red]{_text(action['last_error'])}[/red])" if action.get("last_error") else ""
    return f"{_text(action.get('name', '?'))}: {_styled(action.get('status'))}{error}"


def _stages_table(stages: list[Any]) -> Table:
    table = Table("stage", "status", "actions", title="stages", title_justify="left")
    for stage in stages:
        stage = stage if isinstance(stage, dict) else {"name": stage}
        cells = [_action(action) for action in stage.get("actions") or []]
        table.add_row(_text(stage.get("name", "?")), _styled(stage.get("status")), "\n".join(cells))
    return table


def _outputs_table(outputs: dict[str, Any]) -> Table:
    table = Table("output", "value", title="outputs", title_justify="left")
    for key, value in outputs.items():
        table.add_row(_text(key), _text(value))
    return table


def render_status(console: Console, status: dict[str, Any]) -> None:
    """A pipeline's status: headline, stages with their actions, pending approvals, last error, outputs."""
    console.print(f"pipeline [bold]{_text(status.get('pipeline_id', '?'))}[/bold]: {_styled(status.get('status'))}")
    if isinstance(status.get("stages"), list) and status["stages"]:
        console.print(_stages_table(status["stages"]))
    for approval in status.get("pending_approvals") or []:
        console.print(f"[yellow]awaiting approval[/yellow]: {_describe(approval)}")
    if status.get("last_error"):
        console.print(f"[red]last error[/red]: {_describe(status['last_error'])}")
    for error in status.get("errors") or []:
        console.print(f"[red]error[/red]: {_describe(error)}")
    if status.get("delivery_pipeline_state"):
        console.print(f"delivery pipeline: {_text(status['delivery_pipeline_state'])}")
    if isinstance(status.get("outputs"), dict) and status["outputs"]:
        console.print(_outputs_table(status["outputs"]))


class _TimedOut(Exception):
    def __init__(self, last: dict[str, Any] | None, reason: str):
        super().__init__(reason)
        self.last = last
        self.reason = reason


def _poll(client: ApiClient, pipeline_id: str) -> tuple[dict[str, Any] | None, str]:
    """One look at the pipeline: (status or None, what to show). Transient failures are not fatal."""
    try:
        status = client.get_pipeline(pipeline_id)
    except ApiError as exc:
        if not exc.retryable:
            raise
        return None, f"retrying: {exc.message}"
    return status, str(status.get("status") or "UNKNOWN")


def wait_for(client: ApiClient, pipeline_id: str, timeout: float, interval: float) -> dict[str, Any]:
    """Poll until the pipeline reaches a stop status; _TimedOut with the last answer when time runs out."""
    deadline = time.monotonic() + timeout
    last: dict[str, Any] | None = None
    spinner = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        transient=True,
        console=Console(stderr=True),
    )
    with spinner:
        task = spinner.add_task(f"waiting for {escape(pipeline_id)}", total=None)
        while True:
            status, shown = _poll(client, pipeline_id)
            last = status or last
            if status and status.get("status") in STOP_STATUSES:
                return status
            spinner.update(task, description=f"{escape(pipeline_id)}: {escape(shown)}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _TimedOut(last, shown)
            time.sleep(min(interval, remaining))


def status(
    pipeline_id: PipelineIdArg,
    wait: Annotated[
        bool, typer.Option("--wait", help="Poll until deployed, failed, rejected, deleted or awaiting approval.")
    ] = False,
    timeout: Annotated[float, typer.Option("--timeout", min=0.0, help="Seconds --wait may take.")] = 1800.0,
    interval: Annotated[float, typer.Option("--interval", min=0.01, help="Seconds between polls.")] = 15.0,
    as_json: JsonOption = False,
    api_url: ApiUrlOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Show a pipeline's status: stages, actions, pending approvals, last error and outputs.

    Without --wait the exit code is 0 whenever the status could be read. With --wait: 0 deployed
    (or deleted), 1 failed or rejected, 3 timed out, 4 awaiting approval.
    """
    console = Console()

    def show(answer: dict[str, Any]) -> None:
        if as_json:
            _print_json(answer)
        else:
            render_status(console, answer)

    with _api_errors():
        client = ApiClient.connect(api_url, region, profile)
        if not wait:
            show(client.get_pipeline(pipeline_id))
            return
        try:
            answer = wait_for(client, pipeline_id, timeout, interval)
        except _TimedOut as exc:
            if exc.last:
                show(exc.last)
            typer.echo(f"timed out after {timeout:g} s waiting for {pipeline_id} (last: {exc.reason})", err=True)
            raise typer.Exit(EXIT_TIMEOUT) from None
    show(answer)
    raise typer.Exit(EXIT_BY_STATUS.get(str(answer.get("status")), 0))


# -- list ---------------------------------------------------------------------------------------


def _pages(client: ApiClient, limit: int | None, everything: bool, **filters: str | None) -> Iterator[dict[str, Any]]:
    """Pages of GET /pipelines; with `everything`, follows next_token until the last page."""
    token: str | None = None
    seen: set[str] = set()
    while True:
        page = client.list_pipelines(limit=limit, next_token=token, **filters)
        yield page
        token = page.get("next_token")
        if not everything or not token or token in seen:
            return
        seen.add(token)


def _pipelines_table(items: list[dict[str, Any]]) -> Table:
    table = Table("pipeline", "type", "status", "updated")
    for item in items:
        updated = item.get("updated_at") or item.get("created_at") or ""
        table.add_row(
            _text(item.get("pipeline_id", "?")),
            _text(item.get("pipeline_type", "")),
            _styled(item.get("status")),
            _text(updated),
        )
    return table


def list_pipelines(
    pipeline_type: Annotated[str | None, typer.Option("--type", help="Only this pipeline_type.")] = None,
    status_filter: Annotated[str | None, typer.Option("--status", help="Only pipelines in this status.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Pipelines per page.")] = None,
    everything: Annotated[bool, typer.Option("--all", help="Follow next_token through every page.")] = False,
    as_json: JsonOption = False,
    api_url: ApiUrlOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """List pipelines known to the orchestrator."""
    items: list[dict[str, Any]] = []
    more: str | None = None
    pages: list[dict[str, Any]] = []
    with _api_errors():
        client = ApiClient.connect(api_url, region, profile)
        for page in _pages(client, limit, everything, pipeline_type=pipeline_type, status=status_filter):
            pages.append(page)
            items += [item for item in page.get("pipelines") or [] if isinstance(item, dict)]
            more = page.get("next_token")
    if as_json:
        # One page as answered; with --all, every page's pipelines in one body of the same shape.
        _print_json(pages[0] if len(pages) == 1 else {"pipelines": items, "next_token": more})
        return
    console = Console()
    if not items:
        console.print("no pipelines")
    else:
        console.print(_pipelines_table(items))
    if more and not everything:
        console.print("more pipelines exist: add --all to list them all")


# -- delete -------------------------------------------------------------------------------------


def delete(
    pipeline_id: PipelineIdArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    api_url: ApiUrlOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Delete a pipeline: destroy its target stacks, then its delivery stack."""
    if not yes:
        typer.confirm(f"Delete pipeline {pipeline_id} and destroy its stacks?", abort=True)
    with _api_errors():
        answer = ApiClient.connect(api_url, region, profile).delete_pipeline(pipeline_id)
    state = _styled(answer["status"]) if answer.get("status") else "deletion requested"
    Console().print(f"pipeline [bold]{_text(answer.get('pipeline_id', pipeline_id))}[/bold]: {state}")
    Console().print(f"follow it with: mlops status {_text(pipeline_id)} --wait")


# -- approve / reject ---------------------------------------------------------------------------

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
    with _api_errors():
        answer = ApiClient.connect(api_url, region, profile).answer_approval(pipeline_id, decision, stage, comment)
    verb = "approved" if decision == "approve" else "rejected"
    answered = _text(answer.get("stage") or stage or "the pending approval")
    Console().print(f"pipeline [bold]{_text(answer.get('pipeline_id', pipeline_id))}[/bold]: {answered} {verb}")


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
    Console().print(f"follow it with: mlops status {_text(pipeline_id)} --wait")


def reject(
    pipeline_id: PipelineIdArg,
    stage: StageOption = None,
    comment: CommentOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
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
