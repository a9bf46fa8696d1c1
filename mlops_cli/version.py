"""`mlops --version`: the installed distribution's version, from its metadata (pyproject.toml)."""

from __future__ import annotations

import typer

DISTRIBUTION = "mlops-orchestrator"


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed: pip install .)"


def show_version(requested: bool) -> None:
    """Eager option callback: print the version and stop before any command runs."""
    if requested:
        typer.echo(f"mlops {package_version()}")
        raise typer.Exit()
