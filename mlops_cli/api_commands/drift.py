"""`mlops drift [ID]` and `mlops reconcile ID`: what the orchestrator's drift checks found, and restoring
what a pipeline declares.

The checks run in the orchestrator on its schedule (`mlops:driftSchedule`); these commands read their
result (GET /pipelines/{id}/drift, and the drift state GET /pipelines lists) and ask for the normal
update of a pipeline's current spec (POST /pipelines/{id}/reconcile).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from mlops_cli.api_commands.calls import api_errors, connect
from mlops_cli.api_commands.options import (
    ApiUrlOption,
    JsonOption,
    PipelineIdArg,
    ProfileOption,
    RegionOption,
    YesOption,
)
from mlops_cli.api_commands.pipelines import list_pages
from mlops_cli.api_commands.render import drift_label, headline, print_json, print_new_version, styled, text

OptionalPipelineId = Annotated[
    str | None, typer.Argument(help="Pipeline id; without one, every pipeline's drift state.", show_default=False)
]


# -- rendering ---------------------------------------------------------------------------------------


def _resource_line(resource: Any) -> str:
    """`update aws:sagemaker/endpoint:Endpoint churn-xgb-dev: endpointConfigName`: what the next update
    would do to it, its type, its name (the URN's last part) and the properties that differ."""
    if not isinstance(resource, dict):
        return text(resource)
    name = str(resource.get("urn", "")).split("::")[-1]
    properties = resource.get("properties") or []
    what = f": {', '.join(text(p) for p in properties)}" if properties else ""
    return f"{text(resource.get('op', '?'))} {text(resource.get('type', '?'))} {text(name)}{what}"


def _environment_lines(env: str, entry: Any) -> list[str]:
    """An environment's verdict, then one indented line per drifted resource."""
    entry = entry if isinstance(entry, dict) else {}
    if entry.get("in_sync") is True:
        return [f"{text(env)}: {drift_label('IN_SYNC')}"]
    if entry.get("in_sync") is None:
        return [f"{text(env)}: {drift_label('UNKNOWN')} (not checked: {text(entry.get('error') or 'no reason given')})"]
    changes = entry.get("changes") or {}
    counted = ", ".join(f"{text(op)} {text(count)}" for op, count in changes.items())
    lines = [f"{text(env)}: {drift_label('DRIFTED')}" + (f" ({counted})" if counted else "")]
    return lines + [f"  {_resource_line(resource)}" for resource in entry.get("resources") or []]


def drift_lines(answer: dict[str, Any]) -> list[str]:
    """One pipeline's drift check as lines of console markup: headline with when it was checked, each
    environment and its drifted resources, and what to do about drift."""
    pipeline_id = answer.get("pipeline_id", "?")
    if not answer.get("checked"):
        return [
            headline(pipeline_id, drift_label("NOT_CHECKED")),
            "its deployed stacks are checked on the orchestrator's schedule (mlops:driftSchedule)",
        ]
    lines = [headline(pipeline_id, drift_label(answer.get("drift"))) + f" (checked {text(answer.get('checked_at'))})"]
    if answer.get("status") != "DEPLOYED":
        lines.append(
            f"the pipeline is {styled(answer.get('status'))} (version {text(answer.get('version'))}) now: "
            "this check is of the version deployed before it"
        )
    for env, entry in (answer.get("environments") or {}).items():
        lines += _environment_lines(env, entry)
    if answer.get("drift") == "DRIFTED":
        lines.append(f"restore what the pipeline declares with: mlops reconcile {text(pipeline_id)}")
    return lines


def drift_table(items: list[dict[str, Any]]) -> Table:
    """Every pipeline's drift state: id, status, drift."""
    table = Table("pipeline", "status", "drift")
    for item in items:
        table.add_row(text(item.get("pipeline_id", "?")), styled(item.get("status")), drift_label(item.get("drift")))
    return table


# -- commands ----------------------------------------------------------------------------------------


def drift(
    pipeline_id: OptionalPipelineId = None,
    as_json: JsonOption = False,
    api_url: ApiUrlOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Show drift found by the orchestrator's checks: with an ID, each environment of that pipeline and
    every resource that differs (and in which properties); without, every pipeline's drift state."""
    with api_errors():
        client = connect(api_url, region, profile)
        if pipeline_id is not None:
            answer = client.get_drift(pipeline_id)
        else:
            pages = list(list_pages(client, None, True))
            items = [item for page in pages for item in page.get("pipelines") or [] if isinstance(item, dict)]
    console = Console()
    if pipeline_id is not None:
        if as_json:
            print_json(answer)
            return
        for line in drift_lines(answer):
            console.print(line)
    elif as_json:
        print_json({"pipelines": items})
    else:
        console.print(drift_table(items) if items else "no pipelines")


def reconcile(
    pipeline_id: PipelineIdArg,
    yes: YesOption = False,
    api_url: ApiUrlOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Deploy a pipeline's current spec again, unchanged, as a new version: the normal update, which
    restores what it declares over drifted stacks (its approvals apply as for any update). Only a
    DEPLOYED pipeline."""
    if not yes:
        typer.confirm(f"Deploy pipeline {pipeline_id}'s current spec again to restore its stacks?", abort=True)
    with api_errors():
        answer = connect(api_url, region, profile).reconcile_pipeline(pipeline_id)
    print_new_version(answer, pipeline_id, "the current spec again")
