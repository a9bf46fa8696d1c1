"""The stack's approval settings reach the API function (issue 10, point 5): mlops:approvers and
mlops:allowRequesterApproval -> OrchestratorArgs -> MLOPS_APPROVAL_RULES, as the API reads it back."""

from __future__ import annotations

import pytest

from components.orchestrator.functions import light_function_environment, provisioner_environment
from components.stack import orchestrator_args
from lambda_src.common.settings import Settings
from mlops_spec.approvers import ApprovalRules
from mlops_spec.stack_config import load_stack_config

pytestmark = pytest.mark.fast

RELEASE = "arn:aws:iam::111111111111:role/ReleaseManagers"
MULTI = {
    "aws:region": "us-east-1",
    "mlops:mode": "multi",
    "mlops:accounts": '{"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}',
    "mlops:notificationEmail": "team@example.com",
    "mlops:provisionerImageTag": "0.1.0",
}


def api_settings(values: dict[str, str]) -> Settings:
    """What the API function reads from the variables the orchestrator gives it."""
    args = orchestrator_args(load_stack_config(values, "dev"))
    return Settings.from_env(light_function_environment(args, "data-key"))


def test_the_configured_approvers_and_requester_setting_are_what_the_api_applies() -> None:
    values = {**MULTI, "mlops:approvers": f'{{"prod": ["{RELEASE}"]}}', "mlops:allowRequesterApproval": "true"}

    assert api_settings(values).approval_rules == ApprovalRules({"prod": (RELEASE,)}, requester_may_approve=True)


def test_without_settings_the_api_applies_the_default_rules() -> None:
    variables = light_function_environment(orchestrator_args(load_stack_config(MULTI, "dev")), "data-key")

    assert variables["MLOPS_APPROVAL_RULES"] == '{"approvers": {}, "requester_may_approve": false}'
    assert api_settings(MULTI).approval_rules == ApprovalRules()


def test_the_provisioner_is_not_given_the_approval_rules() -> None:
    args = orchestrator_args(load_stack_config({**MULTI, "mlops:approvers": f'{{"prod": ["{RELEASE}"]}}'}, "dev"))

    assert "MLOPS_APPROVAL_RULES" not in provisioner_environment(args, "data-key", "secrets-key", "image")
