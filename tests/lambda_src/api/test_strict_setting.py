"""mlops:strictRequests (MLOPS_STRICT_REQUESTS on the API and trigger functions): a request's unknown keys
are errors in the API even without ?strict=true."""

from __future__ import annotations

from tests.support.api_gateway import api_event, call
from tests.support.requests import UNKNOWN_KEY_ERRORS as ERRORS
from tests.support.requests import UNKNOWN_KEYS as UNKNOWN
from tests.support.requests import realtime_body


def test_the_api_refuses_unknown_keys_without_the_query_parameter(strict_install):
    response = call(api_event("POST", "/provisionpipeline", {**realtime_body(), **UNKNOWN}))

    assert (response.status, response.body["errors"]) == (400, ERRORS)
    assert strict_install.items() == []
    assert strict_install.invocations.calls == []


def test_strict_false_in_the_query_does_not_loosen_the_install(strict_install):
    event = api_event("POST", "/provisionpipeline", {**realtime_body(), **UNKNOWN}, query={"strict": "false"})
    assert call(event).status == 400


def test_a_request_without_unknown_keys_is_still_accepted(strict_install):
    response = call(api_event("POST", "/provisionpipeline", realtime_body(), query={"dry_run": "true"}))
    assert (response.status, response.body["warnings"]) == (200, [])
