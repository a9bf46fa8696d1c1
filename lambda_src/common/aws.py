"""Lazily created, cached boto3 clients (boto3 costs ~150 ms to import, so never at module import)."""

from __future__ import annotations

import threading
from typing import Any

_clients: dict[str, Any] = {}
_session: list[Any] = []  # the one boto3 Session, once created
_lock = threading.Lock()


def client(service: str) -> Any:
    """The shared client of `service`, created on first use and reused across invocations.

    All clients come from one session, so botocore loads its data files once. Creation is
    locked because a boto3 session is not thread-safe; calls on a created client are.
    """
    existing = _clients.get(service)
    if existing is not None:
        return existing
    with _lock:
        if service not in _clients:
            from botocore.config import Config

            # Standard retries with bounded timeouts: the API must answer within API Gateway's 29 s.
            config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=20)
            _clients[service] = _boto3_session().client(service, config=config)
        return _clients[service]


def bounded_client(key: str, service: str, region: str | None = None, **config: Any) -> Any:
    """A client of `service` with a configuration of its own (`config`: botocore Config arguments, e.g.
    one attempt and short timeouts for a call the API waits on), shared under `key` as `client`'s are,
    from the same session and under the same lock."""
    existing = _clients.get(key)
    if existing is not None:
        return existing
    with _lock:
        if key not in _clients:
            from botocore.config import Config

            _clients[key] = _boto3_session().client(service, region_name=region, config=Config(**config))
        return _clients[key]


def assumed_client(service: str, region: str, credentials: dict[str, Any]) -> Any:
    """A client of `service` acting with an assumed role's temporary `credentials` (STS AssumeRole's
    answer), made anew each time: its credentials expire, the shared clients' do not."""
    with _lock:
        return _boto3_session().client(
            service,
            region_name=region,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )


def _boto3_session() -> Any:
    if not _session:
        import boto3

        _session.append(boto3.session.Session())
    return _session[0]


def reset() -> None:
    """Forget every client and the session (tests that change credentials or region start afresh)."""
    with _lock:
        _clients.clear()
        _session.clear()


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError, None for anything else."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code else None
    return None
