"""`mlops promote ID` against the local signed API: it asks first, sends POST /pipelines/{id}/promote, and
tells the new version or the API's refusal."""

from __future__ import annotations

from collections.abc import Callable

from typer.testing import Result

Run = Callable[..., Result]

PIPELINE = "churn-xgb-realtime-builtin"


def test_promote_asks_first_and_sends_nothing_when_refused(mlops: Run, api) -> None:
    result = mlops("promote", PIPELINE, input="n\n")

    assert result.exit_code == 1
    assert f"Make pipeline {PIPELINE}'s shadow its production model?" in result.stdout
    assert api.received == []


def test_promote_queues_a_new_version_with_the_shadow_as_production(mlops: Run, api) -> None:
    answer = {"pipeline_id": PIPELINE, "status": "QUEUED", "version": 5, "requested_by": "arn:aws:iam::1:user/me"}
    api.answer("POST", f"/pipelines/{PIPELINE}/promote", (202, answer))

    result = mlops("promote", PIPELINE, "--yes")

    assert result.exit_code == 0, result.output
    assert f"pipeline {PIPELINE}: QUEUED (version 5, the shadow as production)" in result.stdout
    assert f"mlops status {PIPELINE} --wait" in result.stdout
    [sent] = api.received
    assert (sent.method, sent.path, sent.body) == ("POST", f"/prod/pipelines/{PIPELINE}/promote", None)


def test_promote_refused_by_the_api_is_its_message_and_exit_1(mlops: Run, api) -> None:
    refusal = {
        "message": f"pipeline {PIPELINE} runs no shadow test: there is no shadow to promote",
        "errors": [{"field": "pipeline_id", "problem": "has no shadow"}],
    }
    api.answer("POST", f"/pipelines/{PIPELINE}/promote", (409, refusal))

    result = mlops("promote", PIPELINE, "--yes")

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"error (HTTP 409): {refusal['message']}", "  pipeline_id: has no shadow"]
    assert result.stdout == ""


def test_status_shows_the_shadow_test_side_by_side(mlops: Run, api) -> None:
    variant = {"invocation_5xx_errors": 0, "invocation_4xx_errors": 0}
    shadow_test = {
        "window_hours": 1,
        "environments": {
            "dev": {
                "endpoint_name": "churn-xgb-dev",
                "production": {"variant": "AllTraffic", "invocations": 100, **variant, "model_latency_ms": 25.0},
                "shadow": {"variant": "Shadow", "invocations": 50, **variant, "model_latency_ms": None},
            },
            "prod": {
                "endpoint_name": "churn-xgb-prod",
                "note": "in the prod account: read its metrics there",
                "console": "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1",
                "command": "aws cloudwatch get-metric-data --region eu-west-1 --metric-data-queries '[]'",
            },
        },
    }
    answer = {"pipeline_id": PIPELINE, "status": "DEPLOYED", "stages": [], "shadow_test": shadow_test}
    api.answer("GET", f"/pipelines/{PIPELINE}", (200, answer))

    result = mlops("status", PIPELINE)

    assert result.exit_code == 0, result.output
    rows = {" ".join(line.replace("│", " ").split()) for line in result.stdout.splitlines()}
    assert "invocations 100 50" in rows
    assert "model latency (ms, average) 25.0 -" in rows
    assert "shadow test in prod (churn-xgb-prod): in the prod account: read its metrics there" in rows
    assert "console: https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1" in rows
    assert (
        "command: aws cloudwatch get-metric-data ..., in full in this status with --json "
        "(shadow_test.environments.prod.command)" in rows
    )
