"""The mlops-config.json trigger: real S3 event shapes (delivered by moto to SQS), records and announcements."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambda_src.common import aws
from lambda_src.common.untrusted_json import NOT_FINITE
from lambda_src.registry import Registry, Status
from lambda_src.trigger.handler import handler, rejection_id
from tests.support.api_gateway import LAMBDA_CONTEXT
from tests.support.examples import EXAMPLES
from tests.support.moto_orchestrator import BUCKET, TABLE
from tests.support.requests import realtime_body


@pytest.fixture
def s3_events(orchestrator) -> Any:  # type: ignore[no-untyped-def]
    """Upload files and get the S3 notification event exactly as S3 (moto) delivers it to SQS."""
    sqs = aws.client("sqs")
    queue_url = sqs.create_queue(QueueName="s3-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws.client("s3").put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": "mlops-config.json"}]}},
                }
            ]
        },
    )

    def upload(*files: tuple[str, bytes | str]) -> dict[str, Any]:
        for key, content in files:
            aws.client("s3").put_object(Bucket=BUCKET, Key=key, Body=content)
        records: list[dict[str, Any]] = []
        while True:
            messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                break
            for message in messages:
                event = json.loads(message["Body"])
                records += event.get("Records", [])  # the configuration's s3:TestEvent has none
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return {"Records": records}

    return upload


def announcements(orchestrator) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    found = orchestrator.announcements()
    return [
        {
            "subject": a["Subject"],
            "message": a["Message"],
            "attributes": {k: v["Value"] for k, v in a.get("MessageAttributes", {}).items()},
        }
        for a in found
    ]


def test_a_valid_file_is_recorded_and_started_like_an_api_request(orchestrator, s3_events):
    key = "teams/retention team/mlops-config.json"
    event = s3_events((key, json.dumps(realtime_body())))
    # quote_plus-encoded, "/" included (moto does so; S3 itself leaves "/" as is): both decode the same.
    assert event["Records"][0]["s3"]["object"]["key"] == "teams%2Fretention+team%2Fmlops-config.json"

    result = handler(event, LAMBDA_CONTEXT)

    source = f"s3://{BUCKET}/{key}"
    assert result == {
        "results": [{"source": source, "outcome": "queued", "pipeline_id": "churn-xgb-realtime-builtin", "errors": []}]
    }
    item = orchestrator.item("churn-xgb-realtime-builtin")
    assert item["status"] == {"S": "QUEUED"}
    assert item["source"] == {"S": source}
    assert orchestrator.invocations.payloads == [
        {"action": "provision", "pipeline_id": "churn-xgb-realtime-builtin", "version": 1}
    ]
    assert sorted(orchestrator.object_keys()) == ["pipelines/churn-xgb-realtime-builtin/spec.json", key]
    [announcement] = announcements(orchestrator)
    assert announcement["subject"] == "MLOps: pipeline churn-xgb-realtime-builtin queued"
    assert announcement["attributes"] == {"outcome": "queued", "pipeline_id": "churn-xgb-realtime-builtin"}


def test_an_invalid_file_is_rejected_recorded_and_announced_with_its_field_errors(orchestrator, s3_events):
    body = realtime_body(model_name=None, inference_instance="large")
    event = s3_events(("mlops-config.json", json.dumps(body)))

    result = handler(event, LAMBDA_CONTEXT)

    source = f"s3://{BUCKET}/mlops-config.json"
    pipeline_id = rejection_id(source)
    [outcome] = result["results"]
    assert outcome["outcome"] == "rejected"
    assert outcome["pipeline_id"] == pipeline_id
    errors = {e["field"]: e["problem"] for e in outcome["errors"]}
    assert errors["model_name"] == "is required"
    assert "SageMaker instance type" in errors["inference_instance"]
    record = Registry(TABLE).get(pipeline_id)
    assert record is not None
    assert record.status == Status.REJECTED
    assert record.pipeline_type == "byom_realtime_builtin"
    assert record.source == source
    assert {e["field"] for e in record.errors} == {"model_name", "inference_instance"}
    assert orchestrator.invocations.calls == []
    [announcement] = announcements(orchestrator)
    assert announcement["subject"] == "MLOps: rejected mlops-config.json"
    assert announcement["attributes"] == {"outcome": "rejected", "pipeline_id": pipeline_id}
    assert f"The pipeline request in {source} was rejected" in announcement["message"]
    assert "- model_name: is required" in announcement["message"]
    assert "- inference_instance: must be a SageMaker instance type" in announcement["message"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [(b"\xff\xfe not utf-8", "is not valid JSON"), (b"[1, 2]", "must be a JSON object"), (b"{", "is not valid JSON")],
)
def test_unreadable_files_are_rejected(orchestrator, s3_events, content, problem):
    result = handler(s3_events(("x/mlops-config.json", content)), LAMBDA_CONTEXT)
    [outcome] = result["results"]
    assert outcome["outcome"] == "rejected"
    assert problem in outcome["errors"][0]["problem"]
    assert Registry(TABLE).get(outcome["pipeline_id"]).pipeline_type == "unknown"
    assert problem in announcements(orchestrator)[0]["message"]


def test_a_config_file_with_an_overflowing_number_is_rejected_naming_the_field(orchestrator, s3_events):
    text = (EXAMPLES / "model_training_builtin.json").read_text().replace('"eta": 0.2', '"eta": 1e400')
    key = "team/mlops-config.json"

    result = handler(s3_events((key, text)), LAMBDA_CONTEXT)

    [outcome] = result["results"]
    assert outcome["outcome"] == "rejected"
    assert outcome["errors"] == [{"field": "algo_hyperparamaters.eta", "problem": NOT_FINITE}]
    record = Registry(TABLE).get(outcome["pipeline_id"])
    assert record is not None and record.status == Status.REJECTED
    assert orchestrator.item("churn-xgb-training") is None
    assert orchestrator.object_keys() == [key]  # only the uploaded file: no spec stored
    assert orchestrator.invocations.calls == []
    [announcement] = announcements(orchestrator)
    assert announcement["attributes"]["outcome"] == "rejected"
    assert f"- algo_hyperparamaters.eta: {NOT_FINITE}" in announcement["message"]


def test_model_card_operations_are_not_accepted_from_files(orchestrator, s3_events):
    result = handler(s3_events(("mlops-config.json", '{"pipeline_type": "list_model_cards"}')), LAMBDA_CONTEXT)
    assert result["results"][0]["outcome"] == "rejected"
    assert result["results"][0]["errors"][0]["field"] == "pipeline_type"


def test_every_record_of_an_event_is_processed(orchestrator, s3_events):
    event = s3_events(
        ("a/mlops-config.json", json.dumps(realtime_body(model_name="model-a"))),
        ("b/mlops-config.json", json.dumps(realtime_body(model_name="model-b"))),
        ("c/mlops-config.json", "not json"),
    )
    assert len(event["Records"]) == 3

    result = handler(event, LAMBDA_CONTEXT)

    outcomes = sorted((r["source"].rsplit("/", 2)[1], r["outcome"]) for r in result["results"])
    assert outcomes == [("a", "queued"), ("b", "queued"), ("c", "rejected")]
    assert {p["pipeline_id"] for p in orchestrator.invocations.payloads} == {
        "model-a-realtime-builtin",
        "model-b-realtime-builtin",
    }
    assert len(announcements(orchestrator)) == 3


def test_an_unchanged_re_upload_writes_nothing(orchestrator, s3_events):
    handler(s3_events(("mlops-config.json", json.dumps(realtime_body()))), LAMBDA_CONTEXT)
    item = orchestrator.item("churn-xgb-realtime-builtin")

    result = handler(s3_events(("mlops-config.json", json.dumps(realtime_body()))), LAMBDA_CONTEXT)

    assert result["results"][0]["outcome"] == "unchanged"
    assert orchestrator.item("churn-xgb-realtime-builtin") == item
    assert len(orchestrator.invocations.calls) == 1


def test_a_change_while_provisioning_is_announced_as_a_conflict(orchestrator, s3_events):
    handler(s3_events(("mlops-config.json", json.dumps(realtime_body()))), LAMBDA_CONTEXT)
    Registry(TABLE).transition("churn-xgb-realtime-builtin", Status.PROVISIONING)
    orchestrator.announcements()  # drain the first announcement

    changed = json.dumps(realtime_body(inference_instance="ml.c5.xlarge"))
    result = handler(s3_events(("mlops-config.json", changed)), LAMBDA_CONTEXT)

    assert result["results"][0]["outcome"] == "conflict"
    [announcement] = announcements(orchestrator)
    assert announcement["attributes"] == {"outcome": "conflict"}
    assert "is PROVISIONING" in announcement["message"]


def test_other_objects_and_buckets_are_ignored(orchestrator):
    event = {
        "Records": [
            {"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": BUCKET}, "object": {"key": "data/train.csv"}}},
            {
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": "someone-else"}, "object": {"key": "mlops-config.json"}},
            },
            {
                "eventName": "ObjectRemoved:Delete",
                "s3": {"bucket": {"name": BUCKET}, "object": {"key": "mlops-config.json"}},
            },
        ]
    }
    assert handler(event, LAMBDA_CONTEXT) == {"results": []}
    assert orchestrator.items() == []


def test_a_file_deleted_before_it_is_read_is_skipped(orchestrator):
    event = {
        "Records": [
            {
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": BUCKET}, "object": {"key": "gone/mlops-config.json"}},
            }
        ]
    }
    assert handler(event, LAMBDA_CONTEXT)["results"][0]["outcome"] == "skipped"


def test_an_internal_failure_fails_the_invocation_after_processing_the_rest(orchestrator, s3_events, monkeypatch):
    event = s3_events(
        ("a/mlops-config.json", json.dumps(realtime_body(model_name="model-a"))),
        ("b/mlops-config.json", json.dumps(realtime_body(model_name="model-b"))),
    )
    from botocore.exceptions import ClientError

    calls = {"n": 0}
    real = Registry.create

    def flaky_create(self, record):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "PutItem")
        return real(self, record)

    monkeypatch.setattr(Registry, "create", flaky_create)
    with pytest.raises(RuntimeError, match="could not process"):
        handler(event, LAMBDA_CONTEXT)
    assert len(orchestrator.items()) == 1  # the other file was still recorded


def test_an_older_uploads_event_processed_last_does_not_roll_the_pipeline_back(orchestrator, s3_events):
    """S3 events come in no particular order: the event of the first upload may arrive after the second's."""
    key = "team/mlops-config.json"
    first = s3_events((key, json.dumps(realtime_body(inference_instance="ml.m5.large"))))
    second = s3_events((key, json.dumps(realtime_body(inference_instance="ml.c5.xlarge"))))
    # S3 names the version each event is about (moto leaves it out of its events).
    versions = aws.client("s3").list_object_versions(Bucket=BUCKET, Prefix=key)["Versions"]
    by_age = sorted(versions, key=lambda v: v["IsLatest"])
    for event, version in zip((first, second), by_age, strict=True):
        [record] = event["Records"]
        record["s3"]["object"]["versionId"] = version["VersionId"]

    assert handler(second, LAMBDA_CONTEXT)["results"][0]["outcome"] == "queued"
    Registry(TABLE).transition("churn-xgb-realtime-builtin", Status.PROVISIONING)
    Registry(TABLE).transition("churn-xgb-realtime-builtin", Status.DEPLOYED)
    late = handler(first, LAMBDA_CONTEXT)

    assert late["results"][0]["outcome"] == "superseded"
    item = orchestrator.item("churn-xgb-realtime-builtin")
    assert json.loads(item["spec"]["S"])["inference_instance"] == "ml.c5.xlarge"
    assert (item["version"], item["status"]) == ({"N": "1"}, {"S": "DEPLOYED"})
    assert len(orchestrator.invocations.calls) == 1
