"""The AWS provider's own account guard (issue 13, point 5): `aws:allowedAccountIds`, where a stack
sets it, names exactly the account the stack deploys, as quoted ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from mlops_spec.account_guard import allowed_accounts_problem, check_allowed_accounts, missing_guard_warning
from mlops_spec.errors import SpecError

pytestmark = pytest.mark.fast
REPO_ROOT = Path(__file__).resolve().parents[2]
FIX = "set it with `pulumi config set --path 'aws:allowedAccountIds[0]' 012345678901 --type string`"


def test_unset_or_exactly_the_stacks_account_passes() -> None:
    assert allowed_accounts_problem(None, "012345678901", "dev") is None
    assert allowed_accounts_problem('["012345678901"]', "012345678901", "dev") is None


def test_another_account_is_refused_naming_the_stacks_account_and_the_fix() -> None:
    assert allowed_accounts_problem('["444444444444"]', "012345678901", "prod") == (
        f"names 444444444444, but this stack deploys prod into account 012345678901 (mlops:accounts.prod); {FIX}"
    )


def test_a_guard_of_two_accounts_is_replaced_not_set_at_its_first_entry() -> None:
    # Setting entry 0 of ["111111111111", "012345678901"] would leave a list the check refuses again.
    assert allowed_accounts_problem('["111111111111", "012345678901"]', "012345678901", "prod") == (
        "names 111111111111, 012345678901 (111111111111: the shipped example's account), but this stack deploys "
        "prod into account 012345678901 (mlops:accounts.prod); replace it: `pulumi config rm aws:allowedAccountIds`, "
        "then `pulumi config set --path 'aws:allowedAccountIds[0]' 012345678901 --type string`"
    )


def test_the_shipped_examples_account_left_by_an_upgrade_is_named_as_such() -> None:
    # The shipped Pulumi.dev.yaml merged into a stack file that holds the user's own account.
    assert allowed_accounts_problem('["111111111111"]', "012345678901", "dev") == (
        "names 111111111111 (the shipped example's account), but this stack deploys dev into account "
        f"012345678901 (mlops:accounts.dev); {FIX}"
    )


def test_ids_written_as_numbers_are_refused_as_they_lose_a_leading_zero() -> None:
    # `aws:allowedAccountIds: [012345678901]` unquoted reaches the program as a number.
    assert allowed_accounts_problem("[12345678901]", "012345678901", "dev") == (
        f"lists account ids as numbers, which lose a leading zero; {FIX}"
    )


def test_the_check_raises_a_spec_error_naming_the_key() -> None:
    with pytest.raises(SpecError) as refused:
        check_allowed_accounts('"444444444444"', "012345678901", "dev")
    assert str(refused.value).startswith("aws:allowedAccountIds: names 444444444444, but this stack deploys dev")


@pytest.mark.parametrize(
    "stack_file",
    [
        REPO_ROOT / "Pulumi.dev.yaml",
        *sorted((REPO_ROOT / "examples" / "stacks" / "multi-account").glob("Pulumi.*.yaml")),
    ],
    ids=lambda path: str(path.relative_to(REPO_ROOT)),
)
def test_every_shipped_stack_file_guards_its_own_account(stack_file: Path) -> None:
    config = yaml.safe_load(stack_file.read_text())["config"]
    environment = config["mlops:environment"]
    account = config["mlops:accounts"][environment]

    assert config["aws:allowedAccountIds"] == [account]
    assert allowed_accounts_problem(json.dumps(config["aws:allowedAccountIds"]), account, environment) is None
    assert missing_guard_warning(json.dumps(config["aws:allowedAccountIds"]), account) is None


def test_the_warning_for_a_missing_guard_gives_the_command_that_keeps_a_leading_zero() -> None:
    assert missing_guard_warning(None, "012345678901") == (
        "aws:allowedAccountIds is not set: `pulumi destroy` and `pulumi refresh` would act in whatever account "
        "the credentials are of; guard this stack with "
        "`pulumi config set --path 'aws:allowedAccountIds[0]' 012345678901 --type string`"
    )
