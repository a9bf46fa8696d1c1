"""`mlops drift [ID]`, `mlops reconcile ID` and the drift column of `mlops list`: against the local signed
API (commands), and the rendering of a drift check as plain functions (fast)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import pytest
from rich.console import Console
from typer.testing import Result

from mlops_cli.api_commands.drift import drift_lines
from mlops_cli.api_commands.render import drift_label, pipelines_table, render_status

Run = Callable[..., Result]

PIPELINE = "churn-xgb-realtime-builtin"
URN = f"urn:pulumi:{PIPELINE}-dev::mlops-target::aws:sagemaker/endpoint:Endpoint::churn-xgb-dev"
DRIFTED = {
    "pipeline_id": PIPELINE,
    "status": "DEPLOYED",
    "version": 3,
    "checked": True,
    "drift": "DRIFTED",
    "checked_at": "2026-12-06T03:00:00Z",
    "in_sync": False,
    "environments": {
        "dev": {
            "in_sync": False,
            "changes": {"update": 1},
            "resources": [
                {
                    "urn": URN,
                    "type": "aws:sagemaker/endpoint:Endpoint",
                    "op": "update",
                    "properties": ["endpointConfigName", "tags"],
                }
            ],
            "error": None,
        },
        "staging": {"in_sync": True, "changes": {}, "resources": [], "error": None},
        "prod": {"in_sync": None, "changes": {}, "resources": [], "error": "untrusted-state: not prod's deploy role"},
    },
}
NEVER_CHECKED = {
    "pipeline_id": PIPELINE,
    "status": "DEPLOYED",
    "version": 1,
    "checked": False,
    "drift": "NOT_CHECKED",
    "checked_at": None,
    "in_sync": None,
    "environments": {},
}


def plain(lines: list[str]) -> str:
    """Console markup as the terminal shows it, without colour."""
    out = io.StringIO()
    console = Console(file=out, width=200)
    for line in lines:
        console.print(line)
    return out.getvalue()


# -- rendering (pure) --------------------------------------------------------------------------------


@pytest.mark.fast
def test_a_drifted_pipeline_reads_environment_by_environment_with_each_resource():
    assert plain(drift_lines(DRIFTED)).splitlines() == [
        f"pipeline {PIPELINE}: drifted (checked 2026-12-06T03:00:00Z)",
        "dev: drifted (update 1)",
        "  update aws:sagemaker/endpoint:Endpoint churn-xgb-dev: endpointConfigName, tags",
        "staging: in sync",
        "prod: unknown (not checked: untrusted-state: not prod's deploy role)",
        f"restore what the pipeline declares with: mlops reconcile {PIPELINE}",
    ]


@pytest.mark.fast
def test_a_pipeline_never_checked_says_when_it_will_be():
    assert plain(drift_lines(NEVER_CHECKED)).splitlines() == [
        f"pipeline {PIPELINE}: not checked",
        "its deployed stacks are checked on the orchestrator's schedule (mlops:driftSchedule)",
    ]


@pytest.mark.fast
def test_a_check_of_the_version_before_a_reconcile_says_so():
    queued = {**DRIFTED, "status": "QUEUED", "version": 4}
    assert plain(drift_lines(queued)).splitlines()[1] == (
        "the pipeline is QUEUED (version 4) now: this check is of the version deployed before it"
    )


@pytest.mark.fast
@pytest.mark.parametrize(
    ("state", "shown"),
    [("IN_SYNC", "in sync"), ("DRIFTED", "drifted"), ("UNKNOWN", "unknown"), ("NOT_CHECKED", "not checked")],
)
def test_the_list_shows_each_drift_state_in_words(state, shown):
    item = {"pipeline_id": PIPELINE, "pipeline_type": "byom_realtime_builtin", "status": "DEPLOYED", "drift": state}
    out = io.StringIO()
    Console(file=out, width=200).print(pipelines_table([item]))
    header, row = [line for line in out.getvalue().splitlines() if PIPELINE in line or "pipeline " in line]
    assert header.replace("┃", " ").split() == ["pipeline", "type", "status", "drift", "updated"]
    assert f"DEPLOYED │ {shown} " in row


@pytest.mark.fast
def test_an_orchestrator_older_than_drift_detection_leaves_the_column_blank():
    assert drift_label(None) == ""
    assert drift_label("SOMETHING_NEW") == "SOMETHING_NEW"


@pytest.mark.fast
@pytest.mark.parametrize(("state", "line"), [("DRIFTED", "drift: drifted"), ("UNKNOWN", "drift: unknown")])
def test_a_status_says_when_the_pipeline_drifted_or_could_not_be_checked(state, line):
    out = io.StringIO()
    render_status(Console(file=out, width=200), {"pipeline_id": PIPELINE, "status": "DEPLOYED", "drift": state})
    assert f"{line} (details: mlops drift {PIPELINE})" in out.getvalue().splitlines()


@pytest.mark.fast
@pytest.mark.parametrize("state", ["IN_SYNC", "NOT_CHECKED", None])
def test_a_status_in_sync_or_never_checked_says_nothing_of_drift(state):
    out = io.StringIO()
    render_status(Console(file=out, width=200), {"pipeline_id": PIPELINE, "status": "DEPLOYED", "drift": state})
    assert "drift" not in out.getvalue()


# -- commands ----------------------------------------------------------------------------------------


def test_drift_of_one_pipeline(mlops: Run, api) -> None:
    api.answer("GET", f"/pipelines/{PIPELINE}/drift", (200, DRIFTED))

    result = mlops("drift", PIPELINE)

    assert result.exit_code == 0, result.output
    assert f"pipeline {PIPELINE}: drifted (checked 2026-12-06T03:00:00Z)" in result.stdout
    assert "update aws:sagemaker/endpoint:Endpoint churn-xgb-dev: endpointConfigName, tags" in result.stdout
    assert [(r.method, r.path) for r in api.received] == [("GET", f"/prod/pipelines/{PIPELINE}/drift")]


def test_drift_json_is_the_answer(mlops: Run, api) -> None:
    api.answer("GET", f"/pipelines/{PIPELINE}/drift", (200, DRIFTED))

    result = mlops("drift", PIPELINE, "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == DRIFTED


def test_drift_of_every_pipeline_follows_every_page(mlops: Run, api) -> None:
    api.answer(
        "GET",
        "/pipelines",
        (
            200,
            {
                "pipelines": [{"pipeline_id": "a-realtime-builtin", "status": "DEPLOYED", "drift": "DRIFTED"}],
                "next_token": "t2",
            },
        ),
        (200, {"pipelines": [{"pipeline_id": "b-batch-builtin", "status": "QUEUED", "drift": "NOT_CHECKED"}]}),
    )

    result = mlops("drift")

    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.stdout.splitlines() if "-builtin" in line]
    assert rows == [
        ["│", "a-realtime-builtin", "│", "DEPLOYED", "│", "drifted", "│"],
        ["│", "b-batch-builtin", "│", "QUEUED", "│", "not", "checked", "│"],
    ]
    assert [r.query.get("next_token") for r in api.received] == [None, ["t2"]]


def test_drift_of_an_unknown_pipeline_is_one_line_and_exit_1(mlops: Run, api) -> None:
    api.answer("GET", "/pipelines/nope/drift", (404, {"message": "pipeline 'nope' not found"}))

    result = mlops("drift", "nope")

    assert result.exit_code == 1
    assert result.stderr.strip() == "error (HTTP 404): pipeline 'nope' not found"
    assert result.stdout == ""


def test_reconcile_asks_first_and_sends_nothing_when_refused(mlops: Run, api) -> None:
    result = mlops("reconcile", PIPELINE, input="n\n")

    assert result.exit_code == 1
    assert f"Deploy pipeline {PIPELINE}'s current spec again" in result.stdout
    assert api.received == []


def test_reconcile_queues_a_new_version(mlops: Run, api) -> None:
    answer = {"pipeline_id": PIPELINE, "status": "QUEUED", "version": 4, "requested_by": "arn:aws:iam::1:user/me"}
    api.answer("POST", f"/pipelines/{PIPELINE}/reconcile", (202, answer))

    result = mlops("reconcile", PIPELINE, "--yes")

    assert result.exit_code == 0, result.output
    assert f"pipeline {PIPELINE}: QUEUED (version 4, the current spec again)" in result.stdout
    assert f"mlops status {PIPELINE} --wait" in result.stdout
    [sent] = api.received
    assert (sent.method, sent.path, sent.body) == ("POST", f"/prod/pipelines/{PIPELINE}/reconcile", None)


def test_reconcile_refused_by_the_api_is_its_message_and_exit_1(mlops: Run, api) -> None:
    refusal = {
        "message": f"pipeline {PIPELINE} is PROVISIONING: only a DEPLOYED pipeline (or a FAILED one that was "
        "deployed) can be reconciled; wait until its current operation has finished",
        "errors": [{"field": "pipeline_id", "problem": "is PROVISIONING"}],
    }
    api.answer("POST", f"/pipelines/{PIPELINE}/reconcile", (409, refusal))

    result = mlops("reconcile", PIPELINE, "--yes")

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error (HTTP 409): {refusal['message']}",
        "  pipeline_id: is PROVISIONING",
    ]
