"""`mlops --version` prints the installed distribution's version (issue 13, point 9)."""

from __future__ import annotations

from importlib.metadata import version

import pytest
from typer.testing import CliRunner

from mlops_cli.main import app

pytestmark = pytest.mark.fast


def test_version_is_the_installed_distributions() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"mlops {version('mlops-orchestrator')}\n"
