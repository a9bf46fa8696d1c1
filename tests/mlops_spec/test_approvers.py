"""Separation of duties as the stack config states it and the API applies it (issue 10, point 5):
`mlops:approvers` per environment, `mlops:allowRequesterApproval`, and who is the same principal."""

from __future__ import annotations

from typing import Any

import pytest

from mlops_spec.approvers import ApprovalRules, Principal, principal_key, same_principal
from mlops_spec.errors import FieldError, SpecError
from mlops_spec.stack_config import load_stack_config

pytestmark = pytest.mark.fast

MULTI: dict[str, Any] = {
    "aws:region": "us-east-1",
    "mlops:mode": "multi",
    "mlops:accounts": '{"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}',
    "mlops:notificationEmail": "team@example.com",
}
RELEASE = "arn:aws:iam::111111111111:role/teams/ReleaseManagers"
ALICE = "arn:aws:iam::111111111111:user/alice"
BOB = "arn:aws:iam::111111111111:user/bob"
ROLE_AND_USER = "(arn:aws:iam::<account>:role/<name> or arn:aws:iam::<account>:user/<name>)"


def errors_of(approvers: str, **values: Any) -> list[FieldError]:
    with pytest.raises(SpecError) as raised:
        load_stack_config({**MULTI, "mlops:approvers": approvers, **values}, "dev")
    return raised.value.errors


# -- the stack config ----------------------------------------------------------------------------------


def test_approvers_and_the_requester_setting_are_read_from_the_stack_config() -> None:
    config = load_stack_config(
        {**MULTI, "mlops:approvers": f'{{"prod": ["{RELEASE}", "{ALICE}"]}}', "mlops:allowRequesterApproval": "true"},
        "dev",
    )

    assert config.approvers == {"prod": (RELEASE, ALICE)}
    assert config.allow_requester_approval is True


def test_without_the_settings_no_list_applies_and_the_requester_rule_does() -> None:
    config = load_stack_config(MULTI, "dev")

    assert (config.approvers, config.allow_requester_approval) == ({}, False)


@pytest.mark.parametrize(
    ("approvers", "field", "problem"),
    [
        ('{"dev": ["x"]}', "mlops:approvers.dev", "has no manual approval (approvals promote into staging, prod)"),
        (
            '{"qa": ["x"]}',
            "mlops:approvers.qa",
            "is not an environment with a manual approval (one of staging, prod)",
        ),
        (
            '{"prod": []}',
            "mlops:approvers.prod",
            "must be a non-empty list of principal ARNs (leave it out to allow any caller)",
        ),
        (
            f'{{"prod": ["{RELEASE}", "ReleaseManagers"]}}',
            "mlops:approvers.prod[1]",
            f"must be an IAM role or user ARN {ROLE_AND_USER}",
        ),
        ('{"prod": ["*"]}', "mlops:approvers.prod[0]", f"must be an IAM role or user ARN {ROLE_AND_USER}"),
        (
            '{"staging": ["arn:aws:iam::111111111111:group/Ops"]}',
            "mlops:approvers.staging[0]",
            f"must be an IAM role or user ARN {ROLE_AND_USER}",
        ),
        (
            '{"prod": ["arn:aws:sts::111111111111:assumed-role/ReleaseManagers/bob"]}',
            "mlops:approvers.prod[0]",
            f"is an assumed-role session ARN: name its role instead {ROLE_AND_USER}",
        ),
        ('["arn:aws:iam::111111111111:user/alice"]', "mlops:approvers", "must map staging and/or prod to lists"),
    ],
)
def test_malformed_approvers_name_the_entry_and_the_problem(approvers: str, field: str, problem: str) -> None:
    [error] = errors_of(approvers)

    assert error.field == field
    assert error.problem.startswith(problem)


def test_approvers_in_single_account_mode_are_refused_there_is_no_approval() -> None:
    values = {"aws:region": "us-east-1", "mlops:accounts": '{"dev": "111111111111"}', "mlops:approvers": "{}"}
    assert load_stack_config(values, "dev").approvers == {}

    with pytest.raises(SpecError) as raised:
        load_stack_config({**values, "mlops:approvers": f'{{"prod": ["{ALICE}"]}}'}, "dev")

    assert raised.value.errors == [
        FieldError("mlops:approvers", "applies to multi-account mode only (single-account mode has no approval)")
    ]


# -- who is who ------------------------------------------------------------------------------------------


def test_a_role_its_sessions_and_its_paths_name_one_principal() -> None:
    session = "arn:aws:sts::111111111111:assumed-role/ReleaseManagers/bob"

    # A session ARN carries no path: the role's path is not part of who it is.
    assert principal_key(session) == principal_key(RELEASE) == principal_key(RELEASE.replace("teams/", ""))
    assert principal_key("arn:aws:sts::222222222222:assumed-role/ReleaseManagers/bob") != principal_key(RELEASE)
    assert principal_key("arn:aws:iam::111111111111:user/ReleaseManagers") != principal_key(RELEASE)
    assert principal_key("arn:aws:iam::111111111111:root") is None


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (
            Principal(principal_id="AWS:AROAROLE:alice"),
            Principal("arn:aws:sts::1:assumed-role/R/bob", "AROAROLE:bob"),
            True,
        ),
        (Principal(ALICE, "AIDAALICE"), Principal(ALICE), True),
        (Principal(ALICE, "AIDAALICE"), Principal("arn:aws:iam::111111111111:user/bob", "AIDABOB"), False),
        (Principal(), Principal(), False),
    ],
)
def test_the_same_principal_is_found_by_unique_id_or_by_arn(a: Principal, b: Principal, same: bool) -> None:
    assert same_principal(a, b) is same
    assert same_principal(b, a) is same


# -- the rules the API applies ---------------------------------------------------------------------------


def test_the_rules_travel_as_json_unchanged() -> None:
    rules = ApprovalRules({"prod": (RELEASE,), "staging": (ALICE, RELEASE)}, requester_may_approve=True)

    assert ApprovalRules.from_json(rules.to_json()) == rules
    assert ApprovalRules.from_json(ApprovalRules().to_json()) == ApprovalRules()


@pytest.mark.parametrize(
    "text", ["not json", "[]", '{"approvers": {"prod": ["*"]}}', '{"requester_may_approve": "yes"}', '{"x": 1}']
)
def test_rules_that_do_not_hold_valid_approvers_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        ApprovalRules.from_json(text)


def test_an_unidentified_caller_cannot_be_told_from_a_known_requester() -> None:
    refusals = ApprovalRules().refusals("prod", "approve", Principal(), Principal(ALICE))

    assert refusals == ["is unidentified: it cannot be told apart from the requester of this version"]


def test_a_version_without_a_recorded_requester_lets_nobody_approve_prod_but_anyone_reject_it() -> None:
    rules = ApprovalRules()

    [refusal] = rules.refusals("prod", "approve", Principal(ALICE, "AIDAALICE"), Principal())
    assert refusal.startswith("cannot approve the promotion to prod: the requester of this version is not recorded")
    assert rules.refusals("prod", "reject", Principal(ALICE, "AIDAALICE"), Principal()) == []
    assert rules.refusals("staging", "approve", Principal(ALICE, "AIDAALICE"), Principal()) == []
    assert ApprovalRules(requester_may_approve=True).refusals("prod", "approve", Principal(ALICE), Principal()) == []


def test_the_requester_of_the_version_a_rollback_sends_again_may_not_approve_it_into_prod() -> None:
    # A monitor's rollback (issue 14) is requested by the monitor's requester (RELEASE here) and bars the
    # requester of the version it sends again (Alice): neither may approve it into prod; others may.
    rules, barred = ApprovalRules(), (Principal(ALICE),)

    assert rules.refusals("prod", "approve", Principal(ALICE, "AIDAALICE"), Principal(RELEASE), barred) == [
        "requested the version this one sends again: they cannot approve its promotion to prod"
    ]
    assert rules.refusals("prod", "approve", Principal(BOB), Principal(RELEASE), barred) == []
    assert rules.refusals("prod", "approve", Principal(RELEASE), Principal(RELEASE), barred) == [
        "requested this version: a requester cannot approve their own promotion to prod"
    ]
    assert rules.refusals("staging", "approve", Principal(ALICE), Principal(RELEASE), barred) == []
    assert rules.refusals("prod", "reject", Principal(ALICE), Principal(RELEASE), barred) == []


def test_a_requester_known_only_by_a_principal_id_that_names_no_one_is_not_recorded() -> None:
    # A federated user's or the root user's principal id starts with the account id they share.
    for principal_id in ("AWS:111111111111:alice", "111111111111"):
        assert Principal(principal_id=principal_id).known is False
        assert Principal(principal_id=principal_id).unique_id is None
    assert Principal(principal_id="AWS:AROAROLE:alice").unique_id == "AROAROLE"
    assert Principal(principal_id="AIDAALICE").unique_id == "AIDAALICE"


def test_an_approval_that_promotes_into_no_environment_of_ours_is_refused_whatever_the_rules() -> None:
    for rules in (ApprovalRules(), ApprovalRules(requester_may_approve=True)):
        assert rules.refusals(None, "reject", Principal(ALICE), Principal(RELEASE)) == [
            "promotes into no environment with approval rules (staging, prod): none could be checked"
        ]


def test_approver_names_are_compared_as_iam_compares_them_regardless_of_case() -> None:
    rules = ApprovalRules({"prod": ("arn:aws:iam::111111111111:role/teams/releasemanagers",)})
    session = Principal("arn:aws:sts::111111111111:assumed-role/ReleaseManagers/bob", "AROARM:bob")

    assert rules.refusals("prod", "approve", session, Principal(ALICE)) == []
    assert principal_key("arn:aws:iam::111111111111:user/Alice") == principal_key(ALICE)
    # The account and the kind still tell identities apart.
    assert principal_key("arn:aws:iam::111111111111:user/RELEASEMANAGERS") != principal_key(RELEASE)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (  # two federated users of one account share no unique id, only the account's
            Principal("arn:aws:sts::111111111111:federated-user/alice", "111111111111:alice"),
            Principal("arn:aws:sts::111111111111:federated-user/bob", "111111111111:bob"),
            False,
        ),
        (
            Principal("arn:aws:sts::111111111111:federated-user/alice", "111111111111:alice"),
            Principal("arn:aws:sts::111111111111:federated-user/alice", "111111111111:alice"),
            True,
        ),
        (  # the root user and a federated user of the same account
            Principal("arn:aws:iam::111111111111:root", "111111111111"),
            Principal("arn:aws:sts::111111111111:federated-user/alice", "111111111111:alice"),
            False,
        ),
        (
            Principal("arn:aws:iam::111111111111:root", "111111111111"),
            Principal("arn:aws:iam::111111111111:root"),
            True,
        ),
    ],
)
def test_federated_users_and_root_are_compared_by_their_full_arn(a: Principal, b: Principal, same: bool) -> None:
    assert same_principal(a, b) is same
    assert same_principal(b, a) is same
