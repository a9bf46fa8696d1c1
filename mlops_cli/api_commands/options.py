"""The command-line options the API commands share: where the API is, how to sign, which pipeline, --json, --yes."""

from __future__ import annotations

from typing import Annotated

import typer

# A usage error (as click exits on a bad option).
EXIT_USAGE = 2

ApiUrlOption = Annotated[
    str | None,
    typer.Option(
        "--api-url", help="Orchestrator API URL [default: $MLOPS_API_URL, else `pulumi stack output apiUrl`]."
    ),
]
RegionOption = Annotated[
    str | None, typer.Option("--region", help="Region to sign for [default: from the URL, else the AWS session].")
]
ProfileOption = Annotated[str | None, typer.Option("--profile", help="AWS profile for credentials.")]
PipelineIdArg = Annotated[str, typer.Argument(help="Pipeline id, e.g. churn-xgb-realtime-builtin.", show_default=False)]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the API's JSON answer instead of tables (for scripts).")
]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
ChecksOption = Annotated[
    bool,
    typer.Option(
        "--checks/--no-checks",
        help="With --dry-run: let the orchestrator read the quotas and the AWS Price List (--no-checks: "
        "validation alone, nothing asked of AWS but a model card's metric files).",
    ),
]


def refuse_checks_without_dry_run(checks: bool, dry_run: bool) -> None:
    """--no-checks means something only for a dry run (a request itself is always checked): one line, exit 2."""
    if not checks and not dry_run:
        typer.echo("--no-checks applies only to a dry run: add --dry-run", err=True)
        raise typer.Exit(EXIT_USAGE)
