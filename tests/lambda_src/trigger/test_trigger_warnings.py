"""A mlops-config.json with unknown keys is applied as the API applies it, and its notification says
which keys were ignored."""

from __future__ import annotations

import json

from lambda_src.common import aws
from lambda_src.common.settings import settings
from lambda_src.trigger.handler import process
from tests.support.moto_orchestrator import BUCKET
from tests.support.requests import realtime_body

KEY = "teams/a/mlops-config.json"


def test_unknown_keys_are_ignored_and_named_in_the_notification(orchestrator):
    body = {**realtime_body(), "description": "churn model", "modle_name": "churn"}
    aws.client("s3").put_object(Bucket=BUCKET, Key=KEY, Body=json.dumps(body))

    result = process(settings(), BUCKET, KEY)

    assert (result.outcome, result.pipeline_id) == ("queued", "churn-xgb-realtime-builtin")
    [announcement] = orchestrator.announcements()
    assert announcement["Message"].splitlines()[-2:] == [
        "Warning: description: is not a known field; ignored",
        "Warning: modle_name: is not a known field; ignored (did you mean model_name?)",
    ]


def test_a_rejected_file_names_its_unknown_keys_too(orchestrator):
    body = {**realtime_body(model_name=None), "description": "churn model"}
    aws.client("s3").put_object(Bucket=BUCKET, Key=KEY, Body=json.dumps(body))

    result = process(settings(), BUCKET, KEY)

    assert (result.outcome, result.errors) == ("rejected", [{"field": "model_name", "problem": "is required"}])
    [announcement] = orchestrator.announcements()
    lines = announcement["Message"].splitlines()
    assert lines[lines.index("- model_name: is required") + 1] == "Warning: description: is not a known field; ignored"
