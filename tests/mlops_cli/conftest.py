"""CLI test fixtures: a runner for the `mlops` commands and a local orchestrator API that checks SigV4 signatures."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from typer.testing import CliRunner, Result

from mlops_cli.main import app

STAGE = "/prod"  # API Gateway stage: the first path segment of the API URL
# The values of the `aws_credentials` fixture in tests/conftest.py.
FAKE_CREDENTIALS = ReadOnlyCredentials("testing", "testing", "testing")
REGION = "us-east-1"
AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[a-z0-9-]+)/execute-api/aws4_request, "
    r"SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})"
)


@pytest.fixture
def mlops() -> Callable[..., Result]:
    """Run `mlops <args>` through the real app; a wide terminal so tables are not truncated."""
    runner = CliRunner()

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, env={"COLUMNS": "200", **(env or {})})

    return run


# -- the fake orchestrator API --------------------------------------------------------------------


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeApi:
    """Canned answers per (method, path below the stage); each call takes the next answer, the last one repeats."""

    url: str = ""
    routes: dict[tuple[str, str], list[tuple[int, Any]]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    signature_problems: list[str] = field(default_factory=list)

    def answer(self, method: str, path: str, *answers: tuple[int, Any]) -> None:
        self.routes[(method, path)] = list(answers)

    def next_answer(self, method: str, path: str) -> tuple[int, Any]:
        answers = self.routes.get((method, path))
        if not answers:
            return 404, {"message": f"no route {method} {path}"}
        return answers.pop(0) if len(answers) > 1 else answers[0]


def signature_problem(method: str, target: str, headers: dict[str, str], body: bytes) -> str | None:
    """None when the request carries a valid SigV4 signature for execute-api made with the fake credentials."""
    match = AUTHORIZATION.fullmatch(headers.get("authorization", ""))
    if not match:
        return f"malformed Authorization header: {headers.get('authorization')!r}"
    signed = match["signed"].split(";")
    if (
        match["key"] != "testing"
        or match["region"] != REGION
        or not {"host", "x-amz-date", "x-amz-security-token"} <= set(signed)
    ):
        return f"unexpected credential or signed headers: {match.group(0)}"
    if headers["x-amz-date"][:8] != match["date"]:
        return "credential date differs from X-Amz-Date"
    # The query is canonicalised from its decoded values, as AWS does, not from the client's own encoding.
    path, _, query = target.partition("?")
    params = dict(parse_qsl(query, keep_blank_values=True))
    request = AWSRequest(
        method=method,
        url=f"http://{headers['host']}{path}",
        data=body,
        params=params,
        headers={h: headers[h] for h in signed},
    )
    request.context["timestamp"] = headers["x-amz-date"]
    signer = SigV4Auth(FAKE_CREDENTIALS, "execute-api", match["region"])
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    return None if expected == match["signature"] else "signature does not match the request"


def _handler(api: FakeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            parts = urlsplit(self.path)
            body = json.loads(raw) if raw else None
            api.received.append(Received(self.command, parts.path, parse_qs(parts.query), headers, body))
            problem = signature_problem(self.command, self.path, headers, raw)
            if problem:
                api.signature_problems.append(problem)
                self._send(403, {"message": problem})
                return
            if not parts.path.startswith(STAGE + "/"):
                self._send(403, {"message": "Missing Authentication Token"})
                return
            self._send(*api.next_answer(self.command, parts.path.removeprefix(STAGE)))

        def _send(self, status: int, body: Any) -> None:
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def api(aws_credentials: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApi]:
    """A local orchestrator API; MLOPS_API_URL points at it."""
    fake = FakeApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}{STAGE}"
    monkeypatch.setenv("MLOPS_API_URL", fake.url)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()
    thread.join()
    assert fake.signature_problems == []
