"""The provider's account guard that `mlops init` writes is checked by `mlops plan` (issue 13, point 5):
a stack file whose `aws:allowedAccountIds` names another account stops with one line, before planning."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlops_cli.main import app

pytestmark = pytest.mark.fast
FIX = "set it with `pulumi config set --path 'aws:allowedAccountIds[0]' 444444444444 --type string`"


def test_a_copied_stack_file_guarding_another_account_is_refused_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(tmp_path), "--account", "444444444444"]).exit_code == 0
    stack_file = tmp_path / "Pulumi.dev.yaml"
    assert "aws:allowedAccountIds:\n  - '444444444444'\n" in stack_file.read_text()
    stack_file.write_text(stack_file.read_text().replace("444444444444", "555555555555"))
    monkeypatch.chdir(tmp_path)

    planned = runner.invoke(app, ["plan"], env={"COLUMNS": "300"})

    assert planned.exit_code == 1
    assert planned.output.strip() == (
        "error: aws:allowedAccountIds: names 555555555555, but this stack deploys dev into account "
        f"444444444444 (mlops:accounts.dev); {FIX}"
    )
