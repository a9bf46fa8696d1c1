"""The `mlops` command: one Typer app; each command lives in its own module and is registered here."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="mlops",
    help="MLOps pipeline orchestrator for AWS: plan offline, validate requests, and drive a deployed orchestrator.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register() -> None:
    # Imported here so `mlops --help` stays fast and each command module stays independent.
    from mlops_cli import api_commands, deploy_command, plan_command, validate_command

    app.command("plan")(plan_command.plan)
    app.command("validate")(validate_command.validate)
    app.command("provision")(api_commands.provision)
    app.command("status")(api_commands.status)
    app.command("list")(api_commands.list_pipelines)
    app.command("delete")(api_commands.delete)
    app.command("approve")(api_commands.approve)
    app.command("reject")(api_commands.reject)
    app.command("deploy")(deploy_command.deploy)


_register()

if __name__ == "__main__":
    app()
