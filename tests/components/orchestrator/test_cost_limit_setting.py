"""mlops:maxMonthlyCostPerPipeline -> OrchestratorArgs -> MLOPS_MAX_MONTHLY_COST_PER_PIPELINE, as the API and
trigger read it back; the API and trigger roles may read the AWS Price List."""

from __future__ import annotations

import pytest

from components.orchestrator.access import api_statements, trigger_statements
from components.orchestrator.functions import light_function_environment, provisioner_environment
from components.stack import orchestrator_args
from lambda_src.common.settings import ConfigurationError, Settings
from mlops_spec.errors import SpecError
from mlops_spec.stack_config import load_stack_config

pytestmark = pytest.mark.fast

SINGLE = {"aws:region": "us-east-1", "mlops:accounts": '{"dev": "111111111111"}', "mlops:provisionerImageTag": "0.1.0"}
KEY = "mlops:maxMonthlyCostPerPipeline"


def light_variables(values: dict[str, str]) -> dict[str, str]:
    return light_function_environment(orchestrator_args(load_stack_config(values, "dev")), "data-key")


@pytest.mark.parametrize(("written", "read"), [("500", 500.0), ("99.95", 99.95), ("1234567", 1234567.0)])
def test_the_limit_reaches_the_light_functions(written: str, read: float) -> None:
    variables = light_variables({**SINGLE, KEY: written})
    assert variables["MLOPS_MAX_MONTHLY_COST_PER_PIPELINE"] == written
    assert Settings.from_env(variables).max_monthly_cost_per_pipeline == read


def test_without_the_setting_there_is_no_limit() -> None:
    variables = light_variables(SINGLE)
    assert variables["MLOPS_MAX_MONTHLY_COST_PER_PIPELINE"] == ""
    assert Settings.from_env(variables).max_monthly_cost_per_pipeline is None
    # A function deployed before the setting existed.
    assert (
        Settings.from_env({"MLOPS_REGISTRY_TABLE": "t", "MLOPS_ASSETS_BUCKET": "b"}).max_monthly_cost_per_pipeline
        is None
    )


def test_a_limit_the_function_cannot_read_fails_closed() -> None:
    with pytest.raises(ConfigurationError, match="MLOPS_MAX_MONTHLY_COST_PER_PIPELINE='lots' must be a positive"):
        Settings.from_env(
            {"MLOPS_REGISTRY_TABLE": "t", "MLOPS_ASSETS_BUCKET": "b", "MLOPS_MAX_MONTHLY_COST_PER_PIPELINE": "lots"}
        )


def test_the_provisioner_is_not_given_the_limit() -> None:
    args = orchestrator_args(load_stack_config({**SINGLE, KEY: "500"}, "dev"))
    assert "MLOPS_MAX_MONTHLY_COST_PER_PIPELINE" not in provisioner_environment(
        args, "data-key", "secrets-key", "image"
    )


@pytest.mark.parametrize("value", ["lots", "0", "-20", "nan", "inf", True])
def test_a_limit_that_is_not_a_positive_number_names_the_key(value: object) -> None:
    with pytest.raises(SpecError) as caught:
        load_stack_config({**SINGLE, KEY: value}, "dev")
    assert [(error.field, error.problem) for error in caught.value.errors] == [
        (KEY, "must be a positive number of US dollars, e.g. 500")
    ]


def test_the_functions_that_check_the_limit_may_read_prices_and_nothing_else_of_the_price_list() -> None:
    args = orchestrator_args(load_stack_config(SINGLE, "dev"))
    for statements in (api_statements(args, "k", "t"), trigger_statements(args, "k", "t")):
        [reads] = [s for s in statements if any(str(a).startswith("pricing:") for a in s["Action"])]
        assert (reads["Action"], reads["Resource"], reads["Effect"]) == (["pricing:GetProducts"], "*", "Allow")


UNKNOWN = "mlops:costLimitUnknownPrices"
BASE_VARIABLES = {"MLOPS_REGISTRY_TABLE": "t", "MLOPS_ASSETS_BUCKET": "b"}


@pytest.mark.parametrize(("written", "read"), [(None, "refuse"), ("refuse", "refuse"), ("allow", "allow")])
def test_what_the_limit_does_with_unknown_prices_reaches_the_light_functions(written: str | None, read: str) -> None:
    variables = light_variables({**SINGLE, **({UNKNOWN: written} if written else {})})
    assert variables["MLOPS_COST_LIMIT_UNKNOWN_PRICES"] == read
    assert Settings.from_env(variables).cost_limit_unknown_prices == read


def test_a_function_deployed_before_the_unknown_prices_setting_refuses() -> None:
    assert Settings.from_env(BASE_VARIABLES).cost_limit_unknown_prices == "refuse"


def test_an_unknown_prices_setting_that_is_neither_refuse_nor_allow_is_refused() -> None:
    with pytest.raises(SpecError) as caught:
        load_stack_config({**SINGLE, UNKNOWN: "maybe"}, "dev")
    assert [error.field for error in caught.value.errors] == [UNKNOWN]
    with pytest.raises(
        ConfigurationError, match="MLOPS_COST_LIMIT_UNKNOWN_PRICES='maybe' must be one of refuse, allow"
    ):
        Settings.from_env({**BASE_VARIABLES, "MLOPS_COST_LIMIT_UNKNOWN_PRICES": "maybe"})
