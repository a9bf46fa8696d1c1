"""GET /pipelines/{id}/drift, the drift state of listed pipelines, and POST /pipelines/{id}/reconcile."""

from __future__ import annotations

import json

import pytest

from lambda_src.api.drift import DRIFT_STATES, drift_state
from lambda_src.provisioner.drift import drift_message
from lambda_src.registry import Registry, Status
from mlops_spec import naming
from mlops_spec.openapi.answers import DRIFT_STATES as PUBLISHED_DRIFT_STATES
from tests.support.api_gateway import api_event, call
from tests.support.moto_orchestrator import TABLE
from tests.support.requests import realtime_body

PIPELINE = "churn-xgb-realtime-builtin"
CALLER = "arn:aws:iam::111111111111:user/data-scientist"
URN = "urn:pulumi:churn-xgb-realtime-builtin-dev::mlops-target::aws:sagemaker/endpoint:Endpoint::churn-xgb-dev"
DRIFTED = {
    "checked_at": "2026-12-06T03:00:00Z",
    "in_sync": False,
    "environments": {
        "dev": {
            "in_sync": False,
            "changes": {"update": 1},
            "resources": [
                {
                    "urn": URN,
                    "type": "aws:sagemaker/endpoint:Endpoint",
                    "op": "update",
                    "properties": ["endpointConfigName"],
                }
            ],
        }
    },
}


def get_drift(pipeline_id: str):  # type: ignore[no-untyped-def]
    return call(api_event("GET", f"/pipelines/{pipeline_id}/drift", resource="/pipelines/{pipeline_id}/drift"))


def reconcile(pipeline_id: str):  # type: ignore[no-untyped-def]
    path = f"/pipelines/{pipeline_id}/reconcile"
    return call(api_event("POST", path, resource="/pipelines/{pipeline_id}/reconcile"))


def deployed(drift: dict | None = None, status: Status = Status.DEPLOYED) -> None:  # type: ignore[type-arg]
    """The pipeline provisioned through the API, deployed to dev, with a drift check recorded."""
    assert call(api_event("POST", "/provisionpipeline", realtime_body())).status == 202
    registry = Registry(TABLE)
    registry.transition(PIPELINE, Status.PROVISIONING, codepipeline_name=f"mlops-{PIPELINE}")
    registry.transition(PIPELINE, Status.DEPLOYED, outputs={"dev": {"endpoint_name": "churn-xgb-dev"}})
    if drift is not None:
        assert registry.record_drift(PIPELINE, 1, drift)
    if status != Status.DEPLOYED:
        registry.transition(PIPELINE, status)


# -- the state ---------------------------------------------------------------------------------------


@pytest.mark.fast
@pytest.mark.parametrize(
    ("document", "state"),
    [
        (None, "NOT_CHECKED"),
        ({}, "NOT_CHECKED"),
        ({"checked_at": "2026-12-06T03:00:00Z", "in_sync": True, "environments": {}}, "IN_SYNC"),
        (DRIFTED, "DRIFTED"),
        ({"checked_at": "2026-12-06T03:00:00Z", "in_sync": None, "environments": {}}, "UNKNOWN"),
    ],
)
def test_drift_state_of_a_record(document, state):
    assert drift_state(document) == state


@pytest.mark.fast
def test_the_api_and_the_document_name_the_same_drift_states():
    assert DRIFT_STATES == PUBLISHED_DRIFT_STATES


@pytest.mark.fast
def test_the_drift_email_points_at_the_reconcile_not_at_a_replay():
    subject, body = drift_message(PIPELINE, DRIFTED, ["dev"])
    assert subject == f"MLOps pipeline {PIPELINE} has drifted"
    assert body.splitlines()[1:] == [
        "  dev: update aws:sagemaker/endpoint:Endpoint churn-xgb-dev (endpointConfigName)",
        f"Restore what it declares with `mlops reconcile {PIPELINE}` (POST /pipelines/{PIPELINE}/reconcile).",
    ]


# -- GET /pipelines/{id}/drift -----------------------------------------------------------------------


def test_drift_of_a_drifted_pipeline_names_each_resource_and_property(orchestrator):
    deployed(DRIFTED)

    answer = get_drift(PIPELINE)

    assert answer.status == 200
    assert answer.body == {
        "pipeline_id": PIPELINE,
        "status": "DEPLOYED",
        "version": 1,
        "checked": True,
        "drift": "DRIFTED",
        "checked_at": "2026-12-06T03:00:00Z",
        "in_sync": False,
        "environments": {
            "dev": {
                "in_sync": False,
                "changes": {"update": 1},
                "resources": DRIFTED["environments"]["dev"]["resources"],
                "error": None,
            }
        },
    }


def test_an_environment_that_could_not_be_checked_says_why(orchestrator):
    unknown = {
        "checked_at": "2026-12-06T03:00:00Z",
        "in_sync": None,
        "environments": {"dev": {"in_sync": None, "error": "untrusted-state: the stack's provider is not dev's"}},
    }
    deployed(unknown)

    body = get_drift(PIPELINE).body

    assert (body["drift"], body["in_sync"]) == ("UNKNOWN", None)
    assert body["environments"]["dev"] == {
        "in_sync": None,
        "changes": {},
        "resources": [],
        "error": "untrusted-state: the stack's provider is not dev's",
    }


def test_drift_of_a_pipeline_never_checked(orchestrator):
    deployed()

    answer = get_drift(PIPELINE)

    assert answer.status == 200
    assert answer.body == {
        "pipeline_id": PIPELINE,
        "status": "DEPLOYED",
        "version": 1,
        "checked": False,
        "drift": "NOT_CHECKED",
        "checked_at": None,
        "in_sync": None,
        "environments": {},
    }


@pytest.mark.parametrize("pipeline_id", ["no-such-pipeline", "-not-an-id"])
def test_drift_of_an_unknown_pipeline_is_404(orchestrator, pipeline_id):
    answer = get_drift(pipeline_id)

    assert answer.status == 404
    assert answer.body == {"message": f"pipeline {pipeline_id!r} not found"}


def test_listed_pipelines_carry_their_drift_state(orchestrator):
    deployed(DRIFTED)
    assert call(api_event("POST", "/provisionpipeline", realtime_body(model_name="other"))).status == 202

    listed = call(api_event("GET", "/pipelines")).body["pipelines"]

    assert {p["pipeline_id"]: p["drift"] for p in listed} == {
        PIPELINE: "DRIFTED",
        "other-realtime-builtin": "NOT_CHECKED",
    }


# -- POST /pipelines/{id}/reconcile ------------------------------------------------------------------


def test_reconcile_queues_the_unchanged_spec_as_a_new_version_and_starts_the_provisioner(orchestrator):
    deployed(DRIFTED)
    before = Registry(TABLE).get(PIPELINE)
    assert before is not None
    orchestrator.invocations.calls.clear()

    answer = reconcile(PIPELINE)

    assert answer.status == 202
    assert answer.headers["Location"] == f"/pipelines/{PIPELINE}"
    assert answer.body == {
        "pipeline_id": PIPELINE,
        "status": "QUEUED",
        "pipeline_type": "byom_realtime_builtin",
        "version": 2,
        "environments": ["dev"],
        "stacks": [f"{PIPELINE}-delivery", f"{PIPELINE}-dev"],
        "requested_by": CALLER,
        "source": f"reconcile:{CALLER}",
    }
    after = Registry(TABLE).get(PIPELINE)
    assert after is not None
    assert (after.status, after.version, after.spec, after.spec_hash) == (
        Status.QUEUED,
        2,
        before.spec,
        before.spec_hash,
    )
    assert after.requested_by == {"arn": CALLER, "principal_id": "AIDAEXAMPLE"}
    assert orchestrator.invocations.payloads == [{"action": "provision", "pipeline_id": PIPELINE, "version": 2}]
    stored = orchestrator.s3.get_object(Bucket=orchestrator.bucket, Key=naming.spec_key(PIPELINE))
    assert json.loads(stored["Body"].read()) == json.loads(str(before.spec))
    assert stored["Metadata"]["spec-version"] == "2"


def test_the_same_request_sent_again_is_still_a_replay(orchestrator):
    """Only reconcile bypasses the replay rule: POST /provisionpipeline with the same body queues nothing."""
    deployed()
    orchestrator.invocations.calls.clear()

    answer = call(api_event("POST", "/provisionpipeline", realtime_body()))

    assert (answer.status, answer.body["idempotent_replay"], answer.body["version"]) == (200, True, 1)
    assert orchestrator.invocations.calls == []


def test_a_failed_pipeline_is_not_reconciled_even_after_a_deployment(orchestrator):
    """Its record holds the version that failed (never deployed, never approved): a reconcile would
    queue it again under the reconciler's name."""
    deployed(status=Status.FAILED)

    answer = reconcile(PIPELINE)

    assert answer.status == 409
    assert answer.body["message"].endswith("its last version did not deploy; send its request again (mlops provision)")


@pytest.mark.parametrize(
    ("status", "why"),
    [
        (Status.QUEUED, "wait until its current operation has finished"),
        (Status.PROVISIONING, "wait until its current operation has finished"),
        (Status.AWAITING_APPROVAL, "answer its pending approval first (mlops approve or mlops reject)"),
        (Status.FAILED, "its last version did not deploy; send its request again (mlops provision)"),
    ],
)
def test_reconcile_without_a_deployment_to_restore_is_409_and_writes_nothing(orchestrator, status, why):
    assert call(api_event("POST", "/provisionpipeline", realtime_body())).status == 202
    if status != Status.QUEUED:
        Registry(TABLE).transition(PIPELINE, Status.PROVISIONING)
        Registry(TABLE).transition(PIPELINE, status)
    item = orchestrator.item(PIPELINE)
    orchestrator.invocations.calls.clear()

    answer = reconcile(PIPELINE)

    assert answer.status == 409
    assert answer.body == {
        "message": f"pipeline {PIPELINE} is {status}: only a DEPLOYED pipeline can be reconciled; {why}",
        "errors": [{"field": "pipeline_id", "problem": f"is {status}"}],
    }
    assert orchestrator.item(PIPELINE) == item
    assert orchestrator.invocations.calls == []


def test_reconcile_of_an_unknown_pipeline_is_404(orchestrator):
    answer = reconcile("no-such-pipeline")

    assert answer.status == 404
    assert orchestrator.items() == []
    assert orchestrator.invocations.calls == []


def test_reconcile_that_cannot_start_the_provisioner_is_503_and_the_request_sent_again_retries_it(orchestrator):
    deployed()
    orchestrator.invocations.fail_with = RuntimeError("lambda down")

    first = reconcile(PIPELINE)

    assert first.status == 503
    assert Registry(TABLE).get(PIPELINE).status == Status.FAILED  # type: ignore[union-attr]
    orchestrator.invocations.fail_with = None
    # FAILED holds the deployed spec queued again: the same request sent again is its retry.
    again = call(api_event("POST", "/provisionpipeline", realtime_body()))
    assert (again.status, again.body["version"]) == (202, 3)
