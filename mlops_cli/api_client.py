"""Calling a deployed orchestrator's REST API: finding it, SigV4-signed JSON requests, and errors a user can read."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import boto3
import botocore.exceptions
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from mlops_spec import routes
from mlops_spec.errors import FieldError

API_URL_ENV = "MLOPS_API_URL"
API_URL_OUTPUT = "apiUrl"
SERVICE = "execute-api"
_REGION_IN_URL = re.compile(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com")
# Loading or refreshing credentials (SSO, assume-role) fails with either kind.
_CREDENTIAL_ERRORS = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)
# SigV4 wants RFC 3986 encoding: only these characters stay as they are.
_UNRESERVED = "-_.~"


class ApiError(Exception):
    """A failed call, described for the user. `retryable` marks network errors and 5xx answers."""

    def __init__(
        self,
        message: str,
        errors: list[FieldError] | None = None,
        status: int | None = None,
        retryable: bool = False,
    ):
        super().__init__(message)
        self.message = message
        self.errors = errors or []
        self.status = status
        self.retryable = retryable


# -- where the API is ---------------------------------------------------------------------------


def resolve_api_url(flag: str | None, environ: Mapping[str, str] = os.environ) -> str:
    """The API base URL: --api-url, else $MLOPS_API_URL, else the orchestrator stack output `apiUrl`."""
    url = flag or environ.get(API_URL_ENV) or _api_url_from_pulumi()
    if not url.startswith(("https://", "http://")):
        raise ApiError(f"the API URL must start with https:// (got {url!r})")
    return url.rstrip("/")


def _api_url_from_pulumi() -> str:
    hint = f"pass --api-url or set {API_URL_ENV}"
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise ApiError(f"no orchestrator API URL: {hint} (the pulumi CLI, which could read it, is not on PATH)")
    try:
        done = subprocess.run(
            [pulumi, "stack", "output", API_URL_OUTPUT], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ApiError(f"cannot run `pulumi stack output {API_URL_OUTPUT}` ({exc}); {hint}") from None
    url = done.stdout.strip()
    if done.returncode != 0 or not url:
        reason = _first_line(done.stderr) or "no such output"
        raise ApiError(f"`pulumi stack output {API_URL_OUTPUT}` failed: {reason}; {hint}")
    return url


def resolve_region(url: str, flag: str | None, session_region: str | None) -> str:
    """--region, else the region in an execute-api URL, else the AWS session's region."""
    match = _REGION_IN_URL.search(urlsplit(url).netloc)
    region = flag or (match.group(1) if match else None) or session_region
    if not region:
        # boto3's default session reads AWS_DEFAULT_REGION (or the profile's region), not AWS_REGION.
        raise ApiError("no AWS region: pass --region or set AWS_DEFAULT_REGION")
    return region


def load_credentials(profile: str | None) -> tuple[Credentials, str | None]:
    """Credentials and region of the default boto3 session (or of `profile`)."""
    try:
        session = boto3.session.Session(profile_name=profile)
        credentials = session.get_credentials()
    except _CREDENTIAL_ERRORS as exc:
        raise ApiError(f"cannot load AWS credentials: {exc}") from None
    if credentials is None:
        raise ApiError("no AWS credentials found: configure a profile (aws configure / aws sso login) or set AWS_*")
    return credentials, session.region_name


# -- the client ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiClient:
    """JSON over HTTPS to the orchestrator API, each request signed with SigV4 for API Gateway IAM auth."""

    base_url: str
    region: str
    credentials: Credentials
    timeout: float = 30.0

    @classmethod
    def connect(cls, api_url: str | None, region: str | None, profile: str | None) -> ApiClient:
        url = resolve_api_url(api_url)
        credentials, session_region = load_credentials(profile)
        return cls(url, resolve_region(url, region, session_region), credentials)

    # -- routes (mlops_spec.routes: the paths the API Gateway and the handler serve) --------------
    def provision(self, body: Any, dry_run: bool = False, checks: bool = True) -> dict[str, Any]:
        """POST /provisionpipeline; a dry run without `checks` asks the orchestrator to call nothing."""
        query = {"dry_run": "true"} if dry_run else {}
        if dry_run and not checks:
            query["checks"] = "false"
        return self.send(routes.PROVISION_PIPELINE, query=query or None, body=body)

    def get_pipeline(self, pipeline_id: str) -> dict[str, Any]:
        return self.send(routes.GET_PIPELINE, pipeline_id=pipeline_id)

    def delete_pipeline(self, pipeline_id: str) -> dict[str, Any]:
        return self.send(routes.DELETE_PIPELINE, pipeline_id=pipeline_id)

    def get_drift(self, pipeline_id: str) -> dict[str, Any]:
        """The pipeline's last drift check (GET /pipelines/{id}/drift)."""
        return self.send(routes.PIPELINE_DRIFT, pipeline_id=pipeline_id)

    def reconcile_pipeline(self, pipeline_id: str) -> dict[str, Any]:
        """Deploy the pipeline's current spec again as a new version (POST /pipelines/{id}/reconcile)."""
        return self.send(routes.RECONCILE_PIPELINE, pipeline_id=pipeline_id)

    def promote_pipeline(self, pipeline_id: str) -> dict[str, Any]:
        """Make the pipeline's shadow its production model through a normal update (POST /pipelines/{id}/promote)."""
        return self.send(routes.PROMOTE_PIPELINE, pipeline_id=pipeline_id)

    def answer_approval(
        self, pipeline_id: str, decision: str, stage: str | None = None, comment: str | None = None
    ) -> dict[str, Any]:
        """Approve or reject the pipeline's pending manual approval (POST /pipelines/{id}/approval)."""
        body = {"decision": decision, "stage": stage, "comment": comment}
        given = {key: value for key, value in body.items() if value is not None}
        return self.send(routes.ANSWER_APPROVAL, body=given, pipeline_id=pipeline_id)

    def list_pipelines(
        self,
        limit: int | None = None,
        next_token: str | None = None,
        pipeline_type: str | None = None,
        status: str | None = None,
    ) -> dict[str, Any]:
        query = {"limit": limit, "next_token": next_token, "pipeline_type": pipeline_type, "status": status}
        return self.send(routes.LIST_PIPELINES, query=query)

    def send(
        self, route: routes.Route, query: Mapping[str, Any] | None = None, body: Any = None, **path_values: str
    ) -> dict[str, Any]:
        """Call one route, its path parameters filled in (percent-encoded) from `path_values`."""
        return self.call(route.method, route.url_path(**path_values), query=query, body=body)

    # -- transport --------------------------------------------------------------------------
    def call(self, method: str, path: str, query: Mapping[str, Any] | None = None, body: Any = None) -> dict[str, Any]:
        """Send one signed request; the JSON object answered, or ApiError."""
        url = self._url(path, query)
        data = None if body is None else _encode(body)
        request = urllib.request.Request(url, data=data, headers=self._signed_headers(method, url, data), method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return _json_object(response.status, response.read())
        except urllib.error.HTTPError as exc:
            raise _http_error(exc.code, _read_quietly(exc), exc.reason) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise ApiError(f"cannot reach the orchestrator API at {self.base_url}: {reason}", retryable=True) from None

    def _url(self, path: str, query: Mapping[str, Any] | None) -> str:
        params = sorted((k, str(v)) for k, v in (query or {}).items() if v is not None)
        encoded = urlencode(params, quote_via=quote, safe=_UNRESERVED)
        return f"{self.base_url}{path}" + (f"?{encoded}" if encoded else "")

    def _signed_headers(self, method: str, url: str, data: bytes | None) -> dict[str, str]:
        # Host is set here so the signed value is exactly the one urllib sends.
        headers = {"Host": urlsplit(url).netloc, "Accept": "application/json", "User-Agent": "mlops-cli"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = AWSRequest(method=method, url=url, data=data, headers=headers)
        try:
            SigV4Auth(self.credentials.get_frozen_credentials(), SERVICE, self.region).add_auth(request)
        except _CREDENTIAL_ERRORS as exc:
            raise ApiError(f"cannot sign the request with your AWS credentials: {exc}") from None
        return dict(request.headers.items())


def _encode(body: Any) -> bytes:
    """The request body as JSON. NaN and infinity are not JSON (json.dumps would write `NaN`), so
    they are refused here rather than sent."""
    try:
        return json.dumps(body, allow_nan=False).encode()
    except ValueError:
        raise ApiError("the request body holds a number that is not finite (NaN or infinity)") from None


# -- answers ------------------------------------------------------------------------------------


def _read_quietly(exc: urllib.error.HTTPError) -> bytes:
    try:
        return exc.read()
    except (OSError, http.client.HTTPException):
        return b""


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw.strip() else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _json_object(status: int, raw: bytes) -> dict[str, Any]:
    payload = _decode(raw)
    if not isinstance(payload, dict):
        raise ApiError(f"the orchestrator API answered HTTP {status} with a body that is not a JSON object")
    return payload


def _message(payload: Any, raw: bytes, reason: str) -> str:
    if isinstance(payload, dict) and isinstance(payload.get("message"), str):
        return " ".join(payload["message"].split())
    return _first_line(raw.decode("utf-8", errors="replace"))[:200] or reason


def _field_errors(payload: Any) -> list[FieldError]:
    items = payload.get("errors") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        return []
    return [
        FieldError(str(item.get("field") or "(body)"), str(item.get("problem") or "is invalid"))
        for item in items
        if isinstance(item, dict)
    ]


def _http_error(status: int, raw: bytes, reason: str) -> ApiError:
    payload = _decode(raw)
    message = _message(payload, raw, reason)
    if status >= 500:
        return ApiError(f"the orchestrator API failed (HTTP {status}): {message}", status=status, retryable=True)
    if status == 429:
        # API Gateway's throttling: waiting and asking again is the right answer.
        return ApiError(f"the orchestrator API is throttling requests: {message}", status=status, retryable=True)
    if status == 403 and message == "Missing Authentication Token":
        # API Gateway's answer for a path it does not know, whatever the credentials.
        message += " (API Gateway says this for unknown paths: check the API URL and its stage)"
    return ApiError(message, _field_errors(payload), status=status)
