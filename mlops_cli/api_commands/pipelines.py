"""`mlops provision|status|list|delete`: ask the orchestrator for a pipeline, follow it, list them, delete one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from mlops_cli.api_commands.calls import api_errors, connect
from mlops_cli.api_commands.options import (
    ApiUrlOption,
    ChecksOption,
    JsonOption,
    PipelineIdArg,
    ProfileOption,
    RegionOption,
    YesOption,
    refuse_checks_without_dry_run,
)
from mlops_cli.api_commands.render import (
    follow_hint,
    headline,
    pipelines_table,
    print_json,
    show_status,
    styled,
    text,
)
from mlops_cli.request_file import RequestFile, StrictOption, check_or_exit, load_or_exit
from mlops_cli.validate_command import StackOption, card_operation, check_card_operation_or_exit, install_of
from mlops_spec.environments import Mode

if TYPE_CHECKING:
    from mlops_cli.api_client import ApiClient

# -- provision ----------------------------------------------------------------------------------


def provision(
    file: RequestFile,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Let the orchestrator validate only; create nothing.")
    ] = False,
    checks: ChecksOption = True,
    mode: Annotated[
        Mode | None,
        typer.Option(
            "--mode", envvar="MLOPS_MODE", help="Orchestrator mode [default: the stack's mlops:mode, else multi]."
        ),
    ] = None,
    model_registry: Annotated[
        bool | None,
        typer.Option(
            "--model-registry/--no-model-registry",
            envvar="MLOPS_MODEL_REGISTRY",
            help="The orchestrator uses the SageMaker model registry [default: the stack's mlops:useModelRegistry].",
        ),
    ] = None,
    stack: StackOption = None,
    strict: StrictOption = False,
    api_url: ApiUrlOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Validate a pipeline request (or a model-card operation) locally, then send it to the orchestrator
    (POST /provisionpipeline). It is checked for the stack's install, as `mlops validate` checks it."""
    refuse_checks_without_dry_run(checks, dry_run)
    body = load_or_exit(file)
    # Outside a project: multi-account mode, which accepts every single-account request too, so a
    # request is never refused here that the orchestrator would take (it checks it again).
    install = install_of(stack, mode, model_registry, Path.cwd(), fallback_mode="multi")
    if card_operation(body):
        check_card_operation_or_exit(body, strict or install.strict)
    else:
        check_or_exit(body, install.mode, install.use_model_registry, strict or install.strict, install.region)
    with api_errors():
        answer = connect(api_url, region, profile).provision(body, dry_run=dry_run, checks=checks)
    if card_operation(body):
        print_json(answer)  # the card (or its dry run's normalised request), as the API answers it
    elif dry_run:
        _print_dry_run(answer)
    else:
        _print_queued(answer)


def _print_dry_run(answer: dict[str, Any]) -> None:
    console = Console()
    pipeline_id = text(answer.get("pipeline_id", "?"))
    console.print(f"dry run: the orchestrator accepts pipeline [bold]{pipeline_id}[/bold]; nothing was created")
    console.print_json(data=answer)
    for line in preflight_lines(answer.get("preflight")) + cost_lines(answer.get("cost")):
        console.print(text(line))


def cost_lines(cost: Any) -> list[str]:
    """The dry run's estimated monthly cost: one line per environment, where the prices come from, and
    the mlops:maxMonthlyCostPerPipeline checks that failed or could not be made."""
    if not isinstance(cost, dict) or not cost.get("estimates"):
        return []
    lines = [
        f"cost {e.get('environment', '?')}: {e.get('summary', '')}" for e in cost["estimates"] if isinstance(e, dict)
    ]
    lines.append(f"prices: {cost.get('source')}")
    lines += [f"cost limit exceeded: {problem}" for problem in cost.get("violations") or []]
    lines += [f"cost limit not checked: {why}" for why in cost.get("unchecked") or []]
    return lines


def preflight_lines(preflight: Any) -> list[str]:
    """The dry run's quota preflight, one line per environment (shortfalls named), or why it was not checked."""
    if not isinstance(preflight, dict):
        return []
    if not preflight.get("environments"):
        return [f"quota preflight: {preflight.get('status')} ({preflight.get('reason', 'no environment')})"]
    lines = []
    for entry in preflight["environments"]:
        found = [short.get("message", "") for short in entry.get("shortfalls") or []]
        detail = " ".join(found) or entry.get("reason") or ""
        lines.append(
            f"quota preflight {entry.get('environment')}: {entry.get('status')}" + (f": {detail}" if detail else "")
        )
    return lines


def _print_queued(answer: dict[str, Any]) -> None:
    console = Console()
    pipeline_id = answer.get("pipeline_id", "?")
    replay = " (the same request was sent before: nothing new was queued)" if answer.get("idempotent_replay") else ""
    console.print(headline(pipeline_id, styled(answer.get("status"))) + replay)
    if answer.get("stacks"):
        console.print("stacks: " + ", ".join(text(stack) for stack in answer["stacks"]))
    console.print(follow_hint(pipeline_id))


# -- status -------------------------------------------------------------------------------------


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
    with api_errors():
        client = connect(api_url, region, profile)
        if not wait:
            show_status(client.get_pipeline(pipeline_id), as_json)
            return
        # Imported here: only --wait needs the poller and its spinner (rich's progress display).
        from mlops_cli.api_commands.wait import exit_code, wait_or_exit

        answer = wait_or_exit(client, pipeline_id, timeout, interval, as_json)
    show_status(answer, as_json)
    raise typer.Exit(exit_code(answer))


# -- list ---------------------------------------------------------------------------------------


def list_pages(
    client: ApiClient, limit: int | None, everything: bool, **filters: str | None
) -> Iterator[dict[str, Any]]:
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


def _print_list(items: list[dict[str, Any]], more: str | None, everything: bool) -> None:
    console = Console()
    if not items:
        console.print("no pipelines")
    else:
        console.print(pipelines_table(items))
    if more and not everything:
        console.print("more pipelines exist: add --all to list them all")


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
    with api_errors():
        client = connect(api_url, region, profile)
        for page in list_pages(client, limit, everything, pipeline_type=pipeline_type, status=status_filter):
            pages.append(page)
            items += [item for item in page.get("pipelines") or [] if isinstance(item, dict)]
            more = page.get("next_token")
    if as_json:
        # One page as answered; with --all, every page's pipelines in one body of the same shape.
        print_json(pages[0] if len(pages) == 1 else {"pipelines": items, "next_token": more})
        return
    _print_list(items, more, everything)


# -- delete -------------------------------------------------------------------------------------


def delete(
    pipeline_id: PipelineIdArg,
    yes: YesOption = False,
    api_url: ApiUrlOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Delete a pipeline: destroy its target stacks, then its delivery stack."""
    if not yes:
        typer.confirm(f"Delete pipeline {pipeline_id} and destroy its stacks?", abort=True)
    with api_errors():
        answer = connect(api_url, region, profile).delete_pipeline(pipeline_id)
    state = styled(answer["status"]) if answer.get("status") else "deletion requested"
    console = Console()
    console.print(headline(answer.get("pipeline_id", pipeline_id), state))
    console.print(follow_hint(pipeline_id))
