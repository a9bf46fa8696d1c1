"""`mlops validate`: check a pipeline request file offline and show the spec, id and stacks it would create."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mlops_cli.request_file import (
    EXIT_INVALID,
    ModeOption,
    RegistryOption,
    RequestFile,
    StrictOption,
    check_or_exit,
    load_or_exit,
    print_field_errors,
    read_request,
)
from mlops_spec import naming
from mlops_spec.environments import Mode

if TYPE_CHECKING:
    from mlops_spec.base import PipelineSpec
    from mlops_spec.errors import FieldError


def planned_stacks(spec: PipelineSpec, mode: Mode) -> list[tuple[str, str]]:
    """(stack name, role) for the delivery stack and each target stack the request would create."""
    pipeline = spec.pipeline_id
    stacks = [(naming.delivery_stack_name(pipeline), "delivery pipeline")]
    stacks += [(naming.target_stack_name(pipeline, env), f"target ({env})") for env in spec.environments(mode)]
    return stacks


def _summary(spec: PipelineSpec, mode: Mode, warnings: Sequence[FieldError] = ()) -> dict[str, Any]:
    return {
        "pipeline_id": spec.pipeline_id,
        "pipeline_type": spec.pipeline_type,
        "mode": mode,
        "stacks": [{"name": name, "role": role} for name, role in planned_stacks(spec, mode)],
        "spec": spec.model_dump(mode="json"),
        "warnings": [warning.as_dict() for warning in warnings],
    }


def _print_rich(summary: dict[str, Any]) -> None:
    # Imported here: only the tables need rich; `--json` and `mlops --help` do without.
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    console.print_json(data=summary["spec"])
    console.print(f"pipeline id: [bold]{escape(summary['pipeline_id'])}[/bold] ({summary['mode']}-account mode)")
    table = Table("stack", "role", title="stacks it would create", title_justify="left")
    for stack in summary["stacks"]:
        table.add_row(escape(stack["name"]), stack["role"])
    console.print(table)


def validate(
    file: RequestFile,
    mode: ModeOption = "single",
    model_registry: RegistryOption = False,
    strict: StrictOption = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print machine-readable JSON (field errors too, on stdout).")
    ] = False,
) -> None:
    """Validate a pipeline request (or a model-card operation) offline; print its normalised spec,
    pipeline id and stacks.

    Unknown keys are ignored with a `warning: <field>: <problem>` line on stderr, as the API ignores
    them (errors with --strict). Exit codes: 0 valid, 1 invalid (one `<field>: <problem>` line per
    error), 2 unreadable or not JSON.
    """
    body = load_or_exit(file)
    if _card_operation(body):
        _validate_card_operation(body, as_json)
    elif as_json:
        _validate_json(body, mode, model_registry, strict)
    else:
        _print_rich(_summary(check_or_exit(body, mode, model_registry, strict), mode))


def _validate_json(body: Any, mode: Mode, model_registry: bool, strict: bool) -> None:
    from mlops_spec.errors import SpecError  # lazily: it loads pydantic

    try:
        read = read_request(body, mode, model_registry, strict)
    except SpecError as exc:
        warnings = [e.as_dict() for e in getattr(exc, "warnings", [])]
        answer = {"message": exc.message, "errors": [e.as_dict() for e in exc.errors], "warnings": warnings}
        typer.echo(json.dumps(answer, indent=2))
        raise typer.Exit(EXIT_INVALID) from None
    typer.echo(json.dumps(_summary(read.spec, mode, read.warnings), indent=2))


def _card_operation(body: Any) -> bool:
    """True for a model-card operation in the old solution's form (pipeline_type create_model_card, ...)."""
    from mlops_spec.modelcards import MODEL_CARD_OPERATIONS

    return isinstance(body, dict) and body.get("pipeline_type") in MODEL_CARD_OPERATIONS


def _validate_card_operation(body: dict[str, Any], as_json: bool) -> None:
    """As POST /provisionpipeline?dry_run=true checks it: the normalised request, or its field errors."""
    from mlops_cli.api_commands.modelcards import operation_request

    operation = str(body["pipeline_type"])
    request, errors = operation_request(operation, {k: v for k, v in body.items() if k != "pipeline_type"})
    if errors:
        if as_json:
            answer: dict[str, Any] = {"message": "invalid model card request", "errors": [e.as_dict() for e in errors]}
            typer.echo(json.dumps(answer, indent=2))
        else:
            print_field_errors(errors)
        raise typer.Exit(EXIT_INVALID)
    answer = {"pipeline_type": operation, "request": request}
    if as_json:
        typer.echo(json.dumps(answer, indent=2))
        return
    from rich.console import Console

    console = Console()
    console.print_json(data=request)
    console.print(f"model card operation: [bold]{operation}[/bold] (SageMaker is called when it is provisioned)")
