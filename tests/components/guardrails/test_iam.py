"""IAM rules: administrator grants and trust of accounts other than the orchestrator's are caught."""

from __future__ import annotations

from typing import Any

import pytest

from components import policies
from components.guardrails import iam_cross_account_trust, iam_no_admin_wildcards
from components.guardrails.iam import grants
from tests.components.guardrails.support import ORCHESTRATOR, ROLE, named, res, role_policy, trusting


# -- iam-no-admin-wildcards ---------------------------------------------------------------------
@pytest.mark.parametrize("action", ["*", "*:*", "iam:*", "IAM:*", ["s3:GetObject", "*"]])
def test_admin_action_on_every_resource_is_caught(action: Any) -> None:
    bad = role_policy({"Effect": "Allow", "Action": action, "Resource": "*"})
    assert named(iam_no_admin_wildcards([bad])) == [("iam-no-admin-wildcards", "policy")]


def test_managed_policy_and_role_inline_policy_are_judged_too() -> None:
    managed = role_policy({"Effect": "Allow", "Action": "*", "Resource": ["*"]}, typ="aws:iam/policy:Policy")
    inline = {"name": "admin", "policy": policies.document({"Effect": "Allow", "Action": "*", "Resource": "*"})}
    role = res(ROLE, "role", assumeRolePolicy=policies.service_trust("lambda.amazonaws.com"), inlinePolicies=[inline])
    violations = iam_no_admin_wildcards([managed, role])
    assert [(v.resource_name, v.message) for v in violations] == [
        ("policy", 'policy: statement without Sid allows * on Resource "*"'),
        ("role", 'inline policy admin: statement without Sid allows * on Resource "*"'),
    ]


def test_not_action_on_every_resource_and_administrator_access_are_caught() -> None:
    not_action = role_policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    attachment = res(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "admin",
        role="r",
        policyArn="arn:aws:iam::aws:policy/AdministratorAccess",
    )
    assert named(iam_no_admin_wildcards([not_action, attachment])) == [
        ("iam-no-admin-wildcards", "policy"),
        ("iam-no-admin-wildcards", "admin"),
    ]


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::bucket/*"},  # scoped resource
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"},  # scoped action
        {"Effect": "Deny", "Action": "*", "Resource": "*"},  # denies are fine
    ],
)
def test_scoped_statements_pass(statement: dict[str, Any]) -> None:
    assert iam_no_admin_wildcards([role_policy(statement)]) == []


def test_key_policies_are_resource_policies_and_not_judged() -> None:
    key = res("aws:kms/key:Key", "key", policy=policies.kms_key_policy(ORCHESTRATOR, []))
    assert iam_no_admin_wildcards([key]) == []


# -- iam-cross-account-trust --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("principal", "problem"),
    [
        ({"AWS": "arn:aws:iam::999999999999:root"}, "trusts account 999999999999"),
        ({"AWS": "999999999999"}, "trusts account 999999999999"),
        (
            {"AWS": ["arn:aws:iam::111111111111:root", "arn:aws:iam::999999999999:role/x"]},
            "trusts account 999999999999",
        ),
        ({"AWS": "*"}, 'trusts Principal "*"'),
        ("*", 'trusts Principal "*"'),
    ],
)
def test_role_trusting_anyone_but_the_orchestrator_is_caught(principal: Any, problem: str) -> None:
    violations = iam_cross_account_trust([trusting(principal)], ORCHESTRATOR)
    assert [v.rule for v in violations] == ["iam-cross-account-trust"]
    assert violations[0].message.startswith(problem)


@pytest.mark.parametrize(
    "principal",
    [
        {"AWS": "arn:aws:iam::111111111111:root"},
        {"AWS": "arn:aws:iam::111111111111:role/mlops-orch-provisioner"},
        {"Service": "sagemaker.amazonaws.com"},
    ],
)
def test_role_trusting_the_orchestrator_or_a_service_passes(principal: Any) -> None:
    assert iam_cross_account_trust([trusting(principal)], ORCHESTRATOR) == []


def test_real_cross_account_trust_helper_passes_and_deny_statements_are_ignored() -> None:
    role = res(ROLE, "deploy", assumeRolePolicy=policies.cross_account_trust(ORCHESTRATOR, "mlops-orch-"))
    assert iam_cross_account_trust([role, trusting({"AWS": "*"}, effect="Deny")], ORCHESTRATOR) == []
    assert [v.rule for v in iam_cross_account_trust([role], "222222222222")] == ["iam-cross-account-trust"]


@pytest.mark.parametrize(
    ("actions", "action", "granted"),
    [
        ("iam:CreateRole", "iam:CreateRole", True),
        ("IAM:createrole", "iam:CreateRole", True),  # IAM action names are case-insensitive
        ("iam:CreateRoles", "iam:CreateRole", False),
        (["s3:GetObject", "iam:Create*"], "iam:CreateRole", True),
        ("iam:*Role", "iam:CreateRole", True),
        ("iam:Create?ole", "iam:CreateRole", True),
        ("iam:Create?", "iam:CreateRole", False),
        ("*", "iam:DeleteRolePermissionsBoundary", True),
        ([], "iam:CreateRole", False),
    ],
)
def test_a_statement_grants_an_action_it_names_or_a_wildcard_covers(actions, action, granted):
    assert grants({"Effect": "Allow", "Action": actions, "Resource": "*"}, action) is granted
