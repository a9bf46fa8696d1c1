"""IAM least-privilege rules: no whole services, role writes only with a boundary, PassRole only to named services."""

from __future__ import annotations

from typing import Any

import pytest

from components.environment import EnvironmentBaselineArgs, deploy_role_statements, pipeline_boundary_statements
from components.guardrails import (
    ROLE_WRITES,
    check_all,
    iam_no_service_wildcards,
    iam_pass_role_conditioned,
    iam_role_writes_need_boundary,
)
from tests.components.guardrails.support import ORCHESTRATOR, ROLE, named, res, role_policy

ROLES = "arn:aws:iam::111111111111:role/mlops/*"
BOUNDARY = "arn:aws:iam::111111111111:policy/mlops-dev-pipeline-boundary"
KEY = "arn:aws:kms:us-east-1:111111111111:key/00000000-0000-0000-0000-000000000001"


def allow(action: Any, resource: Any = ROLES, **condition: Any) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    return {**statement, "Condition": condition} if condition else statement


# -- iam-no-service-wildcards -------------------------------------------------------------------
@pytest.mark.parametrize("action", ["s3:*", "*", "SageMaker:*", ["kms:Decrypt", "codebuild:*"]])
def test_a_whole_service_is_caught_whatever_the_resource(action: Any) -> None:
    bad = role_policy(allow(action, "arn:aws:s3:::one-bucket/*"))
    assert named(iam_no_service_wildcards([bad])) == [("iam-no-service-wildcards", "policy")]


@pytest.mark.parametrize("action", ["kms:GenerateDataKey*", "sagemaker:Describe*", ["s3:GetObject"]])
def test_named_actions_and_action_prefixes_pass(action: Any) -> None:
    assert iam_no_service_wildcards([role_policy(allow(action, "*"))]) == []


def test_deny_statements_and_resource_policies_are_not_judged() -> None:
    deny = role_policy({"Effect": "Deny", "Action": "s3:*", "Resource": "*"})
    key_policy = res("aws:kms/key:Key", "key", policy='{"Statement": [{"Effect": "Allow", "Action": "kms:*"}]}')
    assert iam_no_service_wildcards([deny, key_policy]) == []


def test_inline_policies_of_a_role_and_managed_policies_are_judged() -> None:
    inline = res(
        ROLE, "role", inlinePolicies=[{"name": "inline", "policy": role_policy(allow("ecr:*")).inputs["policy"]}]
    )
    managed = role_policy(allow("lambda:*"), typ="aws:iam/policy:Policy")
    assert [v.resource_name for v in iam_no_service_wildcards([inline, managed])] == ["role", "policy"]


# -- iam-role-writes-need-boundary --------------------------------------------------------------
@pytest.mark.parametrize("action", [*ROLE_WRITES, "iam:*", "iam:Put*", "IAM:createrole"])
def test_role_writes_without_a_boundary_are_caught(action: str) -> None:
    violations = iam_role_writes_need_boundary([role_policy(allow(action))])
    assert any("without naming a boundary" in v.message for v in violations)


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEqualsIfExists": {"iam:PermissionsBoundary": BOUNDARY}},  # absent would pass
        {"StringNotEquals": {"iam:PermissionsBoundary": BOUNDARY}},
        {"ArnLike": {"iam:PermissionsBoundary": "arn:aws:iam::111111111111:policy/*"}},  # any policy
        {"Null": {"iam:PermissionsBoundary": "false"}},
    ],
)
def test_a_boundary_condition_that_names_no_one_boundary_is_caught(condition: dict[str, Any]) -> None:
    bad = role_policy(allow(["iam:CreateRole", "iam:PutRolePolicy"], **condition))
    assert len(iam_role_writes_need_boundary([bad])) == 1


@pytest.mark.parametrize("operator", ["StringEquals", "ArnEquals"])
def test_role_writes_naming_the_boundary_pass(operator: str) -> None:
    good = role_policy(allow(list(ROLE_WRITES), **{operator: {"iam:PermissionsBoundary": BOUNDARY}}))
    assert iam_role_writes_need_boundary([good]) == []


def test_removing_a_boundary_is_caught_even_with_a_condition() -> None:
    bad = allow("iam:DeleteRolePermissionsBoundary", StringEquals={"iam:PermissionsBoundary": BOUNDARY})
    [violation] = iam_role_writes_need_boundary([role_policy(bad)])
    assert "iam:DeleteRolePermissionsBoundary" in violation.message


# -- iam-pass-role-conditioned ------------------------------------------------------------------
@pytest.mark.parametrize("action", ["iam:PassRole", "iam:Pass*", "iam:*"])
def test_pass_role_to_any_service_is_caught(action: str) -> None:
    assert named(iam_pass_role_conditioned([role_policy(allow(action))])) == [("iam-pass-role-conditioned", "policy")]


def test_pass_role_named_services_passes_and_a_negated_one_does_not() -> None:
    named_services = allow("iam:PassRole", StringEquals={"iam:PassedToService": ["sagemaker.amazonaws.com"]})
    negated = allow("iam:PassRole", StringNotEquals={"iam:PassedToService": "ec2.amazonaws.com"})
    assert iam_pass_role_conditioned([role_policy(named_services)]) == []
    assert len(iam_pass_role_conditioned([role_policy(negated)])) == 1


# -- the real policies --------------------------------------------------------------------------
@pytest.mark.parametrize("registry", [False, True])
@pytest.mark.parametrize("account", [ORCHESTRATOR, "222222222222"])
def test_the_deploy_role_and_the_boundary_break_none_of_the_iam_rules(registry: bool, account: str) -> None:
    args = EnvironmentBaselineArgs("staging", account, "us-east-1", ORCHESTRATOR, use_model_registry=registry)
    deploy = role_policy(*deploy_role_statements(args, KEY))
    boundary = role_policy(*pipeline_boundary_statements(args), typ="aws:iam/policy:Policy")
    assert [str(v) for v in check_all([deploy, boundary], ORCHESTRATOR)] == []
