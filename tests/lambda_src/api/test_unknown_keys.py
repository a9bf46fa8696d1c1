"""Compatibility mode: unknown keys of a pipeline request are ignored and answered as warnings (as the
old solution ignored them); ?strict=true refuses them. Names are trimmed of surrounding whitespace."""

from __future__ import annotations

import json

import pytest

from mlops_spec import naming
from tests.support.api_gateway import api_event, call
from tests.support.moto_orchestrator import BUCKET
from tests.support.requests import realtime_body

PIPELINE = "churn-xgb-realtime-builtin"
MWO_EXTRAS = {"description": "churn model of team A", "team": {"name": "a"}, "modle_name": "churn"}
WARNINGS = [
    {"field": "description", "problem": "is not a known field; ignored"},
    {"field": "team", "problem": "is not a known field; ignored"},
    {"field": "modle_name", "problem": "is not a known field; ignored (did you mean model_name?)"},
]


def provision(body: object, query: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return call(api_event("POST", "/provisionpipeline", body, query=query))


def test_unknown_keys_are_ignored_and_answered_as_warnings(orchestrator):
    response = provision({**realtime_body(), **MWO_EXTRAS})

    assert response.status == 202, response.body
    assert response.body["warnings"] == WARNINGS
    stored = json.loads(orchestrator.s3.get_object(Bucket=BUCKET, Key=naming.spec_key(PIPELINE))["Body"].read())
    assert set(MWO_EXTRAS) & set(stored) == set()


def test_a_dry_run_answers_the_same_warnings(orchestrator):
    response = provision({**realtime_body(), **MWO_EXTRAS}, query={"dry_run": "true"})

    assert response.status == 200
    assert response.body["warnings"] == WARNINGS
    assert "description" not in response.body["spec"]
    assert orchestrator.items() == []


def test_a_request_without_unknown_keys_has_no_warnings(orchestrator):
    assert provision(realtime_body()).body["warnings"] == []


@pytest.mark.parametrize("strict", ["true", "True"])
def test_strict_refuses_unknown_keys_naming_the_closest_field_and_writes_nothing(orchestrator, strict):
    response = provision({**realtime_body(), **MWO_EXTRAS}, query={"strict": strict})

    assert response.status == 400
    assert response.body["errors"] == [
        {"field": "description", "problem": "is not a known field"},
        {"field": "team", "problem": "is not a known field"},
        {"field": "modle_name", "problem": "is not a known field (did you mean model_name?)"},
    ]
    assert orchestrator.items() == []
    assert orchestrator.invocations.calls == []


def test_strict_false_is_compatibility_mode(orchestrator):
    response = provision({**realtime_body(), "description": "x"}, query={"strict": "false", "dry_run": "true"})
    assert (response.status, response.body["warnings"]) == (200, WARNINGS[:1])


def test_strict_must_be_a_boolean(orchestrator):
    response = provision(realtime_body(), query={"strict": "very"})
    assert (response.status, response.body["errors"]) == (
        400,
        [{"field": "strict", "problem": "must be true or false"}],
    )


def test_nested_unknown_keys_stay_errors_with_a_suggestion(orchestrator):
    response = provision({**realtime_body(), "deployment": {"typ": "canary"}})

    assert response.status == 400
    assert response.body["errors"] == [
        {"field": "deployment.typ", "problem": "is not a known field (did you mean type?)"}
    ]


def test_names_are_trimmed_of_surrounding_whitespace(orchestrator):
    body = {**realtime_body(model_name=" Churn-XGB "), "endpoint_name": "churn-endpoint "}
    response = provision(body, query={"dry_run": "true"})

    assert response.status == 200, response.body
    assert (response.body["pipeline_id"], response.body["spec"]["endpoint_name"]) == (PIPELINE, "churn-endpoint")


def test_a_builtin_image_missing_from_the_orchestrators_region_is_refused(orchestrator, monkeypatch):
    monkeypatch.setenv("AWS_REGION", "mx-central-1")
    response = provision(realtime_body(), query={"dry_run": "true"})

    assert response.status == 400
    assert response.body["errors"] == [
        {"field": "model_framework_version", "problem": "xgboost 1.7-1 images are not published in mx-central-1"}
    ]


def test_an_invalid_request_also_names_the_unknown_keys_it_carried(orchestrator):
    response = provision({**realtime_body(model_name=None), "description": "x"})

    assert response.status == 400
    assert response.body["errors"] == [{"field": "model_name", "problem": "is required"}]
    assert response.body["warnings"] == WARNINGS[:1]
    assert orchestrator.items() == []
