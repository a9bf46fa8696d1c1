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


# -- a local API Gateway: HTTP on 127.0.0.1 -> REST proxy events -> the handler ----------------------


def _resource(path: str) -> str:
    """The API Gateway resource a path matches (`/pipelines/{pipeline_id}`), or the path itself."""
    from mlops_spec import routes

    parts = path.strip("/").split("/")
    for route in routes.ROUTES:
        template = route.path.strip("/").split("/")
        if len(template) == len(parts) and all(
            t == p or t.startswith("{") for t, p in zip(template, parts, strict=True)
        ):
            return route.path
    return path


def _path_parameters(resource: str, path: str) -> dict[str, str] | None:
    pairs = zip(resource.strip("/").split("/"), path.strip("/").split("/"), strict=False)
    found = {t[1:-1]: p for t, p in pairs if t.startswith("{")}
    return found or None


def event_from_http(method: str, target: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """The REST proxy event API Gateway builds for one HTTP request: path and query decoded, the last
    value of a repeated query parameter in queryStringParameters, a non-UTF-8 body base64-encoded."""
    from urllib.parse import parse_qsl, unquote, urlsplit

    url = urlsplit(target)
    path = unquote(url.path)
    pairs = parse_qsl(url.query, keep_blank_values=True)
    resource = _resource(path)
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    event = api_event(
        method,
        path,
        raw_body=text if body else None,
        query=dict(pairs),
        resource=resource,
        path_parameters=_path_parameters(resource, path),
    )
    event["isBase64Encoded"] = encoded
    if pairs:
        multi: dict[str, list[str]] = {}
        for key, value in pairs:
            multi.setdefault(key, []).append(value)
        event["multiValueQueryStringParameters"] = multi
    sent = {"Host": event["headers"]["Host"], **headers}
    event["headers"] = sent
    event["multiValueHeaders"] = {k: [v] for k, v in sent.items()}
    return event


# API Gateway (REST) refuses a request whose request line and headers exceed 10,240 bytes; the
# request line may take 8,192 of them here.
MAX_REQUEST_LINE = 8192


class LocalApiGateway:
    """An HTTP server on 127.0.0.1 (ephemeral port) that answers every request with the API handler,
    as API Gateway's Lambda proxy integration would. `with LocalApiGateway() as gateway: gateway.url`."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Proxy(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if len(self.requestline) > MAX_REQUEST_LINE:
                    # API Gateway refuses it before any integration runs.
                    self._send(414, {}, json.dumps({"message": "Request-URI Too Large"}))
                    return
                event = event_from_http(self.command, self.path, dict(self.headers.items()), body)
                from lambda_src.api.handler import handler

                response = handler(event, LAMBDA_CONTEXT)
                headers = dict(response.get("headers") or {})
                headers.update({k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()})
                self._send(response["statusCode"], headers, response["body"])

            def _send(self, status: int, headers: dict[str, str], body: str) -> None:
                payload = body.encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _answer

            def log_message(self, format: str, *args: Any) -> None:  # quiet: pytest shows failures
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> LocalApiGateway:
        import threading

        threading.Thread(target=self._server.serve_forever, name="local-api-gateway", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
