"""API Gateway REST (v1) proxy events as API Gateway sends them with IAM auth, and the API handler run on them."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode


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
