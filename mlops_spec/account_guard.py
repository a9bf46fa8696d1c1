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
    fix = f'write `{ALLOWED_ACCOUNTS_KEY}: ["{account_id}"]` in the stack file'
    if not all(isinstance(entry, str) for entry in listed):
        return f"lists account ids as numbers, which lose a leading zero; {fix}"
    if listed != allowed_accounts_setting(account_id):
        return (
            f"names {', '.join(listed) or 'no account'}, but this stack deploys {environment} into account "
            f"{account_id} (mlops:accounts.{environment}); {fix}"
        )
    return None


def check_allowed_accounts(raw: str | None, account_id: str, environment: str) -> None:
    """SpecError naming `aws:allowedAccountIds` and the fix when it does not name exactly the account."""
    if problem := allowed_accounts_problem(raw, account_id, environment):
        raise SpecError("invalid stack config", [FieldError(ALLOWED_ACCOUNTS_KEY, problem)])


def guard_command(account_id: str) -> str:
    """The pulumi command that sets the guard to `account_id`, as a string (`--path` alone would store a
    number, which loses a leading zero)."""
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
