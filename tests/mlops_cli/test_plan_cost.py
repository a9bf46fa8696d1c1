"""Cost estimates in `mlops plan` and `mlops validate` (issue 15): every example priced offline from the
committed table (whose prices are unknown yet: said per instance type), the text summary, the
mlops:maxMonthlyCostPerPipeline guardrail (exit 1) with a small test price table, and --prices live."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from typer.testing import CliRunner, Result

from lambda_src.common import prices
from mlops_cli.main import app
from mlops_cli.mocks import PlanRecorder
from mlops_cli.plan_command import _stack_cost
from mlops_cli.plan_cost import cost_lines
from mlops_cli.plan_text import PlanText
from mlops_cli.planner import StackPlan
from mlops_spec.costs import LIVE_SOURCE, PriceTable, PriceUsage, price_table
from mlops_spec.stack_config import load_stack_config
from tests.support.examples import EXAMPLES, example_cases

REPO_ROOT = Path(__file__).resolve().parents[2]
REALTIME = str(EXAMPLES / "byom_realtime_builtin.json")  # 2 x ml.m5.large
# Test figures, not AWS's: 2 x 730 h x $0.20 = $292.00 a month.
TEST_TABLE = PriceTable("test prices", "2026-12-01", {"us-east-1": {"hosting": {"ml.m5.large": 0.2}}})
ACCOUNTS = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}
VIOLATION = (
    "[max-monthly-cost] churn-xgb-realtime-builtin in dev is estimated at up to $292.00 ($292.00 a month), "
    "above mlops:maxMonthlyCostPerPipeline $100.00"
)
runner = CliRunner()


def mlops(*args: str) -> Result:
    return runner.invoke(app, list(args), env={"COLUMNS": "80"})


@pytest.fixture
def test_prices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prices, "price_table", lambda: TEST_TABLE)


@pytest.fixture
def limited_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The single-account program and dev stack, with a $100 limit a pipeline."""
    for name in ("__main__.py", "Pulumi.yaml", "Pulumi.dev.yaml"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text() + "  mlops:maxMonthlyCostPerPipeline: 100\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def stack_declaring(body: dict[str, Any], mode: str, registry: bool, limit: float | None = None) -> Any:
    values: dict[str, Any] = {
        "aws:region": "us-east-1",
        "mlops:mode": mode,
        "mlops:accounts": json.dumps(ACCOUNTS if mode == "multi" else {"dev": ACCOUNTS["dev"]}),
        "mlops:notificationEmail": "team@example.com",
        "mlops:useModelRegistry": "true" if registry else "false",
        "mlops:pipelines": json.dumps([body]),
    }
    if limit is not None:
        values["mlops:maxMonthlyCostPerPipeline"] = str(limit)
    return load_stack_config(values, "dev")


@pytest.mark.fast
def test_every_example_is_priced_offline_for_the_stack_naming_each_unknown_instance_type() -> None:
    for path, mode, registry in example_cases():
        config = stack_declaring(json.loads(path.read_text()), mode, registry)
        cost = _stack_cost(config, None, delivery=False, live=False)

        assert cost["source"] == price_table().label, path
        assert cost["source"].endswith("no prices retrieved yet"), path
        [estimate] = cost["estimates"]
        assert estimate["environment"] == "dev", path
        # Never $0 for what is not known: the monthly figure, or the per-deployment one, is unknown.
        assert None in (estimate["total_monthly_usd"], estimate["per_deployment_usd"]), path
        instances = sorted(
            {f"{line['instance_type']} ({line['usage']})" for line in estimate["lines"]} - {"None (None)"}
        )
        assert estimate["unknown_prices"] == instances, path
        if instances:
            assert f"price unknown for {', '.join(instances)}" in estimate["summary"], path
        else:  # serverless, Autopilot, image builds: said, not $0
            assert ": not priced: " in estimate["summary"], path
        assert json.dumps(_stack_cost(config, None, False, False)) == json.dumps(cost), path  # deterministic


@pytest.mark.fast
def test_a_stack_prices_only_its_own_environment_and_a_delivery_plan_every_one(test_prices: None) -> None:
    body = json.loads((EXAMPLES / "multi" / "byom_realtime_builtin.json").read_text())
    config = stack_declaring(body, "multi", False)
    spec = config.pipelines[0]
    assert [e["environment"] for e in _stack_cost(config, spec, delivery=False, live=False)["estimates"]] == ["dev"]
    every = _stack_cost(config, spec, delivery=True, live=False)["estimates"]
    assert [e["environment"] for e in every] == ["dev", "staging", "prod"]


@pytest.mark.fast
def test_the_text_summary_shows_each_estimate_its_assumptions_and_the_violation_in_80_columns(
    test_prices: None,
) -> None:
    body = {**json.loads(Path(REALTIME).read_text()), "deployment": {"type": "all_at_once"}}
    body["autoscaling"] = {"min_capacity": 1, "max_capacity": 3}
    config = stack_declaring(body, "single", False, limit=100)
    plan = StackPlan("dev", PlanRecorder(), "111111111111")
    plan.cost = _stack_cost(config, None, False, False)

    lines = cost_lines(plan.cost, 80, "  ") + PlanText(plan, 80)._guardrail_lines()

    assert lines[:4] == [
        "  estimated cost (prices: sagemaker_prices.json: test prices, retrieved",
        "    2026-12-01):",
        "    churn-xgb-realtime-builtin (dev, us-east-1): $146.00-$438.00 a month",
        "      - autoscaling keeps the endpoint between 1 and 3 instances",
    ]
    assert lines[4].startswith("    every estimate assumes: on-demand list prices in USD before tax")
    assert lines[-4:] == [
        "    mlops:maxMonthlyCostPerPipeline: $100.00",
        "  guardrails: 1 violation(s)",
        "    [max-monthly-cost] churn-xgb-realtime-builtin in dev is estimated at up to",
        "      $438.00 ($438.00 a month), above mlops:maxMonthlyCostPerPipeline $100.00",
    ]
    assert max(len(line) for line in lines) <= 80


def test_a_plan_above_the_stack_limit_is_a_guardrail_violation_and_exits_1(
    limited_project: Path, test_prices: None
) -> None:
    result = mlops("plan", "--request", REALTIME, "--only-request", "--json")

    assert result.exit_code == 1, result.output
    [stack] = json.loads(result.stdout)["stacks"]
    assert stack["cost"]["max_monthly_cost_per_pipeline"] == 100.0
    assert [e["max_monthly_usd"] for e in stack["cost"]["estimates"]] == [292.0]
    assert ["[max-monthly-cost] " + v for v in stack["cost"]["violations"]] == [VIOLATION]
    assert result.stderr == f"guardrail violation: {VIOLATION}\n"


def test_validate_shows_the_cost_with_its_source_offline() -> None:
    result = mlops("validate", REALTIME, "--mode", "single", "--json")

    assert result.exit_code == 0, result.output
    cost = json.loads(result.stdout)["cost"]
    assert cost["source"] == price_table().label
    assert [e["summary"] for e in cost["estimates"]] == [
        "churn-xgb-realtime-builtin (dev, us-east-1): price unknown for ml.m5.large (hosting): "
        "run scripts/generate_prices.py with AWS credentials or use --prices live"
    ]


def test_validate_refuses_a_request_above_the_stack_limit_as_the_api_does(
    limited_project: Path, test_prices: None
) -> None:
    result = mlops("validate", REALTIME)

    assert result.exit_code == 1
    assert "churn-xgb-realtime-builtin (dev, us-east-1): $292.00 a month" in result.stdout
    assert result.stderr == f"error: {VIOLATION.removeprefix('[max-monthly-cost] ')}\n"


def live_lookup(answer: Callable[..., float | None]) -> type:
    class FakeLivePrices:
        def __call__(self, region: str, instance_type: str, usage: PriceUsage) -> float | None:
            return answer(region, instance_type, usage)

    return FakeLivePrices


def test_prices_live_asks_the_price_list_with_the_callers_credentials(
    aws_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prices, "LivePrices", live_lookup(lambda *_: 0.25))
    result = mlops("validate", REALTIME, "--mode", "single", "--json", "--prices", "live")

    assert result.exit_code == 0, result.output
    cost = json.loads(result.stdout)["cost"]
    assert (cost["source"], cost["estimates"][0]["total_monthly_usd"]) == (LIVE_SOURCE, 365.0)  # 2 x 730 h x $0.25


def test_prices_live_that_cannot_be_read_is_one_line_not_the_tables_prices(
    aws_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(*_: Any) -> float | None:
        raise EndpointConnectionError(endpoint_url="https://api.pricing.us-east-1.amazonaws.com")

    monkeypatch.setattr(prices, "LivePrices", live_lookup(unreachable))
    result = mlops("validate", REALTIME, "--mode", "single", "--prices", "live")

    assert result.exit_code == 1
    assert result.stderr.startswith("--prices: live: the AWS Price List could not be read (Could not connect")
    assert len(result.stderr.splitlines()) == 1


def test_prices_live_without_credentials_is_refused_naming_the_option(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prices, "credentials_available", lambda: False)
    result = mlops("validate", REALTIME, "--mode", "single", "--prices", "live")

    assert result.exit_code == 1
    assert result.stderr == (
        "--prices: live needs AWS credentials to read the AWS Price List (none found); the default, table, needs none\n"
    )
