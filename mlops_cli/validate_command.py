"""`mlops validate`: check a pipeline request file offline and show the spec, id and stacks it would create."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mlops_cli.plan_cost import PricesOption
from mlops_cli.request_file import (
    EXIT_INVALID,
    RequestFile,
    StrictOption,
    check_or_exit,
    load_or_exit,
    print_field_errors,
    print_warnings,
    read_request,
)
from mlops_spec import naming
from mlops_spec.environments import Environment, Mode

if TYPE_CHECKING:
    from mlops_cli.api_commands.modelcards import CheckedCard
    from mlops_spec.base import PipelineSpec
    from mlops_spec.errors import FieldError
    from mlops_spec.stack_config import StackConfig


StackOption = Annotated[
    str | None,
    typer.Option(
        "--stack",
        help="Stack whose config (mlops:mode, mlops:useModelRegistry, its environments) the request is checked "
        "against [default: the project's only stack, else dev, when run in a project].",
    ),
]


@dataclass(frozen=True)
class Install:
    """The orchestrator a request is checked for: its mode, model-registry switch and home environment
    (the orchestrator's, where single-account pipelines and the orchestrator-only types deploy)."""

    mode: Mode = "single"
    use_model_registry: bool = False
    home: Environment = "dev"
    stack: str | None = None
    # The orchestrator's region (aws:region), where built-in images must exist; unknown outside a project.
    region: str | None = None
    # mlops:strictRequests: the install refuses unknown keys, so the CLI does too (as --strict).
    strict: bool = False
    # mlops:maxMonthlyCostPerPipeline: the install refuses a request estimated above it, so the CLI does too.
    max_monthly_cost: float | None = None
    # The orchestrator's assets bucket, where the API reads model cards' metric files (None: not known here).
    assets_bucket: str | None = None


def install_of(
    stack: str | None, mode: Mode | None, registry: bool | None, cwd: Path, fallback_mode: Mode = "single"
) -> Install:
    """The options given, else the stack's config (the named stack, or the project's default one when
    run inside a project), else `fallback_mode`. Exits 1 naming the problem when a named stack cannot
    be read. `mlops validate`, `provision` and `plan --request` decide with it."""
    from mlops_spec.errors import SpecError

    try:
        found = _stack_config(stack, cwd)
    except SpecError as exc:
        print_field_errors(exc.errors)
        raise typer.Exit(EXIT_INVALID) from None
    return chosen_install(found, mode, registry, fallback_mode)


def chosen_install(
    found: tuple[str, StackConfig] | None, mode: Mode | None, registry: bool | None, fallback_mode: Mode = "single"
) -> Install:
    """The install a request is checked for: an option given wins, then the stack's config; without a
    stack, `fallback_mode` in dev."""
    from mlops_cli.api_commands.modelcards import assets_bucket_of

    if found is None:
        return Install(mode or fallback_mode, bool(registry))
    name, config = found
    chosen_registry = config.use_model_registry if registry is None else registry
    home = config.orchestrator_environment
    return Install(
        mode or config.mode,
        chosen_registry,
        home,
        name,
        config.region,
        config.strict_requests,
        config.max_monthly_cost_per_pipeline,
        assets_bucket_of(config),
    )


def _stack_config(stack: str | None, cwd: Path) -> tuple[str, StackConfig] | None:
    """(stack, its config); None outside a project (or when its default stack cannot be read) unless
    a stack was named."""
    from mlops_cli.project import default_stack, find_project
    from mlops_spec.errors import SpecError
    from mlops_spec.stack_config import load_stack_config

    try:
        project = find_project(cwd)
        name = stack or default_stack(project)
        return name, load_stack_config(dict(project.read_stack(name).values), name)
    except SpecError:
        if stack is not None:
            raise
        return None


def planned_stacks(spec: PipelineSpec, mode: Mode, home: Environment = "dev") -> list[tuple[str, str]]:
    """(stack name, role) for the delivery stack and each target stack the request would create."""
    pipeline = spec.pipeline_id
    stacks = [(naming.delivery_stack_name(pipeline), "delivery pipeline")]
    environments = spec.environments(mode, home=home)
    stacks += [(naming.target_stack_name(pipeline, env), f"target ({env})") for env in environments]
    return stacks


def _summary(
    spec: PipelineSpec, install: Install, cost: dict[str, Any], warnings: Sequence[FieldError] = ()
) -> dict[str, Any]:
    return {
        "pipeline_id": spec.pipeline_id,
        "pipeline_type": spec.pipeline_type,
        "mode": install.mode,
        "stack": install.stack,
        "stacks": [{"name": name, "role": role} for name, role in planned_stacks(spec, install.mode, install.home)],
        "notes": _notes(spec, install),
        "spec": spec.model_dump(mode="json"),
        "warnings": [warning.as_dict() for warning in warnings],
        "cost": cost,
    }


def _notes(spec: PipelineSpec, install: Install) -> list[str]:
    """Why a multi-account request deploys to one environment only; where a request without a stack is priced."""
    from mlops_cli.plan_cost import DEFAULT_REGION

    notes = []
    if install.mode == "multi" and not spec.MULTI_ACCOUNT:
        notes.append(f"{spec.pipeline_type} runs in the orchestrator's account only ({install.home}), as in MWO")
    if install.region is None:
        notes.append(f"no stack to read a region from: the cost is estimated in {DEFAULT_REGION} (see --stack)")
    return notes


def _cost_or_exit(spec: PipelineSpec, install: Install, prices: str) -> dict[str, Any]:
    """The request's estimated cost in every environment it deploys to, held to the stack's limit; a bad
    --prices is one line and exit 1."""
    from mlops_cli.plan_cost import DEFAULT_REGION, estimated_cost, wants_live
    from mlops_spec.errors import SpecError

    region = install.region or DEFAULT_REGION
    try:
        live = wants_live(prices)
        return estimated_cost(
            [spec], install.mode, region, live=live, limit_usd=install.max_monthly_cost, home=install.home
        )
    except SpecError as exc:
        print_field_errors(exc.errors)
        raise typer.Exit(EXIT_INVALID) from None


def _exit_above_cost_limit(cost: dict[str, Any]) -> None:
    """As the API refuses it (400): one line per estimate above mlops:maxMonthlyCostPerPipeline, exit 1."""
    for problem in cost["violations"]:
        typer.echo(f"error: {problem}", err=True)
    if cost["violations"]:
        raise typer.Exit(EXIT_INVALID)


def _print_rich(summary: dict[str, Any]) -> None:
    # Imported here: only the tables need rich; `--json` and `mlops --help` do without.
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    console.print_json(data=summary["spec"])
    stack = f", stack {escape(summary['stack'])}" if summary["stack"] else ""
    console.print(f"pipeline id: [bold]{escape(summary['pipeline_id'])}[/bold] ({summary['mode']}-account mode{stack})")
    for note in summary["notes"]:
        console.print(f"note: {escape(note)}")
    table = Table("stack", "role", title="stacks it would create", title_justify="left")
    for stack in summary["stacks"]:
        table.add_row(escape(stack["name"]), stack["role"])
    console.print(table)
    from mlops_cli.plan_cost import cost_lines

    width = min(console.width, 120)
    console.print("\n".join(escape(line) for line in cost_lines(summary["cost"], width, "")), soft_wrap=True)


def validate(
    file: RequestFile,
    mode: Annotated[
        Mode | None,
        typer.Option("--mode", envvar="MLOPS_MODE", help="Orchestrator mode [default: the stack's mlops:mode]."),
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
    as_json: Annotated[
        bool, typer.Option("--json", help="Print machine-readable JSON (field errors too, on stdout).")
    ] = False,
    prices: PricesOption = "table",
) -> None:
    """Validate a pipeline request (or a model-card operation) offline; print its normalised spec,
    pipeline id and stacks.

    Unknown keys are ignored with a `warning: <field>: <problem>` line on stderr, as the API ignores
    them (errors with --strict, or when the stack sets mlops:strictRequests). The estimated monthly cost
    per environment is shown with its assumptions (the committed price table; --prices live: the AWS Price
    List); above the stack's mlops:maxMonthlyCostPerPipeline it is refused, as the API refuses it.
    Exit codes: 0 valid, 1 invalid (one `<field>: <problem>` line per error), 2 unreadable or not JSON.
    """
    body = load_or_exit(file)
    install = install_of(stack, mode, model_registry, Path.cwd())
    strict = strict or install.strict
    if card_operation(body):
        _validate_card_operation(body, as_json, strict, install.assets_bucket)
        return
    if as_json:
        _validate_json(body, install, strict, prices)
    else:
        spec = check_or_exit(body, install.mode, install.use_model_registry, strict, install.region)
        cost = _cost_or_exit(spec, install, prices)
        _print_rich(_summary(spec, install, cost))
        _exit_above_cost_limit(cost)


def _validate_json(body: Any, install: Install, strict: bool, prices: str) -> None:
    from mlops_spec.errors import SpecError  # lazily: it loads pydantic

    try:
        read = read_request(body, install.mode, install.use_model_registry, strict, install.region)
    except SpecError as exc:
        warnings = [e.as_dict() for e in getattr(exc, "warnings", [])]
        answer = {"message": exc.message, "errors": [e.as_dict() for e in exc.errors], "warnings": warnings}
        typer.echo(json.dumps(answer, indent=2))
        raise typer.Exit(EXIT_INVALID) from None
    cost = _cost_or_exit(read.spec, install, prices)
    typer.echo(json.dumps(_summary(read.spec, install, cost, read.warnings), indent=2))
    _exit_above_cost_limit(cost)


def card_operation(body: Any) -> bool:
    """True for a model-card operation in the old solution's form (pipeline_type create_model_card, ...)."""
    from mlops_spec.modelcards import MODEL_CARD_OPERATIONS

    return isinstance(body, dict) and body.get("pipeline_type") in MODEL_CARD_OPERATIONS


def card_operation_request(body: dict[str, Any], strict: bool = False, bucket: str | None = None) -> CheckedCard:
    """As POST /provisionpipeline?dry_run=true checks it: the normalised request or its field errors, and
    the unknown keys it ignores (errors when `strict`)."""
    from mlops_cli.api_commands.modelcards import operation_request

    fields = {k: v for k, v in body.items() if k != "pipeline_type"}
    return operation_request(str(body["pipeline_type"]), fields, strict, bucket)


def check_card_operation_or_exit(body: dict[str, Any], strict: bool = False) -> dict[str, Any]:
    """The operation's normalised request, its warnings printed; prints the warnings and one line per
    field error and exits 1 otherwise."""
    checked = card_operation_request(body, strict)
    print_warnings(checked.warnings)
    if checked.errors or checked.request is None:
        print_field_errors(checked.errors)
        raise typer.Exit(EXIT_INVALID)
    return checked.request


def _validate_card_operation(body: dict[str, Any], as_json: bool, strict: bool, bucket: str | None) -> None:
    operation = str(body["pipeline_type"])
    checked = card_operation_request(body, strict, bucket)
    warnings = [w.as_dict() for w in checked.warnings]
    if checked.errors:
        if as_json:
            errors = [e.as_dict() for e in checked.errors]
            answer: dict[str, Any] = {"message": "invalid model card request", "errors": errors, "warnings": warnings}
            typer.echo(json.dumps(answer, indent=2))
        else:
            print_warnings(checked.warnings)
            print_field_errors(checked.errors)
        raise typer.Exit(EXIT_INVALID)
    request = checked.request
    # As the API's dry run answers it: warnings only when keys were ignored.
    answer = {"pipeline_type": operation, "request": request, **({"warnings": warnings} if warnings else {})}
    if not as_json:
        print_warnings(checked.warnings)
    if as_json:
        typer.echo(json.dumps(answer, indent=2))
        return
    from rich.console import Console

    console = Console()
    console.print_json(data=request)
    console.print(f"model card operation: [bold]{operation}[/bold] (SageMaker is called when it is provisioned)")
