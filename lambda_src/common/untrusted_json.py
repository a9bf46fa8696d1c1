"""Decoding JSON from untrusted callers: size, nesting and number limits checked before anything else runs."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

from lambda_src.common.errors import InvalidRequest, PayloadTooLarge, field_error

# Far above any real request (the largest model card content is 100 kB) and safely below
# DynamoDB's 400 kB item limit, where the normalised spec is stored.
MAX_BODY_BYTES = 256 * 1024
# Real requests nest a few levels; a cap keeps recursion (json, pydantic, json.dumps) bounded.
MAX_DEPTH = 32
NOT_FINITE = "must be a finite number (at most 1.7976931348623157e308 in magnitude)"


class OutOfRange:
    """A JSON number too large for a double (`1e400`): Python would read it as infinity, which no
    later step can store or send (json.dumps writes `Infinity`, DynamoDB and SageMaker refuse it).
    The decoder keeps it as this marker so the walk over the document can name where it is."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


def parse_float(text: str) -> float | OutOfRange:
    """json's `parse_float`: the number, or OutOfRange when it is not finite as a double."""
    value = float(text)
    return value if math.isfinite(value) else OutOfRange(text)


def reject_constant(name: str) -> Any:
    """json's `parse_constant`: NaN, Infinity and -Infinity are not JSON."""
    raise ValueError(f"{name} is not valid JSON")


def loads(text: str | bytes) -> Any:
    """json.loads with NaN/Infinity refused and out-of-range numbers kept as OutOfRange markers."""
    return json.loads(text, parse_constant=reject_constant, parse_float=parse_float)


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
        value = loads(text)
    except (ValueError, RecursionError) as exc:
        # ValueError covers JSONDecodeError, UnicodeDecodeError and over-long integers.
        reason = "is nested too deeply" if isinstance(exc, RecursionError) else f"is not valid JSON ({_short(exc)})"
        raise InvalidRequest(f"{what} is not valid JSON", [field_error("(body)", reason)]) from None
    problems = structure_problems(value, MAX_DEPTH)
    if problems:
        raise InvalidRequest(f"{what} is not acceptable JSON", problems)
    return value


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]


def _child(path: str, key: str | int) -> str:
    """The field path of a member, written as the validation errors write it: `a.b[0].c`."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def structure_problems(value: Any, limit: int = MAX_DEPTH) -> list[dict[str, str]]:
    """Field errors for what no later step can handle: nesting deeper than `limit` (one error for the
    body), strings AWS would refuse (JSON allows lone UTF-16 surrogates, UTF-8 does not), and numbers
    out of a double's range (one error per number, naming where it is).

    Iterative, so a deep document cannot exhaust the stack here either.
    """
    problems: list[dict[str, str]] = []
    # One iterator per open container (not an entry per member: a list of 300,000 members would cost more
    # than the document), and where a node sits as a link to its parent's place and its own key: the path
    # text is written only for a problem (a long key over many members is not copied into each path).
    pending: list[tuple[Iterator[tuple[Any, Any]], int, _Place]] = [(iter([(None, value)]), 1, None)]
    while pending:
        members, depth, parent = pending[-1]
        member = next(members, None)
        if member is None:
            pending.pop()
            continue
        key, node = member
        place = parent if key is None else (parent, key)
        if isinstance(node, OutOfRange):
            problems.append(field_error(_path(place) or "(body)", NOT_FINITE))
        elif isinstance(node, str) and not _is_utf8(node):
            return [field_error("(body)", "contains a string that is not valid Unicode (lone surrogate)")]
        elif isinstance(node, dict | list):
            if depth > limit:
                return [field_error("(body)", f"must nest at most {limit} levels")]
            if isinstance(node, dict):
                if not all(_is_utf8(name) for name in node if isinstance(name, str)):
                    return [field_error("(body)", "contains a string that is not valid Unicode (lone surrogate)")]
                pending.append((iter(node.items()), depth + 1, place))
            else:
                pending.append((iter(enumerate(node)), depth + 1, place))
    return problems


_Place = tuple[Any, "str | int"] | None


def _path(place: _Place) -> str:
    """The field path of a place, written as the validation errors write it: `a.b[0].c`."""
    keys: list[str | int] = []
    while place is not None:
        place, key = place
        keys.append(key)
    path = ""
    for key in reversed(keys):
        path = _child(path, key)
    return path


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
