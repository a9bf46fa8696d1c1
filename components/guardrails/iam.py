"""IAM rules: no administrator grants, no whole services, role writes bounded, PassRole conditioned; roles trust
the orchestrator account only. Changes when an IAM rule does."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any

from components.guardrails.core import Finding, NeedsAccount, Resource, guardrail, of_type
from components.guardrails.values import as_list, statements

ROLE_TYPE = "aws:iam/role:Role"
# Identity policies (what a principal may do). Key, bucket and repository policies are resource
# policies: there "Resource": "*" means "this resource", so they are not judged by the wildcard rule.
IDENTITY_POLICY_TYPES = (
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/policy:Policy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)
POLICY_ATTACHMENT_TYPES = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
)

ADMIN_ACTIONS = ("*", "*:*", "iam:*")
ADMIN_MANAGED_POLICY = re.compile(r"arn:aws[\w-]*:iam::aws:policy/AdministratorAccess")
_ACCOUNT_IN_PRINCIPAL = re.compile(r"(?:arn:aws[\w-]*:(?:iam|sts)::)?(\d{12})(?::.*)?")


# -- administrator access ---------------------------------------------------------------------
def _identity_policies(resource: Resource) -> Iterator[tuple[str, Any]]:
    """(label, policy document) of each identity policy a resource carries."""
    if resource.type in IDENTITY_POLICY_TYPES:
        yield "policy", resource.inputs.get("policy")
    elif resource.type == ROLE_TYPE:
        for inline in as_list(resource.inputs.get("inlinePolicies")):
            if isinstance(inline, Mapping):
                yield f"inline policy {inline.get('name', '')}".strip(), inline.get("policy")


def _admin_grant(statement: Mapping[str, Any]) -> str | None:
    """Why an Allow statement amounts to administrator access, or None."""
    if statement.get("Effect") != "Allow" or "*" not in as_list(statement.get("Resource")):
        return None
    actions = {str(a).lower() for a in as_list(statement.get("Action"))}
    broad = sorted(actions.intersection(ADMIN_ACTIONS))
    if broad:
        return f'allows {", ".join(broad)} on Resource "*"'
    if "NotAction" in statement:
        return 'allows everything but NotAction on Resource "*"'
    return None


def _admin_grants(resource: Resource) -> Iterator[str]:
    for label, policy in _identity_policies(resource):
        for statement in statements(policy):
            reason = _admin_grant(statement)
            if reason:
                yield f"{label}: statement {statement.get('Sid', 'without Sid')} {reason}"


def _admin_attachments(resource: Resource) -> Iterator[str]:
    arns = []
    if resource.type in POLICY_ATTACHMENT_TYPES:
        arns.append(resource.inputs.get("policyArn"))
    elif resource.type == ROLE_TYPE:
        arns.extend(as_list(resource.inputs.get("managedPolicyArns")))
    for arn in arns:
        if isinstance(arn, str) and ADMIN_MANAGED_POLICY.fullmatch(arn):
            yield "attaches AdministratorAccess"


@guardrail(
    "iam-no-admin-wildcards",
    'No IAM policy allows "*", "*:*" or "iam:*" on Resource "*"; no AdministratorAccess.',
    scope="resource",
)
def iam_no_admin_wildcards(resources: Sequence[Resource]) -> Iterator[Finding]:
    """No identity policy allows "*", "*:*" or "iam:*" (or NotAction) on Resource "*"; no AdministratorAccess."""
    for resource in resources:
        yield from ((resource, reason) for reason in _admin_grants(resource))
        yield from ((resource, reason) for reason in _admin_attachments(resource))


# -- cross-account trust ----------------------------------------------------------------------
def _trust_problems(statement: Mapping[str, Any], orchestrator_account: str) -> Iterator[str]:
    if statement.get("Effect") != "Allow":
        return
    if "NotPrincipal" in statement:
        yield "trusts every principal but those in NotPrincipal"
    principal = statement.get("Principal")
    principals = as_list(principal.get("AWS")) if isinstance(principal, Mapping) else []
    if principal == "*" or "*" in principals:
        yield 'trusts Principal "*" (any AWS account)'
    for name in principals:
        match = _ACCOUNT_IN_PRINCIPAL.fullmatch(name) if isinstance(name, str) else None
        if match and match.group(1) != orchestrator_account:
            yield f"trusts account {match.group(1)}; only the orchestrator account ({orchestrator_account}) may"


@guardrail(
    "iam-cross-account-trust",
    'Roles trust AWS principals of the orchestrator account only, never "*".',
    scope="resource",
    needs_account=NeedsAccount(types=(ROLE_TYPE,), what="this role's trust"),
)
def iam_cross_account_trust(resources: Sequence[Resource], orchestrator_account: str) -> Iterator[Finding]:
    """A role trusted by AWS principals trusts the orchestrator account only, and never "*"."""
    for role in of_type(resources, (ROLE_TYPE,)):
        for statement in statements(role.inputs.get("assumeRolePolicy")):
            yield from ((role, problem) for problem in _trust_problems(statement, orchestrator_account))


# -- least privilege: what identity policies may grant -----------------------------------------
# Role-writing actions that must name the permissions boundary the new or changed role carries.
ROLE_WRITES = ("iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary")
# Removing a boundary undoes it: never allowed.
BOUNDARY_REMOVAL = "iam:DeleteRolePermissionsBoundary"
PASS_ROLE = "iam:PassRole"
_WILDCARD_CHARACTERS = frozenset("*?[")
_SERVICE_WILDCARD = re.compile(r"\*|[a-z0-9-]+:\*", re.IGNORECASE)


def _allow_statements(resource: Resource) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(label, statement) of each Allow statement of each identity policy a resource carries."""
    for label, policy in _identity_policies(resource):
        for statement in statements(policy):
            if statement.get("Effect") == "Allow":
                yield label, statement


def grants(statement: Mapping[str, Any], action: str) -> bool:
    """Whether the statement's Action (wildcards included, case-insensitive) covers `action`."""
    wanted = action.lower()
    return any(_action_matches(wanted, str(pattern).lower()) for pattern in as_list(statement.get("Action")))


def _action_matches(action: str, pattern: str) -> bool:
    """fnmatch's answer; a pattern without wildcards (most are) is compared as text, since fnmatch compiles
    a regex for each distinct pattern, a noticeable part of checking a whole plan."""
    if not _WILDCARD_CHARACTERS.intersection(pattern):
        return action == pattern
    return fnmatchcase(action, pattern)


def required_condition_values(statement: Mapping[str, Any], key: str) -> list[Any]:
    """Values `key` must match for the statement to apply, under operators that require the key (not
    negated, not ...IfExists, not Null); empty when the statement does not require it."""
    condition = statement.get("Condition")
    values: list[Any] = []
    for operator, keys in condition.items() if isinstance(condition, Mapping) else []:
        name = str(operator)
        if "Not" in name or name.endswith("IfExists") or name == "Null" or not isinstance(keys, Mapping):
            continue
        values += [v for k, value in keys.items() if str(k).lower() == key.lower() for v in as_list(value)]
    return values


def _names(statement: Mapping[str, Any]) -> str:
    return f"statement {statement.get('Sid', 'without Sid')}"


@guardrail(
    "iam-no-service-wildcards",
    'No identity policy allows a whole service ("service:*" or "*") on any resource.',
    scope="resource",
)
def iam_no_service_wildcards(resources: Sequence[Resource]) -> Iterator[Finding]:
    """Each allowed action is named: `s3:*` on one bucket still grants deleting it and rewriting its policy."""
    for resource in resources:
        for label, statement in _allow_statements(resource):
            wildcards = sorted(
                {str(a) for a in as_list(statement.get("Action")) if _SERVICE_WILDCARD.fullmatch(str(a))}
            )
            if wildcards:
                yield resource, f"{label}: {_names(statement)} allows {', '.join(wildcards)}"


@guardrail(
    "iam-role-writes-need-boundary",
    "Creating a role or writing its policies requires an iam:PermissionsBoundary condition; nothing may "
    "remove a role's permissions boundary.",
    scope="resource",
)
def iam_role_writes_need_boundary(resources: Sequence[Resource]) -> Iterator[Finding]:
    """A principal that may create roles or write their policies without a boundary can give itself (or
    a role it can pass or assume) any right."""
    for resource in resources:
        for label, statement in _allow_statements(resource):
            writes = [action for action in ROLE_WRITES if grants(statement, action)]
            boundaries = required_condition_values(statement, "iam:PermissionsBoundary")
            if writes and (not boundaries or any("*" in str(value) for value in boundaries)):
                yield resource, f"{label}: {_names(statement)} allows {', '.join(writes)} without naming a boundary"
            if grants(statement, BOUNDARY_REMOVAL):
                yield resource, f"{label}: {_names(statement)} allows {BOUNDARY_REMOVAL}"


@guardrail(
    "iam-pass-role-conditioned",
    "iam:PassRole is allowed only with an iam:PassedToService condition.",
    scope="resource",
)
def iam_pass_role_conditioned(resources: Sequence[Resource]) -> Iterator[Finding]:
    """A role passable to any service can be handed to one that runs code of the caller's choosing."""
    for resource in resources:
        for label, statement in _allow_statements(resource):
            if grants(statement, PASS_ROLE) and not required_condition_values(statement, "iam:PassedToService"):
                yield resource, f"{label}: {_names(statement)} allows {PASS_ROLE} to any service"
