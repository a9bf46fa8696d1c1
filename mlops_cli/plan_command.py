"""`mlops plan`: show what a stack (or one pipeline request) would create, offline, with no AWS account."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.tree import Tree

if TYPE_CHECKING:
    from mlops_cli.mocks import PlannedResource
    from mlops_cli.planner import StackPlan
    from mlops_spec.errors import FieldError

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
    from mlops_spec.errors import SpecError  # lazily: it loads pydantic

    try:
        request_body = _read_request(request) if request else None
        plans = _make_plans(env or stack, request_body, mode, model_registry, delivery)
    except SpecError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps({"stacks": [p.as_dict() for p in plans]}, indent=2, default=str, sort_keys=True))
        return
    for stack_plan in plans:
        _print_plan(stack_plan)


def _make_plans(
    selection: str, request_body: dict[str, Any] | None, mode: str | None, model_registry: bool | None, delivery: bool
) -> list[StackPlan]:
    """One plan per selected stack: its own resources plus the request's, or the request's delivery pipeline."""
    # Imported here, not at the top: the planner loads pulumi, pulumi_aws and every component
    # (1-3 s), which `mlops --help` and the other commands should not wait for.
    from mlops_cli import planner

    names = planner.stacks_for(selection)
    _check_options(names, planner.REPO_ROOT, mode, delivery, request_body is not None)
    plans = []
    for name in names:
        values = planner.with_overrides(planner.read_stack_file(name), name, mode, model_registry)
        if delivery and request_body is not None:
            plans.append(planner.plan_delivery(name, request_body, values))
        else:
            extra = [request_body] if request_body else None
            plans.append(planner.plan_stack(name, extra_pipelines=extra, config_values=values))
    return plans


def _check_options(names: list[str], root: Path, mode: str | None, delivery: bool, has_request: bool) -> None:
    """SpecError naming the option when a stack has no config file, --mode is unknown or --delivery lacks --request."""
    from mlops_spec.errors import SpecError

    for name in names:
        if not (root / f"Pulumi.{name}.yaml").exists():
            raise SpecError("unknown stack", [_field("--stack", f"'{name}' has no Pulumi.{name}.yaml")])
    if mode not in (None, "single", "multi"):
        raise SpecError("bad option", [_field("--mode", "must be single or multi")])
    if delivery and not has_request:
        raise SpecError("bad option", [_field("--delivery", "needs --request FILE")])


def _field(field: str, problem: str) -> FieldError:
    from mlops_spec.errors import FieldError

    return FieldError(field, problem)


def _read_request(path: Path) -> dict[str, Any]:
    """The request file as `validate` and `provision` read it: numbers out of range, nesting too deep
    and lone surrogates are refused here too, naming the field."""
    from lambda_src.common import untrusted_json
    from mlops_cli.request_file import RequestFileError, load_request
    from mlops_spec.errors import FieldError, SpecError

    try:
        body = load_request(path)
    except RequestFileError as exc:
        raise SpecError("bad request", [_field(str(path), str(exc))]) from None
    if not isinstance(body, dict):
        raise SpecError("bad request", [_field(str(path), "must hold a JSON object")])
    problems = untrusted_json.structure_problems(body)
    if problems:
        raise SpecError("invalid request", [FieldError(p["field"], p["problem"]) for p in problems])
    return body


def _print_plan(stack_plan: StackPlan) -> None:
    """The resource tree, the count per resource type, the stack outputs and the guardrail verdict."""
    console.print(_resource_tree(stack_plan))
    console.print(_counts_table(stack_plan))
    console.print(_outputs_table(stack_plan))
    _print_violations(stack_plan)


def _resource_tree(stack_plan: StackPlan) -> Tree:
    recorder = stack_plan.recorder
    tree = Tree(f"[bold]stack {stack_plan.stack}[/] ({len(recorder.resources)} resources)")
    nodes: dict[str, Tree] = {}
    for resource in recorder.resources:
        parent = nodes.get(resource.parent_urn, tree)
        nodes[resource.urn] = parent.add(_label(resource))
    return tree


def _counts_table(stack_plan: StackPlan) -> Table:
    counts = Table(title=f"{stack_plan.stack}: resources by type")
    counts.add_column("type")
    counts.add_column("count", justify="right")
    for typ, count in stack_plan.recorder.counts_by_type().items():
        counts.add_row(typ, str(count))
    return counts


def _outputs_table(stack_plan: StackPlan) -> Table:
    outputs = Table(title=f"{stack_plan.stack}: outputs")
    outputs.add_column("output")
    outputs.add_column("value", overflow="fold")
    for key, value in sorted(stack_plan.outputs.items()):
        outputs.add_row(key, value if isinstance(value, str) else json.dumps(value, default=str))
    return outputs


def _print_violations(stack_plan: StackPlan) -> None:
    violations = stack_plan.violations()
    if violations:
        console.print(f"[bold red]{stack_plan.stack}: {len(violations)} guardrail violation(s)[/]")
        for violation in violations:
            console.print(f"  {violation}", markup=False, highlight=False)
    else:
        console.print(f"[green]{stack_plan.stack}: guardrails passed[/] (components/guardrails/)")


def _label(resource: PlannedResource) -> str:
    kind = "component" if not resource.custom else "resource"
    style = "cyan" if kind == "component" else "white"
    return f"[{style}]{resource.name}[/] [dim]{resource.type}[/]"
