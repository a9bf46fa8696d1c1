"""`mlops deploy`: up one environment's target stack of a pipeline with the pulumi CLI (builds and users)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from mlops_cli.extras import require_orchestrator

EXIT_FAILED = 1
EXIT_MISCONFIGURED = 2


def deploy(
    pipeline_id: Annotated[
        str,
        typer.Option("--pipeline-id", envvar="PIPELINE_ID", help="Id of the pipeline to deploy.", show_default=False),
    ],
    env: Annotated[
        str,
        typer.Option(
            "--env", envvar="TARGET_ENV", help="Environment to deploy to: dev, staging or prod.", show_default=False
        ),
    ],
    spec_file: Annotated[
        Path | None,
        typer.Option(
            "--spec-file",
            help="The pipeline request (spec.json); read from the assets bucket when absent.",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Create or update stack <pipeline-id>-<env> through that environment's deploy role.

    Needs the pulumi CLI, a role the deploy role trusts and the provisioner's MLOPS_* settings. An
    approval-guarded environment is deployed only in the delivery pipeline's run that approved it.
    """
    require_orchestrator("deploy")  # the imports below load pulumi: here, so that `mlops --help` does not wait
    from lambda_src.provisioner.deploy import deploy as deploy_stack
    from lambda_src.provisioner.errors import ProvisioningError
    from lambda_src.provisioner.settings import ProvisionerSettings, SettingsError
    from lambda_src.registry import Registry

    try:
        settings = ProvisionerSettings.from_env()
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_MISCONFIGURED) from None
    try:
        outcome = deploy_stack(
            pipeline_id,
            env,
            settings,
            spec_file=spec_file,
            registry=Registry(settings.registry_table),
            on_output=typer.echo,
        )
    except ProvisioningError as exc:
        retry = " (retryable)" if exc.retryable else ""
        typer.echo(f"error: {exc.reason}{retry}: {exc.message}", err=True)
        raise typer.Exit(EXIT_FAILED) from None
    typer.echo(json.dumps({"stack": f"{pipeline_id}-{env}", "outputs": outcome.outputs}, default=str, sort_keys=True))
