"""Fixtures for the API and trigger: a moto account with the orchestrator's table, bucket and topic, an
API Gateway REST proxy event factory, and a recorder in place of the provisioner invoke."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote, urlencode

import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from lambda_src.common import aws, settings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TABLE = "mlops-registry"
BUCKET = "mlops-assets-111111111111-us-east-1"
PROVISIONER = "mlops-provisioner"
REGION = "us-east-1"
DATA_KEY = "arn:aws:kms:us-east-1:111111111111:key/0b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"


def realtime_body(**overrides: Any) -> dict[str, Any]:
    """A valid single-account real-time request (independent of the examples/ folder)."""
    body: dict[str, Any] = {
        "pipeline_type": "byom_realtime_builtin",
        "model_name": "churn-xgb",
        "inference_instance": "ml.m5.large",
        "model_framework": "xgboost",
        "model_framework_version": "1.7-1",
        "model_artifact_location": "models/churn-xgb/model.tar.gz",
        "data_capture_location": "capture-bucket/churn-xgb",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def example_cases() -> list[tuple[Path, str, bool]]:
    """(file, mode, use_model_registry) for every example: top level single-account, multi/, registry/."""
    folders = {"": ("single", False), "multi": ("multi", False), "registry": ("single", True)}
    return [
        (path, mode, registry)
        for folder, (mode, registry) in folders.items()
        for path in sorted((EXAMPLES / folder).glob("*.json"))
    ]


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
        key = f"pipelines/{pipeline_id}/spec.json"
        versions = self.s3.list_object_versions(Bucket=self.bucket, Prefix=key).get("Versions", [])
        return [v for v in versions if v["Key"] == key]

    def announcements(self) -> list[dict[str, Any]]:
        """SNS messages delivered to the test queue (envelopes with Subject and Message)."""
        sqs = aws.client("sqs")
        messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]


def create_registry_table(client: Any, name: str) -> None:
    """The registry schema of components/orchestrator.py: pk pipeline_id, sparse GSI client_token."""
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


def start_orchestrator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Orchestrator]:
    """A fresh moto account holding what the orchestrator component creates, and the functions' settings.

    The functions' cached clients are reused from test to test (moto intercepts any client, and
    creating clients is what costs time); only the per-test hooks are removed afterwards.
    """
    with mock_aws():
        create_registry_table(aws.client("dynamodb"), TABLE)
        s3 = aws.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        # As the orchestrator component configures it: SSE-KMS with the data key by default. (moto
        # does not check that the key exists, and creating one costs an RSA key generation per test.)
        data_key = DATA_KEY
        s3.put_bucket_encryption(
            Bucket=BUCKET,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": data_key}}
                ]
            },
        )
        sns, sqs = aws.client("sns"), aws.client("sqs")
        topic_arn = sns.create_topic(Name="mlops-notifications")["TopicArn"]
        queue_url = sqs.create_queue(QueueName="announcements")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
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
            yield Orchestrator(TABLE, BUCKET, topic_arn, queue_url, invocations, data_key)
        finally:
            events.unregister("before-call.lambda.Invoke", invocations)


@pytest.fixture
def orchestrator(aws_credentials: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Orchestrator]:
    yield from start_orchestrator(monkeypatch)


# -- API Gateway events ---------------------------------------------------------------------------------


def api_event(
    method: str,
    path: str,
    body: Any = None,
    *,
    raw_body: str | None = None,
    query: dict[str, str] | None = None,
    resource: str | None = None,
    path_parameters: dict[str, str] | None = None,
    base64_encoded: bool = False,
) -> dict[str, Any]:
    """An API Gateway REST (v1) Lambda proxy event, as API Gateway sends it with IAM auth."""
    text = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    if base64_encoded and text is not None:
        text = base64.b64encode(text.encode("utf-8", "surrogatepass")).decode()
    headers = {"Content-Type": "application/json", "Host": "abc123.execute-api.us-east-1.amazonaws.com"}
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "abc123",
            "resourcePath": resource or path,
            "httpMethod": method,
            "extendedRequestId": "Xyz=",
            "requestTime": "25/Nov/2026:13:00:00 +0000",
            "path": f"/v1{path}" + (f"?{urlencode(query)}" if query else ""),
            "accountId": "111111111111",
            "protocol": "HTTP/1.1",
            "stage": "v1",
            "domainPrefix": "abc123",
            "requestTimeEpoch": 1795611600000,
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {
                "accountId": "111111111111",
                "caller": "AIDAEXAMPLE",
                "sourceIp": "203.0.113.7",
                "userArn": "arn:aws:iam::111111111111:user/data-scientist",
                "user": "AIDAEXAMPLE",
                "userAgent": "mlops-cli/0.1",
                "accessKey": "AKIAEXAMPLE",
            },
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "apiId": "abc123",
        },
        "body": text,
        "isBase64Encoded": base64_encoded,
    }


LAMBDA_CONTEXT = SimpleNamespace(
    function_name="mlops-api",
    function_version="$LATEST",
    invoked_function_arn="arn:aws:lambda:us-east-1:111111111111:function:mlops-api",
    memory_limit_in_mb=256,
    aws_request_id="5b1d-request",
    log_group_name="/aws/lambda/mlops-api",
    log_stream_name="2026/11/25/[$LATEST]abc",
    get_remaining_time_in_millis=lambda: 29_000,
)


@dataclass
class ApiResponse:
    status: int
    body: Any
    headers: dict[str, str]


def call(event: dict[str, Any]) -> ApiResponse:
    """Run the API handler on an event; every answer must be JSON."""
    from lambda_src.api.handler import handler

    response = handler(event, LAMBDA_CONTEXT)
    headers = dict(response.get("headers") or {})
    headers.update({k: v[0] for k, v in (response.get("multiValueHeaders") or {}).items()})
    assert headers.get("Content-Type") == "application/json", response
    assert response["isBase64Encoded"] is False
    return ApiResponse(response["statusCode"], json.loads(response["body"]), headers)
