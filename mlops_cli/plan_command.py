"""`mlops plan`: show what a stack (or one pipeline request) would create, offline, with no AWS account."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from mlops_cli import planner
from mlops_cli.mocks import PlannedResource
from mlops_cli.planner import StackPlan, plan_stack, stacks_for
from mlops_spec.errors import SpecError

console = Console()


def plan(
    stack: Annotated[str, typer.Option(help="Stack to plan: dev, staging, prod or all.")] = "dev",
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    request: Annotated[
        Path | None, typer.Option(help="Also plan this pipeline request (a JSON file) in the stack.")
    ] = None,
    env: Annotated[
        str | None, typer.Option(help="Environment whose stack plans the request (default: --stack).")
    ] = None,
    mode: Annotated[
        str | None, typer.Option(help="Override the stack's mode (single|multi), e.g. for a single-account request.")
    ] = None,
    model_registry: Annotated[
        bool | None, typer.Option("--model-registry/--no-model-registry", help="Override mlops:useModelRegistry.")
    ] = None,
    delivery: Annotated[
        bool,
        typer.Option(help="Plan the request's delivery pipeline (CodePipeline) instead of its target resources."),
    ] = False,
) -> None:
    """Run the Pulumi program offline under the mock engine and print the resources it would create."""
    try:
        request_body = _read_request(request) if request else None
        names = stacks_for(env or stack)
        for name in names:
            if not (planner.REPO_ROOT / f"Pulumi.{name}.yaml").exists():
                raise SpecError("unknown stack", [_field("--stack", f"'{name}' has no Pulumi.{name}.yaml")])
        if mode not in (None, "single", "multi"):
            raise SpecError("bad option", [_field("--mode", "must be single or multi")])
        if delivery and request_body is None:
            raise SpecError("bad option", [_field("--delivery", "needs --request FILE")])
        plans = []
        for name in names:
            values = planner.with_overrides(planner.read_stack_file(name), name, mode, model_registry)
            if delivery and request_body is not None:
                plans.append(planner.plan_delivery(name, request_body, values))
            else:
                extra = [request_body] if request_body else None
                plans.append(plan_stack(name, extra_pipelines=extra, config_values=values))
    except SpecError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps({"stacks": [p.as_dict() for p in plans]}, indent=2, default=str, sort_keys=True))
        return
    for stack_plan in plans:
        _print_plan(stack_plan)


def _field(field: str, problem: str) -> Any:
    from mlops_spec.errors import FieldError

    return FieldError(field, problem)


def _read_request(path: Path) -> dict[str, Any]:
    try:
        body = json.loads(path.read_text())
    except OSError as exc:
        raise SpecError("unreadable request", [_field(str(path), f"cannot be read ({exc.strerror})")]) from None
    except json.JSONDecodeError as exc:
        raise SpecError(
            "bad request", [_field(str(path), f"is not valid JSON ({exc.msg} at line {exc.lineno})")]
        ) from None
    if not isinstance(body, dict):
        raise SpecError("bad request", [_field(str(path), "must hold a JSON object")])
    return body


def _print_plan(stack_plan: StackPlan) -> None:
    recorder = stack_plan.recorder
    tree = Tree(f"[bold]stack {stack_plan.stack}[/] ({len(recorder.resources)} resources)")
    nodes: dict[str, Tree] = {}
    for resource in recorder.resources:
        parent = nodes.get(resource.parent_urn, tree)
        nodes[resource.urn] = parent.add(_label(resource))
    console.print(tree)

    counts = Table(title=f"{stack_plan.stack}: resources by type")
    counts.add_column("type")
    counts.add_column("count", justify="right")
    for typ, count in recorder.counts_by_type().items():
        counts.add_row(typ, str(count))
    console.print(counts)

    outputs = Table(title=f"{stack_plan.stack}: outputs")
    outputs.add_column("output")
    outputs.add_column("value", overflow="fold")
    for key, value in sorted(stack_plan.outputs.items()):
        outputs.add_row(key, value if isinstance(value, str) else json.dumps(value, default=str))
    console.print(outputs)

    violations = stack_plan.violations()
    if violations:
        console.print(f"[bold red]{stack_plan.stack}: {len(violations)} guardrail violation(s)[/]")
        for violation in violations:
            console.print(f"  {violation}", markup=False, highlight=False)
    else:
        console.print(f"[green]{stack_plan.stack}: guardrails passed[/] (components/guardrails.py)")


def _label(resource: PlannedResource) -> str:
    kind = "component" if not resource.custom else "resource"
    style = "cyan" if kind == "component" else "white"
    return f"[{style}]{resource.name}[/] [dim]{resource.type}[/]"
