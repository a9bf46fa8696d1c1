"""The guardrail rules as pulumi-policy policies; it changes when pulumi-policy's API or the pack's wiring does.

The rules, with their ids, descriptions and scopes, are declared in components/guardrails/, and the
pack serves every declared rule. This module only translates: pulumi-policy's resource arguments
(proxies that raise on values unknown during preview) into plain `GuardedResource`s, and `Violation`s
back into `report_violation` calls.
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
    proxy,
)

from components.guardrails import UNKNOWN, GuardedResource, NeedsAccount, Rule, Violation, rules

PACK_NAME = "mlops-guardrails"
ACCOUNT_KEY = "orchestratorAccount"
ACCOUNT_ENV = "MLOPS_ORCHESTRATOR_ACCOUNT"

# The strings pulumi-policy puts where a value is unknown in a preview: UNKNOWN_BOOLEAN_VALUE,
# UNKNOWN_STRING_VALUE and the rest of its UNKNOWN_*_VALUE constants.
_UNKNOWN_SENTINELS = frozenset(
    value for name, value in vars(proxy).items() if name.startswith("UNKNOWN_") and name.endswith("_VALUE")
)


# -- pulumi-policy values -> plain values -----------------------------------------------------
def _item(container: Any, key: Any) -> Any:
    """One entry of a pulumi-policy proxy; the proxy raises on an unknown entry instead of returning it."""
    try:
        return container[key]
    except proxy.UnknownValueError:
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


def _rule(name: str, account: str | None) -> Rule:
    return next(rule for rule in rules(account or "") if rule.name == name)


def _not_judged(name: str, needs: NeedsAccount, resources: Sequence[GuardedResource]) -> list[Violation]:
    """A rule that needs the orchestrator account, run without one, must not pass silently: each
    resource it judges is reported with how to configure the account."""
    how = f"set {ACCOUNT_KEY} in the {name} policy config or {ACCOUNT_ENV} to judge {needs.what}"
    return [Violation(name, r.type, r.name, how, r.urn) for r in resources if r.type in needs.types]


def run_rule(name: str, config: Mapping[str, Any], resources: Sequence[GuardedResource]) -> list[Violation]:
    """Violations of rule `name`, judged against the configured orchestrator account."""
    account = orchestrator_account(config)
    rule = _rule(name, account)
    if rule.needs_account is not None and account is None:
        return _not_judged(rule.name, rule.needs_account, resources)
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
    if rule.needs_account is None:
        return None
    account = {"type": "string", "pattern": "^[0-9]{12}$", "description": "The orchestrator's AWS account id"}
    return PolicyConfigSchema(properties={ACCOUNT_KEY: account})


def as_policy(rule: Rule) -> Policy:
    """Resource rules run before each resource is created; stack rules (bucket companions) after the
    whole update, so `pulumi preview` is where they prevent anything."""
    level, schema = EnforcementLevel.MANDATORY, _config_schema(rule)
    if rule.scope == "stack":
        return StackValidationPolicy(rule.name, rule.description, validate_stack(rule.name), level, schema)
    return ResourceValidationPolicy(rule.name, rule.description, validate_resource(rule.name), level, schema)


def build_policies() -> list[Policy]:
    # The account only binds the checks of rules that need it; names, descriptions and scopes do not.
    return [as_policy(rule) for rule in rules("")]


def serve() -> None:
    """Start the pack (pulumi-policy's PolicyPack serves the engine until it is stopped)."""
    PolicyPack(
        name=PACK_NAME,
        policies=build_policies(),
        enforcement_level=EnforcementLevel.MANDATORY,
        description="MLOps orchestrator guardrails (components/guardrails/)",
    )
