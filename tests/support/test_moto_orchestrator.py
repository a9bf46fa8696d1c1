"""The orchestrator's moto account: each test gets a fresh one, whether built or copied from the template."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from lambda_src.common import aws
from tests.support.moto_orchestrator import BUCKET, DATA_KEY, TABLE, Orchestrator, start_orchestrator


@contextlib.contextmanager
def account() -> Iterator[Orchestrator]:
    with pytest.MonkeyPatch.context() as patch:
        started = start_orchestrator(patch)
        try:
            yield next(started)
        finally:
            started.close()


def dirty(orchestrator: Orchestrator) -> None:
    """Everything a test may leave behind: an item, an object version, a message, another bucket."""
    orchestrator.dynamodb.put_item(TableName=TABLE, Item={"pipeline_id": {"S": "p1"}, "client_token": {"S": "t1"}})
    orchestrator.s3.put_object(Bucket=BUCKET, Key="specs/p1.json", Body=b"{}")
    orchestrator.s3.create_bucket(Bucket="left-behind")
    aws.client("sns").publish(TopicArn=orchestrator.topic_arn, Message="left behind")


def test_each_account_starts_empty_however_the_last_one_was_left(aws_credentials: None) -> None:
    # The first account of the process may be the one built through the API, the others are copies.
    for _ in range(3):
        with account() as orchestrator:
            assert orchestrator.items() == []
            assert orchestrator.object_keys() == []
            assert orchestrator.s3.list_object_versions(Bucket=BUCKET).get("Versions", []) == []
            assert [b["Name"] for b in orchestrator.s3.list_buckets()["Buckets"]] == [BUCKET]
            assert orchestrator.announcements() == []
            dirty(orchestrator)


def test_each_account_holds_the_orchestrators_resources_as_configured(aws_credentials: None) -> None:
    for _ in range(2):
        with account() as orchestrator:
            s3 = orchestrator.s3
            assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
            [rule] = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
            assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": DATA_KEY}
            dirty(orchestrator)
            by_token = orchestrator.dynamodb.query(
                TableName=TABLE,
                IndexName="client_token",
                KeyConditionExpression="client_token = :t",
                ExpressionAttributeValues={":t": {"S": "t1"}},
            )["Items"]
            assert [item["pipeline_id"]["S"] for item in by_token] == ["p1"]
            assert [message["Message"] for message in orchestrator.announcements()] == ["left behind"]
            assert s3.get_object(Bucket=BUCKET, Key="specs/p1.json")["ServerSideEncryption"] == "aws:kms"


def test_delivered_messages_are_still_signed_with_one_key_per_process(aws_credentials: None) -> None:
    from moto.sns.models import Subscription

    signatures = []
    for _ in range(2):
        with account() as orchestrator:
            aws.client("sns").publish(TopicArn=orchestrator.topic_arn, Message="signed")
            [envelope] = orchestrator.announcements()
            signatures.append(envelope["Signature"])
    assert all(len(signature) > 100 for signature in signatures)
    assert Subscription.private_key(object()) is Subscription.private_key(object())  # type: ignore[arg-type]
