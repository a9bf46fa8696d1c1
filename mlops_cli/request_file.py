"""A pipeline request file on the command line: its argument and options, reading it, and checking it.

Shared by `mlops validate` and `mlops provision`, which refuse the same files with the same messages
and exit codes: 2 when the file is unreadable or not JSON, 1 when the request is invalid.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lambda_src.common import untrusted_json
from mlops_spec.environments import Mode

if TYPE_CHECKING:
    from mlops_spec.base import PipelineSpec
    from mlops_spec.errors import FieldError
    from mlops_spec.request import ReadRequest

EXIT_INVALID = 1
EXIT_UNREADABLE = 2

RequestFile = Annotated[
    Path,
    typer.Argument(
        help="Pipeline request as JSON (the body of POST /provisionpipeline); '-' reads stdin.", show_default=False
    ),
]
StrictOption = Annotated[
    bool,
    typer.Option("--strict", help="Refuse unknown keys of the request instead of ignoring them with a warning."),
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
        # Numbers beyond a double's range (1e400) come back as markers that parse_request refuses,
        # naming the field, as the API does; Python alone would read them as infinity.
        return json.loads(text, parse_constant=_reject_constant, parse_float=untrusted_json.parse_float)
    except json.JSONDecodeError as exc:
        raise RequestFileError(f"{path} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except ValueError as exc:
        raise RequestFileError(f"{path} is not valid JSON: {exc}") from None
    except RecursionError:
        raise RequestFileError(f"{path} is not valid JSON: nested too deeply") from None


def _reject_constant(name: str) -> Any:
    """NaN and Infinity are not JSON; the API refuses them, so the CLI does too."""
    raise ValueError(f"{name} is not a JSON value")


def load_or_exit(path: Path) -> Any:
    """The parsed request; prints one line and exits 2 when the file is unreadable or not JSON."""
    try:
        return load_request(path)
    except RequestFileError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_UNREADABLE) from None


def read_request(
    body: Any, mode: Mode, use_model_registry: bool, strict: bool = False, region: str | None = None
) -> ReadRequest:
    """The request's spec and warnings (unknown keys ignored, as the API does; refused when `strict`);
    SpecError (mlops_spec.errors) naming each bad field otherwise.

    What the API refuses before validating (numbers out of range, nesting too deep, lone
    surrogates) is refused here first, with the same field errors.
    """
    # Imported here, not at the top: building the request models takes about a quarter of a
    # second, which `mlops --help` and the commands that take no request should not wait for.
    from mlops_spec.errors import FieldError, SpecError
    from mlops_spec.request import read_pipeline_request

    problems = untrusted_json.structure_problems(body)
    if problems:
        raise SpecError("invalid request", [FieldError(p["field"], p["problem"]) for p in problems])
    return read_pipeline_request(body, mode=mode, use_model_registry=use_model_registry, strict=strict, region=region)


def parse_request(body: Any, mode: Mode, use_model_registry: bool, strict: bool = False) -> PipelineSpec:
    """The request's spec (see read_request)."""
    return read_request(body, mode, use_model_registry, strict).spec


def print_field_errors(errors: list[FieldError]) -> None:
    """One `<field>: <problem>` line per error, on stderr."""
    for error in errors:
        typer.echo(str(error), err=True)


def print_warnings(warnings: Sequence[FieldError]) -> None:
    """One `warning: <field>: <problem>` line per ignored key, on stderr."""
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)


def check_or_exit(
    body: Any, mode: Mode, use_model_registry: bool, strict: bool = False, region: str | None = None
) -> PipelineSpec:
    """The body's spec, its warnings printed; prints the warnings and errors and exits 1 when invalid."""
    from mlops_spec.errors import SpecError  # lazily: it loads pydantic

    try:
        read = read_request(body, mode, use_model_registry, strict, region)
    except SpecError as exc:
        print_warnings(getattr(exc, "warnings", []))
        print_field_errors(exc.errors)
        raise typer.Exit(EXIT_INVALID) from None
    print_warnings(read.warnings)
    return read.spec
