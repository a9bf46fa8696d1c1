"""The roles delivery pipelines run as, the provisioner's hold on them, and the denials that keep every
role of the project from bending a deploy build: statements and conditions, single and multi mode."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from typing import Any

import pytest

from components.orchestrator import (
    OrchestratorArgs,
    build_role_statements,
    build_role_trust,
    codepipeline_role_statements,
    codepipeline_role_trust,
    deny_bent_deploy_builds,
    provisioner_statements,
)
from components.orchestrator.delivery_access import LEGACY_ROLE_CLEANUP, ROLE_GRANTS, orchestrator_role_arns
from mlops_cli.mocks import policy_of
from mlops_cli.planner import StackPlan, plan_stack

ORCH = "111111111111"
MULTI_ACCOUNTS = {"dev": ORCH, "staging": "222222222222", "prod": "333333333333"}
DATA_KEY = f"arn:aws:kms:us-east-1:{ORCH}:key/data"
SECRETS_KEY = f"arn:aws:kms:us-east-1:{ORCH}:key/secrets"
TOPIC = f"arn:aws:sns:us-east-1:{ORCH}:mlops-notifications"
DEPLOY_PROJECTS = f"arn:aws:codebuild:us-east-1:{ORCH}:project/mlops-deploy-*"
PIPELINES = f"arn:aws:codepipeline:us-east-1:{ORCH}:mlops-*"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def args_for(mode: str, external_id: str | None = None) -> OrchestratorArgs:
    accounts = MULTI_ACCOUNTS if mode == "multi" else {"dev": ORCH}
    return OrchestratorArgs(ORCH, "us-east-1", mode, "dev", accounts, deploy_role_external_id=external_id)


def by_sid(statements: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in statements if "Sid" in s}


def allowed(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in statements if s["Effect"] == "Allow"]


def actions_of(statements: list[dict[str, Any]]) -> set[str]:
    return {action for s in statements for action in s["Action"]}


ENVIRONMENTS = [("single", "dev"), ("multi", "dev"), ("multi", "staging"), ("multi", "prod")]


# -- the denials ---------------------------------------------------------------------------------------------
def test_deploy_builds_take_no_buildspec_variables_or_retry_of_the_callers() -> None:
    statements = by_sid(deny_bent_deploy_builds(args_for("multi")))

    assert all(s["Effect"] == "Deny" and s["Resource"] == [DEPLOY_PROJECTS] for s in statements.values())
    buildspec = statements["DenyDeployBuildspecOverride"]
    assert buildspec["Action"] == sorted(
        ["codebuild:StartBuild", "codebuild:StartBuildBatch", "codebuild:RetryBuild", "codebuild:RetryBuildBatch"]
    )
    assert buildspec["Condition"] == {"Null": {"codebuild:source.buildspec": "false"}}
    variables = statements["DenyDeployVariableOverride"]
    assert variables["Action"] == ["codebuild:StartBuild", "codebuild:StartBuildBatch"]
    names = variables["Condition"]["ForAnyValue:StringLike"]["codebuild:environment.environmentVariables.name"]
    assert {"PIPELINE_ID", "TARGET_ENV", "MLOPS_*", "CODEBUILD_*"} <= set(names)
    for overridden in ("PIPELINE_ID", "TARGET_ENV", "MLOPS_MODE", "MLOPS_ACCOUNTS", "PULUMI_BACKEND_URL"):
        assert any(fnmatchcase(overridden, name) for name in names), overridden
    assert "Condition" not in statements["DenyDeployBuildRetry"]


# -- the build roles ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("mode", "env"), ENVIRONMENTS)
def test_a_build_role_is_assumed_by_codebuild_for_its_environments_deploy_projects_only(mode: str, env: str) -> None:
    [trust] = json.loads(build_role_trust(args_for(mode), env))["Statement"]

    assert trust["Principal"] == {"Service": "codebuild.amazonaws.com"} and trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ORCH},
        "ArnLike": {"aws:SourceArn": f"arn:aws:codebuild:us-east-1:{ORCH}:project/mlops-deploy-*-{env}"},
    }


@pytest.mark.parametrize(("mode", "env"), ENVIRONMENTS)
def test_a_build_role_may_assume_its_environments_deploy_role_and_nothing_else(mode: str, env: str) -> None:
    args = args_for(mode)
    statements = build_role_statements(args, env, DATA_KEY, SECRETS_KEY)
    sids = by_sid(statements)

    assumes = [s for s in allowed(statements) if any(a.startswith("sts:") for a in s["Action"])]
    account = MULTI_ACCOUNTS[env] if mode == "multi" else ORCH
    assert assumes == [sids["AssumeThisEnvironmentsDeployRole"]]
    assert assumes[0]["Action"] == ["sts:AssumeRole"]
    assert assumes[0]["Resource"] == [f"arn:aws:iam::{account}:role/mlops-{env}-deploy"]
    # The promotion check reads its own build and the run that started it, nothing more.
    assert sids["ReadOwnBuild"]["Action"] == ["codebuild:BatchGetBuilds"]
    assert sids["ReadOwnBuild"]["Resource"] == [f"arn:aws:codebuild:us-east-1:{ORCH}:project/mlops-deploy-*-{env}"]
    assert sids["ReadDeliveryRun"]["Action"] == ["codepipeline:GetPipelineState", "codepipeline:ListActionExecutions"]
    assert sids["ReadDeliveryRun"]["Resource"] == [PIPELINES]
    # No write to CodeBuild, CodePipeline or IAM; "*" only where AWS requires it.
    assert not {
        a for a in actions_of(allowed(statements)) if a.split(":")[0] in ("iam", "codepipeline", "codebuild")
    } - {
        "codebuild:BatchGetBuilds",
        "codepipeline:GetPipelineState",
        "codepipeline:ListActionExecutions",
    }
    assert [s["Sid"] for s in allowed(statements) if s["Resource"] == "*"] == ["EcrLogin"]
    assert not any(a.endswith(":*") for a in actions_of(statements))
    assert {s["Sid"] for s in statements if s["Effect"] == "Deny"} == set(by_sid(deny_bent_deploy_builds(args)))


def test_builds_read_their_source_artifacts_state_logs_and_image_where_they_are() -> None:
    sids = by_sid(build_role_statements(args_for("multi"), "staging", DATA_KEY, SECRETS_KEY))

    assert sids["SourceArtifact"]["Resource"] == [f"arn:aws:s3:::mlops-assets-{ORCH}-us-east-1/mlops-????????-*/*"]
    # The state statements, scoped to the build's own stack: tests/components/orchestrator/test_state_isolation.py
    assert sids["ArtifactKey"]["Resource"] == [DATA_KEY]
    logs = f"arn:aws:logs:us-east-1:{ORCH}:log-group:/aws/codebuild/mlops-deploy-*-staging"
    assert sids["BuildLogs"]["Resource"] == [logs, f"{logs}:*"]
    assert sids["ProvisionerImage"]["Resource"] == [f"arn:aws:ecr:us-east-1:{ORCH}:repository/mlops-provisioner"]
    assert sids["RecordOutputs"]["Action"] == ["dynamodb:GetItem", "dynamodb:PutItem"]
    assert "DeployRoleExternalId" not in sids


def test_builds_read_the_external_id_parameter_only_when_one_is_configured() -> None:
    sids = by_sid(build_role_statements(args_for("multi", external_id="x"), "prod", DATA_KEY, SECRETS_KEY))

    assert sids["DeployRoleExternalId"]["Action"] == ["ssm:GetParameter"]
    assert sids["DeployRoleExternalId"]["Resource"] == [
        f"arn:aws:ssm:us-east-1:{ORCH}:parameter/mlops/deploy-role-external-id"
    ]


# -- the CodePipeline role ------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["single", "multi"])
def test_the_codepipeline_role_runs_deploy_builds_unbent_and_can_never_deploy_itself(mode: str) -> None:
    args = args_for(mode)
    [trust] = json.loads(codepipeline_role_trust(args))["Statement"]
    statements = codepipeline_role_statements(args, DATA_KEY)
    sids = by_sid(statements)

    assert trust["Principal"] == {"Service": "codepipeline.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ORCH}}
    assert not any(a.startswith(("sts:", "iam:")) for a in actions_of(statements))
    assert sids["DeployBuilds"]["Action"] == ["codebuild:BatchGetBuilds", "codebuild:StartBuild", "codebuild:StopBuild"]
    assert sids["DeployBuilds"]["Resource"] == [DEPLOY_PROJECTS]
    assert sids["SourceObject"]["Resource"] == [f"arn:aws:s3:::mlops-assets-{ORCH}-us-east-1/pipelines/*/source.zip"]
    assert sids["ApprovalNotifications"]["Resource"] == [TOPIC]
    assert {s["Sid"] for s in statements if s["Effect"] == "Deny"} == set(by_sid(deny_bent_deploy_builds(args)))
    assert not any(s["Resource"] == "*" for s in statements)


# -- the provisioner ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["single", "multi"])
def test_the_provisioner_creates_no_role_and_passes_only_the_shared_roles_to_their_service(mode: str) -> None:
    args = args_for(mode)
    statements = provisioner_statements(args, DATA_KEY, SECRETS_KEY, TOPIC)
    sids = by_sid(statements)
    environments = ["dev", "prod", "staging"] if mode == "multi" else ["dev"]

    granted = actions_of(allowed(statements))
    assert not granted & set(ROLE_GRANTS)
    assert {a for a in granted if a.startswith("iam:")} == {"iam:PassRole", *LEGACY_ROLE_CLEANUP}
    passes = [s for s in allowed(statements) if "iam:PassRole" in s["Action"]]
    assert [(s["Action"], s["Resource"], s["Condition"]) for s in passes] == [
        (
            ["iam:PassRole"],
            [f"arn:aws:iam::{ORCH}:role/mlops-orch-build-{env}" for env in environments],
            {"StringEquals": {"iam:PassedToService": "codebuild.amazonaws.com"}},
        ),
        (
            ["iam:PassRole"],
            [f"arn:aws:iam::{ORCH}:role/mlops-orch-codepipeline"],
            {"StringEquals": {"iam:PassedToService": "codepipeline.amazonaws.com"}},
        ),
    ]
    # The only roles it may delete are the per-pipeline roles older delivery stacks created.
    cleanup = sids["DeleteLegacyDeliveryRoles"]
    assert cleanup["Resource"] == [
        f"arn:aws:iam::{ORCH}:role/mlops-orch-cb-*",
        f"arn:aws:iam::{ORCH}:role/mlops-orch-cp-*",
    ]
    assert not any(
        fnmatchcase(role, pattern) for role in orchestrator_role_arns(args) for pattern in cleanup["Resource"]
    )


@pytest.mark.parametrize("mode", ["single", "multi"])
def test_the_provisioner_is_denied_raising_rights_deleting_roles_approving_and_bending_builds(mode: str) -> None:
    args = args_for(mode)
    statements = provisioner_statements(args, DATA_KEY, SECRETS_KEY, TOPIC)
    sids = by_sid(statements)

    grants = sids["DenyGrantingRights"]
    assert (grants["Effect"], grants["Resource"]) == ("Deny", "*")
    assert {"iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy"} <= set(
        grants["Action"]
    )
    deletes = sids["DenyDeletingOrchestratorRoles"]
    assert deletes["Effect"] == "Deny"
    assert f"arn:aws:iam::{ORCH}:role/mlops-orch-provisioner" in deletes["Resource"]
    assert f"arn:aws:iam::{ORCH}:role/mlops-orch-build-dev" in deletes["Resource"]
    assert sids["DenyApproving"]["Action"] == ["codepipeline:PutApprovalResult"]
    assert sids["DenyApproving"]["Effect"] == "Deny"
    for sid in by_sid(deny_bent_deploy_builds(args)):
        assert sids[sid]["Effect"] == "Deny"
    # StartBuild of the teardown project only (its own work, as its own role); no approvals, no retried
    # builds, and no service wildcard at all.
    granted = actions_of(allowed(statements))
    assert not {"codebuild:RetryBuild", "codepipeline:PutApprovalResult"} & granted
    starts = [s for s in allowed(statements) if "codebuild:StartBuild" in s["Action"]]
    assert [s["Resource"] for s in starts] == [[f"arn:aws:codebuild:us-east-1:{ORCH}:project/mlops-orch-teardown"]]
    assert not [a for a in granted if a.endswith(":*")]


# -- as planned ---------------------------------------------------------------------------------------------
def planned(mode: str) -> StackPlan:
    accounts = MULTI_ACCOUNTS if mode == "multi" else {"dev": ORCH}
    values = {"aws:region": "us-east-1", "mlops:mode": mode, "mlops:accounts": accounts}
    if mode == "multi":
        values["mlops:notificationEmail"] = "team@example.com"  # required in multi-account mode
    return plan_stack("dev", config_values={**values, "mlops:provisionerImageTag": "0.1.0"})


@pytest.fixture(scope="module", params=["single", "multi"])
def stack(request: pytest.FixtureRequest) -> tuple[str, StackPlan]:
    return request.param, planned(request.param)


def test_the_orchestrator_stack_creates_one_build_role_per_environment_and_one_pipeline_role(
    stack: tuple[str, StackPlan],
) -> None:
    mode, plan = stack
    roles = {r.inputs["name"]: r for r in plan.recorder.of_type(ROLE)}
    environments = ["dev", "prod", "staging"] if mode == "multi" else ["dev"]

    assert sorted(n for n in roles if n.startswith("mlops-orch-build-")) == [
        f"mlops-orch-build-{env}" for env in environments
    ]
    for env in environments:
        [trust] = policy_of(roles[f"mlops-orch-build-{env}"], "assumeRolePolicy")["Statement"]
        assert trust["Condition"]["ArnLike"]["aws:SourceArn"].endswith(f":project/mlops-deploy-*-{env}")
        policy = plan.recorder.named(ROLE_POLICY, f"mlops-orchestrator-build-{env}-policy")
        [assume] = [s for s in policy_of(policy)["Statement"] if s.get("Sid") == "AssumeThisEnvironmentsDeployRole"]
        assert assume["Resource"][0].endswith(f":role/mlops-{env}-deploy")
    [trust] = policy_of(roles["mlops-orch-codepipeline"], "assumeRolePolicy")["Statement"]
    assert trust["Principal"] == {"Service": "codepipeline.amazonaws.com"}


def test_image_repositories_of_the_orchestrator_are_tag_immutable(stack: tuple[str, StackPlan]) -> None:
    _, plan = stack
    repositories = {r.inputs["name"]: r.inputs for r in plan.recorder.of_type("aws:ecr/repository:Repository")}

    assert repositories["mlops-provisioner"]["imageTagMutability"] == "IMMUTABLE"
    assert {r["imageTagMutability"] for r in repositories.values()} == {"IMMUTABLE"}


def test_every_orchestrator_function_and_role_carries_the_prefix_deploy_roles_must_leave_alone(
    stack: tuple[str, StackPlan],
) -> None:
    """Deploy roles act in the orchestrator's own account (dev, single mode): the prefixes named in
    docs/security.md keep the orchestrator's functions, roles and repositories outside their reach."""
    _, plan = stack
    functions = [f.inputs["name"] for f in plan.recorder.of_type("aws:lambda/function:Function")]
    roles = [
        r.inputs["name"]
        for r in plan.recorder.of_type(ROLE)
        if r.parent_urn.endswith("Orchestrator::mlops-orchestrator")
    ]

    assert functions and all(name.startswith("mlops-orch-") for name in functions)
    assert roles and all(name.startswith("mlops-orch-") for name in roles)
