"""mlops:strictRequests (MLOPS_STRICT_REQUESTS on the trigger function): an uploaded mlops-config.json with
unknown keys is rejected, as the API refuses it."""

from __future__ import annotations

import json

import pytest

from lambda_src.common import aws
from lambda_src.common.settings import settings
from lambda_src.trigger.handler import process
from tests.support.moto_orchestrator import BUCKET
from tests.support.requests import realtime_body

UNKNOWN = {"description": "churn model of team A", "modle_name": "churn"}
ERRORS = [
    {"field": "description", "problem": "is not a known field"},
    {"field": "modle_name", "problem": "is not a known field (did you mean model_name?)"},
]


@pytest.fixture
def strict_install(orchestrator, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MLOPS_STRICT_REQUESTS", "true")
    return orchestrator


def test_the_trigger_rejects_an_uploaded_file_with_unknown_keys(strict_install):
    key = "teams/a/mlops-config.json"
    aws.client("s3").put_object(Bucket=BUCKET, Key=key, Body=json.dumps({**realtime_body(), **UNKNOWN}))

    result = process(settings(), BUCKET, key)

    assert (result.outcome, result.errors) == ("rejected", ERRORS)
    [announcement] = strict_install.announcements()
    assert "- modle_name: is not a known field (did you mean model_name?)" in announcement["Message"].splitlines()


def test_without_the_setting_the_same_file_is_queued_with_warnings(orchestrator):
    key = "teams/a/mlops-config.json"
    aws.client("s3").put_object(Bucket=BUCKET, Key=key, Body=json.dumps({**realtime_body(), **UNKNOWN}))

    assert process(settings(), BUCKET, key).outcome == "queued"
