"""Reading, listing and deleting pipelines: GET/DELETE /pipelines/{id}, GET /pipelines, POST /pipelinestatus."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from botocore.stub import Stubber

from lambda_src.api.pipelines import encode_token
from lambda_src.api.status import approval_tokens, normalise_pipeline_state
from lambda_src.common import aws
from lambda_src.registry import Registry, Status
from tests.support.api_gateway import api_event, call
from tests.support.moto_orchestrator import TABLE
from tests.support.requests import realtime_body

PIPELINE = "churn-xgb-realtime-builtin"
T0 = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)

# A multi-account delivery pipeline waiting for the staging approval, after a failed first try.
PIPELINE_STATE = {
    "pipelineName": "mlops-churn-xgb-realtime-builtin",
    "pipelineVersion": 1,
    "stageStates": [
        {
            "stageName": "Source",
            "latestExecution": {"pipelineExecutionId": "e1", "status": "Succeeded"},
            "actionStates": [
                {"actionName": "Spec", "latestExecution": {"status": "Succeeded", "lastStatusChange": T0}}
            ],
        },
        {
            "stageName": "DeployDev",
            "latestExecution": {"pipelineExecutionId": "e1", "status": "InProgress"},
            "actionStates": [
                {"actionName": "Deploy", "latestExecution": {"status": "Succeeded", "lastStatusChange": T0}},
                {
                    "actionName": "ApproveStaging",
                    "latestExecution": {"status": "InProgress", "token": "tok-123", "lastStatusChange": T0},
                },
            ],
        },
        {
            "stageName": "DeployStaging",
            "latestExecution": {"pipelineExecutionId": "e0", "status": "Failed"},
            "actionStates": [
                {
                    "actionName": "Deploy",
                    "latestExecution": {
                        "status": "Failed",
                        "errorDetails": {"code": "JobFailed", "message": "stack update failed"},
                    },
                }
            ],
        },
        {"stageName": "DeployProd", "actionStates": [{"actionName": "Deploy"}]},
    ],
    "created": T0,
    "updated": T0,
}

EXPECTED_STAGES = [
    {"name": "Source", "status": "SUCCEEDED", "actions": [{"name": "Spec", "status": "SUCCEEDED", "last_error": None}]},
    {
        "name": "DeployDev",
        "status": "IN_PROGRESS",
        "actions": [
            {"name": "Deploy", "status": "SUCCEEDED", "last_error": None},
            {"name": "ApproveStaging", "status": "IN_PROGRESS", "last_error": None},
        ],
    },
    {
        "name": "DeployStaging",
        "status": "FAILED",
        "actions": [{"name": "Deploy", "status": "FAILED", "last_error": "JobFailed: stack update failed"}],
    },
    {
        "name": "DeployProd",
        "status": "NOT_STARTED",
        "actions": [{"name": "Deploy", "status": "NOT_STARTED", "last_error": None}],
    },
]


def get(pipeline_id: str):  # type: ignore[no-untyped-def]
    return call(api_event("GET", f"/pipelines/{pipeline_id}", resource="/pipelines/{pipeline_id}"))


def provision(**overrides: object) -> None:
    assert call(api_event("POST", "/provisionpipeline", realtime_body(**overrides))).status == 202


# -- status ----------------------------------------------------------------------------------------


def test_normalising_a_pipeline_state():
    normal = normalise_pipeline_state(PIPELINE_STATE)
    assert normal["stages"] == EXPECTED_STAGES
    assert normal["pending_approvals"] == [{"stage": "DeployDev", "action": "ApproveStaging"}]
    assert normal["last_error"] == "JobFailed: stack update failed"


def test_only_the_approval_handlers_reading_of_a_state_holds_the_tokens():
    assert "tok-123" not in repr(normalise_pipeline_state(PIPELINE_STATE))
    assert approval_tokens(PIPELINE_STATE) == [
        {"stage": "DeployDev", "action": "ApproveStaging", "token": "tok-123", "execution_id": "e1"}
    ]


def test_status_of_a_queued_pipeline_comes_from_the_registry(orchestrator):
    provision()
    response = get(PIPELINE)

    assert response.status == 200
    body = response.body
    assert body["pipeline_id"] == PIPELINE
    assert body["status"] == "QUEUED"
    assert body["pipeline_type"] == "byom_realtime_builtin"
    assert body["stacks"] == [f"{PIPELINE}-delivery", f"{PIPELINE}-dev"]
    assert body["stages"] == []
    assert body["pending_approvals"] == []
    assert body["spec"]["model_name"] == "churn-xgb"


def test_status_with_a_delivery_pipeline_is_normalised_from_codepipeline(orchestrator):
    provision()
    registry = Registry(TABLE)
    registry.transition(PIPELINE, Status.PROVISIONING, codepipeline_name="mlops-churn-xgb-realtime-builtin")
    registry.transition(PIPELINE, Status.AWAITING_APPROVAL, outputs={"endpoint_name": "churn-xgb-dev"})

    with Stubber(aws.client("codepipeline")) as stub:
        stub.add_response("get_pipeline_state", PIPELINE_STATE, {"name": "mlops-churn-xgb-realtime-builtin"})
        by_path = get(PIPELINE)
        stub.add_response("get_pipeline_state", PIPELINE_STATE, {"name": "mlops-churn-xgb-realtime-builtin"})
        by_body = call(api_event("POST", "/pipelinestatus", {"pipeline_id": PIPELINE}))
        stub.assert_no_pending_responses()

    assert by_path.status == by_body.status == 200
    assert by_path.body == by_body.body
    body = by_path.body
    assert body["status"] == "AWAITING_APPROVAL"
    assert body["stages"] == EXPECTED_STAGES
    # Reading a status is not a right to answer its approvals: no token, anywhere in the answer.
    assert body["pending_approvals"] == [{"stage": "DeployDev", "action": "ApproveStaging"}]
    assert "tok-123" not in json.dumps(body)
    assert body["last_error"] == "JobFailed: stack update failed"
    assert body["outputs"] == {"endpoint_name": "churn-xgb-dev"}
    assert body["codepipeline_name"] == "mlops-churn-xgb-realtime-builtin"


def test_the_registry_error_wins_over_the_codepipeline_one(orchestrator):
    provision()
    registry = Registry(TABLE)
    registry.transition(PIPELINE, Status.PROVISIONING, codepipeline_name="mlops-p")
    registry.transition(PIPELINE, Status.FAILED, last_error="provisioner: stack locked")
    with Stubber(aws.client("codepipeline")) as stub:
        stub.add_response("get_pipeline_state", PIPELINE_STATE, {"name": "mlops-p"})
        body = get(PIPELINE).body
    assert body["last_error"] == "provisioner: stack locked"


@pytest.mark.parametrize(
    ("code", "note"),
    [("PipelineNotFoundException", "not created yet or deleted"), ("AccessDeniedException", "unreadable")],
)
def test_an_unreadable_delivery_pipeline_still_returns_the_registry_state(orchestrator, code, note):
    provision()
    Registry(TABLE).transition(PIPELINE, Status.PROVISIONING, codepipeline_name="mlops-p")
    with Stubber(aws.client("codepipeline")) as stub:
        stub.add_client_error("get_pipeline_state", service_error_code=code, http_status_code=400)
        response = get(PIPELINE)
    assert response.status == 200
    assert response.body["status"] == "PROVISIONING"
    assert response.body["stages"] == []
    assert note in response.body["delivery_pipeline_state"]


@pytest.mark.parametrize("pipeline_id", ["nope-realtime-builtin", "has%20space", "x" * 300, "-leading-hyphen"])
def test_unknown_pipelines_are_404(orchestrator, pipeline_id):
    response = get(pipeline_id)
    assert response.status == 404
    assert "not found" in response.body["message"]
    assert call(api_event("POST", "/pipelinestatus", {"pipeline_id": pipeline_id})).status == 404


@pytest.mark.parametrize(
    ("body", "field", "problem"),
    [
        ({}, "pipeline_id", "is required"),
        ({"pipeline_id": 7}, "pipeline_id", "must be a non-empty string"),
        ({"pipeline_id": "  "}, "pipeline_id", "must be a non-empty string"),
        ({"pipeline_id": "p", "extra": 1}, "extra", "is not a known field"),
        (["p"], "(body)", "must be a JSON object"),
    ],
)
def test_status_requests_are_validated(orchestrator, body, field, problem):
    response = call(api_event("POST", "/pipelinestatus", body))
    assert response.status == 400
    assert response.body["errors"] == [{"field": field, "problem": problem}]


# -- list ------------------------------------------------------------------------------------------


def list_pipelines(**query: str):  # type: ignore[no-untyped-def]
    return call(api_event("GET", "/pipelines", query=query or None))


def test_list_paginates_with_limit_and_next_token(orchestrator):
    names = [f"model-{n:02d}" for n in range(7)]
    for name in names:
        provision(model_name=name)

    seen: list[str] = []
    token = None
    pages = []
    while True:
        response = list_pipelines(limit="3", **({"next_token": token} if token else {}))
        assert response.status == 200
        pages.append(len(response.body["pipelines"]))
        seen += [p["pipeline_id"] for p in response.body["pipelines"]]
        token = response.body["next_token"]
        if token is None:
            break
    assert pages == [3, 3, 1]
    assert sorted(seen) == [f"{name}-realtime-builtin" for name in names]
    summary = list_pipelines(limit="1").body["pipelines"][0]
    assert set(summary) == {
        "pipeline_id",
        "pipeline_type",
        "status",
        "version",
        "created_at",
        "updated_at",
        "last_error",
        "drift",
        "blocked",
    }


def test_list_filters_by_status_and_type(orchestrator):
    for name in ("a", "b", "c"):
        provision(model_name=name)
    Registry(TABLE).transition("b-realtime-builtin", Status.PROVISIONING)

    provisioning = list_pipelines(status="PROVISIONING").body
    assert [p["pipeline_id"] for p in provisioning["pipelines"]] == ["b-realtime-builtin"]
    assert provisioning["next_token"] is None
    assert len(list_pipelines(pipeline_type="byom_realtime_builtin").body["pipelines"]) == 3
    assert list_pipelines(pipeline_type="byom_batch_builtin").body["pipelines"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"status": "RUNNING"}, "status"),
        ({"pipeline_type": "byom_magic"}, "pipeline_type"),
        ({"next_token": "garbage!"}, "next_token"),
        ({"next_token": encode_token("x") + "A"}, "next_token"),
        ({"sort": "name"}, "sort"),
    ],
)
def test_list_rejects_bad_query_parameters(orchestrator, query, field):
    response = list_pipelines(**query)
    assert response.status == 400
    assert [e["field"] for e in response.body["errors"]] == [field]


# -- delete ----------------------------------------------------------------------------------------


def test_delete_marks_deleting_and_starts_the_provisioner(orchestrator):
    provision()
    registry = Registry(TABLE)
    registry.transition(PIPELINE, Status.PROVISIONING)
    registry.transition(PIPELINE, Status.DEPLOYED)

    response = call(api_event("DELETE", f"/pipelines/{PIPELINE}", resource="/pipelines/{pipeline_id}"))

    assert response.status == 202
    assert response.body == {"pipeline_id": PIPELINE, "status": "DELETING", "version": 1}
    assert orchestrator.item(PIPELINE)["status"] == {"S": "DELETING"}
    assert orchestrator.invocations.payloads[-1] == {"action": "delete", "pipeline_id": PIPELINE, "version": 1}


@pytest.mark.parametrize("path", [(), (Status.PROVISIONING,), (Status.PROVISIONING, Status.AWAITING_APPROVAL)])
def test_delete_supersedes_a_queued_or_running_deployment(orchestrator, path):
    provision()
    for status in path:
        Registry(TABLE).transition(PIPELINE, status)

    response = call(api_event("DELETE", f"/pipelines/{PIPELINE}"))

    assert response.status == 202, response.body
    assert response.body == {"pipeline_id": PIPELINE, "status": "DELETING", "version": 1}
    assert orchestrator.item(PIPELINE)["status"] == {"S": "DELETING"}
    assert orchestrator.invocations.payloads[-1] == {"action": "delete", "pipeline_id": PIPELINE, "version": 1}


def test_delete_of_a_deleting_pipeline_sends_the_start_again_and_changes_nothing(orchestrator):
    provision()
    for status in (Status.PROVISIONING, Status.DEPLOYED, Status.DELETING):
        Registry(TABLE).transition(PIPELINE, status)
    before = orchestrator.item(PIPELINE)

    response = call(api_event("DELETE", f"/pipelines/{PIPELINE}"))

    assert response.status == 202
    assert response.body == {"pipeline_id": PIPELINE, "status": "DELETING", "version": 1}
    assert orchestrator.item(PIPELINE) == before
    assert orchestrator.invocations.payloads[-1] == {"action": "delete", "pipeline_id": PIPELINE, "version": 1}


def test_delete_of_a_deleted_pipeline_has_nothing_to_do(orchestrator):
    provision()
    for status in (Status.PROVISIONING, Status.DEPLOYED, Status.DELETING, Status.DELETED):
        Registry(TABLE).transition(PIPELINE, status)
    before = orchestrator.item(PIPELINE)

    response = call(api_event("DELETE", f"/pipelines/{PIPELINE}"))

    assert response.status == 202
    assert response.body == {"pipeline_id": PIPELINE, "status": "DELETED", "version": 1}
    assert orchestrator.item(PIPELINE) == before
    assert len(orchestrator.invocations.calls) == 1  # only the provisioning start


def test_delete_of_an_unknown_pipeline_is_404(orchestrator):
    response = call(api_event("DELETE", "/pipelines/nope"))
    assert response.status == 404
    assert orchestrator.invocations.calls == []


def test_a_failed_delete_start_leaves_a_healthy_pipeline_deleting_not_failed(orchestrator):
    """Issue 11, case 10: a provisioner that could not be started marked a DEPLOYED pipeline FAILED."""
    from botocore.exceptions import ClientError

    provision()
    Registry(TABLE).transition(PIPELINE, Status.PROVISIONING)
    Registry(TABLE).transition(PIPELINE, Status.DEPLOYED)
    orchestrator.invocations.fail_with = ClientError({"Error": {"Code": "TooManyRequestsException"}}, "Invoke")

    failed = call(api_event("DELETE", f"/pipelines/{PIPELINE}"))
    assert failed.status == 503
    assert PIPELINE in failed.body["message"] and "send DELETE again" in failed.body["message"]
    item = orchestrator.item(PIPELINE)
    assert item["status"] == {"S": "DELETING"}
    assert "last_error" not in item

    orchestrator.invocations.fail_with = None
    assert call(api_event("DELETE", f"/pipelines/{PIPELINE}")).status == 202
    assert orchestrator.invocations.payloads[-1] == {"action": "delete", "pipeline_id": PIPELINE, "version": 1}


def test_a_limit_of_non_ascii_digits_is_a_400_not_a_crash(orchestrator):
    for limit in ("²", "٣"):
        response = list_pipelines(limit=limit)
        assert response.status == 400, response.body
        assert response.body["errors"][0]["field"] == "limit"


def test_a_codepipeline_timeout_still_returns_the_registry_state(orchestrator):
    from botocore.exceptions import ReadTimeoutError

    provision()
    Registry(TABLE).transition(PIPELINE, Status.PROVISIONING, codepipeline_name="mlops-p")

    def time_out(**_: object) -> None:
        raise ReadTimeoutError(endpoint_url="https://codepipeline.us-east-1.amazonaws.com")

    events = aws.client("codepipeline").meta.events
    events.register("before-call.codepipeline.GetPipelineState", time_out)
    try:
        response = get(PIPELINE)
    finally:
        events.unregister("before-call.codepipeline.GetPipelineState", time_out)
    assert response.status == 200
    assert response.body["status"] == "PROVISIONING"
    assert response.body["delivery_pipeline_state"] == "unreadable (ReadTimeoutError)"
