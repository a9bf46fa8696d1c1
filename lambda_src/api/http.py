"""Reading a request's body, query string and path parameters, rejecting malformed input with 400."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Set
from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from lambda_src.common import untrusted_json
from lambda_src.common.errors import InvalidRequest, field_error, invalid

_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no")


def _raw_body(event: APIGatewayProxyEvent) -> str | bytes | None:
    body = event.body
    if body and event.is_base64_encoded:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise invalid("(body)", "is not valid base64", "request body is not valid base64") from None
    return body


def json_body(event: APIGatewayProxyEvent, optional: bool = False) -> Any:
    """The decoded JSON body; with `optional`, an empty body reads as {}."""
    raw = _raw_body(event)
    if optional and not raw:
        return {}
    return untrusted_json.decode(raw)


def query(event: APIGatewayProxyEvent, allowed: Set[str]) -> dict[str, str]:
    """Single-valued query parameters; unknown ones are errors, like unknown body fields."""
    params = dict(event.query_string_parameters or {})
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise InvalidRequest(
            "invalid query parameters", [field_error(k, "is not a known query parameter") for k in unknown]
        )
    # API Gateway keeps the last of a repeated key: `?dry_run=true&dry_run=false` would provision for real.
    repeated = sorted(k for k, values in (event.multi_value_query_string_parameters or {}).items() if len(values) > 1)
    if repeated:
        raise InvalidRequest("invalid query parameters", [field_error(k, "is given more than once") for k in repeated])
    return params


def flag(params: dict[str, str], name: str) -> bool:
    """A boolean query parameter, false when absent. Present without a value (`?dry_run`) it is refused:
    read as false, a bare `?dry_run` would provision for real."""
    if name not in params:
        return False
    value = str(params[name] or "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise invalid(name, "must be true or false", "invalid query parameters")


def dry_run_checks(params: dict[str, str], dry_run: bool) -> bool:
    """`checks` (true by default): whether a dry run asks AWS for the quotas and prices it reports. Only a
    dry run may turn them off: a request itself is always checked (its cost limit here, its quotas by the
    provisioner), so checks=true on it changes nothing."""
    if "checks" not in params:
        return True
    checks = flag(params, "checks")
    if not checks and not dry_run:
        raise invalid("checks", "false applies only to a dry run (dry_run=true)", "invalid query parameters")
    return checks


def integer(params: dict[str, str], name: str) -> dict[str, Any]:
    """{name: int} when the parameter is a whole number, {name: raw} otherwise (the model rejects it).
    The model checks the range; a number of more than 18 digits stays text (it is out of every range)."""
    if name not in params:
        return {}
    raw = params[name]
    return {name: int(raw) if raw.isascii() and raw.isdecimal() and len(raw) <= 18 else raw}


def with_path_name(body: Any, name: str) -> dict[str, Any]:
    """A model-card body named by the path: a `name` in the body is not a field of these routes."""
    if not isinstance(body, dict):
        raise invalid("(body)", "must be a JSON object", "request body must be a JSON object")
    if "name" in body:
        raise invalid("name", "is not a known field (the path names the card)", "invalid model card request")
    return {**body, "name": name}
