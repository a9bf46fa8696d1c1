"""`mlops plan`: the offline plan of the committed stacks, JSON shape, and one-line config errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlops_cli import planner
from mlops_cli.main import app
from mlops_cli.project import find_project

runner = CliRunner()
REPO_ROOT = Path(__file__).resolve().parents[2]
# The multi-account example project: dev (with the orchestrator), staging and prod.
MULTI_ACCOUNT = REPO_ROOT / "examples" / "stacks" / "multi-account"


def test_plan_all_json_lists_three_stacks_with_the_orchestrator_in_dev() -> None:
    result = runner.invoke(app, ["plan", "--cwd", str(MULTI_ACCOUNT), "--stack", "all", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    stacks = {s["stack"]: s for s in document["stacks"]}
    assert sorted(stacks) == ["dev", "prod", "staging"]
    dev_types = {r["type"] for r in stacks["dev"]["resources"]}
    assert {"aws:apigateway/restApi:RestApi", "aws:lambda/function:Function", "aws:dynamodb/table:Table"} <= dev_types
    assert stacks["dev"]["outputs"]["registryTable"] == "mlops-pipelines"
    assert "apiUrl" not in stacks["prod"]["outputs"]
    first = stacks["dev"]["resources"][0]
    assert set(first) == {"type", "name", "parent", "inputs"}


def test_plan_prints_a_tree_counts_and_outputs() -> None:
    result = runner.invoke(app, ["plan", "--cwd", str(MULTI_ACCOUNT), "--stack", "staging"])
    assert result.exit_code == 0, result.output
    assert "stack staging" in result.stdout
    assert "mlops-staging-deploy-role" in result.stdout
    assert "resources per type:" in result.stdout and "summary of stack staging" in result.stdout
    assert "deployRoleArn" in result.stdout


@pytest.fixture
def project_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the program and its stack files whose config a test can break."""
    for name in ("__main__.py", "Pulumi.yaml", "Pulumi.dev.yaml"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_bad_account_id_exits_1_with_one_line_naming_the_key(project_copy: Path) -> None:
    stack_file = project_copy / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text().replace('dev: "111111111111"', 'dev: "12"'))
    result = runner.invoke(app, ["plan", "--stack", "dev"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "mlops:accounts.dev" in lines[0] and "12-digit" in lines[0]
    assert "Traceback" not in result.output


def test_unknown_stack_exits_1(project_copy: Path) -> None:
    result = runner.invoke(app, ["plan", "--stack", "qa"])
    assert result.exit_code == 1
    assert "Pulumi.qa.yaml" in result.stderr


def test_request_that_does_not_parse_exits_1(tmp_path: Path) -> None:
    request = tmp_path / "request.json"
    request.write_text("{not json")
    result = runner.invoke(app, ["plan", "--request", str(request)])
    assert result.exit_code == 1
    assert "is not valid JSON" in result.stderr


def test_a_request_with_a_number_beyond_a_double_is_refused_naming_the_field(tmp_path: Path) -> None:
    """As `validate`, `provision` and the API refuse it (issue 11, case 9): Python alone reads it as infinity."""
    body = json.loads((REPO_ROOT / "examples" / "model_training_builtin.json").read_text())
    body["algo_hyperparamaters"]["eta"] = "HUGE"
    request = tmp_path / "request.json"
    request.write_text(json.dumps(body).replace('"HUGE"', "1e400"))

    result = runner.invoke(app, ["plan", "--request", str(request), "--mode", "single"])

    assert result.exit_code == 1
    assert "algo_hyperparamaters.eta: must be a finite number" in result.stderr


@pytest.mark.parametrize(
    ("example", "options", "expected_type"),
    [
        ("byom_realtime_builtin.json", ["--mode", "single", "--no-model-registry"], "aws:sagemaker/endpoint:Endpoint"),
        (
            "multi/byom_data_quality_monitor.json",
            ["--cwd", str(MULTI_ACCOUNT), "--no-model-registry"],
            "aws:sagemaker/monitoringSchedule:MonitoringSchedule",
        ),
        ("model_training_builtin.json", ["--mode", "single"], "aws:sagemaker/trainingJob:TrainingJob"),
    ],
)
def test_plan_request_shows_the_pipelines_sagemaker_resources_and_no_violations(
    example: str, options: list[str], expected_type: str
) -> None:
    path = REPO_ROOT / "examples" / example
    result = runner.invoke(app, ["plan", "--request", str(path), "--json", *options])
    assert result.exit_code == 0, result.output
    stack = json.loads(result.stdout)["stacks"][0]
    assert stack["violations"] == []
    pipelines = [r for r in stack["resources"] if r["type"].startswith("mlops:pipelines:") and r["parent"] is None]
    assert len(pipelines) == 1
    assert expected_type in {r["type"] for r in stack["resources"]}
    assert list(stack["outputs"]["pipelines"]) == [pipelines[0]["name"]]


def test_plan_rejects_an_unknown_mode() -> None:
    result = runner.invoke(app, ["plan", "--mode", "triple"])
    assert result.exit_code == 1
    assert "--mode: must be single or multi" in result.stderr


def _delivery_plan(example: str, *options: str) -> dict:
    path = REPO_ROOT / "examples" / example
    result = runner.invoke(app, ["plan", "--request", str(path), "--delivery", "--json", *options])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["stacks"][0]


def test_plan_delivery_of_a_multi_account_request_has_three_deploys_and_two_approvals() -> None:
    stack = _delivery_plan("multi/byom_realtime_builtin.json", "--cwd", str(MULTI_ACCOUNT), "--no-model-registry")
    pipeline = next(r for r in stack["resources"] if r["type"] == "aws:codepipeline/pipeline:Pipeline")
    stages = [(s["name"], [a["category"] for a in s["actions"]]) for s in pipeline["inputs"]["stages"]]
    assert stages == [
        ("Source", ["Source"]),
        ("DeployDev", ["Build"]),
        ("ApproveStaging", ["Approval"]),
        ("DeployStaging", ["Build"]),
        ("ApproveProd", ["Approval"]),
        ("DeployProd", ["Build"]),
    ]
    projects = {r["inputs"]["name"]: r["inputs"] for r in stack["resources"] if r["type"].startswith("aws:codebuild")}
    for env in ("dev", "staging", "prod"):
        project = projects[f"mlops-deploy-churn-xgb-realtime-builtin-{env}"]
        assert project["environment"]["image"] == "111111111111.dkr.ecr.us-east-1.amazonaws.com/mlops-provisioner:0.1.0"
        variables = {v["name"]: v["value"] for v in project["environment"]["environmentVariables"]}
        assert variables["TARGET_ENV"] == env
    assert stack["violations"] == []


def test_plan_delivery_of_a_training_request_has_one_deploy_even_in_multi_account_mode() -> None:
    stack = _delivery_plan("multi/model_training_builtin.json", "--cwd", str(MULTI_ACCOUNT), "--no-model-registry")
    pipeline = next(r for r in stack["resources"] if r["type"] == "aws:codepipeline/pipeline:Pipeline")
    assert [s["name"] for s in pipeline["inputs"]["stages"]] == ["Source", "Deploy"]


def test_plan_delivery_needs_a_request() -> None:
    result = runner.invoke(app, ["plan", "--delivery"])
    assert result.exit_code == 1
    assert "--delivery: needs --request FILE" in result.stderr


def test_a_plan_restores_the_garbage_collector_and_the_sdk_hook_it_pauses() -> None:
    import gc

    from pulumi.runtime import resource as sdk_resource

    hook = sdk_resource._get_stack_trace
    assert gc.isenabled()
    planner.plan_stack("staging", find_project(MULTI_ACCOUNT))
    assert gc.isenabled()
    assert sdk_resource._get_stack_trace is hook
