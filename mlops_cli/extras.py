"""The `orchestrator` extra: what `mlops plan`, `deploy` and `teardown` need beyond the light install.

API users install `mlops-orchestrator` alone (boto3, typer, rich, pydantic, pyyaml: the API client
commands, `mlops validate` and `mlops init`). The commands that run the Pulumi program also need
pulumi, pulumi-aws and aws-lambda-powertools; without them they stop with one line naming the install.
"""

from __future__ import annotations

import importlib.util

import typer

from mlops_cli.version import DISTRIBUTION

EXIT_MISSING_EXTRA = 2
ORCHESTRATOR_MODULES = ("pulumi", "pulumi_aws", "aws_lambda_powertools")
INSTALL_ORCHESTRATOR = f"pip install '{DISTRIBUTION}[orchestrator]'"


def missing_modules(modules: tuple[str, ...] = ORCHESTRATOR_MODULES) -> list[str]:
    """The modules that cannot be imported here; found without importing them (pulumi_aws takes seconds)."""
    return [module for module in modules if importlib.util.find_spec(module) is None]


def missing_extra_message(command: str, missing: list[str]) -> str:
    return f"error: mlops {command} needs {', '.join(missing)} (not installed): {INSTALL_ORCHESTRATOR}"


def require_orchestrator(command: str) -> None:
    """Exit 2 with one line naming the install when the orchestrator extra is missing; else return."""
    missing = missing_modules()
    if missing:
        typer.echo(missing_extra_message(command, missing), err=True)
        raise typer.Exit(EXIT_MISSING_EXTRA)
