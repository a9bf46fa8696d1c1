"""Answering single AWS calls in tests where moto has no implementation (e.g. CodePipeline's state)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.awsrequest import AWSResponse


@contextmanager
def answering(client: Any, operation: str, answer: Callable[[dict[str, Any]], dict[str, Any]]) -> Iterator[None]:
    """Make `client`'s `operation` (e.g. "GetPipelineState") return `answer(request)` without reaching
    moto or AWS; `request` is the call's parameters (JSON-protocol services only). An exception raised
    by `answer` is raised by the call."""

    def handler(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        request = json.loads(params.get("body") or b"{}")
        return AWSResponse("https://stub.local", 200, {}, None), answer(request)

    service = client.meta.service_model.service_name
    event = f"before-call.{service}.{operation}"
    client.meta.events.register(event, handler)
    try:
        yield
    finally:
        client.meta.events.unregister(event, handler)
