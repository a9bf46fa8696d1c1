"""The `mlops` command: one Typer app; each command lives in its own module and is registered here."""

from __future__ import annotations

import gc
import importlib
import os
import sys
from typing import Annotated

import typer

from mlops_cli.version import show_version

# Command name -> (module, attribute): the command function, or for a group its Typer app. A run of
# one command imports that command's module only; `mlops --help` (or no known command) imports them
# all, since Typer reads every signature to list them. The modules keep their heavy imports (pulumi,
# boto3, the request models) inside the command functions.
_COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("mlops_cli.init_command", "init"),
    "plan": ("mlops_cli.plan_command", "plan"),
    "validate": ("mlops_cli.validate_command", "validate"),
    "provision": ("mlops_cli.api_commands.pipelines", "provision"),
    "status": ("mlops_cli.api_commands.pipelines", "status"),
    "list": ("mlops_cli.api_commands.pipelines", "list_pipelines"),
    "delete": ("mlops_cli.api_commands.pipelines", "delete"),
    "drift": ("mlops_cli.api_commands.drift", "drift"),
    "reconcile": ("mlops_cli.api_commands.drift", "reconcile"),
    "promote": ("mlops_cli.api_commands.promote", "promote"),
    "approve": ("mlops_cli.api_commands.approvals", "approve"),
    "reject": ("mlops_cli.api_commands.approvals", "reject"),
    "modelcard": ("mlops_cli.api_commands.modelcards", "app"),
    "deploy": ("mlops_cli.deploy_command", "deploy"),
    "teardown": ("mlops_cli.teardown_command", "teardown"),
}
_GROUPS = frozenset({"modelcard"})
_HIDDEN = frozenset({"teardown"})

# Commands after which the process ends without tearing the interpreter down: a plan leaves a large
# graph of Pulumi objects and modules whose teardown took about a second, after the output was
# complete and nothing was left to write. Nothing they build is garbage before the end either, so the
# cyclic collector (which rescanned the growing graph of modules, models and outputs, about 0.25 s of
# a plan) does not run in them.
_ENDS_WITHOUT_TEARDOWN = frozenset({"plan"})


def _options(
    version: Annotated[
        bool, typer.Option("--version", callback=show_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    pass


def build_app(only: str | None = None) -> typer.Typer:
    """The `mlops` app with every command, or with command `only` alone (all a run of it needs)."""
    built = typer.Typer(
        name="mlops",
        help="MLOps pipeline orchestrator for AWS: plan offline, validate requests, and drive a deployed orchestrator.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    built.callback()(_options)
    for name, (module, attribute) in _COMMANDS.items():
        if only in (None, name):
            target = getattr(importlib.import_module(module), attribute)
            if name in _GROUPS:
                built.add_typer(target, name=name)
            else:
                built.command(name, hidden=name in _HIDDEN)(target)
    return built


def __getattr__(name: str) -> typer.Typer:
    """`from mlops_cli.main import app`: the app with every command, built on first use."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()["app"] = built = build_app()
    return built


def main() -> None:
    """The `mlops` console script: the app (of the command given alone), then the exit (see
    _ENDS_WITHOUT_TEARDOWN)."""
    command = sys.argv[1] if len(sys.argv) > 1 else None
    ends_without_teardown = command in _ENDS_WITHOUT_TEARDOWN
    if ends_without_teardown:
        gc.disable()
    try:
        build_app(command if command in _COMMANDS else None)()
        code: int | str | None = 0
    except SystemExit as exit_:
        code = exit_.code
    if ends_without_teardown:
        os._exit(exit_status(code))
    sys.exit(code)


def exit_status(code: int | str | None) -> int:
    """What sys.exit(code) would do before the process ends without teardown: a message (SystemExit("..."))
    is printed to stderr and the status is 1; None is 0. os._exit does neither, so it is done here; the
    streams are flushed last, since os._exit drops whatever is still buffered."""
    status = code if isinstance(code, int) else 0 if code is None else 1
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    return status


if __name__ == "__main__":
    main()
