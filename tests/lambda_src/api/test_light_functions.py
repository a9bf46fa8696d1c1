"""What keeps the light functions light and correctly configured: lazy imports and settings parsing."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from lambda_src.common.settings import ConfigurationError, Settings

BASE = {"MLOPS_REGISTRY_TABLE": "t", "MLOPS_ASSETS_BUCKET": "b"}


@pytest.mark.parametrize("module", ["lambda_src.api.handler", "lambda_src.trigger.handler"])
def test_importing_a_handler_loads_neither_boto3_pydantic_nor_pulumi(module):
    code = f"import json, sys; import {module}; print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    loaded = set(
        json.loads(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout)
    )
    assert "aws_lambda_powertools" in loaded
    assert not loaded & {"boto3", "pydantic", "pulumi", "pulumi_aws", "sagemaker", "moto"}


def test_parsing_a_request_reads_its_tables_only_when_a_value_is_checked():
    # The instance-type and framework tables are read by the first request that needs them, not at import,
    # and the SageMaker service model it was generated from is never loaded.
    code = (
        "import sys; import mlops_spec.request as r, mlops_spec.instance_types as t; "
        "from mlops_spec.pipelines import frameworks as f; "
        "print(t.valid_instance_types.cache_info().currsize, f._table.cache_info().currsize, 'botocore' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert done.stdout.split() == ["0", "0", "False"]


def test_the_light_functions_zip_ships_the_validators_tables():
    from components.lambda_package import source_files
    from components.orchestrator.functions import LIGHT_FUNCTION_CODE

    shipped = source_files(LIGHT_FUNCTION_CODE)
    assert {"mlops_spec/data/instance_types.json", "mlops_spec/data/framework_versions.json"} <= set(shipped)


def test_settings_from_the_environment():
    config = Settings.from_env(
        {
            **BASE,
            "MLOPS_MODE": "multi",
            "MLOPS_USE_MODEL_REGISTRY": "true",
            "MLOPS_ORCHESTRATOR_ENVIRONMENT": "staging",
            "MLOPS_TOPIC_ARN": "arn:aws:sns:us-east-1:1:t",
            "MLOPS_PROVISIONER_FUNCTION": "p",
        }
    )
    assert config == Settings("t", "b", "arn:aws:sns:us-east-1:1:t", "p", "multi", True, "staging", None)


def test_settings_defaults():
    config = Settings.from_env(BASE)
    assert (config.mode, config.use_model_registry, config.orchestrator_environment) == ("single", False, "dev")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"MLOPS_REGISTRY_TABLE": ""}, "MLOPS_REGISTRY_TABLE is not set"),
        ({"MLOPS_MODE": "both"}, "MLOPS_MODE='both' must be one of single, multi"),
        ({"MLOPS_USE_MODEL_REGISTRY": "sometimes"}, "must be true or false"),
        ({"MLOPS_ORCHESTRATOR_ENVIRONMENT": "qa"}, "must be one of dev, staging, prod"),
    ],
)
def test_bad_settings_are_configuration_errors(extra, message):
    with pytest.raises(ConfigurationError, match=message):
        Settings.from_env({**BASE, **extra})
