"""The deploy role of an environment: only what pipeline components need, on pipeline resources only.

Statements are judged as IAM would (tests/components/iam_eval.py) and against IAM's reference of
actions and condition keys (tests/components/iam_actions.py), in single- and multi-account mode.
"""

from __future__ import annotations

import re

import pytest

from components.deploy_role import PASSED_TO
from components.environment import EnvironmentBaselineArgs, deploy_role_statements
from components.policies import Statement
from mlops_spec.naming import EnvironmentNames
from tests.components.iam_actions import resource_types, supports
from tests.components.iam_eval import allowed

ORCHESTRATOR = "111111111111"
KEY = "arn:aws:kms:us-east-1:{account}:key/00000000-0000-0000-0000-000000000001"
# (mode, environment, account): the single-account install, and a multi-account target account.
MODES = [("single", "dev", ORCHESTRATOR), ("multi", "staging", "222222222222")]
SERVICES = {
    "sagemaker",
    "states",
    "lambda",
    "events",
    "codebuild",
    "logs",
    "cloudwatch",
    "cloudformation",
    "application-autoscaling",
    "iam",
    "kms",
    "servicequotas",  # the orchestrator's quota preflight reads this account's SageMaker quotas
}
# Actions AWS authorizes on "*" only (checked against IAM's reference below), and where they are.
STAR_ONLY = {"ReadAutoscaling", "ListLogGroups", "ReadQuotas"}
PIPELINE = {"aws:RequestTag/mlops:pipeline-id": "churn-xgb-realtime-builtin"}
OWNED = {"aws:ResourceTag/mlops:pipeline-id": "churn-xgb-realtime-builtin"}


def statements_for(env: str, account: str, registry: bool = True) -> list[Statement]:
    args = EnvironmentBaselineArgs(env, account, "us-east-1", ORCHESTRATOR, use_model_registry=registry)
    return deploy_role_statements(args, KEY.format(account=account))


@pytest.fixture(params=MODES, ids=[mode for mode, _, _ in MODES])
def env(request: pytest.FixtureRequest) -> tuple[str, str, list[Statement]]:
    _, name, account = request.param
    return name, account, statements_for(name, account)


def arn(account: str, service: str, resource: str) -> str:
    return f"arn:aws:{service}:us-east-1:{account}:{resource}"


def actions(statements: list[Statement]) -> list[str]:
    return [a for s in statements if s["Effect"] == "Allow" for a in s["Action"]]


# -- what it may do -----------------------------------------------------------------------------
def test_every_action_is_named_and_of_a_service_pipelines_use(env: tuple[str, str, list[Statement]]) -> None:
    granted = actions(env[2])
    assert [a for a in granted if "*" in a] == []
    assert {a.split(":")[0] for a in granted} == SERVICES  # no S3, ECR, EC2, STS
    for action in granted:
        resource_types(action)  # raises for an action IAM does not know


def test_every_star_resource_is_one_aws_requires(env: tuple[str, str, list[Statement]]) -> None:
    for statement in env[2]:
        if statement["Effect"] == "Allow" and statement["Resource"] == "*":
            assert statement["Sid"] in STAR_ONLY
            assert [resource_types(a) for a in statement["Action"]] == [[]] * len(statement["Action"])
        elif statement["Effect"] == "Allow":
            assert all(r.split(":")[4] in (env[1], ORCHESTRATOR, "") for r in statement["Resource"])


def required_keys(statement: Statement) -> list[str]:
    """Condition keys a request must carry for the statement to apply."""
    keys = []
    for operator, conditions in statement.get("Condition", {}).items():
        if operator.startswith("ForAllValues:") or operator.endswith("IfExists"):
            continue
        keys += [k for k, v in conditions.items() if not (operator == "Null" and v == "true")]
    return keys


def test_every_condition_key_is_one_each_action_of_its_statement_carries(
    env: tuple[str, str, list[Statement]],
) -> None:
    """A key an action's requests do not carry would deny that action silently (or, negated, allow it)."""
    for statement in env[2]:
        for key in required_keys(statement):
            unsupported = [a for a in statement["Action"] if not supports(a, key)]
            assert unsupported == [], f"{statement.get('Sid')}: {key} is not available on {unsupported}"


def test_pipeline_resources_are_created_only_with_their_pipeline_tag_and_changed_only_when_tagged(
    env: tuple[str, str, list[Statement]],
) -> None:
    name, account, statements = env
    calls = {
        "lambda:CreateFunction": arn(account, "lambda", f"function:churn-{name}-run-start"),
        "states:CreateStateMachine": arn(account, "states", f"stateMachine:churn-{name}-run"),
        "sagemaker:CreateEndpoint": arn(account, "sagemaker", "endpoint/any-name-the-request-chose"),
        "codebuild:CreateProject": arn(account, "codebuild", f"project/img-{name}-image-build"),
        "logs:CreateLogGroup": arn(account, "logs", f"log-group:/aws/lambda/churn-{name}-run-start"),
        "cloudformation:CreateStack": arn(account, "cloudformation", f"stack/churn-{name}-monitor-1a2b3c/id"),
    }
    for action, resource in calls.items():
        assert allowed(statements, action, resource, PIPELINE), action
        assert not allowed(statements, action, resource, {"aws:RequestTag/mlops:environment": name}), action
    changes = {
        "lambda:UpdateFunctionCode": calls["lambda:CreateFunction"],
        "sagemaker:DeleteEndpoint": calls["sagemaker:CreateEndpoint"],
        "states:UpdateStateMachine": calls["states:CreateStateMachine"],
        "cloudformation:DeleteStack": calls["cloudformation:CreateStack"],
    }
    for action, resource in changes.items():
        assert allowed(statements, action, resource, OWNED), action
        # The orchestrator's and the baseline's resources carry the environment tag, never a pipeline id.
        assert not allowed(statements, action, resource, {"aws:ResourceTag/mlops:environment": name}), action


def test_names_outside_the_pipelines_patterns_are_out_of_reach_even_when_tagged(
    env: tuple[str, str, list[Statement]],
) -> None:
    _, account, statements = env
    for action, resource in {
        "lambda:UpdateFunctionCode": arn(account, "lambda", "function:mlops-orch-provisioner"),
        "codebuild:UpdateProject": arn(account, "codebuild", "project/mlops-deploy-churn-prod"),
        "states:UpdateStateMachine": arn(account, "states", "stateMachine:someone-elses"),
        "logs:DeleteLogGroup": arn(account, "logs", "log-group:/aws/lambda/mlops-orch-api"),
    }.items():
        assert not allowed(statements, action, resource, OWNED), action


def test_sagemaker_tags_may_be_added_by_a_create_only(env: tuple[str, str, list[Statement]]) -> None:
    _, account, statements = env
    endpoint = arn(account, "sagemaker", "endpoint/someone-elses")
    assert allowed(statements, "sagemaker:AddTags", endpoint, {"sagemaker:TaggingAction": "CreateEndpoint"})
    assert not allowed(statements, "sagemaker:AddTags", endpoint, PIPELINE)


def test_no_stack_runs_with_a_service_role(env: tuple[str, str, list[Statement]]) -> None:
    name, account, statements = env
    stack = arn(account, "cloudformation", f"stack/churn-{name}-monitor-1a2b3c/id")
    admin = {**PIPELINE, "cloudformation:RoleArn": f"arn:aws:iam::{account}:role/admin"}
    assert not allowed(statements, "cloudformation:CreateStack", stack, admin)


# -- roles --------------------------------------------------------------------------------------
def role(account: str, name: str, path: str = "/mlops/") -> str:
    return f"arn:aws:iam::{account}:role{path}{name}"


def test_roles_are_created_and_written_only_with_the_environments_boundary(
    env: tuple[str, str, list[Statement]],
) -> None:
    name, account, statements = env
    boundary = EnvironmentNames(name, account, "us-east-1").pipeline_boundary_arn()
    new_role = role(account, f"churn-{name}-sagemaker-role")
    bounded = {**PIPELINE, "iam:PermissionsBoundary": boundary}
    for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary"):
        assert allowed(statements, action, new_role, bounded), action
        assert not allowed(statements, action, new_role, PIPELINE), action
        other = {**bounded, "iam:PermissionsBoundary": f"arn:aws:iam::{account}:policy/anything"}
        assert not allowed(statements, action, new_role, other), action
    for action in ("iam:DeleteRolePermissionsBoundary", "iam:AttachRolePolicy", "sts:AssumeRole"):
        assert not allowed(statements, action, new_role, {**bounded, **OWNED}), action
    # Only under the pipelines' path, never the baseline's own SageMaker role.
    assert not allowed(statements, "iam:CreateRole", role(account, f"churn-{name}-x", "/"), bounded)
    baseline = role(account, EnvironmentNames(name, account, "us-east-1").sagemaker_role)
    for action in ("iam:PutRolePolicy", "iam:TagRole", "iam:UpdateAssumeRolePolicy", "iam:PassRole"):
        context = {**bounded, **OWNED, "iam:PassedToService": "sagemaker.amazonaws.com"}
        assert not allowed(statements, action, baseline, context), action


@pytest.mark.parametrize("service", ["ec2", "cloudformation", "glue", "ecs-tasks", "lambda-edge"])
def test_pipeline_roles_are_passed_to_no_other_service(env: tuple[str, str, list[Statement]], service: str) -> None:
    name, account, statements = env
    context = {"iam:PassedToService": f"{service}.amazonaws.com"}
    assert not allowed(statements, "iam:PassRole", role(account, f"churn-{name}-role"), context)


def test_pipeline_roles_are_passed_to_the_services_that_run_pipeline_resources(
    env: tuple[str, str, list[Statement]],
) -> None:
    name, account, statements = env
    assert [f"{s}.amazonaws.com" for s in ("codebuild", "events", "lambda", "sagemaker", "states")] == PASSED_TO
    for service in PASSED_TO:
        context = {"iam:PassedToService": service}
        assert allowed(statements, "iam:PassRole", role(account, f"churn-{name}-role"), context)


# -- the model registry and the key -------------------------------------------------------------
def test_model_packages_are_read_anywhere_and_registered_unapproved_in_the_orchestrator_account_only() -> None:
    package = f"arn:aws:sagemaker:us-east-1:{ORCHESTRATOR}:model-package/mlops-models/3"
    pending = {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}
    for name, account in (("dev", ORCHESTRATOR), ("prod", "333333333333")):
        statements = statements_for(name, account)
        assert allowed(statements, "sagemaker:DescribeModelPackage", package, {})
        assert allowed(statements, "sagemaker:CreateModelPackage", package, pending) == (account == ORCHESTRATOR)
    dev = statements_for("dev", ORCHESTRATOR)
    assert not allowed(dev, "sagemaker:CreateModelPackage", package, {"sagemaker:ModelApprovalStatus": "Approved"})
    assert not allowed(dev, "sagemaker:UpdateModelPackage", package, {**OWNED, **pending})
    no_registry = statements_for("dev", ORCHESTRATOR, registry=False)
    assert not allowed(no_registry, "sagemaker:DescribeModelPackage", package, {})


def test_the_environment_key_is_used_and_granted_to_aws_services_only(env: tuple[str, str, list[Statement]]) -> None:
    _, account, statements = env
    key = KEY.format(account=account)
    assert allowed(statements, "kms:GenerateDataKey", key, {})
    assert allowed(statements, "kms:CreateGrant", key, {"kms:GrantIsForAWSResource": "true"})
    assert not allowed(statements, "kms:CreateGrant", key, {})
    other_key = re.sub(r"key/.*", "key/another", key)
    assert not allowed(statements, "kms:Decrypt", other_key, {})


def test_the_policy_fits_a_roles_inline_policies_in_the_longest_region() -> None:
    from components import policies

    args = EnvironmentBaselineArgs("staging", ORCHESTRATOR, "ap-southeast-5", ORCHESTRATOR, use_model_registry=True)
    text = policies.document(*deploy_role_statements(args, KEY.format(account=ORCHESTRATOR)))
    assert len(re.sub(r"\s", "", text)) <= 10_240  # IAM's limit for all inline policies of a role
