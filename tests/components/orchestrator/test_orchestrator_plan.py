"""The orchestrator as planned holds to the contracts written once in mlops_spec: the API routes and the
functions' environment variables."""

from __future__ import annotations

from typing import Any

import pytest

from components.orchestrator.api import routes_fingerprint
from mlops_cli.mocks import PlannedResource
from mlops_cli.planner import StackPlan, plan_stack
from mlops_spec.env_vars import LIGHT_FUNCTION_VARIABLES, PROVISIONER_VARIABLES, EnvVar
from mlops_spec.routes import ROUTES, resource_paths

FUNCTION = "aws:lambda/function:Function"
LIGHT_FUNCTIONS = ("mlops-orchestrator-api", "mlops-orchestrator-trigger", "mlops-orchestrator-status")
ACCOUNTS = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}
WITH_PROVISIONER = {
    "aws:region": "us-east-1",
    "mlops:mode": "multi",
    "mlops:accounts": ACCOUNTS,
    "mlops:provisionerImageTag": "0.1.0",
    "mlops:notificationEmail": "team@example.com",  # required in multi-account mode
}
FIRST_INSTALL = {"aws:region": "eu-west-1", "mlops:mode": "single", "mlops:accounts": {"dev": "444444444444"}}


@pytest.fixture(scope="module")
def installed() -> StackPlan:
    return plan_stack("dev", config_values=WITH_PROVISIONER)


@pytest.fixture(scope="module")
def first_install() -> StackPlan:
    return plan_stack("dev", config_values=FIRST_INSTALL)


def api_paths(plan: StackPlan) -> dict[str, str]:
    """Planned API Gateway resource id -> its path (the mock engine's ids are `<name>-id`)."""
    resources = plan.recorder.of_type("aws:apigateway/resource:Resource")
    by_id = {f"{r.name}-id": r for r in resources}

    def path_of(resource: PlannedResource) -> str:
        parent = by_id.get(resource.inputs["parentId"])
        return f"{path_of(parent) if parent else ''}/{resource.inputs['pathPart']}"

    return {resource_id: path_of(resource) for resource_id, resource in by_id.items()}


def variables_of(plan: StackPlan, function: str) -> dict[str, Any]:
    return dict(plan.recorder.named(FUNCTION, function).inputs["environment"]["variables"])


def test_api_gateway_serves_exactly_the_routes_of_the_contract(installed: StackPlan) -> None:
    paths = api_paths(installed)
    methods = installed.recorder.of_type("aws:apigateway/method:Method")
    assert sorted(paths.values()) == sorted(resource_paths())
    planned = [(m.inputs["httpMethod"], paths[m.inputs["resourceId"]]) for m in methods]
    assert sorted(planned) == sorted((route.method, route.path) for route in ROUTES)
    assert len(planned) == len(set(planned))


def test_the_api_is_redeployed_when_the_routes_change(installed: StackPlan) -> None:
    [deployment] = installed.recorder.of_type("aws:apigateway/deployment:Deployment")
    assert deployment.inputs["triggers"] == {"routes": routes_fingerprint()}
    assert routes_fingerprint(ROUTES[:-1]) != routes_fingerprint()


def test_light_functions_get_exactly_the_light_function_variables(installed: StackPlan) -> None:
    for function in LIGHT_FUNCTIONS:
        variables = variables_of(installed, function)
        assert set(variables) == {str(name) for name in LIGHT_FUNCTION_VARIABLES}, function
        assert all(type(key) is str for key in variables), function


def test_before_the_provisioner_exists_light_functions_are_not_told_its_name(first_install: StackPlan) -> None:
    expected = {str(name) for name in LIGHT_FUNCTION_VARIABLES - {EnvVar.PROVISIONER_FUNCTION}}
    for function in LIGHT_FUNCTIONS:
        assert set(variables_of(first_install, function)) == expected, function


def test_the_provisioner_gets_its_variables_and_no_external_id_parameter_when_none_is_set(
    installed: StackPlan,
) -> None:
    variables = variables_of(installed, "mlops-orchestrator-provisioner")
    assert set(variables) == {str(name) for name in PROVISIONER_VARIABLES - {EnvVar.DEPLOY_ROLE_EXTERNAL_ID_PARAMETER}}
    assert all(type(key) is str for key in variables)
