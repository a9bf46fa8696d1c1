"""The `mlops` command: one Typer app; each command lives in its own module and is registered here."""

from __future__ import annotations

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
    from mlops_cli.api_commands import approvals, pipelines

    app.command("init")(init_command.init)
    app.command("plan")(plan_command.plan)
    app.command("validate")(validate_command.validate)
    app.command("provision")(pipelines.provision)
    app.command("status")(pipelines.status)
    app.command("list")(pipelines.list_pipelines)
    app.command("delete")(pipelines.delete)
    app.command("approve")(approvals.approve)
    app.command("reject")(approvals.reject)
    app.command("deploy")(deploy_command.deploy)
    app.command("teardown", hidden=True)(teardown_command.teardown)


_register()

if __name__ == "__main__":
    app()
