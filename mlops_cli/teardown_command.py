"""`mlops teardown`: the teardown build's command (lambda_src/provisioner/teardown.py).

It deletes the pipeline the build was started for: stops its runs and builds, destroys its stacks
and records DELETED, or FAILED with the reason. Started by the provisioner, never by hand: the
request comes from the build's MLOPS_TEARDOWN_* variables, and a build whose claim is no longer
the record's does nothing.
"""

from __future__ import annotations

import json

import typer

from mlops_cli.extras import require_orchestrator

EXIT_FAILED = 1
EXIT_MISCONFIGURED = 2


def teardown() -> None:
    """Delete the pipeline this teardown build was started for (run by the orchestrator's teardown project)."""
    require_orchestrator("teardown")
    # Imported here: pulumi and pulumi_aws take a while to load, and `mlops --help` should not wait.
    from lambda_src.provisioner.handler import Provisioner
    from lambda_src.provisioner.settings import SettingsError
    from lambda_src.provisioner.teardown import TeardownRequest

    try:
        request = TeardownRequest.from_env()
        provisioner = Provisioner.from_env()
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_MISCONFIGURED) from None
    outcome = provisioner.tear_down(request)
    typer.echo(json.dumps(outcome, sort_keys=True))
    if outcome.get("status") == "FAILED":
        raise typer.Exit(EXIT_FAILED)
