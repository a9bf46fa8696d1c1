"""Separation of duties on POST /pipelines/{id}/approval (issue 10, point 5): approvers per environment, the
requester kept from approving their own promotion to prod, both principals recorded, and no status answer
that hands out an approval token."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import Stubber

from lambda_src.common import aws
from lambda_src.registry import Registry, Status
from mlops_spec.approvers import ApprovalRules
from tests.lambda_src.api.test_approval import (
    AT_PROD,
    AT_STAGING,
    CALLER,
    CODEPIPELINE,
    PIPELINE,
    REVIEWER,
    TOKEN,
    answered,
    from_item,
    put_params,
)
from tests.support.api_gateway import api_event, call
from tests.support.moto_orchestrator import TABLE
from tests.support.requests import realtime_body

APPROVER_ROLE = "arn:aws:iam::111111111111:role/ops/Reviewer"  # REVIEWER is a session of it
OTHER_ROLE = "arn:aws:iam::111111111111:role/ReleaseManagers"
# Another session of the role the requester used (sessions are named by whoever assumes the role).
REQUESTER_ROLE = {"userArn": "arn:aws:sts::111111111111:assumed-role/Scientist/alice", "caller": "AROASCIENTIST:alice"}
SAME_ROLE_OTHER_SESSION = {
    "userArn": "arn:aws:sts::111111111111:assumed-role/Scientist/carol",
    "caller": "AROASCIENTIST:carol",
}


def rules(monkeypatch: pytest.MonkeyPatch, rules: ApprovalRules) -> None:
    """The approval rules the orchestrator writes into the API function's settings."""
    monkeypatch.setenv("MLOPS_APPROVAL_RULES", rules.to_json())


def provisioned(identity: dict[str, Any] | None = None) -> None:
    """Queue the pipeline as `identity` (default: api_event's user) and bring it to its approvals."""
    event = api_event("POST", "/provisionpipeline", realtime_body())
    event["requestContext"]["identity"].update(identity or {})
    assert call(event).status == 202
    registry = Registry(TABLE)
    registry.transition(PIPELINE, Status.PROVISIONING, codepipeline_name=CODEPIPELINE, execution_id="e1")
    registry.transition(PIPELINE, Status.AWAITING_APPROVAL)


def approve(state: dict[str, Any], expected_put: dict[str, Any] | None, identity: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    return answered({"decision": "approve"}, state, expected_put, identity=identity)


def approved_by(identity: dict[str, Any], stage: str) -> dict[str, Any]:
    return put_params(stage, "Approved", f"approved by {identity['userArn']} via the mlops API; requested by {CALLER}")


def forbidden(response: Any, caller: str, environment: str, *problems: str) -> None:
    assert response.status == 403, response.body
    assert response.body == {
        "message": f"{caller} may not approve the promotion of pipeline {PIPELINE} to {environment}",
        "errors": [{"field": "(caller)", "problem": problem} for problem in problems],
    }


# -- approvers ---------------------------------------------------------------------------------------


def test_a_session_of_an_approver_role_may_approve(orchestrator, monkeypatch):
    rules(monkeypatch, ApprovalRules({"prod": (OTHER_ROLE, APPROVER_ROLE)}))
    provisioned()

    response = approve(AT_PROD, approved_by(REVIEWER, "ApproveProd"), REVIEWER)

    assert response.status == 200, response.body
    assert response.body["approved_by"] == REVIEWER["userArn"]


def test_a_caller_not_in_the_list_is_refused_and_nothing_reaches_codepipeline(orchestrator, monkeypatch):
    rules(monkeypatch, ApprovalRules({"staging": (OTHER_ROLE,)}))
    provisioned()
    before = orchestrator.item(PIPELINE)

    # The stub answers the state read only: a put_approval_result would fail the test.
    response = approve(AT_STAGING, None, REVIEWER)

    forbidden(response, REVIEWER["userArn"], "staging", "is not an approver of staging")
    assert orchestrator.item(PIPELINE) == before


def test_rejecting_is_an_approvers_answer_too(orchestrator, monkeypatch):
    rules(monkeypatch, ApprovalRules({"staging": (OTHER_ROLE,)}))
    provisioned()

    response = answered({"decision": "reject"}, AT_STAGING, None, identity=REVIEWER)

    assert response.status == 403
    assert response.body["message"] == (
        f"{REVIEWER['userArn']} may not reject the promotion of pipeline {PIPELINE} to staging"
    )


def test_an_environment_without_a_list_admits_any_caller(orchestrator, monkeypatch):
    rules(monkeypatch, ApprovalRules({"prod": (OTHER_ROLE,)}))
    provisioned()

    assert approve(AT_STAGING, approved_by(REVIEWER, "ApproveStaging"), REVIEWER).status == 200


# -- the requester -----------------------------------------------------------------------------------


def test_the_requester_may_not_approve_the_promotion_to_prod(orchestrator):
    provisioned()

    response = approve(AT_PROD, None)

    forbidden(
        response,
        CALLER,
        "prod",
        "requested this version: a requester cannot approve their own promotion to prod",
    )
    assert "approvals" not in orchestrator.item(PIPELINE)


def test_the_requester_may_approve_the_promotion_to_staging(orchestrator):
    provisioned()

    response = approve(
        AT_STAGING,
        put_params("ApproveStaging", "Approved", f"approved by {CALLER} via the mlops API; requested by {CALLER}"),
    )

    assert response.status == 200, response.body


def test_another_session_of_the_requesters_role_is_the_requester(orchestrator):
    provisioned(REQUESTER_ROLE)

    response = approve(AT_PROD, None, SAME_ROLE_OTHER_SESSION)

    assert response.status == 403
    assert response.body["errors"][0]["problem"].startswith("requested this version")


def test_an_approver_who_requested_the_version_is_refused_for_both_reasons_in_one_answer(orchestrator, monkeypatch):
    rules(monkeypatch, ApprovalRules({"prod": (APPROVER_ROLE,)}))
    provisioned(REVIEWER)

    other_session = {"userArn": "arn:aws:sts::111111111111:assumed-role/Scientist/x", "caller": "AROASCIENTIST:x"}
    assert approve(AT_PROD, None, REVIEWER).body["errors"] == [
        {
            "field": "(caller)",
            "problem": "requested this version: a requester cannot approve their own promotion to prod",
        }
    ]
    assert [e["problem"] for e in approve(AT_PROD, None, other_session).body["errors"]] == [
        "is not an approver of prod"
    ]


def test_the_stack_setting_lets_the_requester_approve_prod(orchestrator, monkeypatch):
    rules(monkeypatch, ApprovalRules(requester_may_approve=True))
    provisioned()

    response = approve(
        AT_PROD, put_params("ApproveProd", "Approved", f"approved by {CALLER} via the mlops API; requested by {CALLER}")
    )

    assert response.status == 200, response.body
    assert response.body["approved_by"] == response.body["requested_by"] == CALLER


def test_an_approval_waiting_in_an_earlier_versions_run_is_not_answered_under_the_new_requester(orchestrator):
    # Alice's version 1 waits for its prod approval; Bob queues version 2 (its run not started yet).
    provisioned()
    event = api_event("POST", "/provisionpipeline", realtime_body(inference_instance="ml.m5.xlarge"))
    event["requestContext"]["identity"].update(REVIEWER)
    assert call(event).status == 202

    # Alice, no longer the recorded requester, may not slip her own run's approval through.
    response = approve(AT_PROD, None)
    Registry(TABLE).transition(PIPELINE, Status.PROVISIONING, execution_id="e2")
    once_started = approve(AT_PROD, None)

    assert response.status == once_started.status == 409
    assert response.body["message"] == (
        f"the approval ApproveProd of pipeline {PIPELINE} waits in run e1, not in version 2's run "
        "(which has not started yet); it may only be rejected; see its status"
    )
    assert "(which is e2)" in once_started.body["message"]


# -- what is recorded ----------------------------------------------------------------------------------


def test_the_record_keeps_the_requester_and_each_answer(orchestrator):
    provisioned()
    assert from_item(orchestrator.item(PIPELINE))["requested_by"] == {"arn": CALLER, "principal_id": "AIDAEXAMPLE"}

    response = answered(
        {"decision": "approve", "comment": "looks good"},
        AT_PROD,
        put_params(
            "ApproveProd",
            "Approved",
            f"approved by {REVIEWER['userArn']} via the mlops API; requested by {CALLER}: looks good",
        ),
        identity=REVIEWER,
    )

    record = from_item(orchestrator.item(PIPELINE))
    assert record["approvals"] == [
        {
            "stage": "ApproveProd",
            "action": "ApproveProd",
            "environment": "prod",
            "decision": "approve",
            "approved_by": {"arn": REVIEWER["userArn"], "principal_id": REVIEWER["caller"]},
            "requested_by": {"arn": CALLER, "principal_id": "AIDAEXAMPLE"},
            "version": 1,
            "at": response.body["answered_at"],
            "comment": "looks good",
        }
    ]


def test_the_status_names_the_requester_and_who_answered(orchestrator):
    provisioned()
    answered(
        {"decision": "approve", "comment": "ok"},
        AT_STAGING,
        put_params(
            "ApproveStaging",
            "Approved",
            f"approved by {REVIEWER['userArn']} via the mlops API; requested by {CALLER}: ok",
        ),
        identity=REVIEWER,
    )

    with Stubber(aws.client("codepipeline")) as stub:
        stub.add_response("get_pipeline_state", AT_PROD, {"name": CODEPIPELINE})
        status = call(api_event("GET", f"/pipelines/{PIPELINE}", resource="/pipelines/{pipeline_id}")).body

    assert status["requested_by"] == CALLER
    [entry] = status["approvals"]
    assert entry.pop("at").endswith("Z")
    assert entry == {
        "stage": "ApproveStaging",
        "decision": "approve",
        "approved_by": REVIEWER["userArn"],
        "comment": "ok",
    }


def test_a_later_full_write_keeps_the_recorded_answer(orchestrator):
    provisioned()
    approve(
        AT_STAGING,
        put_params("ApproveStaging", "Approved", f"approved by {CALLER} via the mlops API; requested by {CALLER}"),
    )

    # The status function's next move is a compare-and-swap write of the whole record.
    Registry(TABLE).transition(PIPELINE, Status.DEPLOYED, outputs={"endpoint_name": "churn-xgb-prod"})

    record = from_item(orchestrator.item(PIPELINE))
    assert record["status"] == "DEPLOYED"
    assert [entry["stage"] for entry in record["approvals"]] == ["ApproveStaging"]


def test_a_new_version_has_its_own_requester_and_no_answers_yet(orchestrator):
    provisioned()
    approve(
        AT_STAGING,
        put_params("ApproveStaging", "Approved", f"approved by {CALLER} via the mlops API; requested by {CALLER}"),
    )

    event = api_event("POST", "/provisionpipeline", realtime_body(inference_instance="ml.m5.xlarge"))
    event["requestContext"]["identity"].update(REVIEWER)
    assert call(event).status == 202

    record = from_item(orchestrator.item(PIPELINE))
    assert record["version"] == 2
    assert record["requested_by"] == {"arn": REVIEWER["userArn"], "principal_id": REVIEWER["caller"]}
    assert "approvals" not in record


# -- status never hands out a token ----------------------------------------------------------------------


def test_no_status_answer_carries_an_approval_token(orchestrator):
    provisioned()
    with Stubber(aws.client("codepipeline")) as stub:
        for _ in range(2):
            stub.add_response("get_pipeline_state", AT_PROD, {"name": CODEPIPELINE})
        by_path = call(api_event("GET", f"/pipelines/{PIPELINE}", resource="/pipelines/{pipeline_id}"))
        by_body = call(api_event("POST", "/pipelinestatus", {"pipeline_id": PIPELINE}))
        listed = call(api_event("GET", "/pipelines"))
        stub.assert_no_pending_responses()

    assert by_path.body["pending_approvals"] == [{"stage": "ApproveProd", "action": "ApproveProd"}]
    for response in (by_path, by_body, listed):
        assert response.status == 200
        assert TOKEN not in json.dumps(response.body)
        assert "token" not in json.dumps(response.body).replace("next_token", "")


# -- the setting as the function reads it ------------------------------------------------------------


def test_unreadable_approval_rules_stop_the_function_rather_than_admit_anyone():
    from lambda_src.common.settings import ConfigurationError, Settings

    base = {"MLOPS_REGISTRY_TABLE": TABLE, "MLOPS_ASSETS_BUCKET": "bucket"}
    with pytest.raises(ConfigurationError, match="MLOPS_APPROVAL_RULES"):
        Settings.from_env({**base, "MLOPS_APPROVAL_RULES": '{"approvers": {"prod": ["*"]}}'})
    # A function deployed before the setting existed applies the default rules.
    assert Settings.from_env(base).approval_rules == ApprovalRules()
