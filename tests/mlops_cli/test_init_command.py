"""`mlops init` writes a project that `mlops plan` plans (issue 13, "Done when"): settings shared by
every stack written once in Pulumi.yaml, a stack file per environment, nothing written on bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from mlops_cli.main import app
from mlops_cli.project import find_project
from mlops_spec.stack_config import load_stack_config

runner = CliRunner()
MULTI = [
    "--mode", "multi", "--region", "eu-west-1", "--email", "team@example.com",
    "--account", "dev=111111111111", "--account", "staging=222222222222", "--account", "prod=333333333333",
]  # fmt: skip


def mlops(*args: str) -> Result:
    return runner.invoke(app, list(args), env={"COLUMNS": "80"})


def test_a_single_account_project_plans_where_it_was_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    written = mlops("init", str(tmp_path / "ml-platform"), "--account", "444444444444")
    assert written.exit_code == 0, written.output
    assert sorted(p.name for p in (tmp_path / "ml-platform").iterdir()) == [
        "Pulumi.dev.yaml",
        "Pulumi.yaml",
        "__main__.py",
        "requirements.txt",
    ]
    monkeypatch.chdir(tmp_path / "ml-platform")
    planned = mlops("plan", "--json")
    assert planned.exit_code == 0, planned.output
    assert '"registryTable": "mlops-pipelines"' in planned.stdout
    assert '"assetsBucket": "mlops-assets-444444444444-us-east-1"' in planned.stdout


@pytest.mark.fast
def test_a_multi_account_project_shares_its_settings_and_names_each_stacks_environment(tmp_path: Path) -> None:
    assert mlops("init", str(tmp_path), *MULTI).exit_code == 0
    project = find_project(tmp_path)
    assert (project.name, project.stacks()) == (tmp_path.name, ["dev", "prod", "staging"])
    for stack in project.stacks():
        config = load_stack_config(project.read_stack(stack).values, stack)
        assert (config.environment, config.mode, config.region) == (stack, "multi", "eu-west-1")
        assert config.orchestrator_account_id == "111111111111"
    assert (tmp_path / "Pulumi.prod.yaml").read_text() == (
        "config:\n  mlops:environment: prod\n  aws:allowedAccountIds:\n  - '333333333333'\n"
    )


@pytest.mark.fast
@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--account", "12"], "mlops:accounts.dev: must be a 12-digit AWS account id"),
        (MULTI[:-2], "--account: multi mode needs --account dev=ID --account staging=ID --account prod=ID"),
        ([*MULTI[:4], *MULTI[6:]], "mlops:notificationEmail: is required in multi-account mode"),
        (["--account", "111111111111", "--region", "cn-northwest-1"], "aws:region: cn-northwest-1 has no Powertools"),
    ],
)
def test_bad_settings_write_nothing(tmp_path: Path, args: list[str], problem: str) -> None:
    result = mlops("init", str(tmp_path / "project"), *args)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {problem}")
    assert not (tmp_path / "project").exists()


@pytest.mark.fast
def test_an_existing_project_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: mine\n")
    result = mlops("init", str(tmp_path), "--account", "111111111111")
    assert result.exit_code == 1
    assert "already holds a Pulumi project" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Pulumi.yaml"]
