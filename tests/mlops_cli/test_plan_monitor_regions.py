"""GovCloud monitors (review M3): `mlops validate` and `mlops plan --request` refuse a data-quality monitor in
us-gov-west-1 with the same field error (its image is not published there), and an UnsupportedRegionError the
validation did not catch is one line and exit 1, never a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlops_cli.main import app

runner = CliRunner()
REPO_ROOT = Path(__file__).resolve().parents[2]
PROBLEM = "pipeline_type: byom_data_quality_monitor cannot run in us-gov-west-1: no sagemaker-model-monitor-analyzer"


@pytest.fixture
def govcloud(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("__main__.py", "Pulumi.yaml"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    (tmp_path / "Pulumi.dev.yaml").write_text(
        'config:\n  aws:region: us-gov-west-1\n  mlops:accounts: {dev: "123456789012"}\n'
    )
    request = json.loads((REPO_ROOT / "examples" / "byom_data_quality_monitor.json").read_text())
    (tmp_path / "request.json").write_text(json.dumps(request))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_validate_refuses_a_data_quality_monitor_in_govcloud(govcloud: Path) -> None:
    result = runner.invoke(app, ["validate", "--stack", "dev", "request.json"])

    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(PROBLEM)


def test_plan_request_refuses_it_with_the_same_field_error(govcloud: Path) -> None:
    result = runner.invoke(app, ["plan", "--request", "request.json"])

    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(PROBLEM) and "Traceback" not in result.output


def test_an_unsupported_region_met_while_planning_is_one_line(govcloud: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As if the validation had let it through: the monitor's component finds no image for the region.
    monkeypatch.setattr("mlops_spec.pipelines.monitors.monitor_region_problem", lambda pipeline_type, region: None)

    result = runner.invoke(app, ["plan", "--request", "request.json"])

    assert result.exit_code == 1, result.output
    [line] = result.stderr.splitlines()
    assert line.startswith("error: no sagemaker-model-monitor-analyzer image is known for region 'us-gov-west-1'")
