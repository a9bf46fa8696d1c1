"""Findings of a security review of separation of duties (issue 10, point 5), through POST
/pipelines/{id}/approval: a version without a recorded requester, an approval waiting in an earlier
version's run, a stage that promotes into no known environment, the requester in CodePipeline's summary,
approver names compared as IAM compares them, and federated callers told apart."""

from __future__ import annotations

import copy
from typing import Any

from lambda_src.common import aws
from mlops_spec.approvers import ApprovalRules
from tests.lambda_src.api.test_approval import (
    AT_PROD,
    CALLER,
    PIPELINE,
    REVIEWER,
    answered,
    from_item,
    put_params,
)
from tests.lambda_src.api.test_approval_duties import approve, provisioned, rules
from tests.support.api_gateway import api_event, call
from tests.support.moto_orchestrator import TABLE
from tests.support.requests import realtime_body

UNRECORDED = (
    "cannot approve the promotion to prod: the requester of this version is not recorded, so it cannot be told "
    "apart from the caller; send the same request again through the API (its sender is recorded as the "
    "requester), or answer the approval in CodePipeline under IAM"
)


def forget_the_requester() -> None:
    """A version queued with no requester (an upload through EventBridge, one queued before they were kept)."""
    aws.client("dynamodb").update_item(
        TableName=TABLE, Key={"pipeline_id": {"S": PIPELINE}}, UpdateExpression="REMOVE requested_by"
    )


def summary(verb: str, caller: str, requester: str) -> str:
    return f"{verb} by {caller} via the mlops API; requested by {requester}"


def provision(identity: dict[str, Any] | None = None, **changes: Any) -> int:
    event = api_event("POST", "/provisionpipeline", realtime_body(**changes))
    event["requestContext"]["identity"].update(identity or {})
    return call(event).status


def queue_version_2() -> None:
    """Bob queues a changed request while version 1's run waits for its prod approval."""
    assert provision(REVIEWER, inference_instance="ml.m5.xlarge") == 202


# -- 2. an unrecorded requester lets nobody approve prod ----------------------------------------------------


def test_without_a_recorded_requester_nobody_may_approve_prod_not_even_the_requester(orchestrator):
    provisioned()
    forget_the_requester()

    by_requester = approve(AT_PROD, None)
    by_reviewer = approve(AT_PROD, None, REVIEWER)

    assert (by_requester.status, by_reviewer.status) == (403, 403)
    assert by_reviewer.body == {
        "message": f"{REVIEWER['userArn']} may not approve the promotion of pipeline {PIPELINE} to prod",
        "errors": [{"field": "(caller)", "problem": UNRECORDED}],
    }
    assert "approvals" not in orchestrator.item(PIPELINE)


def test_without_a_recorded_requester_prod_may_still_be_rejected(orchestrator):
    provisioned()
    forget_the_requester()

    expected = put_params("ApproveProd", "Rejected", summary("rejected", CALLER, "an unrecorded requester"))
    response = answered({"decision": "reject"}, AT_PROD, expected)

    assert response.status == 200, response.body
    assert response.body["requested_by"] is None


def test_sending_the_same_request_again_records_its_sender_and_the_rule_applies_again(orchestrator):
    provisioned()
    forget_the_requester()

    assert provision() == 200  # the replay names the requester that was missing
    refused = approve(AT_PROD, None)
    accepted = approve(
        AT_PROD, put_params("ApproveProd", "Approved", summary("approved", REVIEWER["userArn"], CALLER)), REVIEWER
    )

    assert from_item(orchestrator.item(PIPELINE))["requested_by"] == {"arn": CALLER, "principal_id": "AIDAEXAMPLE"}
    assert refused.body["errors"][0]["problem"].startswith("requested this version")
    assert accepted.status == 200, accepted.body


def test_the_stack_setting_lets_anyone_approve_a_version_without_a_recorded_requester(orchestrator, monkeypatch):
    rules(monkeypatch, ApprovalRules(requester_may_approve=True))
    provisioned()
    forget_the_requester()

    expected = put_params("ApproveProd", "Approved", summary("approved", CALLER, "an unrecorded requester"))
    assert approve(AT_PROD, expected).status == 200


# -- 3. an approval waiting in an earlier version's run may be rejected ---------------------------------------


def test_an_approval_waiting_in_an_earlier_versions_run_may_be_rejected(orchestrator):
    provisioned()
    queue_version_2()
    before = orchestrator.item(PIPELINE)

    # Its requester is the earlier version's, which the record (now version 2's) does not hold.
    expected = put_params("ApproveProd", "Rejected", summary("rejected", CALLER, "an unrecorded requester"))
    response = answered({"decision": "reject"}, AT_PROD, expected)

    assert response.status == 200, response.body
    assert (response.body["rejected_by"], response.body["requested_by"]) == (CALLER, None)
    assert orchestrator.item(PIPELINE) == before  # version 2's record holds no answer of another run


def test_rejecting_an_earlier_versions_run_is_still_an_approvers_answer(orchestrator, monkeypatch):
    rules(monkeypatch, ApprovalRules({"prod": ("arn:aws:iam::111111111111:role/ReleaseManagers",)}))
    provisioned()
    queue_version_2()

    response = answered({"decision": "reject"}, AT_PROD, None, identity=REVIEWER)

    assert response.status == 403
    assert response.body["errors"] == [{"field": "(caller)", "problem": "is not an approver of prod"}]


# -- 4. a stage that promotes into no environment of ours -----------------------------------------------------


def test_an_approval_at_an_unknown_stage_is_refused_naming_the_stage(orchestrator):
    provisioned()
    at_canary = copy.deepcopy(AT_PROD)
    for stage in at_canary["stageStates"]:
        if stage["stageName"] == "ApproveProd":
            stage["stageName"] = "ApproveCanary"

    response = approve(at_canary, None, REVIEWER)

    assert response.status == 403
    assert response.body == {
        "message": f"{REVIEWER['userArn']} may not approve the approval at stage ApproveCanary of pipeline {PIPELINE}",
        "errors": [
            {
                "field": "stage",
                "problem": "promotes into no environment with approval rules (staging, prod): none could be checked",
            }
        ],
    }


# -- 6, 7. who is who, as IAM tells them apart ------------------------------------------------------------------


def test_an_approver_role_matches_its_sessions_whatever_the_case_of_its_name(orchestrator, monkeypatch):
    rules(monkeypatch, ApprovalRules({"prod": ("arn:aws:iam::111111111111:role/ops/reviewer",)}))
    provisioned()

    expected = put_params("ApproveProd", "Approved", summary("approved", REVIEWER["userArn"], CALLER))
    assert approve(AT_PROD, expected, REVIEWER).status == 200


def test_federated_users_of_one_account_are_not_one_principal(orchestrator):
    alice = {"userArn": "arn:aws:sts::111111111111:federated-user/alice", "caller": "111111111111:alice"}
    bob = {"userArn": "arn:aws:sts::111111111111:federated-user/bob", "caller": "111111111111:bob"}
    provisioned(alice)

    refused = approve(AT_PROD, None, alice)
    accepted = approve(
        AT_PROD, put_params("ApproveProd", "Approved", summary("approved", bob["userArn"], alice["userArn"])), bob
    )

    assert refused.body["errors"][0]["problem"].startswith("requested this version")
    assert accepted.status == 200, accepted.body
