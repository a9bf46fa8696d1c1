"""`mlops validate`: check a pipeline request file offline and show the spec, id and stacks it would create."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mlops_spec import naming
from mlops_spec.base import PipelineSpec
from mlops_spec.common import Mode
from mlops_spec.errors import FieldError, SpecError
from mlops_spec.request import parse_pipeline_request

EXIT_INVALID = 1
EXIT_UNREADABLE = 2

RequestFile = Annotated[
    Path,
    typer.Argument(
        help="Pipeline request as JSON (the body of POST /provisionpipeline); '-' reads stdin.", show_default=False
    ),
]
ModeOption = Annotated[
    Mode,
    typer.Option("--mode", envvar="MLOPS_MODE", help="Orchestrator mode: single- or multi-account."),
]
RegistryOption = Annotated[
    bool,
    typer.Option(
        "--model-registry/--no-model-registry",
        envvar="MLOPS_MODEL_REGISTRY",
        help="The orchestrator uses the SageMaker model registry (model_package_name required).",
    ),
]


class RequestFileError(Exception):
    """The request file cannot be read or is not JSON; the message is one line for the user."""


def read_request_text(path: Path) -> str:
    """The file's text, or stdin's for '-'."""
    if str(path) == "-":
        return sys.stdin.read()
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise RequestFileError(f"cannot read {path}: not UTF-8 text") from None
    except OSError as exc:
        raise RequestFileError(f"cannot read {path}: {exc.strerror or exc}") from None


def load_request(path: Path) -> Any:
    """The parsed JSON body of a request file; RequestFileError when unreadable or not JSON."""
    text = read_request_text(path)
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise RequestFileError(f"{path} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except ValueError as exc:
        raise RequestFileError(f"{path} is not valid JSON: {exc}") from None
    except RecursionError:
        raise RequestFileError(f"{path} is not valid JSON: nested too deeply") from None


def _reject_constant(name: str) -> Any:
    """NaN and Infinity are not JSON; the API refuses them, so the CLI does too."""
    raise ValueError(f"{name} is not a JSON value")


def planned_stacks(spec: PipelineSpec, mode: Mode) -> list[tuple[str, str]]:
    """(stack name, role) for the delivery stack and each target stack the request would create."""
    pipeline = spec.pipeline_id
    stacks = [(naming.delivery_stack_name(pipeline), "delivery pipeline")]
    stacks += [(naming.target_stack_name(pipeline, env), f"target ({env})") for env in spec.environments(mode)]
    return stacks


def print_field_errors(errors: list[FieldError]) -> None:
    """One `<field>: <problem>` line per error, on stderr."""
    for error in errors:
        typer.echo(str(error), err=True)


def load_or_exit(path: Path) -> Any:
    """The parsed request; prints one line and exits 2 when the file is unreadable or not JSON."""
    try:
        return load_request(path)
    except RequestFileError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_UNREADABLE) from None


def load_and_check(path: Path, mode: Mode, use_model_registry: bool) -> tuple[Any, PipelineSpec]:
    """The raw body and its spec; prints the problem and exits 2 (unreadable) or 1 (invalid) otherwise."""
    body = load_or_exit(path)
    try:
        return body, parse_pipeline_request(body, mode=mode, use_model_registry=use_model_registry)
    except SpecError as exc:
        print_field_errors(exc.errors)
        raise typer.Exit(EXIT_INVALID) from None


def _summary(spec: PipelineSpec, mode: Mode) -> dict[str, Any]:
    return {
        "pipeline_id": spec.pipeline_id,
        "pipeline_type": spec.pipeline_type,
        "mode": mode,
        "stacks": [{"name": name, "role": role} for name, role in planned_stacks(spec, mode)],
        "spec": spec.model_dump(mode="json"),
    }


def _print_rich(summary: dict[str, Any]) -> None:
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
    as_json: Annotated[
        bool, typer.Option("--json", help="Print machine-readable JSON (field errors too, on stdout).")
    ] = False,
) -> None:
    """Validate a pipeline request offline; print its normalised spec, pipeline id and stacks.

    Exit codes: 0 valid, 1 invalid (one `<field>: <problem>` line per error), 2 unreadable or not JSON.
    """
    if as_json:
        _validate_json(file, mode, model_registry)
        return
    _, spec = load_and_check(file, mode, model_registry)
    _print_rich(_summary(spec, mode))


def _validate_json(file: Path, mode: Mode, model_registry: bool) -> None:
    body = load_or_exit(file)
    try:
        spec = parse_pipeline_request(body, mode=mode, use_model_registry=model_registry)
    except SpecError as exc:
        typer.echo(json.dumps({"message": exc.message, "errors": [e.as_dict() for e in exc.errors]}, indent=2))
        raise typer.Exit(EXIT_INVALID) from None
    typer.echo(json.dumps(_summary(spec, mode), indent=2))
