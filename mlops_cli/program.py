"""The Pulumi program as a function of the installed package, so a project's `__main__.py` is two lines:

from mlops_cli.program import run
run()
"""

from __future__ import annotations

import os

import pulumi

from components.aws_packages import load_on_use
from components.stack import build_stack, deploy_role_external_id, read_stack_config
from mlops_spec.errors import SpecError
from mlops_spec.stack_config import config_keys
from mlops_spec.stack_config_checks import key_problems, plain_text_secrets


def run() -> None:
    """Read the stack's typed config, build its components, export their outputs."""
    load_on_use()
    check_config_as_set()
    config = read_stack_config()
    check_account(config.account_id, config.environment)
    exports = build_stack(config, external_id=deploy_role_external_id())
    for name, value in exports.items():
        pulumi.export(name, value)


def check_account(expected: str, environment: str) -> None:
    """The credentials are of the account this stack deploys (mlops:accounts.<environment>): a stack
    applied in the wrong account stops before any resource is declared, so nothing changes there."""
    import pulumi_aws as aws

    actual = aws.get_caller_identity().account_id
    if actual != expected:
        raise pulumi.RunError(
            f"wrong account: the credentials are of account {actual}, but this stack deploys {environment} "
            f"into account {expected} (mlops:accounts.{environment}); nothing was changed. Use credentials of "
            f"{expected}, or correct mlops:accounts.{environment}"
        )


def check_config_as_set() -> None:
    """Every key of the stack, not only the known ones the typed config reads: a misspelt key or
    namespace, or a secret stored in plain text, stops the program before any resource is declared."""
    from pulumi.runtime import config as runtime_config

    keys = sorted({*runtime_config.CONFIG.get(), *runtime_config.get_config_env()})
    problems = key_problems(keys, config_keys())
    # The CLI names the secret keys to the program in this variable; without it (an engine that does
    # not say) a secret cannot be told from plain text, so nothing is refused for it.
    if "PULUMI_CONFIG_SECRET_KEYS" in os.environ:
        problems += plain_text_secrets(keys, runtime_config.get_config_secret_keys_env())
    if problems:
        # RunError ends the program with this message only, not a traceback.
        raise pulumi.RunError(f"invalid stack config: {SpecError('invalid stack config', problems)}")
