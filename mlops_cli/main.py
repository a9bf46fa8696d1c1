"""The `mlops` command: one Typer app; each command lives in its own module and is registered here."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from mlops_cli.version import show_version

app = typer.Typer(
    name="mlops",
    help="MLOps pipeline orchestrator for AWS: plan offline, validate requests, and drive a deployed orchestrator.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _options(
    version: Annotated[
        bool, typer.Option("--version", callback=show_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    pass


def _register() -> None:
    # Typer reads every command's signature to build `mlops --help`, so each command module is
    # imported here; they keep their heavy imports (pulumi, boto3, the request models) inside the
    # command functions, so listing the commands stays fast.
    from mlops_cli import deploy_command, init_command, plan_command, teardown_command, validate_command
    from mlops_cli.api_commands import approvals, drift, modelcards, pipelines, promote

    app.command("init")(init_command.init)
    app.command("plan")(plan_command.plan)
    app.command("validate")(validate_command.validate)
    app.command("provision")(pipelines.provision)
    app.command("status")(pipelines.status)
    app.command("list")(pipelines.list_pipelines)
    app.command("delete")(pipelines.delete)
    app.command("drift")(drift.drift)
    app.command("reconcile")(drift.reconcile)
    app.command("promote")(promote.promote)
    app.command("approve")(approvals.approve)
    app.command("reject")(approvals.reject)
    app.add_typer(modelcards.app, name="modelcard")
    app.command("deploy")(deploy_command.deploy)
    app.command("teardown", hidden=True)(teardown_command.teardown)


_register()

# Commands after which the process ends without tearing the interpreter down: a plan leaves a large
# graph of Pulumi objects and modules whose teardown took about a second, after the output was
# complete and nothing was left to write.
_ENDS_WITHOUT_TEARDOWN = frozenset({"plan"})


def main() -> None:
    """The `mlops` console script: the app, then the exit (see _ENDS_WITHOUT_TEARDOWN)."""
    try:
        app()
        code: int | str | None = 0
    except SystemExit as exit_:
        code = exit_.code
    if len(sys.argv) > 1 and sys.argv[1] in _ENDS_WITHOUT_TEARDOWN:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code if isinstance(code, int) else 0 if code is None else 1)
    sys.exit(code)


if __name__ == "__main__":
    main()
