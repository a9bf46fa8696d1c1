"""Config uploads to a user's existing bucket: S3 -> EventBridge (the bucket's own setting) -> the rule the
orchestrator declares -> the trigger. Events are produced by moto from a real upload and matched by the
rule pattern the component declares."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.orchestrator.events import config_upload_event_pattern
from lambda_src.common import aws
from lambda_src.trigger.handler import handler
from tests.support.api_gateway import LAMBDA_CONTEXT
from tests.support.moto_orchestrator import BUCKET
from tests.support.requests import realtime_body


@pytest.fixture
def eventbridge_events(orchestrator) -> Any:  # type: ignore[no-untyped-def]
    """Upload files to a bucket that sends its events to EventBridge, and get the events our rule
    matches, exactly as EventBridge (moto) delivers them to a target."""
    sqs = aws.client("sqs")
    queue_url = sqs.create_queue(QueueName="config-upload-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # What the user turns on; their own notifications stay.
    aws.client("s3").put_bucket_notification_configuration(
        Bucket=BUCKET, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    events = aws.client("events")
    events.put_rule(Name="mlops-config-uploads", EventPattern=json.dumps(config_upload_event_pattern(BUCKET)))
    events.put_targets(Rule="mlops-config-uploads", Targets=[{"Id": "trigger", "Arn": queue_arn}])

    def upload(key: str, content: str) -> list[dict[str, Any]]:
        aws.client("s3").put_object(Bucket=BUCKET, Key=key, Body=content)
        delivered: list[dict[str, Any]] = []
        while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                delivered.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return delivered

    return upload


def test_an_eventbridge_object_created_event_is_recorded_like_an_s3_notification(orchestrator, eventbridge_events):
    key = "teams/retention team/mlops-config.json"
    [event] = eventbridge_events(key, json.dumps(realtime_body()))
    assert (event["source"], event["detail-type"]) == ("aws.s3", "Object Created")

    result = handler(event, LAMBDA_CONTEXT)

    source = f"s3://{BUCKET}/{key}"
    assert result == {
        "results": [{"source": source, "outcome": "queued", "pipeline_id": "churn-xgb-realtime-builtin", "errors": []}]
    }
    assert orchestrator.item("churn-xgb-realtime-builtin")["source"] == {"S": source}
    assert orchestrator.invocations.payloads == [
        {"action": "provision", "pipeline_id": "churn-xgb-realtime-builtin", "version": 1}
    ]


def test_the_rule_lets_only_config_files_through(orchestrator, eventbridge_events):
    assert eventbridge_events("data/train.csv", "a,b\n1,2\n") == []
    assert eventbridge_events("data/mlops-config.json.bak", "{}") == []


def test_eventbridge_events_of_other_buckets_or_objects_are_ignored(orchestrator):
    def event(bucket: str, key: str, detail_type: str = "Object Created") -> dict[str, Any]:
        return {
            "source": "aws.s3",
            "detail-type": detail_type,
            "detail": {"bucket": {"name": bucket}, "object": {"key": key, "version-id": "v1"}},
        }

    for ignored in (
        event("someone-else", "mlops-config.json"),
        event(BUCKET, "data/train.csv"),
        event(BUCKET, "mlops-config.json", detail_type="Object Deleted"),
    ):
        assert handler(ignored, LAMBDA_CONTEXT) == {"results": []}
    assert orchestrator.items() == []
