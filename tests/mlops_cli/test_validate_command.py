"""`mlops validate`: exit codes, field error lines, the printed spec, pipeline id and stacks."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from tests.support.examples import EXAMPLES

Run = Callable[..., Result]

REALTIME = {
    "pipeline_type": "byom_realtime_builtin",
    "model_name": "churn-xgb",
    "inference_instance": "ml.m5.large",
    "model_framework": "xgboost",
    "model_framework_version": "1.7-1",
    "model_artifact_location": "models/churn/model.tar.gz",
    "data_capture_location": "s3://my-bucket/capture/",
}
PER_ENV_INSTANCE = {"dev": "ml.m5.large", "staging": "ml.m5.large", "prod": "ml.m5.xlarge"}


def write(tmp_path: Path, body: Any, name: str = "request.json") -> str:
    path = tmp_path / name
    path.write_text(body if isinstance(body, str) else json.dumps(body))
    return str(path)


def test_valid_request_prints_normalised_spec_id_and_single_account_stacks(mlops: Run, tmp_path: Path) -> None:
    result = mlops("validate", write(tmp_path, REALTIME))

    assert result.exit_code == 0, result.output
    assert '"data_capture_location": "my-bucket/capture"' in result.stdout  # s3:// and trailing / normalised away
    assert '"instance_count": 1' in result.stdout  # defaults are shown
    assert "pipeline id: churn-xgb-realtime-builtin" in result.stdout
    assert "churn-xgb-realtime-builtin-delivery" in result.stdout
    assert "churn-xgb-realtime-builtin-dev" in result.stdout
    assert "-staging" not in result.stdout and "-prod" not in result.stdout
    assert result.stderr == ""


def test_multi_account_mode_plans_one_target_stack_per_environment(mlops: Run, tmp_path: Path) -> None:
    body = {**REALTIME, "inference_instance": PER_ENV_INSTANCE}

    result = mlops("validate", write(tmp_path, body), "--mode", "multi", "--json")

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["pipeline_id"] == "churn-xgb-realtime-builtin"
    assert [s["name"] for s in summary["stacks"]] == [
        "churn-xgb-realtime-builtin-delivery",
        "churn-xgb-realtime-builtin-dev",
        "churn-xgb-realtime-builtin-staging",
        "churn-xgb-realtime-builtin-prod",
    ]
    assert summary["spec"]["inference_instance"] == PER_ENV_INSTANCE


def test_mode_can_come_from_the_environment(mlops: Run, tmp_path: Path) -> None:
    body = {**REALTIME, "inference_instance": PER_ENV_INSTANCE}

    result = mlops("validate", write(tmp_path, body), env={"MLOPS_MODE": "multi"})

    assert result.exit_code == 0, result.output
    assert "churn-xgb-realtime-builtin-prod" in result.stdout


def test_single_account_types_deploy_only_to_dev_in_multi_mode(mlops: Run) -> None:
    example = Path(__file__).parents[2] / "examples" / "multi" / "model_training_builtin.json"

    result = mlops("validate", str(example), "--mode", "multi", "--json")

    assert result.exit_code == 0, result.output
    roles = [s["role"] for s in json.loads(result.stdout)["stacks"]]
    assert roles == ["delivery pipeline", "target (dev)"]


def test_invalid_request_prints_one_line_per_field_on_stderr_and_exits_1(mlops: Run, tmp_path: Path) -> None:
    body = {k: v for k, v in REALTIME.items() if k != "model_name"} | {"inference_instance": "m5.large"}

    result = mlops("validate", write(tmp_path, body))

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "model_name: is required",
        "inference_instance: must be a SageMaker instance type for endpoints; did you mean ml.m5.large?",
    ]
    assert result.stdout == ""


def test_per_environment_values_are_rejected_in_single_mode(mlops: Run, tmp_path: Path) -> None:
    result = mlops("validate", write(tmp_path, {**REALTIME, "inference_instance": PER_ENV_INSTANCE}))

    assert result.exit_code == 1
    assert result.stderr.startswith("inference_instance: per-environment values")


def test_model_registry_mode_requires_a_model_package(mlops: Run, tmp_path: Path) -> None:
    path = write(tmp_path, REALTIME)

    assert mlops("validate", path, "--no-model-registry").exit_code == 0
    result = mlops("validate", path, "--model-registry")

    assert result.exit_code == 1
    assert "model_package_name: is required when the model registry is enabled" in result.stderr


def test_json_output_reports_field_errors_as_the_api_does(mlops: Run, tmp_path: Path) -> None:
    result = mlops("validate", write(tmp_path, {"pipeline_type": "byom_realtime_teleport"}), "--json")

    assert result.exit_code == 1
    answer = json.loads(result.stdout)
    assert [e["field"] for e in answer["errors"]] == ["pipeline_type"]
    assert "is not a known value" in answer["errors"][0]["problem"]


def test_a_json_array_is_not_a_request(mlops: Run, tmp_path: Path) -> None:
    result = mlops("validate", write(tmp_path, [REALTIME]))

    assert result.exit_code == 1
    assert result.stderr.strip() == "(body): must be a JSON object"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "is not valid JSON: Expecting property name enclosed in double quotes (line 1, column 2)"),
        (None, "cannot read"),
    ],
    ids=["not-json", "missing-file"],
)
def test_unreadable_or_non_json_file_is_one_line_and_exit_2(
    mlops: Run, tmp_path: Path, content: str | None, expected: str
) -> None:
    path = write(tmp_path, content) if content is not None else str(tmp_path / "absent.json")

    result = mlops("validate", path)

    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert expected in result.stderr
    assert "Traceback" not in result.output


def test_a_directory_is_unreadable(mlops: Run, tmp_path: Path) -> None:
    result = mlops("validate", str(tmp_path))

    assert result.exit_code == 2
    assert result.stderr.strip() == f"cannot read {tmp_path}: Is a directory"


def test_dash_reads_the_request_from_stdin(mlops: Run) -> None:
    result = mlops("validate", "-", "--json", input=json.dumps(REALTIME))

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["pipeline_id"] == "churn-xgb-realtime-builtin"


TRAINING_EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "model_training_builtin.json"


def test_an_overflowing_number_is_one_field_line_and_exit_1(mlops: Run, tmp_path: Path) -> None:
    from lambda_src.common.untrusted_json import NOT_FINITE

    path = write(tmp_path, TRAINING_EXAMPLE.read_text().replace('"eta": 0.2', '"eta": 1e400'))

    result = mlops("validate", path)

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"algo_hyperparamaters.eta: {NOT_FINITE}"]
    assert "Traceback" not in result.output

    as_json = mlops("validate", path, "--json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["errors"] == [{"field": "algo_hyperparamaters.eta", "problem": NOT_FINITE}]


def test_provision_does_not_send_a_request_with_an_overflowing_number(mlops: Run, tmp_path: Path, api) -> None:
    path = write(tmp_path, TRAINING_EXAMPLE.read_text().replace('"eta": 0.2', '"eta": -1e400'))

    result = mlops("provision", path)

    assert result.exit_code == 1
    assert "algo_hyperparamaters.eta: must be a finite number" in result.stderr
    assert api.received == []


# -- unknown keys: ignored with a warning (as the API), refused with --strict ------------------------
MWO_EXTRAS = {"description": "churn model", "modle_name": "churn"}


def test_unknown_keys_are_warnings_on_stderr_and_the_request_is_valid(mlops: Run, tmp_path: Path) -> None:
    result = mlops("validate", write(tmp_path, {**REALTIME, **MWO_EXTRAS}))

    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "warning: description: is not a known field; ignored",
        "warning: modle_name: is not a known field; ignored (did you mean model_name?)",
    ]
    assert "pipeline id: churn-xgb-realtime-builtin" in result.stdout


def test_strict_makes_unknown_keys_errors(mlops: Run, tmp_path: Path) -> None:
    result = mlops("validate", "--strict", write(tmp_path, {**REALTIME, **MWO_EXTRAS}))

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "description: is not a known field",
        "modle_name: is not a known field (did you mean model_name?)",
    ]
    assert result.stdout == ""


def test_json_output_carries_the_warnings_as_the_api_answers_them(mlops: Run, tmp_path: Path) -> None:
    result = mlops("validate", "--json", write(tmp_path, {**REALTIME, "description": "x"}))

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["warnings"] == [
        {"field": "description", "problem": "is not a known field; ignored"}
    ]


def test_an_invalid_request_shows_its_warnings_before_its_errors(mlops: Run, tmp_path: Path) -> None:
    result = mlops("validate", write(tmp_path, {**REALTIME, "team": "a", "inference_instance": "ml.m5.largee"}))

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "warning: team: is not a known field; ignored",
        "inference_instance: must be a SageMaker instance type for endpoints; did you mean ml.m5.large?",
    ]


# -- model-card operations, as POST /provisionpipeline?dry_run=true checks them ----------------------
def test_a_model_card_operation_validates_as_the_apis_dry_run_answers_it(mlops: Run) -> None:
    result = mlops("validate", "--json", str(EXAMPLES / "model_cards" / "export_model_card.json"))

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "pipeline_type": "export_model_card",
        "request": {"name": "churn-xgb-card", "export_job_name": "churn-xgb-card-export-1", "model_card_version": 1},
    }


def test_a_bad_model_card_operation_names_each_field(mlops: Run, tmp_path: Path) -> None:
    body = {"pipeline_type": "create_model_card", "name": "card", "status": "Done"}

    result = mlops("validate", write(tmp_path, body))

    assert result.exit_code == 1
    assert [line.split(":")[0] for line in result.stderr.splitlines()] == ["status"]


# -- the stack's config: mode, model registry and environments -----------------------------------------
MULTI_STACK = """config:
  aws:region: us-east-1
  mlops:environment: dev
  mlops:mode: multi
  mlops:accounts: {dev: "111111111111", staging: "222222222222", prod: "333333333333"}
  mlops:notificationEmail: mlops-team@example.com
"""
PROD_STACK = """config:
  aws:region: us-east-1
  mlops:environment: prod
  mlops:accounts: {prod: "333333333333"}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project of two installs: a multi-account one (stack dev) and a single-account one in prod."""
    (tmp_path / "Pulumi.yaml").write_text("name: mlops\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text(MULTI_STACK)
    (tmp_path / "Pulumi.prod-install.yaml").write_text(PROD_STACK)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLOPS_MODE", raising=False)
    return tmp_path


def stacks_of(result: Result) -> list[str]:
    assert result.exit_code == 0, result.output
    return [stack["name"] for stack in json.loads(result.stdout)["stacks"]]


def test_the_default_stacks_mode_decides_the_environments(mlops: Run, project: Path) -> None:
    result = mlops("validate", "--json", write(project, REALTIME))
    assert stacks_of(result) == [f"churn-xgb-realtime-builtin-{s}" for s in ("delivery", "dev", "staging", "prod")]


def test_a_single_account_stack_in_prod_plans_prod_stacks(mlops: Run, project: Path) -> None:
    result = mlops("validate", "--json", "--stack", "prod-install", write(project, REALTIME))
    assert stacks_of(result) == ["churn-xgb-realtime-builtin-delivery", "churn-xgb-realtime-builtin-prod"]
    assert json.loads(result.stdout)["mode"] == "single"


def test_an_orchestrator_only_type_in_multi_mode_says_where_it_runs(mlops: Run, project: Path) -> None:
    result = mlops("validate", write(project, json.loads((EXAMPLES / "model_training_builtin.json").read_text())))

    assert result.exit_code == 0, result.output
    assert "note: model_training_builtin runs in the orchestrator's account only (dev), as in MWO" in result.stdout
    assert "churn-xgb-training-dev" in result.stdout and "churn-xgb-training-prod" not in result.stdout


def test_the_mode_option_wins_over_the_stack(mlops: Run, project: Path) -> None:
    result = mlops("validate", "--json", "--mode", "single", write(project, REALTIME))
    assert stacks_of(result) == ["churn-xgb-realtime-builtin-delivery", "churn-xgb-realtime-builtin-dev"]


def test_an_unknown_stack_is_one_line_and_exit_1(mlops: Run, project: Path) -> None:
    result = mlops("validate", "--stack", "qa", write(project, REALTIME))

    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["--stack: 'qa' has no Pulumi.qa.yaml (stacks: dev, prod-install)"]


def test_a_builtin_image_missing_from_the_stacks_region_is_refused(mlops: Run, project: Path) -> None:
    (project / "Pulumi.mx.yaml").write_text(PROD_STACK.replace("us-east-1", "mx-central-1"))

    result = mlops("validate", "--stack", "mx", write(project, REALTIME))

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "model_framework_version: xgboost 1.7-1 images are not published in mx-central-1"
    ]
