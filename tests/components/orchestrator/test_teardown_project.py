"""The teardown project (issue 11, case 6): deletions run as the provisioner, in its image, with its
settings, where no Lambda time limit applies; only the provisioner starts one, and only with a request."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.orchestrator.teardown import deny_bent_teardowns, provisioner_trust, teardown_project_arn
from mlops_cli.planner import StackPlan, plan_stack
from tests.components.orchestrator.test_orchestrator_decisions import args
from tests.components.orchestrator.test_orchestrator_plan import FIRST_INSTALL, WITH_PROVISIONER

INSTALLED = {**WITH_PROVISIONER, "mlops:notificationEmail": "ml-platform@example.com"}

PROJECT = "aws:codebuild/project:Project"
TEARDOWN_ARN = "arn:aws:codebuild:us-east-1:111111111111:project/mlops-orch-teardown"


@pytest.fixture(scope="module")
def installed() -> StackPlan:
    return plan_stack("dev", config_values=INSTALLED)


def policy_of(plan: StackPlan, role: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = json.loads(
        plan.recorder.named("aws:iam/rolePolicy:RolePolicy", f"mlops-orchestrator-{role}-policy").inputs["policy"]
    )["Statement"]
    return statements


def by_sid(statements: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in statements if "Sid" in s}


def test_the_teardown_project_runs_the_provisioners_image_role_and_settings(installed: StackPlan) -> None:
    [project] = [p for p in installed.recorder.of_type(PROJECT) if p.inputs["name"] == "mlops-orch-teardown"]
    provisioner = installed.recorder.named("aws:lambda/function:Function", "mlops-orchestrator-provisioner").inputs
    inputs = project.inputs

    assert inputs["serviceRole"] == "arn:aws:iam::111111111111:role/mlops-orch-provisioner"
    assert inputs["buildTimeout"] == 120
    assert inputs["source"]["type"] == "NO_SOURCE"
    assert inputs["source"]["buildspec"].splitlines()[-1].strip() == "- mlops teardown"
    assert inputs["environment"]["image"] == provisioner["imageUri"]
    assert inputs["environment"]["imagePullCredentialsType"] == "SERVICE_ROLE"
    variables = {v["name"]: v["value"] for v in inputs["environment"]["environmentVariables"]}
    assert variables == provisioner["environment"]["variables"]
    assert all(v["type"] == "PLAINTEXT" for v in inputs["environment"]["environmentVariables"])
    assert inputs["logsConfig"]["cloudwatchLogs"]["groupName"] == "/aws/codebuild/mlops-orch-teardown"


def test_a_first_install_without_a_provisioner_has_no_teardown_project() -> None:
    plan = plan_stack("dev", config_values=FIRST_INSTALL)
    assert [p.inputs["name"] for p in plan.recorder.of_type(PROJECT)] == []


def test_codebuild_may_assume_the_provisioner_role_for_the_teardown_project_only(installed: StackPlan) -> None:
    role = installed.recorder.named("aws:iam/role:Role", "mlops-orchestrator-provisioner-role")
    statements = json.loads(role.inputs["assumeRolePolicy"])["Statement"]

    assert [s["Principal"]["Service"] for s in statements] == ["lambda.amazonaws.com", "codebuild.amazonaws.com"]
    assert statements[1]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "111111111111"},
        "ArnEquals": {"aws:SourceArn": TEARDOWN_ARN},
    }
    assert statements[0]["Condition"] == {"StringEquals": {"aws:SourceAccount": "111111111111"}}


def test_the_provisioner_starts_teardowns_with_a_request_only_and_the_sweep_reads_them(installed: StackPlan) -> None:
    provisioner = by_sid(policy_of(installed, "provisioner"))
    status = by_sid(policy_of(installed, "status"))

    assert (provisioner["StartTeardowns"]["Action"], provisioner["StartTeardowns"]["Resource"]) == (
        ["codebuild:StartBuild"],
        [TEARDOWN_ARN],
    )
    assert provisioner["DenyTeardownVariableOverride"]["Condition"] == {
        "ForAnyValue:StringNotLike": {"codebuild:environment.environmentVariables.name": ["MLOPS_TEARDOWN_*"]}
    }
    # No source (buildspec), image, privileged mode, role or logs of the caller's own: each its own statement.
    for name, key in {
        "Source": "codebuild:source",
        "Image": "codebuild:environment.image",
        "PrivilegedMode": "codebuild:environment.privilegedMode",
        "ServiceRole": "codebuild:serviceRole",
        "Logs": "codebuild:logsConfig",
    }.items():
        denial = provisioner[f"DenyTeardown{name}Override"]
        assert (denial["Effect"], denial["Condition"]) == ("Deny", {"Null": {key: "false"}})
        assert "codebuild:StartBuild" in denial["Action"]
    assert provisioner["DenyTeardownRetry"]["Effect"] == "Deny"
    assert (status["WatchTeardowns"]["Action"], status["WatchTeardowns"]["Resource"]) == (
        ["codebuild:BatchGetBuilds"],
        [TEARDOWN_ARN],
    )


@pytest.mark.fast
def test_teardown_statements_name_this_accounts_project() -> None:
    orchestrator_args = args()
    assert teardown_project_arn(orchestrator_args).endswith(":project/mlops-orch-teardown")
    denied = [s for s in deny_bent_teardowns(orchestrator_args) if s["Effect"] == "Deny"]
    assert {s["Sid"] for s in denied} == {
        "DenyTeardownSourceOverride",
        "DenyTeardownImageOverride",
        "DenyTeardownPrivilegedModeOverride",
        "DenyTeardownServiceRoleOverride",
        "DenyTeardownLogsOverride",
        "DenyTeardownVariableOverride",
        "DenyTeardownRetry",
    }
    assert json.loads(provisioner_trust(orchestrator_args))["Statement"][1]["Condition"]["ArnEquals"] == {
        "aws:SourceArn": teardown_project_arn(orchestrator_args)
    }
