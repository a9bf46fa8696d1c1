"""A moto account holding what the orchestrator component creates: registry table, assets bucket, topic,
and a recorder in place of the provisioner invoke."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from lambda_src.common import aws, settings
from mlops_spec import naming
from tests.support import moto_template

TABLE = "mlops-registry"
BUCKET = "mlops-assets-111111111111-us-east-1"
PROVISIONER = "mlops-provisioner"
REGION = "us-east-1"
DATA_KEY = "arn:aws:kms:us-east-1:111111111111:key/0b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"
# The services whose backends hold the orchestrator's resources (copied from a template per test).
_SERVICES = ("dynamodb", "s3", "sns", "sqs")


# -- the provisioner invoke ----------------------------------------------------------------------------


@dataclass
class Invocations:
    """Lambda Invoke calls, answered like an accepted async invoke (moto would not run anything anyway)."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    fail_with: Exception | None = None

    def __call__(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        if self.fail_with is not None:
            raise self.fail_with
        # `params` is the serialized request: the function name is in the path, the type in a header.
        function = unquote(params["url_path"].split("/functions/")[1].split("/")[0])
        self.calls.append(
            {
                "function": function,
                "type": params["headers"].get("X-Amz-Invocation-Type"),
                "payload": json.loads(params["body"]),
            }
        )
        return AWSResponse("https://lambda.local", 202, {}, None), {"StatusCode": 202}

    @property
    def payloads(self) -> list[dict[str, Any]]:
        return [call["payload"] for call in self.calls]


@dataclass
class Orchestrator:
    table: str
    bucket: str
    topic_arn: str
    queue_url: str
    invocations: Invocations
    data_key: str

    @property
    def dynamodb(self) -> Any:
        return aws.client("dynamodb")

    @property
    def s3(self) -> Any:
        return aws.client("s3")

    def items(self) -> list[dict[str, Any]]:
        return self.dynamodb.scan(TableName=self.table)["Items"]

    def item(self, pipeline_id: str) -> dict[str, Any] | None:
        return self.dynamodb.get_item(TableName=self.table, Key={"pipeline_id": {"S": pipeline_id}}).get("Item")

    def object_keys(self) -> list[str]:
        return [o["Key"] for o in self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", [])]

    def spec_versions(self, pipeline_id: str) -> list[dict[str, Any]]:
        key = naming.spec_key(pipeline_id)
        versions = self.s3.list_object_versions(Bucket=self.bucket, Prefix=key).get("Versions", [])
        return [v for v in versions if v["Key"] == key]

    def announcements(self) -> list[dict[str, Any]]:
        """SNS messages delivered to the test queue (envelopes with Subject and Message)."""
        sqs = aws.client("sqs")
        messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]


def create_registry_table(client: Any, name: str) -> None:
    """The registry schema of components/orchestrator/storage.py: pk pipeline_id, sparse GSI client_token."""
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pipeline_id", "AttributeType": "S"},
            {"AttributeName": "client_token", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pipeline_id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "client_token",
                "KeySchema": [{"AttributeName": "client_token", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )


def _create_orchestrator_resources() -> tuple[str, str]:
    """What the orchestrator component creates, made through the API as the functions see it.
    Returns (topic ARN, queue URL)."""
    create_registry_table(aws.client("dynamodb"), TABLE)
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    # As the orchestrator component configures it: SSE-KMS with the data key by default. (moto
    # does not check that the key exists, and creating one costs an RSA key generation per test.)
    s3.put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": DATA_KEY}}]
        },
    )
    sns, sqs = aws.client("sns"), aws.client("sqs")
    topic_arn = sns.create_topic(Name="mlops-notifications")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="announcements")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return topic_arn, queue_url


def start_orchestrator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Orchestrator]:
    """A fresh moto account holding what the orchestrator component creates, and the functions' settings.

    The functions' cached clients are reused from test to test (moto intercepts any client, and
    creating clients is what costs time); only the per-test hooks are removed afterwards. The
    account's resources are made through the API once per process and copied into each test's
    fresh account (moto_template.py): the eight calls cost more than the rest of the fixture.
    """
    with mock_aws():
        topic_arn, queue_url = moto_template.install("orchestrator", _SERVICES, _create_orchestrator_resources)
        for key, value in {
            settings.REGISTRY_TABLE: TABLE,
            settings.ASSETS_BUCKET: BUCKET,
            settings.TOPIC_ARN: topic_arn,
            settings.PROVISIONER_FUNCTION: PROVISIONER,
            settings.MODE: "single",
            settings.USE_MODEL_REGISTRY: "false",
            settings.ORCHESTRATOR_ENVIRONMENT: "dev",
        }.items():
            monkeypatch.setenv(key, value)
        invocations = Invocations()
        events = aws.client("lambda").meta.events
        events.register("before-call.lambda.Invoke", invocations)
        try:
            yield Orchestrator(TABLE, BUCKET, topic_arn, queue_url, invocations, DATA_KEY)
        finally:
            events.unregister("before-call.lambda.Invoke", invocations)
