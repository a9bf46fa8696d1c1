"""mlops:strictRequests (MLOPS_STRICT_REQUESTS on the trigger function): an uploaded mlops-config.json with
unknown keys is rejected, as the API refuses it."""

from __future__ import annotations

import json

from lambda_src.common import aws
from lambda_src.common.settings import settings
from lambda_src.trigger.handler import process
from tests.support.moto_orchestrator import BUCKET
from tests.support.requests import UNKNOWN_KEY_ERRORS as ERRORS
from tests.support.requests import UNKNOWN_KEYS as UNKNOWN
from tests.support.requests import realtime_body


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
