"""`mlops status --wait`: poll a pipeline until it settles, ride out transient failures, and pick the exit code.

Only `status --wait` imports this module (it loads rich's progress display and the API client).
"""

from __future__ import annotations

import time
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from mlops_cli.api_client import ApiClient, ApiError
from mlops_cli.api_commands.calls import EXIT_FAILED
from mlops_cli.api_commands.render import show_status
from mlops_spec.status import SETTLED, Status

# --wait stops where nothing more happens, or where only a person can move the pipeline on
# (AWAITING_APPROVAL).
STOP_STATUSES = SETTLED
EXIT_TIMEOUT = 3
EXIT_AWAITING_APPROVAL = 4
EXIT_BY_STATUS: dict[str, int] = {
    Status.DEPLOYED: 0,
    Status.DELETED: 0,
    Status.FAILED: EXIT_FAILED,
    Status.REJECTED: EXIT_FAILED,
    Status.AWAITING_APPROVAL: EXIT_AWAITING_APPROVAL,
}


class TimedOut(Exception):
    """The wait ran out of time; `last` is the last status read (if any), `reason` what was last shown."""

    def __init__(self, last: dict[str, Any] | None, reason: str):
        super().__init__(reason)
        self.last = last
        self.reason = reason


def exit_code(status: dict[str, Any]) -> int:
    """0 deployed or deleted, 1 failed or rejected, 4 awaiting approval."""
    return EXIT_BY_STATUS.get(str(status.get("status")), 0)


def _poll(client: ApiClient, pipeline_id: str) -> tuple[dict[str, Any] | None, str]:
    """One look at the pipeline: (status or None, what to show). Transient failures are not fatal."""
    try:
        status = client.get_pipeline(pipeline_id)
    except ApiError as exc:
        if not exc.retryable:
            raise
        return None, f"retrying: {exc.message}"
    return status, str(status.get("status") or "UNKNOWN")


def _spinner() -> Progress:
    """A spinner with the latest status and the time spent, on stderr; it disappears when done."""
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        transient=True,
        console=Console(stderr=True),
    )


def wait_for(client: ApiClient, pipeline_id: str, timeout: float, interval: float) -> dict[str, Any]:
    """Poll until the pipeline reaches a stop status; TimedOut with the last answer when time runs out."""
    deadline = time.monotonic() + timeout
    last: dict[str, Any] | None = None
    with _spinner() as spinner:
        task = spinner.add_task(f"waiting for {escape(pipeline_id)}", total=None)
        while True:
            status, shown = _poll(client, pipeline_id)
            last = status or last
            if status and status.get("status") in STOP_STATUSES:
                return status
            spinner.update(task, description=f"{escape(pipeline_id)}: {escape(shown)}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimedOut(last, shown)
            time.sleep(min(interval, remaining))


def wait_or_exit(client: ApiClient, pipeline_id: str, timeout: float, interval: float, as_json: bool) -> dict[str, Any]:
    """The settled status; when time runs out, shows the last status read, says so on stderr and exits 3."""
    try:
        return wait_for(client, pipeline_id, timeout, interval)
    except TimedOut as exc:
        if exc.last:
            show_status(exc.last, as_json)
        typer.echo(f"timed out after {timeout:g} s waiting for {pipeline_id} (last: {exc.reason})", err=True)
        raise typer.Exit(EXIT_TIMEOUT) from None
