"""Which install `mlops validate`, `provision` and `plan --request` check a request for: the options given,
else the target stack's config (mode, model registry, mlops:strictRequests), else a fallback mode."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from mlops_cli.validate_command import chosen_install
from mlops_spec.stack_config import load_stack_config
from tests.support.examples import EXAMPLES

Run = Callable[..., Result]

SINGLE = {"aws:region": "us-east-1", "mlops:environment": "prod", "mlops:accounts": '{"prod": "333333333333"}'}
STRICT_SINGLE_STACK = """config:
  aws:region: us-east-1
  mlops:environment: dev
  mlops:accounts: {dev: "111111111111"}
  mlops:strictRequests: true
"""
MULTI_EXAMPLE = EXAMPLES / "multi" / "byom_realtime_builtin.json"


@pytest.mark.fast
def test_without_a_stack_the_callers_fallback_mode_applies() -> None:
    assert chosen_install(None, None, None, fallback_mode="multi").mode == "multi"
    assert chosen_install(None, None, None).mode == "single"


@pytest.mark.fast
def test_the_stacks_mode_home_and_strictness_beat_the_fallback() -> None:
    found = ("prod-install", load_stack_config({**SINGLE, "mlops:strictRequests": "true"}, "prod-install"))

    install = chosen_install(found, None, None, fallback_mode="multi")

    assert (install.mode, install.home, install.strict, install.stack) == ("single", "prod", True, "prod-install")
    assert chosen_install(found, "multi", None).mode == "multi"


@pytest.fixture
def strict_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: mlops\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text(STRICT_SINGLE_STACK)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLOPS_MODE", raising=False)
    return tmp_path


def test_provision_checks_a_request_in_the_stacks_mode_and_sends_nothing_it_refuses(
    mlops: Run, api, strict_project: Path
) -> None:
    result = mlops("provision", str(MULTI_EXAMPLE), "--no-model-registry")

    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "inference_instance: per-environment values {dev, staging, prod} are only allowed in multi-account mode; "
        "give one value"
    )
    assert api.received == []


def test_provision_and_validate_refuse_unknown_keys_when_the_stack_is_strict(
    mlops: Run, api, strict_project: Path
) -> None:
    body = {**json.loads((EXAMPLES / "byom_realtime_builtin.json").read_text()), "modle_name": "x"}
    path = strict_project / "request.json"
    path.write_text(json.dumps(body))

    for command in ("validate", "provision"):
        result = mlops(command, str(path))
        assert result.exit_code == 1, command
        assert result.stderr.splitlines() == ["modle_name: is not a known field (did you mean model_name?)"], command
    assert api.received == []


def test_provision_sends_a_model_card_operation_once_it_validates(mlops: Run, api, tmp_path: Path) -> None:
    body = {"pipeline_type": "delete_model_card", "name": "churn-card"}
    path = tmp_path / "card.json"
    path.write_text(json.dumps(body))
    api.answer("POST", "/provisionpipeline", (200, {"message": "model card churn-card deleted", "name": "churn-card"}))

    result = mlops("provision", str(path))

    assert result.exit_code == 0, result.output
    assert [sent.body for sent in api.received] == [body]
    assert json.loads(result.stdout)["name"] == "churn-card"


def test_provision_refuses_a_bad_model_card_operation_locally(mlops: Run, api, tmp_path: Path) -> None:
    path = tmp_path / "card.json"
    path.write_text(json.dumps({"pipeline_type": "delete_model_card"}))

    result = mlops("provision", str(path))

    assert (result.exit_code, result.stderr.splitlines()) == (1, ["name: is required"])
    assert api.received == []


def test_provision_dry_run_prints_the_quota_preflight_per_environment(mlops: Run, api, tmp_path: Path) -> None:
    path = tmp_path / "request.json"
    path.write_text((EXAMPLES / "byom_realtime_builtin.json").read_text())
    short = {"message": "SageMaker quota 'ml.m5.large for endpoint usage' is 0; this request needs 2 more."}
    preflight = {
        "status": "shortfall",
        "environments": [{"environment": "dev", "status": "shortfall", "shortfalls": [short]}],
    }
    api.answer("POST", "/provisionpipeline", (200, {"dry_run": True, "pipeline_id": "p", "preflight": preflight}))

    result = mlops("provision", str(path), "--dry-run", "--mode", "single")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == f"quota preflight dev: shortfall: {short['message']}"


def test_provision_dry_run_prints_the_cost_and_the_limit_it_breaks(mlops: Run, api, tmp_path: Path) -> None:
    path = tmp_path / "request.json"
    path.write_text((EXAMPLES / "byom_realtime_builtin.json").read_text())
    cost = {
        "source": "AWS Price List API",
        "estimates": [{"environment": "dev", "summary": "USD 168.19 a month (1 x ml.m5.large, 730 h)"}],
        "max_monthly_cost_per_pipeline": 100.0,
        "violations": ["dev: USD 168.19 a month is above mlops:maxMonthlyCostPerPipeline (USD 100.00)"],
        "unchecked": [],
    }
    api.answer("POST", "/provisionpipeline", (200, {"dry_run": True, "pipeline_id": "p", "cost": cost}))

    result = mlops("provision", str(path), "--dry-run", "--mode", "single")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-3:] == [
        "cost dev: USD 168.19 a month (1 x ml.m5.large, 730 h)",
        "prices: AWS Price List API",
        "cost limit exceeded: dev: USD 168.19 a month is above mlops:maxMonthlyCostPerPipeline (USD 100.00)",
    ]
