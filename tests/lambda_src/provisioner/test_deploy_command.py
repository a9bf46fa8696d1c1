"""`mlops deploy`: what CodeBuild (and a user with the pulumi CLI) sees on success and on failure."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from lambda_src.provisioner import deploy as deploy_module
from lambda_src.provisioner.errors import StackBusy
from lambda_src.provisioner.runner import UpOutcome
from mlops_cli.main import app

SETTINGS = {"AWS_REGION": "us-east-1", "MLOPS_ACCOUNTS": '{"dev": "111111111111"}'}


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    recorded: list[dict[str, Any]] = []

    def fake_deploy(pipeline_id: str, env: str, settings: Any, **kwargs: Any) -> UpOutcome:
        recorded.append({"pipeline_id": pipeline_id, "env": env, **kwargs})
        if pipeline_id == "busy":
            raise StackBusy("busy-dev stayed locked by another update")
        return UpOutcome({"endpoint_name": "churn-dev"}, {"create": 4})

    monkeypatch.setattr(deploy_module, "deploy", fake_deploy)
    for key, value in SETTINGS.items():
        monkeypatch.setenv(key, value)
    return recorded


def test_deploy_is_a_registered_command():
    result = CliRunner().invoke(app, ["deploy", "--help"])

    assert result.exit_code == 0
    assert "--pipeline-id" in result.output and "--spec-file" in result.output


def test_a_deployment_prints_the_stack_outputs(calls: list[dict[str, Any]], tmp_path: Any):
    spec = tmp_path / "spec.json"
    spec.write_text("{}")

    result = CliRunner().invoke(app, ["deploy", "--pipeline-id", "churn", "--env", "dev", "--spec-file", str(spec)])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1]) == {
        "outputs": {"endpoint_name": "churn-dev"},
        "stack": "churn-dev",
    }
    assert calls[0]["spec_file"] == spec


def test_build_variables_name_the_pipeline_and_environment(calls: list[dict[str, Any]], monkeypatch: Any):
    monkeypatch.setenv("PIPELINE_ID", "churn")
    monkeypatch.setenv("TARGET_ENV", "dev")

    assert CliRunner().invoke(app, ["deploy"]).exit_code == 0
    assert (calls[0]["pipeline_id"], calls[0]["env"]) == ("churn", "dev")


def test_a_failure_exits_non_zero_with_its_reason(calls: list[dict[str, Any]]):
    result = CliRunner().invoke(app, ["deploy", "--pipeline-id", "busy", "--env", "dev"])

    assert result.exit_code == 1
    assert "error: stack-busy (retryable): busy-dev stayed locked" in result.output


def test_missing_settings_are_named(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)

    result = CliRunner().invoke(app, ["deploy", "--pipeline-id", "churn", "--env", "dev"])

    assert result.exit_code == 2
    assert "AWS_REGION is not set" in result.output
