"""`mlops plan` acts on the Pulumi project of the current directory or --cwd, as pulumi does (issue 13,
points 1, 2 and 6): any stack with a Pulumi.<stack>.yaml, its environment from its config, a project of
three small files that calls the installed program, secrets planned as a visible placeholder."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

from mlops_cli.main import app

runner = CliRunner()
USER_MAIN = "from mlops_cli.program import run\n\nrun()\n"
MULTI_PROD: dict[str, Any] = {
    "aws:region": "eu-west-1",
    "mlops:environment": "prod",
    "mlops:mode": "multi",
    # as `pulumi config set --path` stores them: numbers
    "mlops:accounts": {"dev": 111111111111, "staging": 222222222222, "prod": 33333333333},
    "mlops:notificationEmail": "team@example.com",
}


def write_project(root: Path, stacks: dict[str, dict[str, Any]], name: str = "ml-platform") -> Path:
    """A user's project: Pulumi.yaml, one file per stack and a __main__.py calling the installed program."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "Pulumi.yaml").write_text(yaml.safe_dump({"name": name, "runtime": "python"}))
    (root / "__main__.py").write_text(USER_MAIN)
    for stack, config in stacks.items():
        (root / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}))
    return root


@pytest.fixture
def plan_in(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run `mlops plan <args>` from `directory` (an 80-column terminal)."""

    def run(directory: Path, *args: str) -> Result:
        monkeypatch.chdir(directory)
        return runner.invoke(app, ["plan", *args], env={"COLUMNS": "80"})

    return run


def resources_of(result: Result) -> dict[str, dict[str, Any]]:
    assert result.exit_code == 0, result.output
    [stack] = json.loads(result.stdout)["stacks"]
    return {r["name"]: r for r in stack["resources"]}


def test_a_stack_of_any_name_in_the_current_directory_plans_from_its_config(tmp_path: Path, plan_in) -> None:
    project = write_project(tmp_path / "platform", {"ml-prod-eu": MULTI_PROD})
    resources = resources_of(plan_in(project, "--json"))
    role = resources["mlops-prod-deploy-role"]
    assert role["inputs"]["tags"]["mlops:environment"] == "prod"
    trust = json.loads(role["inputs"]["assumeRolePolicy"])
    # the orchestrator's account, as stored by `config set --path`, and prod's padded to 12 digits
    assert trust["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::111111111111:root"}
    assert "mlops-orchestrator-api" not in resources  # prod does not host the orchestrator


def test_plan_finds_the_project_from_a_subdirectory_or_cwd(tmp_path: Path, plan_in) -> None:
    project = write_project(tmp_path / "platform", {"ml-prod-eu": MULTI_PROD})
    (project / "notebooks").mkdir()
    from_below = plan_in(project / "notebooks", "--stack", "ml-prod-eu")
    assert from_below.exit_code == 0, from_below.output
    assert from_below.stdout.startswith("stack ml-prod-eu: 23 resources")
    from_elsewhere = plan_in(tmp_path, "--cwd", str(project), "--stack", "all")
    assert from_elsewhere.stdout == from_below.stdout


def test_stack_all_without_any_stack_file_fails_with_one_line(tmp_path: Path, plan_in) -> None:
    result = plan_in(write_project(tmp_path, {}), "--stack", "all")
    assert result.exit_code == 1
    assert result.stderr == f"error: --stack all: {tmp_path.resolve()} holds no stack file (Pulumi.<stack>.yaml)\n"


def test_outside_any_project_plan_says_where_it_looked(tmp_path: Path, plan_in) -> None:
    result = plan_in(tmp_path)
    assert result.exit_code == 1
    assert "holds no Pulumi.yaml (run in a project directory or pass --cwd DIR)" in result.stderr


def test_stack_all_plans_every_stack_file(tmp_path: Path, plan_in) -> None:
    staging = {**MULTI_PROD, "mlops:environment": "staging"}
    result = plan_in(write_project(tmp_path, {"ml-prod-eu": MULTI_PROD, "ml-stg-eu": staging}), "--stack", "all")
    assert result.exit_code == 0, result.output
    assert [line for line in result.stdout.splitlines() if line.startswith("stack ")] == [
        "stack ml-prod-eu: 23 resources",
        "stack ml-stg-eu: 23 resources",
    ]


def test_a_secure_value_is_planned_as_a_placeholder_with_what_depends_on_it(tmp_path: Path, plan_in) -> None:
    config = {
        "aws:region": "us-east-1",
        "mlops:accounts": {"dev": "111111111111"},
        "mlops:deployRoleExternalId": {"secure": "v1:c2VjcmV0"},
    }
    resources = resources_of(plan_in(write_project(tmp_path, {"dev": config}), "--json"))
    parameter = resources["mlops-orchestrator-deploy-role-external-id"]["inputs"]
    assert (parameter["name"], parameter["type"], parameter["value"]) == (
        "/mlops/deploy-role-external-id",
        "SecureString",
        "[secret]",
    )
    trust = json.loads(resources["mlops-dev-deploy-role"]["inputs"]["assumeRolePolicy"])
    assert trust["Statement"][0]["Condition"]["StringEquals"] == {"sts:ExternalId": "[secret]"}


def test_a_secret_written_in_plain_text_is_refused_naming_the_command(tmp_path: Path, plan_in) -> None:
    config = {**MULTI_PROD, "mlops:deployRoleExternalId": "hunter2"}
    result = plan_in(write_project(tmp_path, {"ml-prod-eu": config}))
    assert result.exit_code == 1
    assert "pulumi config set --secret mlops:deployRoleExternalId <value>" in result.stderr
    assert "hunter2" not in result.output


def test_an_unquoted_version_in_the_stack_file_is_refused(tmp_path: Path, plan_in) -> None:
    project = write_project(tmp_path, {"ml-prod-eu": MULTI_PROD})
    stack_file = project / "Pulumi.ml-prod-eu.yaml"
    stack_file.write_text(stack_file.read_text() + "  mlops:provisionerImageTag: 0.10\n")
    result = plan_in(project)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: mlops:provisionerImageTag: is the number 0.1 (YAML reads an unquoted")


def test_a_namespace_typo_in_the_stack_file_is_refused(tmp_path: Path, plan_in) -> None:
    result = plan_in(write_project(tmp_path, {"ml-prod-eu": {**MULTI_PROD, "mlo:useModelRegistry": True}}))
    assert result.exit_code == 1
    assert result.stderr == (
        "error: mlo:useModelRegistry: 'mlo' is not a config namespace; did you mean mlops:useModelRegistry?\n"
    )


def test_settings_in_pulumi_yaml_are_shared_by_every_stack(tmp_path: Path, plan_in) -> None:
    shared = {k: v for k, v in MULTI_PROD.items() if k != "mlops:environment"}
    project = write_project(tmp_path, {"ml-prod-eu": {"mlops:environment": "prod"}})
    document = yaml.safe_load((project / "Pulumi.yaml").read_text())
    document["config"] = {key: {"value": value} for key, value in shared.items()}
    (project / "Pulumi.yaml").write_text(yaml.safe_dump(document))
    resources = resources_of(plan_in(project, "--json"))
    assert resources["mlops-prod-deploy-role"]["inputs"]["tags"]["mlops:environment"] == "prod"


def test_the_text_plan_fits_80_columns_and_ends_with_a_summary(tmp_path: Path, plan_in) -> None:
    result = plan_in(write_project(tmp_path, {"ml-prod-eu": MULTI_PROD}))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line for line in lines if len(line) > 80 and " " in line.strip()] == []
    summary = lines[lines.index("summary of stack ml-prod-eu") :]
    assert summary[1:3] == ["  resources per component:", "    mlops-prod (EnvironmentBaseline)  23"]
    assert "    iam: Policy 1, Role 2, RolePolicy 2" in summary
    assert summary[-1] == "  guardrails: passed (components/guardrails/)"


def test_a_cwd_that_does_not_exist_is_refused_not_replaced_by_a_project_above(tmp_path: Path, plan_in) -> None:
    project = write_project(tmp_path, {"ml-prod-eu": MULTI_PROD})
    result = plan_in(project, "--cwd", str(project / "typo"))
    assert result.exit_code == 1
    assert result.stderr == f"error: {(project / 'typo').resolve()}: is not a directory\n"


def test_a_stack_that_names_another_dev_account_than_its_siblings_is_refused(tmp_path: Path, plan_in) -> None:
    other_dev = {**MULTI_PROD["mlops:accounts"], "dev": 999999999999}
    stacks = {
        "ml-prod-eu": {**MULTI_PROD, "mlops:accounts": other_dev},
        "ml-stg-eu": {**MULTI_PROD, "mlops:environment": "staging"},
    }
    result = plan_in(write_project(tmp_path, stacks), "--stack", "ml-stg-eu")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: mlops:accounts.dev: differs between stacks (ml-prod-eu: 999999999999; ml-stg-eu: 111111111111)"
    )
