"""mlops status and mlops list show a monitor's block (issue 14): which monitor, which run, when, how to lift it."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from mlops_cli.api_commands.render import pipelines_table, render_status

pytestmark = pytest.mark.fast

PIPELINE = "churn-xgb-realtime-builtin"
BLOCKED = {
    "monitor": "churn-xgb-data-quality",
    "run": "arn:aws:sagemaker:us-east-1:111111111111:processing-job/r1",
    "environment": "dev",
    "at": "2026-12-06T09:00:00.000Z",
    "lift": "send the pipeline a new request version (mlops provision) as yourself",
}


def shown(renderable_status: dict[str, object]) -> str:
    out = io.StringIO()
    render_status(Console(file=out, width=300), renderable_status)
    return out.getvalue()


def test_a_status_names_the_block_and_how_to_lift_it():
    text = shown({"pipeline_id": PIPELINE, "status": "DEPLOYED", "blocked": BLOCKED})

    assert (
        "blocked by monitor churn-xgb-data-quality (run arn:aws:sagemaker:us-east-1:111111111111:processing-job/r1"
        " in dev, 2026-12-06T09:00:00.000Z): approvals are refused; to lift it, send the pipeline a new request"
        " version (mlops provision) as yourself"
    ) in text.splitlines()
    assert "blocked" not in shown({"pipeline_id": PIPELINE, "status": "DEPLOYED", "blocked": None})


def test_the_list_marks_a_blocked_pipeline():
    out = io.StringIO()
    item = {"pipeline_id": PIPELINE, "pipeline_type": "byom_realtime_builtin", "status": "DEPLOYED", "drift": None}
    Console(file=out, width=200).print(pipelines_table([{**item, "blocked": BLOCKED}, {**item, "pipeline_id": "x"}]))

    rows = [line for line in out.getvalue().splitlines() if "DEPLOYED" in line]
    assert ["(blocked)" in row for row in rows] == [True, False]
