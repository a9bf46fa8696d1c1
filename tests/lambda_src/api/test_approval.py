"""POST /pipelines/{id}/approval: answering a delivery pipeline's pending manual approval (CodePipeline stubbed)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import Stubber

from lambda_src.api.approvals import SUMMARY_LIMIT
from lambda_src.common import aws
from lambda_src.registry import Registry, Status, from_attr
from lambda_src.status_events.names import codepipeline_name
from mlops_spec.approvals import APPROVAL_STAGES, COMMENT_LIMIT, DECISIONS
from tests.support.api_gateway import api_event, call
from tests.support.examples import EXAMPLES
from tests.support.moto_orchestrator import TABLE
from tests.support.requests import realtime_body

PIPELINE = "churn-xgb-realtime-builtin"
CODEPIPELINE = codepipeline_name(PIPELINE)
CALLER = "arn:aws:iam::111111111111:user/data-scientist"  # the identity of conftest.api_event: the requester
# Someone else: a session of a reviewer role (by default the requester may not approve a promotion to prod).
REVIEWER = {"userArn": "arn:aws:sts::111111111111:assumed-role/Reviewer/bob", "caller": "AROAREVIEWER:bob"}
TOKEN = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
OTHER_TOKEN = "99999999-8888-4777-8666-555555555555"
T0 = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)
STAGES = ["Source", "DeployDev", "ApproveStaging", "DeployStaging", "ApproveProd", "DeployProd"]


def pipeline_state(pending: dict[str, str] | None = None, done: tuple[str, ...] = ()) -> dict[str, Any]:
    """GetPipelineState of a multi-account delivery pipeline as components/delivery lays it out: stages
    in `done` succeeded, approval stages in `pending` ({stage: token}) wait for an answer."""
    pending = pending or {}
    stage_states = []
    for name in STAGES:
        action = "Spec" if name == "Source" else name
        if name in pending:
            latest: dict[str, Any] | None = {"status": "InProgress", "token": pending[name], "lastStatusChange": T0}
        elif name in done:
            latest = {"status": "Succeeded", "lastStatusChange": T0}
        else:
            latest = None
        stage: dict[str, Any] = {"stageName": name, "actionStates": [{"actionName": action}]}
        if latest:
            stage["actionStates"][0]["latestExecution"] = latest
            stage["latestExecution"] = {"pipelineExecutionId": "e1", "status": latest["status"]}
        stage_states.append(stage)
    return {"pipelineName": CODEPIPELINE, "pipelineVersion": 1, "stageStates": stage_states, "created": T0}


def from_item(item: dict[str, Any] | None) -> dict[str, Any]:
    assert item is not None
    return {key: from_attr(value) for key, value in item.items()}


AT_STAGING = pipeline_state({"ApproveStaging": TOKEN}, done=("Source", "DeployDev"))
AT_PROD = pipeline_state({"ApproveProd": TOKEN}, done=("Source", "DeployDev", "ApproveStaging", "DeployStaging"))
NOTHING_PENDING = pipeline_state(done=tuple(STAGES))


def approval(  # type: ignore[no-untyped-def]
    pipeline_id: str = PIPELINE,
    body: Any = None,
    *,
    raw_body: str | None = None,
    identity: dict[str, Any] | None = None,
    **event: Any,
):
    """POST the approval, signed by the requester (api_event's identity) or by `identity`."""
    request = api_event(
        "POST",
        f"/pipelines/{pipeline_id}/approval",
        body,
        raw_body=raw_body,
        resource="/pipelines/{pipeline_id}/approval",
        path_parameters={"pipeline_id": pipeline_id},
        **event,
    )
    request["requestContext"]["identity"].update(identity or {})
    return call(request)


@pytest.fixture
def awaiting(orchestrator):  # type: ignore[no-untyped-def]
    """A pipeline whose delivery pipeline exists and waits for an approval (the registry's view)."""
    assert call(api_event("POST", "/provisionpipeline", realtime_body())).status == 202
    registry = Registry(TABLE)
    # The provisioner records the run it started; pipeline_state's stages belong to run e1.
    registry.transition(PIPELINE, Status.PROVISIONING, codepipeline_name=CODEPIPELINE, execution_id="e1")
    registry.transition(PIPELINE, Status.AWAITING_APPROVAL)
    return orchestrator


def put_params(stage: str, status: str, summary: str, token: str = TOKEN) -> dict[str, Any]:
    return {
        "pipelineName": CODEPIPELINE,
        "stageName": stage,
        "actionName": stage,
        "result": {"summary": summary, "status": status},
        "token": token,
    }


def answered(body: dict[str, Any], state: dict[str, Any], expected_put: dict[str, Any] | None, **event: Any):  # type: ignore[no-untyped-def]
    """Send `body` with CodePipeline answering `state`; the put_approval_result call must be `expected_put`
    (None: no call at all; any unexpected call would fail the stub and answer 500)."""
    with Stubber(aws.client("codepipeline")) as stub:
        stub.add_response("get_pipeline_state", state, {"name": CODEPIPELINE})
        if expected_put is not None:
            stub.add_response("put_approval_result", {"approvedAt": T0}, expected_put)
        response = approval(body=body, **event)
        stub.assert_no_pending_responses()
    return response


# -- answering ---------------------------------------------------------------------------------------


def test_approve_answers_the_pending_approval_in_the_callers_name(awaiting):
    expected = put_params(
        "ApproveStaging", "Approved", f"approved by {CALLER} via the mlops API; requested by {CALLER}"
    )

    response = answered({"decision": "approve"}, AT_STAGING, expected)

    assert response.status == 200, response.body
    answered_at = response.body.pop("answered_at")
    assert answered_at.startswith(f"{datetime.now(UTC):%Y-%m-%d}T") and answered_at.endswith("Z")
    assert response.body == {
        "pipeline_id": PIPELINE,
        "stage": "ApproveStaging",
        "action": "ApproveStaging",
        "decision": "approve",
        "approved_by": CALLER,
        "requested_by": CALLER,
    }


def test_reject_with_a_comment_records_who_and_why(awaiting):
    expected = put_params(
        "ApproveProd", "Rejected", f"rejected by {CALLER} via the mlops API; requested by {CALLER}: latency regressed"
    )

    # The requester may stop their own promotion to prod: only approving it is someone else's job.
    response = answered({"decision": "reject", "comment": "  latency regressed \n"}, AT_PROD, expected)

    assert response.status == 200, response.body
    assert response.body["decision"] == "reject"
    assert (response.body["stage"], response.body["action"]) == ("ApproveProd", "ApproveProd")
    assert response.body["rejected_by"] == response.body["requested_by"] == CALLER
    assert "approved_by" not in response.body


def test_the_given_stage_is_answered_when_it_is_the_pending_one(awaiting):
    expected = put_params(
        "ApproveProd", "Approved", f"approved by {REVIEWER['userArn']} via the mlops API; requested by {CALLER}: ok"
    )

    response = answered(
        {"decision": "approve", "stage": "ApproveProd", "comment": "ok"}, AT_PROD, expected, identity=REVIEWER
    )

    assert response.status == 200, response.body
    assert response.body["stage"] == "ApproveProd"


@pytest.mark.parametrize("comment", ["", "   ", None])
def test_a_blank_or_null_comment_gets_the_default_summary(awaiting, comment):
    expected = put_params(
        "ApproveStaging", "Approved", f"approved by {CALLER} via the mlops API; requested by {CALLER}"
    )

    assert answered({"decision": "approve", "comment": comment, "stage": None}, AT_STAGING, expected).status == 200


def test_a_long_comment_is_cut_so_the_summary_fits_codepipelines_limit(awaiting):
    comment = "x" * COMMENT_LIMIT
    head = f"approved by {CALLER} via the mlops API; requested by {CALLER}: "
    summary = head + "x" * (SUMMARY_LIMIT - len(head) - 1) + "\u2026"
    assert len(summary) == SUMMARY_LIMIT

    response = answered(
        {"decision": "approve", "comment": comment}, AT_STAGING, put_params("ApproveStaging", "Approved", summary)
    )

    assert response.status == 200, response.body


def test_a_request_without_a_caller_identity_is_recorded_as_unidentified(awaiting):
    event = api_event(
        "POST", f"/pipelines/{PIPELINE}/approval", {"decision": "reject"}, resource="/pipelines/{pipeline_id}/approval"
    )
    event["requestContext"]["identity"].update(userArn=None, caller=None)
    expected = put_params(
        "ApproveStaging", "Rejected", f"rejected by an unidentified caller via the mlops API; requested by {CALLER}"
    )
    with Stubber(aws.client("codepipeline")) as stub:
        stub.add_response("get_pipeline_state", AT_STAGING, {"name": CODEPIPELINE})
        stub.add_response("put_approval_result", {"approvedAt": T0}, expected)
        response = call(event)
        stub.assert_no_pending_responses()
    assert response.status == 200, response.body


def test_the_approval_is_recorded_and_changes_nothing_else_on_the_record(awaiting):
    before = from_item(awaiting.item(PIPELINE))
    expected = put_params(
        "ApproveStaging", "Approved", f"approved by {CALLER} via the mlops API; requested by {CALLER}"
    )

    assert answered({"decision": "approve"}, AT_STAGING, expected).status == 200

    # The CodePipeline events that follow move the record (status_events), not the API: it only adds
    # the answer (and counts the write in the revision).
    after = from_item(awaiting.item(PIPELINE))
    [entry] = after.pop("approvals")
    assert after == {**before, "revision": before["revision"] + 1}
    assert entry["approved_by"] == {"arn": CALLER, "principal_id": "AIDAEXAMPLE"}


# -- nothing (or something else) to answer: 409 ------------------------------------------------------


def test_nothing_pending_is_a_conflict(awaiting):
    response = answered({"decision": "approve"}, NOTHING_PENDING, None)

    assert response.status == 409
    assert response.body == {"message": f"pipeline {PIPELINE} has no pending approval (status AWAITING_APPROVAL)"}


def test_a_stage_that_is_not_the_pending_one_is_a_conflict_naming_the_pending_one(awaiting):
    response = answered({"decision": "approve", "stage": "ApproveProd"}, AT_STAGING, None)

    assert response.status == 409
    assert response.body == {
        "message": f"pipeline {PIPELINE} is not waiting for approval at ApproveProd (pending: ApproveStaging)"
    }


def test_a_stage_given_when_nothing_is_pending_says_so(awaiting):
    response = answered({"decision": "reject", "stage": "ApproveStaging"}, NOTHING_PENDING, None)

    assert response.status == 409
    assert response.body["message"] == (
        f"pipeline {PIPELINE} is not waiting for approval at ApproveStaging (no approval is pending)"
    )


def test_two_pending_approvals_need_a_stage(awaiting):
    both = pipeline_state({"ApproveStaging": TOKEN, "ApproveProd": OTHER_TOKEN})

    unclear = answered({"decision": "approve"}, both, None)
    summary = f"approved by {REVIEWER['userArn']} via the mlops API; requested by {CALLER}"
    chosen = answered(
        {"decision": "approve", "stage": "ApproveProd"},
        both,
        put_params("ApproveProd", "Approved", summary, token=OTHER_TOKEN),
        identity=REVIEWER,
    )

    assert unclear.status == 409
    assert unclear.body["message"] == (
        f"pipeline {PIPELINE} has more than one pending approval (ApproveStaging, ApproveProd): give `stage`"
    )
    assert chosen.status == 200


def test_an_approval_finished_without_a_token_is_not_pending(awaiting):
    state = pipeline_state(done=("Source", "DeployDev"))
    state["stageStates"][2]["actionStates"][0]["latestExecution"] = {"status": "InProgress"}

    assert answered({"decision": "approve"}, state, None).status == 409


@pytest.mark.parametrize("code", ["InvalidApprovalTokenException", "ApprovalAlreadyCompletedException"])
def test_an_approval_answered_meanwhile_is_a_conflict(awaiting, code):
    with Stubber(aws.client("codepipeline")) as stub:
        stub.add_response("get_pipeline_state", AT_STAGING, {"name": CODEPIPELINE})
        stub.add_client_error(
            "put_approval_result",
            service_error_code=code,
            http_status_code=400,
            expected_params=put_params(
                "ApproveStaging", "Approved", f"approved by {CALLER} via the mlops API; requested by {CALLER}"
            ),
        )
        response = approval(body={"decision": "approve"})
        stub.assert_no_pending_responses()

    assert response.status == 409
    assert response.body == {
        "message": f"the approval ApproveStaging of pipeline {PIPELINE} is no longer pending ({code}); see its status"
    }


def test_codepipeline_refusing_the_orchestrator_is_a_503_naming_the_code(awaiting):
    with Stubber(aws.client("codepipeline")) as stub:
        stub.add_response("get_pipeline_state", AT_STAGING, {"name": CODEPIPELINE})
        stub.add_client_error("put_approval_result", service_error_code="AccessDeniedException", http_status_code=403)
        response = approval(body={"decision": "approve"})

    assert response.status == 503
    assert response.body == {
        "message": "AWS failed or refused the orchestrator (AccessDeniedException); try again later"
    }


def test_codepipeline_throttling_is_a_429(awaiting):
    with Stubber(aws.client("codepipeline")) as stub:
        stub.add_client_error("get_pipeline_state", service_error_code="ThrottlingException", http_status_code=400)
        response = approval(body={"decision": "approve"})

    assert response.status == 429
    assert response.body == {"message": "AWS is throttling requests (ThrottlingException); try again later"}


def test_a_pipeline_without_a_delivery_pipeline_yet_is_a_conflict(orchestrator):
    assert call(api_event("POST", "/provisionpipeline", realtime_body())).status == 202

    with Stubber(aws.client("codepipeline")) as stub:  # no call expected
        response = approval(body={"decision": "approve"})

    assert response.status == 409
    assert response.body["message"] == (
        f"pipeline {PIPELINE} has no pending approval: its delivery pipeline does not exist yet (status QUEUED)"
    )
    stub.assert_no_pending_responses()


def test_a_deleted_delivery_pipeline_is_a_conflict(awaiting):
    with Stubber(aws.client("codepipeline")) as stub:
        stub.add_client_error(
            "get_pipeline_state", service_error_code="PipelineNotFoundException", http_status_code=400
        )
        response = approval(body={"decision": "approve"})

    assert response.status == 409
    assert CODEPIPELINE in response.body["message"] and "does not exist" in response.body["message"]


@pytest.mark.parametrize("pipeline_id", ["nope-realtime-builtin", "-leading-hyphen", "x" * 200])
def test_an_unknown_pipeline_is_404(orchestrator, pipeline_id):
    response = approval(pipeline_id, {"decision": "approve"})

    assert response.status == 404
    assert "not found" in response.body["message"]


# -- validation: 400 naming the field, and no CodePipeline call ----------------------------------------


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"decision": "approve", "approver": "me"}, [("approver", "is not a known field")]),
        (
            {"decision": "approve", "token": TOKEN, "Stage": "ApproveProd"},
            [("Stage", "is not a known field"), ("token", "is not a known field")],
        ),
        ({}, [("decision", "is required")]),
        ({"comment": "ok"}, [("decision", "is required")]),
        ({"decision": "Approve"}, [("decision", "must be one of approve, reject")]),
        ({"decision": "approved"}, [("decision", "must be one of approve, reject")]),
        ({"decision": None}, [("decision", "must be one of approve, reject")]),
        ({"decision": ["approve"]}, [("decision", "must be one of approve, reject")]),
        ({"decision": True}, [("decision", "must be one of approve, reject")]),
        ({"decision": "approve", "comment": 5}, [("comment", "must be a string")]),
        (
            {"decision": "approve", "comment": "x" * (COMMENT_LIMIT + 1)},
            [("comment", "must be at most 512 characters")],
        ),
        ({"decision": "approve", "stage": "DeployProd"}, [("stage", "must be one of ApproveStaging, ApproveProd")]),
        ({"decision": "approve", "stage": "approvestaging"}, [("stage", "must be one of ApproveStaging, ApproveProd")]),
        (
            {"decision": "approve", "stage": {"name": "ApproveProd"}},
            [("stage", "must be one of ApproveStaging, ApproveProd")],
        ),
        (
            {"decision": "maybe", "comment": [], "stage": "", "by": 1},
            [
                ("by", "is not a known field"),
                ("decision", "must be one of approve, reject"),
                ("comment", "must be a string"),
                ("stage", "must be one of ApproveStaging, ApproveProd"),
            ],
        ),
    ],
)
def test_bad_bodies_are_400_naming_each_field(awaiting, body, errors):
    with Stubber(aws.client("codepipeline")) as stub:  # no call expected
        response = approval(body=body)
        stub.assert_no_pending_responses()

    assert response.status == 400
    assert response.body == {
        "message": "invalid approval request",
        "errors": [{"field": field, "problem": problem} for field, problem in errors],
    }


@pytest.mark.parametrize(
    ("raw", "field"),
    [(None, "(body)"), ("[]", "(body)"), ('"approve"', "(body)"), ("{not json", "(body)")],
)
def test_a_body_that_is_not_a_json_object_is_400(awaiting, raw, field):
    response = approval(raw_body=raw) if raw is not None else approval()

    assert response.status == 400
    assert response.body["errors"][0]["field"] == field


def test_a_comment_of_exactly_the_limit_is_accepted(awaiting):
    # Counted in characters, not bytes.
    comment = "é" * COMMENT_LIMIT
    head = f"rejected by {CALLER} via the mlops API; requested by {CALLER}: "
    summary = (head + comment)[: SUMMARY_LIMIT - 1] + "\u2026"

    response = answered(
        {"decision": "reject", "comment": comment}, AT_STAGING, put_params("ApproveStaging", "Rejected", summary)
    )

    assert response.status == 200


# -- the contract ------------------------------------------------------------------------------------


def test_the_approval_stages_are_those_of_a_multi_account_delivery_pipeline():
    from components.delivery import delivery_stages
    from mlops_spec.request import parse_pipeline_request

    spec = parse_pipeline_request(
        json.loads((EXAMPLES / "multi" / "byom_realtime_builtin.json").read_text()), mode="multi"
    )
    approvals = [
        (stage.name, action.name)
        for stage in delivery_stages(spec, "multi")
        for action in stage.actions
        if action.kind == "approval"
    ]
    assert approvals == [(name, name) for name in APPROVAL_STAGES]


def test_the_published_schema_matches_what_the_api_accepts():
    from mlops_spec.openapi import openapi_document

    document = openapi_document()
    schema = document["components"]["schemas"]["ApprovalRequest"]
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["decision"]
    assert schema["properties"]["decision"]["enum"] == list(DECISIONS)
    assert schema["properties"]["stage"]["anyOf"][0]["enum"] == list(APPROVAL_STAGES)
    assert schema["properties"]["comment"]["anyOf"][0]["maxLength"] == COMMENT_LIMIT
    route = document["paths"]["/pipelines/{pipeline_id}/approval"]["post"]
    assert sorted(route["responses"]) == ["200", "400", "403", "404", "409", "413", "429", "503"]
    answer = document["components"]["schemas"]["ApprovalAnswered"]
    assert sorted(answer["required"]) == ["action", "answered_at", "decision", "pipeline_id", "requested_by", "stage"]
    assert {"approved_by", "rejected_by"} <= set(answer["properties"])
    assert "token" not in document["components"]["schemas"]["PendingApproval"]["properties"]


def test_the_document_describes_every_route_including_approval():
    """API Gateway serves exactly mlops_spec.routes.ROUTES (tests/components/test_orchestrator_plan.py);
    the published document must describe the same routes."""
    from mlops_spec.openapi import openapi_document
    from mlops_spec.routes import ANSWER_APPROVAL, ROUTES

    documented = {
        (method.upper(), path)
        for path, item in openapi_document()["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert (ANSWER_APPROVAL.method, ANSWER_APPROVAL.path) in documented
    assert documented == {(route.method, route.path) for route in ROUTES}
