"""The AWS provider's own account guard (`aws:allowedAccountIds`) checked against the stack's account.

Changes when the guard's setting or how a stack names its account changes.

pulumi-aws refuses credentials of any account its `allowedAccountIds` does not list, before any
change and for every command (destroy and refresh too, which never run the program's own account
check). `mlops init` writes it into each stack file; a value naming another account (a copied file,
a shared setting in Pulumi.yaml) would make every `pulumi up` fail, or let the wrong account pass.
"""

from __future__ import annotations

import json

from mlops_spec.errors import FieldError, SpecError

ALLOWED_ACCOUNTS_KEY = "aws:allowedAccountIds"
# The placeholder accounts of the shipped stack files (Pulumi.dev.yaml, examples/stacks/).
EXAMPLE_ACCOUNTS = frozenset({"111111111111", "222222222222", "333333333333"})


def allowed_accounts_setting(account_id: str) -> list[str]:
    """The value a stack deploying into `account_id` sets (quoted: an id may start with a zero)."""
    return [account_id]


def allowed_accounts_problem(raw: str | None, account_id: str, environment: str) -> str | None:
    """Why the stack's `aws:allowedAccountIds` (as the engine hands it: JSON text) is wrong for a stack
    deploying `environment` into `account_id`; None when it is unset or names exactly that account."""
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    listed = value if isinstance(value, list) else [value]
    fix = f"set it with `{guard_command(account_id)}`"
    if not all(isinstance(entry, str) for entry in listed):
        return f"lists account ids as numbers, which lose a leading zero; {fix}"
    if listed != allowed_accounts_setting(account_id):
        if len(listed) > 1:  # setting its first entry would leave the others
            fix = f"replace it: `pulumi config rm {ALLOWED_ACCOUNTS_KEY}`, then `{guard_command(account_id)}`"
        # An upgrade merging the shipped stack file into one with the user's account brings its example id.
        examples = [entry for entry in listed if entry in EXAMPLE_ACCOUNTS and entry != account_id]
        example = ""
        if examples:
            which = "" if len(listed) == 1 else f"{', '.join(examples)}: "
            example = f" ({which}the shipped example's account)"
        return (
            f"names {', '.join(listed) or 'no account'}{example}, but this stack deploys {environment} into "
            f"account {account_id} (mlops:accounts.{environment}); {fix}"
        )
    return None


def check_allowed_accounts(raw: str | None, account_id: str, environment: str) -> None:
    """SpecError naming `aws:allowedAccountIds` and the fix when it does not name exactly the account."""
    if problem := allowed_accounts_problem(raw, account_id, environment):
        raise SpecError("invalid stack config", [FieldError(ALLOWED_ACCOUNTS_KEY, problem)])


def guard_command(account_id: str) -> str:
    """The pulumi command that sets the guard to `account_id`, as a string (`--path` alone stores an id
    without a leading zero as a number, which the guard refuses)."""
    return f"pulumi config set --path '{ALLOWED_ACCOUNTS_KEY}[0]' {account_id} --type string"


def missing_guard_warning(raw: str | None, account_id: str) -> str | None:
    """The warning for a stack without `aws:allowedAccountIds` (None when it is set): `pulumi up` checks the
    account itself, but `pulumi destroy` and `refresh` run no program and would act in any account."""
    if raw is not None:
        return None
    return (
        f"{ALLOWED_ACCOUNTS_KEY} is not set: `pulumi destroy` and `pulumi refresh` would act in whatever "
        f"account the credentials are of; guard this stack with `{guard_command(account_id)}`"
    )
