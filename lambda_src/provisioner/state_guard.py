"""A target stack's state is written by deploy builds, which the provisioner does not trust.

The provisioner may assume every environment's deploy role; a dev build may write its own stack's
state. Were the provisioner to destroy or refresh that state as it stands, a provider planted in it
(one assuming the prod deploy role, or none at all: the provisioner's own role in the orchestrator's
account) would make the provisioner act where the dev build never may. So before it destroys or
refreshes `<pipeline>-<env>`, the state must name only AWS providers that assume exactly that
environment's deploy role, and that environment's secrets provider.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from lambda_src.provisioner.errors import ProvisioningError
from lambda_src.provisioner.settings import ProvisionerSettings
from lambda_src.provisioner.state_layout import StateLayout

AWS_PROVIDER = "pulumi:providers:aws"


class UntrustedState(ProvisioningError, reason="untrusted-state", retryable=False):
    """The target stack's state names a provider or secrets provider the environment does not use."""


def state_problems(exported: dict[str, Any], deploy_role_arn: str, secrets_provider: str | None) -> list[str]:
    """What in an exported target-stack state the provisioner must not act on (nothing: trusted)."""
    deployment = exported.get("deployment") or {}
    problems = []
    url = ((deployment.get("secrets_providers") or {}).get("state") or {}).get("url")
    if secrets_provider and url and not same_secrets_provider(str(url), secrets_provider):
        problems.append(f"its secrets provider is {url!r}, not this environment's")
    for resource in deployment.get("resources") or []:
        kind = str(resource.get("type", ""))
        if not kind.startswith("pulumi:providers:"):
            continue
        name = str(resource.get("urn", "?")).split("::")[-1]
        if kind != AWS_PROVIDER:
            problems.append(f"provider {name} is a {kind.removeprefix('pulumi:providers:')} provider")
            continue
        roles = _assumed_roles(resource.get("inputs") or {})
        if roles != [deploy_role_arn]:
            problems.append(f"provider {name} assumes {', '.join(roles) or 'no role'}, not {deploy_role_arn}")
    return problems


def same_secrets_provider(found: str, expected: str) -> bool:
    """The same key and encryption context, and nothing else (an `endpoint=` would send the provisioner's
    KMS calls elsewhere); the order of the URL's parameters does not matter."""
    a, b = urlsplit(found), urlsplit(expected)
    return (a.scheme, a.netloc, a.path) == (b.scheme, b.netloc, b.path) and sorted(parse_qsl(a.query)) == sorted(
        parse_qsl(b.query)
    )


def check_target_state(stack_name: str, exported: dict[str, Any], deploy_role_arn: str, secrets_provider: str) -> None:
    """UntrustedState naming every problem; nothing when the state is the environment's own."""
    problems = state_problems(exported, deploy_role_arn, secrets_provider)
    if problems:
        raise UntrustedState(f"{stack_name}: not destroyed or refreshed by the provisioner: {'; '.join(problems)}")


def _assumed_roles(inputs: dict[str, Any]) -> list[str]:
    """The role ARNs of a provider's `assumeRoles` (pulumi-aws 7), however the state spells them:
    a list, a JSON string (provider config), or a secret wrapping either."""
    value = _plain(inputs.get("assumeRoles"))
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return []
    return [str(_plain(role).get("roleArn")) for role in value if isinstance(_plain(role), dict)]


def _plain(value: Any) -> Any:
    if isinstance(value, dict) and "plaintext" in value:
        value = value["plaintext"]
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def guard_target(runner: Any, stack_name: str, env: str, settings: ProvisionerSettings) -> None:
    """Check the selected target stack's state (runner.export_deployment) before acting on it."""
    place = StateLayout.from_settings(settings).place_of(stack_name)
    check_target_state(
        stack_name, runner.export_deployment(), settings.target(env).deploy_role_arn, place.secrets_provider
    )
