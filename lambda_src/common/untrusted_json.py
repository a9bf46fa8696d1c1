"""Decoding JSON from untrusted callers: size, nesting and number limits checked before anything else runs."""

from __future__ import annotations

import json
from typing import Any

from lambda_src.common.errors import InvalidRequest, PayloadTooLarge, field_error

# Far above any real request (the largest model card content is 100 kB) and safely below
# DynamoDB's 400 kB item limit, where the normalised spec is stored.
MAX_BODY_BYTES = 256 * 1024
# Real requests nest a few levels; a cap keeps recursion (json, pydantic, json.dumps) bounded.
MAX_DEPTH = 32


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def decode(raw: str | bytes | None, what: str = "request body") -> Any:
    """The JSON value in `raw`, or InvalidRequest / PayloadTooLarge explaining why not."""
    if raw is None or raw == "" or raw == b"":
        raise InvalidRequest(f"{what} is empty", [field_error("(body)", "must be a JSON object")])
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "surrogatepass"))
    if size > MAX_BODY_BYTES:
        raise PayloadTooLarge(
            f"{what} is too large", [field_error("(body)", f"must be at most {MAX_BODY_BYTES} bytes")]
        )
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        value = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        # ValueError covers JSONDecodeError, UnicodeDecodeError and over-long integers.
        reason = "is nested too deeply" if isinstance(exc, RecursionError) else f"is not valid JSON ({_short(exc)})"
        raise InvalidRequest(f"{what} is not valid JSON", [field_error("(body)", reason)]) from None
    problem = _structure_problem(value, MAX_DEPTH)
    if problem:
        raise InvalidRequest(f"{what} is not acceptable JSON", [field_error("(body)", problem)])
    return value


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]


def _structure_problem(value: Any, limit: int) -> str | None:
    """Too deep, or a string AWS would refuse (JSON allows lone UTF-16 surrogates, UTF-8 does not).

    Iterative, so a deep document cannot exhaust the stack here either.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if not _is_utf8(node):
                return "contains a string that is not valid Unicode (lone surrogate)"
        elif isinstance(node, dict | list):
            if depth > limit:
                return f"must nest at most {limit} levels"
            if isinstance(node, dict):
                stack.extend((key, depth) for key in node)
                stack.extend((child, depth + 1) for child in node.values())
            else:
                stack.extend((child, depth + 1) for child in node)
    return None


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
