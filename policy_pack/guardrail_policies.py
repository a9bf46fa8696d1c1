"""The guardrail rules as pulumi-policy policies; it changes when pulumi-policy's API or the pack's wiring does.

The rules themselves live in components/guardrails.py. This module only translates: pulumi-policy's
resource arguments (proxies that raise on values unknown during preview) into plain `GuardedResource`s,
and `Violation`s back into `report_violation` calls.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyPack,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)

from components.guardrails import ROLE_TYPE, UNKNOWN, GuardedResource, Rule, Violation, rules

PACK_NAME = "mlops-guardrails"
TRUST_RULE = "iam-cross-account-trust"
ACCOUNT_KEY = "orchestratorAccount"
ACCOUNT_ENV = "MLOPS_ORCHESTRATOR_ACCOUNT"

_UNKNOWN_SENTINELS = frozenset(
    {
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_OBJECT_VALUE,
        UNKNOWN_STRING_VALUE,
    }
)


# -- pulumi-policy values -> plain values -----------------------------------------------------
def _item(container: Any, key: Any) -> Any:
    """One entry of a pulumi-policy proxy; the proxy raises on an unknown entry instead of returning it."""
    try:
        return container[key]
    except UnknownValueError:
        return UNKNOWN


def plain(value: Any) -> Any:
    """A plain copy of a property value: proxies become dicts and lists, unknowns become UNKNOWN.

    Rules read every input; letting the proxy raise would abandon a whole rule at the first unknown
    value (pulumi-policy then downgrades the rule to an advisory note).
    """
    if isinstance(value, str):
        return UNKNOWN if value in _UNKNOWN_SENTINELS else value
    if isinstance(value, Mapping):
        return {key: plain(_item(value, key)) for key in value}
    if isinstance(value, Sequence):
        return [plain(_item(value, index)) for index in range(len(value))]
    return value


def from_resource_args(args: ResourceValidationArgs) -> GuardedResource:
    """The resource a ResourceValidationPolicy sees (its inputs), as the rules take it."""
    return GuardedResource(args.resource_type, args.name, plain(args.props), args.urn)


def from_policy_resource(resource: PolicyResource) -> GuardedResource:
    """A resource of a StackValidationPolicy. Its property dependencies let the S3 rules match a
    bucket with its companions while the bucket's id is still unknown (preview of a new bucket)."""
    dependencies = {
        prop: tuple(dependency.urn for dependency in depends_on)
        for prop, depends_on in resource.property_dependencies.items()
    }
    return GuardedResource(resource.resource_type, resource.name, plain(resource.props), resource.urn, dependencies)


# -- running the rules ------------------------------------------------------------------------
def orchestrator_account(config: Mapping[str, Any]) -> str | None:
    """From the policy config (`--policy-pack-config`), else from the environment."""
    account = config.get(ACCOUNT_KEY) or os.environ.get(ACCOUNT_ENV)
    return str(account) if account else None


def run_rule(name: str, config: Mapping[str, Any], resources: Sequence[GuardedResource]) -> list[Violation]:
    """Violations of rule `name`. Without an orchestrator account the trust rule cannot judge a role,
    and a mandatory rule must not pass silently: each role is reported with how to configure it."""
    account = orchestrator_account(config)
    if name == TRUST_RULE and account is None:
        message = f"set {ACCOUNT_KEY} in the {TRUST_RULE} policy config or {ACCOUNT_ENV} to judge this role's trust"
        return [Violation(name, r.type, r.name, message, r.urn) for r in resources if r.type == ROLE_TYPE]
    rule = next(r for r in rules(account or "") if r.name == name)
    return rule.check(resources)


def validate_resource(name: str) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        for violation in run_rule(name, args.get_config(), [from_resource_args(args)]):
            report_violation(violation.message, None)

    return validate


def validate_stack(name: str) -> Callable[[StackValidationArgs, ReportViolation], None]:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [from_policy_resource(r) for r in args.resources]
        for violation in run_rule(name, args.get_config(), resources):
            text = f"{violation.resource_type} {violation.resource_name}: {violation.message}"
            report_violation(text, violation.urn or None)

    return validate


# -- the pack ---------------------------------------------------------------------------------
def _config_schema(rule: Rule) -> PolicyConfigSchema | None:
    if rule.name != TRUST_RULE:
        return None
    account = {"type": "string", "pattern": "^[0-9]{12}$", "description": "The orchestrator's AWS account id"}
    return PolicyConfigSchema(properties={ACCOUNT_KEY: account})


def as_policy(rule: Rule) -> Policy:
    """Resource rules run before each resource is created; stack rules (bucket companions) after the
    whole update, so `pulumi preview` is where they prevent anything."""
    level = EnforcementLevel.MANDATORY
    if rule.scope == "stack":
        return StackValidationPolicy(rule.name, rule.description, validate_stack(rule.name), level)
    return ResourceValidationPolicy(
        rule.name,
        rule.description,
        validate_resource(rule.name),
        enforcement_level=level,
        config_schema=_config_schema(rule),
    )


def build_policies() -> list[Policy]:
    # The account only binds the trust rule's check; names, descriptions and scopes do not depend on it.
    return [as_policy(rule) for rule in rules("")]


def serve() -> None:
    """Start the pack (pulumi-policy's PolicyPack serves the engine until it is stopped)."""
    PolicyPack(
        name=PACK_NAME,
        policies=build_policies(),
        enforcement_level=EnforcementLevel.MANDATORY,
        description="MLOps orchestrator guardrails (components/guardrails.py)",
    )
