"""An independent IAM analyser (parliament, with its community auditors) over every identity policy of
every plan: the shipped stacks, every example folder as declared pipelines, and the multi-account
examples in a target account.

Every policy must show no privilege-escalation, credentials-exposure, unknown-action or service-wildcard
finding but those allowed below, each with the reason it is safe: the environment baseline's (deploy
role, SageMaker role, pipeline boundary) and the pipelines' roles by kind (ALLOWED), the orchestrator's
and its delivery roles by policy name (ORCHESTRATOR_ALLOWED). Any other finding fails.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from typing import Any

import parliament
import pytest

from mlops_cli.mocks import PlannedResource
from mlops_cli.planner import StackPlan
from tests.components.iam_plans import MANAGED_POLICY, PLANS, ancestors, identity_policies, plan

FAILING = {"PRIVILEGE_ESCALATION", "CREDENTIALS_EXPOSURE", "UNKNOWN_ACTION", "UNKNOWN_PREFIX", "SERVICE_WILDCARD"}
GET_TOKEN = ("CREDENTIALS_EXPOSURE", "ecr:getauthorizationtoken")
# (kind of policy, issue, what) -> why it is safe. Parliament judges actions only, never conditions or
# resources; each reason says which condition or resource closes the path it reports.
ALLOWED: dict[tuple[str, str, str], str] = {
    ("deploy role", "PRIVILEGE_ESCALATION", "EditExistingLambdaFunctionWithRole"): (
        "UpdateFunctionCode reaches only functions named <pipeline>-<env>-* that carry a mlops:pipeline-id tag "
        "(the run-on-deploy starters); their roles are pipeline roles under the pipeline boundary, which the "
        "deploy role may give any role it creates anyway: nothing beyond the boundary is gained"
    ),
    ("deploy role", "PRIVILEGE_ESCALATION", "PassExistingRoleToNewLambdaThenInvoke"): (
        "the only passable roles are pipeline roles (path /mlops/, named <pipeline>-<env>-*), each capped by the "
        "pipeline boundary (no IAM, no STS); new functions must carry a pipeline id: the reach is the boundary's"
    ),
    ("deploy role", "PRIVILEGE_ESCALATION", "PassExistingRoleToCloudFormation"): (
        "iam:PassedToService never names CloudFormation, and NoStackServiceRole denies every stack operation "
        "that passes a role: stacks run with the deploy role's own rights"
    ),
    ("pipeline role", *GET_TOKEN): (
        "SageMaker and CodeBuild pull (and image builds push) through the registry login; AWS requires '*' for "
        "it and the token allows only what the role's repository statements allow (named repositories)"
    ),
    ("baseline SageMaker role", *GET_TOKEN): "as for pipeline roles: pulls of the orchestrator's mlops-* images",
    ("pipeline boundary", *GET_TOKEN): "the boundary must allow what pipeline roles need (see pipeline role)",
}
# The orchestrator's and its delivery roles' policies, which this module does not classify by kind:
# (policy, issue, what) -> why it is safe. Parliament flags sts:AssumeRole and ecr:GetAuthorizationToken
# as credentials exposure whatever their resources and conditions; each reason says what bounds them.
_BUILD_ROLE_REASON = (
    "the {env} deploy builds' role may assume exactly one role, the {env} deploy role, named by its ARN "
    "(whose trust admits this build role by ARN, with the external id when one is set), and that role holds "
    "only the bounded deploy policy; GetAuthorizationToken has no resource (AWS requires '*') and the token "
    "pulls only the provisioner image repository this policy names"
)
ORCHESTRATOR_ALLOWED: dict[tuple[str, str, str], str] = {
    **{
        (
            f"mlops-orchestrator-build-{env}-policy",
            "CREDENTIALS_EXPOSURE",
            "ecr:getauthorizationtoken,sts:assumerole",
        ): (_BUILD_ROLE_REASON.format(env=env))
        for env in ("dev", "staging", "prod")
    },
    ("mlops-orchestrator-provisioner-policy", "CREDENTIALS_EXPOSURE", "ecr:getauthorizationtoken,sts:assumerole"): (
        "the provisioner assumes only the deploy roles of this install, each named by its ARN (its own account's "
        "and, in multi-account mode, the target accounts'), whose trust admits the provisioner role by ARN "
        "(with the external id when one is set); GetAuthorizationToken (AWS requires '*') is for its teardown "
        "builds, which run as this role and pull only the provisioner image repository the policy names"
    ),
}
_SERVICE_WILDCARD = re.compile(r"\*|[a-z0-9-]+:\*", re.IGNORECASE)


def kind_of(stack_plan: StackPlan, resource: PlannedResource) -> str | None:
    """Which of this module's kinds a policy is; None for the orchestrator's and delivery policies."""
    types = [a.type for a in ancestors(stack_plan, resource)]
    if any(t.startswith("mlops:pipelines:") for t in types):
        return "pipeline role"
    if not any(t.startswith("mlops:environment:") for t in types):
        return None
    if resource.type == MANAGED_POLICY:
        return "pipeline boundary"
    return "deploy role" if resource.name.endswith("-deploy-policy") else "baseline SageMaker role"


def findings(document: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(issue, what) of each finding: parliament's, and service wildcards in Allow statements."""
    analysed = parliament.analyze_policy_string(json.dumps(document), include_community_auditors=True)
    for finding in analysed.findings:
        location = finding.location if isinstance(finding.location, dict) else {}
        # Actions sorted: the same statements in another order are the same finding.
        what = location.get("type") or ",".join(sorted(location.get("actions") or [])) or str(finding.detail)
        yield finding.issue, what
    for statement in document["Statement"]:
        actions = statement.get("Action", [])
        for action in actions if isinstance(actions, list) else [actions]:
            if statement["Effect"] == "Allow" and _SERVICE_WILDCARD.fullmatch(action):
                yield "SERVICE_WILDCARD", action


Finding = tuple[str | None, str, str, str]
"""(kind of policy or None, policy name, issue, what)."""


@functools.cache
def _findings_of(text: str) -> list[tuple[str, str]]:
    return list(findings(json.loads(text)))


@functools.cache
def plan_findings(name: str) -> list[Finding]:
    """Every finding of one plan (each distinct policy analysed once per process)."""
    stack_plan, found = plan(name), []
    for resource, document in identity_policies(stack_plan):
        kind = kind_of(stack_plan, resource)
        found += [(kind, resource.name, issue, what) for issue, what in _findings_of(json.dumps(document))]
    return found


@pytest.mark.parametrize("name", list(PLANS))
def test_no_unexplained_escalation_exposure_or_wildcard_in_baseline_and_pipeline_policies(name: str) -> None:
    unexplained = [
        f"{policy} ({kind}): {issue} {what}"
        for kind, policy, issue, what in plan_findings(name)
        if kind is not None and issue in FAILING and (kind, issue, what) not in ALLOWED
    ]
    assert unexplained == []


@pytest.mark.parametrize("name", list(PLANS))
def test_no_unexplained_escalation_exposure_or_wildcard_in_orchestrator_and_delivery_policies(name: str) -> None:
    unexplained = [
        f"{policy}: {issue} {what}"
        for kind, policy, issue, what in plan_findings(name)
        if kind is None and issue in FAILING and (policy, issue, what) not in ORCHESTRATOR_ALLOWED
    ]
    assert unexplained == []


def test_every_allowance_is_still_needed() -> None:
    """An allowance whose finding is gone is removed, so the lists say what remains and no more."""
    found = [finding for name in PLANS for finding in plan_findings(name)]
    used = {(kind, issue, what) for kind, _, issue, what in found}
    assert sorted(set(ALLOWED) - used) == []
    used_by_policy = {(policy, issue, what) for kind, policy, issue, what in found if kind is None}
    assert sorted(set(ORCHESTRATOR_ALLOWED) - used_by_policy) == []
