"""The plans the IAM tests judge, each planned once per process: the shipped stacks and every example
folder as declared pipelines (as tests/support/urn_snapshot.py plans them), plus the multi-account
examples landing in a target account (staging), where the deploy role is not the orchestrator's."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any

from mlops_cli.mocks import PlannedResource, policy_of
from mlops_cli.planner import StackPlan, plan_stack
from mlops_cli.project import find_project
from tests.support.urn_snapshot import CONFIG_BY_FOLDER, MULTI, STACKS_PROJECT, example_requests, shipped_plan

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
MANAGED_POLICY = "aws:iam/policy:Policy"
# Plan name -> (stack, config, example folder or None).
PLANS: dict[str, tuple[str, dict[str, Any] | None, str | None]] = {
    **{f"stack:{stack}": (stack, None, None) for stack in ("dev", "staging", "prod")},
    **{f"examples:{folder}": ("dev", config, folder) for folder, config in CONFIG_BY_FOLDER.items()},
    "examples:multi@staging": ("staging", {**MULTI, "mlops:environment": "staging"}, "multi"),
}
EXAMPLE_PLANS = [name for name in PLANS if name.startswith("examples:")]


@functools.cache
def plan(name: str) -> StackPlan:
    kind, _, what = name.partition(":")
    if kind in ("stack", "examples") and "@" not in what:
        return shipped_plan(kind, what)  # the URN snapshot's own plan of it, planned once per process
    stack, config, folder = PLANS[name]
    requests = list(example_requests(folder).values()) if folder else None
    # The shipped multi-account stacks (examples/stacks/multi-account/), as the URN snapshot plans them.
    project = find_project(STACKS_PROJECT) if name.startswith("stack:") else None
    return plan_stack(stack, project, config_values=config, extra_pipelines=requests)


def ancestors(stack_plan: StackPlan, resource: PlannedResource) -> list[PlannedResource]:
    """The components a resource sits under, nearest first."""
    by_urn = {r.urn: r for r in stack_plan.recorder.resources}
    found, parent = [], by_urn.get(resource.parent_urn)
    while parent is not None:
        found.append(parent)
        parent = by_urn.get(parent.parent_urn)
    return found


def under(stack_plan: StackPlan, resource: PlannedResource, type_prefix: str) -> bool:
    return any(parent.type.startswith(type_prefix) for parent in ancestors(stack_plan, resource))


def pipeline_roles(stack_plan: StackPlan) -> list[PlannedResource]:
    return [r for r in stack_plan.recorder.of_type(ROLE) if under(stack_plan, r, "mlops:pipelines:")]


def role_of(stack_plan: StackPlan, role_policy: PlannedResource) -> PlannedResource:
    """The role an inline policy belongs to (the mock engine's role id is `<role name>-id`)."""
    [role] = [r for r in stack_plan.recorder.of_type(ROLE) if f"{r.name}-id" == role_policy.inputs["role"]]
    return role


def identity_policies(stack_plan: StackPlan) -> Iterator[tuple[PlannedResource, dict[str, Any]]]:
    """(resource, document) of every identity policy of the plan: roles' inline policies and managed policies."""
    for resource in stack_plan.recorder.resources:
        if resource.type in (ROLE_POLICY, MANAGED_POLICY):
            yield resource, policy_of(resource)
        elif resource.type == ROLE:
            for inline in resource.inputs.get("inlinePolicies") or []:
                yield resource, json.loads(inline["policy"])


def statements_of(stack_plan: StackPlan, typ: str, name: str) -> list[dict[str, Any]]:
    return list(policy_of(stack_plan.recorder.named(typ, name))["Statement"])
