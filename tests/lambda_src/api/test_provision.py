"""POST /provisionpipeline: accepted requests, dry runs, idempotency, conflicts and validation errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambda_src.common import settings
from lambda_src.registry import Registry, Status
from mlops_spec.request import parse_pipeline_request
from tests.support.api_gateway import api_event, call
from tests.support.examples import example_cases
from tests.support.moto_orchestrator import BUCKET, PROVISIONER, TABLE
from tests.support.requests import realtime_body

PIPELINE = "churn-xgb-realtime-builtin"


def provision(body: object, query: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return call(api_event("POST", "/provisionpipeline", body, query=query))


def advance(pipeline_id: str, *statuses: Status) -> None:
    """Move a record along the status machine, as the provisioner and status updater would."""
    registry = Registry(TABLE)
    for status in statuses:
        registry.transition(pipeline_id, status)


# -- accepted -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "mode", "use_registry"),
    example_cases() or [(None, "single", False)],
    ids=lambda v: f"{v.parent.name}/{v.name}" if isinstance(v, Path) else str(v),
)
def test_every_example_is_accepted_recorded_stored_and_started(orchestrator, monkeypatch, path, mode, use_registry):
    monkeypatch.setenv(settings.MODE, mode)
    monkeypatch.setenv(settings.USE_MODEL_REGISTRY, "true" if use_registry else "false")
    body = json.loads(path.read_text()) if path else realtime_body()
    expected = parse_pipeline_request(body, mode=mode, use_model_registry=use_registry)
    envs = list(expected.environments(mode))

    response = provision(body)

    assert response.status == 202, response.body
    pipeline_id = expected.pipeline_id
    assert response.body == {
        "pipeline_id": pipeline_id,
        "status": "QUEUED",
        "pipeline_type": body["pipeline_type"],
        "version": 1,
        "environments": envs,
        "stacks": [f"{pipeline_id}-delivery"] + [f"{pipeline_id}-{env}" for env in envs],
        "idempotent_replay": False,
        "warnings": [],
    }
    assert response.headers["Location"] == f"/pipelines/{pipeline_id}"
    item = orchestrator.item(pipeline_id)
    assert item is not None
    assert item["status"] == {"S": "QUEUED"}
    assert item["version"] == {"N": "1"}
    assert item["spec_hash"] == {"S": expected.spec_hash()}
    assert [e["S"] for e in item["environments"]["L"]] == envs
    # The stored spec is the normalised request and parses back to the same request.
    stored = orchestrator.s3.get_object(Bucket=BUCKET, Key=f"pipelines/{pipeline_id}/spec.json")
    assert stored["ServerSideEncryption"] == "aws:kms"
    assert stored["SSEKMSKeyId"] == orchestrator.data_key  # the bucket default: the orchestrator's data key
    assert stored["Metadata"] == {"pipeline-id": pipeline_id, "spec-version": "1"}
    spec_text = stored["Body"].read().decode()
    assert spec_text == item["spec"]["S"]
    reparsed = parse_pipeline_request(json.loads(spec_text), mode=mode, use_model_registry=use_registry)
    assert reparsed.spec_hash() == expected.spec_hash()
    assert orchestrator.invocations.calls == [
        {
            "function": PROVISIONER,
            "type": "Event",
            "payload": {"action": "provision", "pipeline_id": pipeline_id, "version": 1},
        }
    ]


def test_the_caller_is_recorded_as_the_source(orchestrator):
    provision(realtime_body())
    assert orchestrator.item(PIPELINE)["source"] == {"S": "api:arn:aws:iam::111111111111:user/data-scientist"}


def test_an_explicit_kms_key_is_used_for_the_spec_object(orchestrator, monkeypatch):
    key_arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    monkeypatch.setenv(settings.ASSETS_KMS_KEY_ARN, key_arn)
    assert provision(realtime_body()).status == 202
    head = orchestrator.s3.head_object(Bucket=BUCKET, Key=f"pipelines/{PIPELINE}/spec.json")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == key_arn


def test_multi_account_mode_deploys_to_three_environments(orchestrator, monkeypatch):
    monkeypatch.setenv(settings.MODE, "multi")
    response = provision(
        realtime_body(inference_instance={"dev": "ml.m5.large", "staging": "ml.m5.large", "prod": "ml.m5.xlarge"})
    )
    assert response.status == 202, response.body
    assert response.body["environments"] == ["dev", "staging", "prod"]
    assert response.body["stacks"] == [f"{PIPELINE}-{s}" for s in ("delivery", "dev", "staging", "prod")]


# -- dry run --------------------------------------------------------------------------------------


def test_dry_run_returns_the_plan_and_writes_nothing(orchestrator):
    response = provision(realtime_body(model_name="Churn-XGB"), query={"dry_run": "true"})

    assert response.status == 200
    assert response.body["dry_run"] is True
    assert response.body["pipeline_id"] == PIPELINE
    assert response.body["stacks"] == [f"{PIPELINE}-delivery", f"{PIPELINE}-dev"]
    assert response.body["spec"]["model_name"] == "Churn-XGB"
    assert response.body["spec"]["deployment"]["type"] == "all_at_once"  # defaults are filled in
    assert orchestrator.items() == []
    assert orchestrator.object_keys() == []
    assert orchestrator.invocations.calls == []


def test_dry_run_of_an_invalid_request_is_a_400(orchestrator):
    response = provision(realtime_body(model_name=None), query={"dry_run": "true"})
    assert response.status == 400
    assert response.body["errors"] == [{"field": "model_name", "problem": "is required"}]


@pytest.mark.parametrize("value", ["maybe", "2", "TRUEISH"])
def test_dry_run_flag_must_be_a_boolean(orchestrator, value):
    response = provision(realtime_body(), query={"dry_run": value})
    assert response.status == 400
    assert response.body["errors"] == [{"field": "dry_run", "problem": "must be true or false"}]
    assert orchestrator.items() == []


def test_unknown_query_parameters_are_rejected(orchestrator):
    response = provision(realtime_body(), query={"dryrun": "true"})
    assert response.status == 400
    assert response.body["errors"] == [{"field": "dryrun", "problem": "is not a known query parameter"}]
    assert orchestrator.items() == []


# -- idempotency ------------------------------------------------------------------------------------


def test_the_same_body_twice_is_one_pipeline_and_one_start(orchestrator):
    first = provision(realtime_body())
    second = provision(realtime_body())

    assert first.status == 202
    assert second.status == 200
    assert second.body == {**first.body, "idempotent_replay": True}
    assert len(orchestrator.items()) == 1
    assert len(orchestrator.spec_versions(PIPELINE)) == 1
    assert len(orchestrator.invocations.calls) == 1


def test_the_same_request_with_its_client_token_replays_while_the_pipeline_is_live(orchestrator):
    first = provision(realtime_body(client_token="deploy-41"))
    advance(PIPELINE, Status.PROVISIONING, Status.DEPLOYED)

    retry = provision(realtime_body(client_token="deploy-41"))

    assert (first.status, retry.status) == (202, 200)
    assert retry.body["idempotent_replay"] is True
    assert retry.body["status"] == "DEPLOYED"
    assert len(orchestrator.invocations.calls) == 1


@pytest.mark.parametrize(
    "change",
    [{"tags": {"changed": "yes"}}, {"model_name": "other-model"}],
    ids=["same-pipeline", "another-pipeline"],
)
def test_a_client_token_sent_again_with_a_different_request_is_a_conflict(orchestrator, change):
    first = provision(realtime_body(client_token="deploy-42"))
    before = orchestrator.item(PIPELINE)

    retry = provision(realtime_body(client_token="deploy-42", **change))

    assert first.status == 202
    assert retry.status == 409
    assert retry.body["message"].startswith("client_token was used for a different request")
    assert retry.body["errors"] == [{"field": "client_token", "problem": "was used for a different request"}]
    assert orchestrator.item(PIPELINE) == before
    assert orchestrator.item("other-model-realtime-builtin") is None
    assert len(orchestrator.invocations.calls) == 1


@pytest.mark.parametrize(
    "statuses",
    [
        (Status.PROVISIONING, Status.FAILED),
        (Status.PROVISIONING, Status.AWAITING_APPROVAL, Status.REJECTED),
        (Status.PROVISIONING, Status.DEPLOYED, Status.DELETING, Status.DELETED),
    ],
    ids=["FAILED", "REJECTED", "DELETED"],
)
def test_resending_a_request_with_its_client_token_after_it_ended_runs_it_again(orchestrator, statuses):
    """README: "Resending the same request after a failure retries it" - with a token too."""
    provision(realtime_body(client_token="deploy-44"))
    advance(PIPELINE, *statuses)

    retry = provision(realtime_body(client_token="deploy-44"))

    assert retry.status == 202
    assert (retry.body["idempotent_replay"], retry.body["version"], retry.body["status"]) == (False, 2, "QUEUED")
    item = orchestrator.item(PIPELINE)
    assert item["client_token"] == {"S": "deploy-44"}
    assert [p["version"] for p in orchestrator.invocations.payloads] == [1, 2]


def test_a_client_token_is_judged_with_the_spec_it_was_sent_with():
    from lambda_src.common.submission import decide
    from lambda_src.registry import PipelineRecord

    def record(status: Status, spec_hash: str, token: str | None) -> PipelineRecord:
        return PipelineRecord(PIPELINE, status, "byom_realtime_builtin", 1, "t", "t", None, spec_hash, token)

    assert decide(record(Status.DEPLOYED, "a", "t1"), record(Status.QUEUED, "a", "t1")) == "replay"
    assert decide(record(Status.FAILED, "a", "t1"), record(Status.QUEUED, "a", "t1")) == "update"
    assert decide(record(Status.DELETING, "a", "t1"), record(Status.QUEUED, "a", "t1")) == "conflict"
    assert decide(record(Status.FAILED, "a", "t1"), record(Status.QUEUED, "b", "t1")) == "token-reused"
    assert decide(record(Status.DEPLOYED, "a", "t1"), record(Status.QUEUED, "b", "t2")) == "update"


def test_a_different_spec_for_a_deployed_pipeline_queues_version_2(orchestrator):
    provision(realtime_body())
    advance(PIPELINE, Status.PROVISIONING, Status.DEPLOYED)
    created_at = orchestrator.item(PIPELINE)["created_at"]

    response = provision(realtime_body(inference_instance="ml.m5.xlarge"))

    assert response.status == 202
    assert response.body["version"] == 2
    assert response.body["status"] == "QUEUED"
    item = orchestrator.item(PIPELINE)
    assert item["status"] == {"S": "QUEUED"}
    assert item["version"] == {"N": "2"}
    assert json.loads(item["spec"]["S"])["inference_instance"] == "ml.m5.xlarge"
    assert item["created_at"] == created_at
    assert item["updated_at"]["S"] > created_at["S"]
    versions = orchestrator.spec_versions(PIPELINE)
    assert len(versions) == 2
    latest = orchestrator.s3.get_object(Bucket=BUCKET, Key=f"pipelines/{PIPELINE}/spec.json")
    assert latest["Metadata"]["spec-version"] == "2"
    assert [p["version"] for p in orchestrator.invocations.payloads] == [1, 2]


@pytest.mark.parametrize("status_path", [(), (Status.PROVISIONING,)], ids=["QUEUED", "PROVISIONING"])
def test_a_different_spec_while_in_progress_is_a_conflict(orchestrator, status_path):
    provision(realtime_body())
    advance(PIPELINE, *status_path)
    before = orchestrator.item(PIPELINE)

    response = provision(realtime_body(inference_instance="ml.m5.xlarge"))

    assert response.status == 409
    expected_status = status_path[-1] if status_path else Status.QUEUED
    assert response.body["errors"] == [{"field": "pipeline_id", "problem": f"is {expected_status}"}]
    assert orchestrator.item(PIPELINE) == before
    assert len(orchestrator.invocations.calls) == 1


def test_a_different_spec_while_deleting_is_a_conflict(orchestrator):
    provision(realtime_body())
    advance(PIPELINE, Status.PROVISIONING, Status.DEPLOYED, Status.DELETING)
    response = provision(realtime_body(inference_instance="ml.m5.xlarge"))
    assert response.status == 409
    assert "DELETING" in response.body["message"]


def test_the_same_spec_after_a_failure_is_queued_again(orchestrator):
    provision(realtime_body())
    advance(PIPELINE, Status.PROVISIONING)
    Registry(TABLE).transition(PIPELINE, Status.FAILED, last_error="stack update failed")

    response = provision(realtime_body())

    assert response.status == 202
    assert response.body["version"] == 2
    item = orchestrator.item(PIPELINE)
    assert item["status"] == {"S": "QUEUED"}
    assert "last_error" not in item


# -- failures to start ------------------------------------------------------------------------------


def test_a_failed_provisioner_start_is_recorded_as_failed_and_retryable(orchestrator):
    from botocore.exceptions import ClientError

    orchestrator.invocations.fail_with = ClientError(
        {"Error": {"Code": "ServiceException", "Message": "boom"}}, "Invoke"
    )
    response = provision(realtime_body())

    assert response.status == 503
    assert response.body["pipeline_id"] == PIPELINE
    item = orchestrator.item(PIPELINE)
    assert item["status"] == {"S": "FAILED"}
    assert "ClientError" in item["last_error"]["S"]

    orchestrator.invocations.fail_with = None
    retry = provision(realtime_body())
    assert retry.status == 202
    assert orchestrator.item(PIPELINE)["status"] == {"S": "QUEUED"}


def test_missing_settings_are_a_500_without_details(orchestrator, monkeypatch):
    monkeypatch.delenv(settings.REGISTRY_TABLE)
    response = provision(realtime_body())
    assert response.status == 500
    assert response.body == {"message": "internal error", "request_id": "5b1d-request"}


# -- validation -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "problem"),
    [
        (realtime_body(model_name=None), "model_name", "is required"),
        ({**realtime_body(), "model_name": None}, "model_name", "valid string"),
        (realtime_body(model_name="has_underscore"), "model_name", "no '_'"),
        (realtime_body(inference_instance="m5.large"), "inference_instance", "SageMaker instance type"),
        ({**realtime_body(), "pipeline_type": "byom_realtime_magic"}, "pipeline_type", "is not a known value"),
        ({k: v for k, v in realtime_body().items() if k != "pipeline_type"}, "pipeline_type", "is required"),
        ({**realtime_body(), "pipeline_type": ["byom_realtime_builtin"]}, "pipeline_type", ""),
        (realtime_body(inference_instance={"dev": "ml.m5.large"}), "inference_instance", "multi-account"),
    ],
    ids=[
        "missing",
        "null",
        "bad-name",
        "bad-instance",
        "unknown-type",
        "no-type",
        "list-type",
        "staged-in-single",
    ],
)
def test_invalid_requests_are_400_naming_the_field_and_write_nothing(orchestrator, body, field, problem):
    response = provision(body)

    assert response.status == 400, response.body
    assert response.body["message"]
    fields = {e["field"]: e["problem"] for e in response.body["errors"]}
    assert field in fields, response.body
    assert problem in fields[field]
    assert orchestrator.items() == []
    assert orchestrator.object_keys() == []
    assert orchestrator.invocations.calls == []


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("{not json", "is not valid JSON"),
        ("", "must be a JSON object"),
        ("[1, 2]", "must be a JSON object"),
        ('"text"', "must be a JSON object"),
        ("null", "must be a JSON object"),
        ('{"a": NaN}', "is not valid JSON"),
        ("[" * 5000 + "]" * 5000, "nested"),
        ('{"model_name": "\\ud800"}', "not valid Unicode"),
        ("1" * 5000, "is not valid JSON"),
    ],
    ids=["malformed", "empty", "array", "string", "null", "nan", "deep", "surrogate", "huge-int"],
)
def test_bodies_that_are_not_json_objects_are_400(orchestrator, raw, problem):
    response = call(api_event("POST", "/provisionpipeline", raw_body=raw))
    assert response.status == 400, response.body
    assert problem in response.body["errors"][0]["problem"]
    assert response.body["errors"][0]["field"] == "(body)"
    assert orchestrator.items() == []


def test_a_body_over_the_size_limit_is_413(orchestrator):
    response = provision(realtime_body(tags={"k": "v" * 300_000}))
    assert response.status == 413
    assert response.body["errors"][0]["field"] == "(body)"
    assert orchestrator.items() == []


def test_base64_bodies_are_decoded(orchestrator):
    response = call(api_event("POST", "/provisionpipeline", realtime_body(), base64_encoded=True))
    assert response.status == 202


def test_invalid_base64_is_400(orchestrator):
    event = api_event("POST", "/provisionpipeline", raw_body="%%%not-base64%%%")
    event["isBase64Encoded"] = True
    response = call(event)
    assert response.status == 400
    assert response.body["errors"] == [{"field": "(body)", "problem": "is not valid base64"}]


def test_model_registry_mode_requires_a_model_package(orchestrator, monkeypatch):
    monkeypatch.setenv(settings.USE_MODEL_REGISTRY, "true")
    response = provision(realtime_body())
    assert response.status == 400
    assert response.body["errors"][0]["field"] == "model_package_name"


def test_unknown_routes_and_methods_are_json_404(orchestrator):
    for method, path in [("GET", "/nope"), ("PATCH", "/provisionpipeline"), ("GET", "/provisionpipeline")]:
        response = call(api_event(method, path))
        assert response.status == 404
        assert response.body == {"message": f"no route for {method} {path}"}


def test_before_the_provisioner_is_installed_requests_are_refused_with_503(orchestrator, monkeypatch):
    # A first install (no mlops:provisionerImageTag yet) gives the functions no provisioner to start.
    monkeypatch.delenv(settings.PROVISIONER_FUNCTION)
    response = provision(realtime_body())

    assert response.status == 503
    assert "send the same request again" in response.body["message"]
    assert orchestrator.invocations.calls == []
    item = orchestrator.item(PIPELINE)
    assert item["status"] == {"S": "FAILED"}
    assert "ConfigurationError" in item["last_error"]["S"]
