"""`mlops plan --request` reports a request as `mlops validate` does: every field error on its own line,
named by request field (no `mlops:pipelines[0].` prefix), unknown keys as warnings with the did-you-mean
hint, exit 1 and no traceback; a valid request is planned without the keys it ignores."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlops_cli.main import app

runner = CliRunner()
REPO_ROOT = Path(__file__).resolve().parents[2]
REALTIME = json.loads((REPO_ROOT / "examples" / "byom_realtime_builtin.json").read_text())


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the program and its single-account dev stack."""
    for name in ("__main__.py", "Pulumi.yaml", "Pulumi.dev.yaml"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLOPS_MODE", raising=False)
    return tmp_path


def write(project: Path, body: dict) -> str:
    path = project / "request.json"
    path.write_text(json.dumps(body))
    return str(path)


def test_an_invalid_request_gets_every_error_and_warning_as_validate_prints_them(project: Path) -> None:
    body = {**REALTIME, "inference_instance": "ml.m5.largee", "instance_count": 0, "modle_name": "x"}
    path = write(project, body)

    planned = runner.invoke(app, ["plan", "--request", path])
    validated = runner.invoke(app, ["validate", path])

    assert planned.exit_code == 1
    lines = planned.stderr.splitlines()
    assert lines == validated.stderr.splitlines()
    assert lines[0] == "warning: modle_name: is not a known field; ignored (did you mean model_name?)"
    assert [line.split(":")[0] for line in lines[1:]] == ["inference_instance", "instance_count"]
    assert "Traceback" not in planned.output


def test_the_stacks_strict_setting_makes_unknown_keys_errors(project: Path) -> None:
    stack_file = project / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text() + "  mlops:strictRequests: true\n")

    result = runner.invoke(app, ["plan", "--request", write(project, {**REALTIME, "modle_name": "x"})])

    assert (result.exit_code, result.stderr.splitlines()) == (
        1,
        ["modle_name: is not a known field (did you mean model_name?)"],
    )


def test_a_valid_request_with_an_unknown_key_is_planned_without_it(project: Path) -> None:
    result = runner.invoke(
        app, ["plan", "--request", write(project, {**REALTIME, "description": "churn"}), "--delivery", "--json"]
    )

    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == ["warning: description: is not a known field; ignored"]
    assert json.loads(result.stdout)["stacks"][0]["stack"] == "churn-xgb-realtime-builtin-delivery"


def test_a_model_card_operation_is_checked_and_plans_nothing(project: Path) -> None:
    card = write(project, {"pipeline_type": "delete_model_card", "name": "c"})
    good = runner.invoke(app, ["plan", "--request", card])
    assert (good.exit_code, good.stdout.strip()) == (
        0,
        "model card operation delete_model_card: valid; it plans no resources (SageMaker is called when provisioned)",
    )

    bad = runner.invoke(app, ["plan", "--request", write(project, {"pipeline_type": "delete_model_card"})])
    assert (bad.exit_code, bad.stderr.splitlines()) == (1, ["name: is required"])
