"""The API refuses a monitor whose image is not published in the orchestrator's region (review M3): 400 with
the field error, nothing written; the dry run answers the same."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.api_gateway import api_event, call

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "byom_data_quality_monitor.json"


@pytest.mark.parametrize("query", [None, {"dry_run": "true"}])
def test_a_data_quality_monitor_is_refused_in_govcloud(orchestrator, monkeypatch, query):
    monkeypatch.setenv("AWS_REGION", "us-gov-west-1")  # Lambda's own region is the orchestrator's

    response = call(api_event("POST", "/provisionpipeline", json.loads(EXAMPLE.read_text()), query=query))

    assert response.status == 400, response.body
    [error] = response.body["errors"]
    assert error["field"] == "pipeline_type"
    assert error["problem"].startswith(
        "byom_data_quality_monitor cannot run in us-gov-west-1: no sagemaker-model-monitor-analyzer image is known "
        "for region 'us-gov-west-1'; supported: ap-northeast-1,"
    )
    assert orchestrator.items() == []
