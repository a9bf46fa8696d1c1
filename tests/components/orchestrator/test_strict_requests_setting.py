"""mlops:strictRequests -> OrchestratorArgs -> MLOPS_STRICT_REQUESTS, as the API and trigger read it back."""

from __future__ import annotations

import pytest

from components.orchestrator.functions import light_function_environment, provisioner_environment
from components.stack import orchestrator_args
from lambda_src.common.settings import ConfigurationError, Settings
from mlops_spec.errors import SpecError
from mlops_spec.stack_config import load_stack_config

pytestmark = pytest.mark.fast

SINGLE = {"aws:region": "us-east-1", "mlops:accounts": '{"dev": "111111111111"}', "mlops:provisionerImageTag": "0.1.0"}


def light_settings(values: dict[str, str]) -> Settings:
    args = orchestrator_args(load_stack_config(values, "dev"))
    return Settings.from_env(light_function_environment(args, "data-key"))


def test_the_setting_reaches_the_light_functions() -> None:
    assert light_settings({**SINGLE, "mlops:strictRequests": "true"}).strict_requests is True


def test_by_default_requests_are_read_in_compatibility_mode() -> None:
    variables = light_function_environment(orchestrator_args(load_stack_config(SINGLE, "dev")), "data-key")

    assert variables["MLOPS_STRICT_REQUESTS"] == "false"
    assert light_settings(SINGLE).strict_requests is False


def test_a_function_deployed_before_the_setting_reads_compatibility_mode() -> None:
    environment = {"MLOPS_REGISTRY_TABLE": "t", "MLOPS_ASSETS_BUCKET": "b"}
    assert Settings.from_env(environment).strict_requests is False
    with pytest.raises(ConfigurationError, match="MLOPS_STRICT_REQUESTS"):
        Settings.from_env({**environment, "MLOPS_STRICT_REQUESTS": "sometimes"})


def test_the_provisioner_is_not_given_the_setting() -> None:
    args = orchestrator_args(load_stack_config({**SINGLE, "mlops:strictRequests": "true"}, "dev"))
    assert "MLOPS_STRICT_REQUESTS" not in provisioner_environment(args, "data-key", "secrets-key", "image")


def test_a_setting_that_is_not_a_boolean_names_the_key() -> None:
    with pytest.raises(SpecError) as caught:
        load_stack_config({**SINGLE, "mlops:strictRequests": "sometimes"}, "dev")
    assert [error.field for error in caught.value.errors] == ["mlops:strictRequests"]
