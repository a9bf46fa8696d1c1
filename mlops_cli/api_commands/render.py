"""How the orchestrator's answers look on a terminal: styled statuses, one-line descriptions, tables and JSON.

The commands decide what to show; this module decides how it reads.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mlops_cli.api_commands.shadow_table import shadow_tables
from mlops_spec.status import Status

if TYPE_CHECKING:
    from mlops_cli.api_client import ApiError

# Green when done, red when failed or rejected, yellow when a person must act. SUCCEEDED is not a
# pipeline status but a stage's or an action's (CodePipeline's word).
_STYLES = {
    Status.DEPLOYED: "green",
    "SUCCEEDED": "green",
    Status.FAILED: "red",
    Status.REJECTED: "red",
    Status.AWAITING_APPROVAL: "yellow",
}
# A pipeline's drift state (the API's word) as `mlops list` and `mlops drift` show it.
_DRIFT = {
    "IN_SYNC": "[green]in sync[/green]",
    "DRIFTED": "[red]drifted[/red]",
    "UNKNOWN": "[yellow]unknown[/yellow]",
    "NOT_CHECKED": "not checked",
}
# Fields of an approval or error that say where and what; the others follow as k=v.
_WHERE = ("stage", "action", "name")
_WHAT = ("field", "problem")


def text(value: Any) -> str:
    """A value as one escaped line for a table cell or message."""
    shown = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return escape(shown)


def styled(status: Any) -> str:
    """A status in its colour (see _STYLES); other statuses as they are."""
    shown = text(status or "UNKNOWN")
    style = _STYLES.get(str(status))
    return f"[{style}]{shown}[/{style}]" if style else shown


def drift_label(state: Any) -> str:
    """A drift state in words and colour; blank when the orchestrator sent none (one older than drift
    detection), the value as it is when it is not one we know."""
    if state is None:
        return ""
    return _DRIFT.get(str(state), text(state))


def headline(pipeline_id: Any, state: str) -> str:
    """`pipeline <id>: <state>`, the first line of every answer about one pipeline."""
    return f"pipeline [bold]{text(pipeline_id)}[/bold]: {state}"


def follow_hint(pipeline_id: str) -> str:
    """The command that shows where a pipeline goes next."""
    return f"follow it with: mlops status {text(pipeline_id)} --wait"


def print_new_version(answer: dict[str, Any], pipeline_id: str, what: str) -> None:
    """The answer of an action that queued a new version of a pipeline (reconcile, promote): its state,
    the version and `what` it holds, and how to follow it."""
    console = Console()
    version = f" (version {text(answer['version'])}, {what})" if answer.get("version") else ""
    console.print(headline(answer.get("pipeline_id", pipeline_id), styled(answer.get("status"))) + version)
    console.print(follow_hint(pipeline_id))


def print_json(body: Any) -> None:
    """An API answer as JSON on stdout, unstyled."""
    typer.echo(json.dumps(body, indent=2))


def print_api_error(exc: ApiError) -> None:
    """The error on stderr: its message (with the HTTP status of a client error), then one line per field error."""
    prefix = f"error (HTTP {exc.status})" if exc.status and exc.status < 500 else "error"
    typer.echo(f"{prefix}: {exc.message}", err=True)
    for error in exc.errors:
        typer.echo(f"  {error}", err=True)


def describe(item: Any) -> str:
    """An approval or error: `stage / action`, `field: problem`, then its other fields as k=v."""
    if not isinstance(item, dict):
        return text(item)
    where = " / ".join(text(item[key]) for key in _WHERE if item.get(key))
    problem = ": ".join(text(item[key]) for key in _WHAT if item.get(key))
    rest = ", ".join(f"{text(key)}={text(value)}" for key, value in item.items() if key not in _WHERE + _WHAT)
    return ": ".join(part for part in (where, problem, rest) if part)


# -- one pipeline's status ------------------------------------------------------------------------


def _action(action: Any) -> str:
    """`name: STATUS`, plus the action's last error when it has one."""
    if not isinstance(action, dict):
        return text(action)
    error = f" ([red]{text(action['last_error'])}[/red])" if action.get("last_error") else ""
    return f"{text(action.get('name', '?'))}: {styled(action.get('status'))}{error}"


def _stages_table(stages: list[Any]) -> Table:
    table = Table("stage", "status", "actions", title="stages", title_justify="left")
    for stage in stages:
        stage = stage if isinstance(stage, dict) else {"name": stage}
        cells = [_action(action) for action in stage.get("actions") or []]
        table.add_row(text(stage.get("name", "?")), styled(stage.get("status")), "\n".join(cells))
    return table


def _outputs_table(outputs: dict[str, Any]) -> Table:
    table = Table("output", "value", title="outputs", title_justify="left")
    for key, value in outputs.items():
        table.add_row(text(key), text(value))
    return table


def _print_duties(console: Console, status: dict[str, Any]) -> None:
    """Who requested this version and who answered its approvals, one line each (separation of duties)."""
    if status.get("requested_by"):
        console.print(f"requested by {text(status['requested_by'])}")
    for answered in status.get("approvals") or []:
        if not isinstance(answered, dict):
            continue
        verb = "approved" if answered.get("decision") == "approve" else "rejected"
        who = answered.get(f"{verb}_by") or "an unidentified caller"
        line = f"{text(answered.get('stage', '?'))} {verb} by {text(who)} at {text(answered.get('at', '?'))}"
        console.print(line + (f": {text(answered['comment'])}" if answered.get("comment") else ""))


def _print_problems(console: Console, status: dict[str, Any]) -> None:
    """Pending approvals, the last error and the request's errors, one line each."""
    for approval in status.get("pending_approvals") or []:
        console.print(f"[yellow]awaiting approval[/yellow]: {describe(_without_token(approval))}")
    if status.get("last_error"):
        console.print(f"[red]last error[/red]: {describe(status['last_error'])}")
    for error in status.get("errors") or []:
        console.print(f"[red]error[/red]: {describe(error)}")


def _without_token(approval: Any) -> Any:
    """An approval as shown: an orchestrator older than the separation of duties still sent its token,
    which must not land in terminals and logs (answering needs no token: the API reads it itself)."""
    return {k: v for k, v in approval.items() if k != "token"} if isinstance(approval, dict) else approval


def render_status(console: Console, status: dict[str, Any]) -> None:
    """A pipeline's status: headline, stages with their actions, pending approvals, last error, outputs."""
    console.print(headline(status.get("pipeline_id", "?"), styled(status.get("status"))))
    if isinstance(status.get("stages"), list) and status["stages"]:
        console.print(_stages_table(status["stages"]))
    _print_duties(console, status)
    _print_problems(console, status)
    if status.get("delivery_pipeline_state"):
        console.print(f"delivery pipeline: {text(status['delivery_pipeline_state'])}")
    if status.get("drift") in ("DRIFTED", "UNKNOWN"):
        # Only news is shown; `mlops drift <id>` has the details of every check.
        console.print(f"drift: {drift_label(status['drift'])} (details: mlops drift {text(status.get('pipeline_id'))})")
    if blocked_line(status.get("blocked")):
        console.print(blocked_line(status.get("blocked")))
    if isinstance(status.get("outputs"), dict) and status["outputs"]:
        console.print(_outputs_table(status["outputs"]))
    for shown in shadow_tables(status.get("shadow_test")):
        console.print(shown)


def blocked_line(blocked: Any) -> str:
    """A monitor's block in one line (who, which run, when, how to lift it); blank when none holds."""
    if not isinstance(blocked, dict):
        return ""
    where = f" in {text(blocked['environment'])}" if blocked.get("environment") else ""
    return (
        f"[red]blocked[/red] by monitor {text(blocked.get('monitor', '?'))} (run {text(blocked.get('run', '?'))}"
        f"{where}, {text(blocked.get('at', '?'))}): approvals are refused; to lift it, "
        f"{text(blocked.get('lift') or 'send the pipeline a new request version')}"
    )


def show_status(status: dict[str, Any], as_json: bool) -> None:
    """A pipeline's status as the API's JSON (--json) or as tables."""
    if as_json:
        print_json(status)
    else:
        render_status(Console(), status)


# -- lists of pipelines ---------------------------------------------------------------------------


def pipelines_table(items: list[dict[str, Any]]) -> Table:
    """One row per pipeline: id, type, status, drift and when it last changed."""
    table = Table("pipeline", "type", "status", "drift", "updated")
    for item in items:
        updated = item.get("updated_at") or item.get("created_at") or ""
        table.add_row(
            text(item.get("pipeline_id", "?")),
            text(item.get("pipeline_type", "")),
            styled(item.get("status")) + (" [red](blocked)[/red]" if isinstance(item.get("blocked"), dict) else ""),
            drift_label(item.get("drift")),
            text(updated),
        )
    return table
