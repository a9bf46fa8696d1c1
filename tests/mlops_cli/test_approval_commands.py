"""`mlops approve|reject` and `mlops status|list --json` against a local API that checks SigV4 signatures."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from typer.testing import Result

Run = Callable[..., Result]

PIPELINE = "churn-xgb-realtime-builtin"
ROUTE = f"/pipelines/{PIPELINE}/approval"


def answered(stage: str, decision: str) -> tuple[int, dict[str, str]]:
    return 200, {"pipeline_id": PIPELINE, "stage": stage, "action": stage, "decision": decision}


# -- approve ------------------------------------------------------------------------------------


def test_approve_sends_the_decision_and_names_the_approval_it_answered(mlops: Run, api) -> None:
    api.answer("POST", ROUTE, answered("ApproveStaging", "approve"))

    result = mlops("approve", PIPELINE)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"pipeline {PIPELINE}: ApproveStaging approved",
        f"follow it with: mlops status {PIPELINE} --wait",
    ]
    [sent] = api.received
    assert (sent.method, sent.path, sent.query) == ("POST", f"/prod{ROUTE}", {})
    assert sent.body == {"decision": "approve"}
    assert sent.headers["content-type"] == "application/json"


def test_approve_names_who_approved_and_who_requested(mlops: Run, api) -> None:
    approver = "arn:aws:sts::111111111111:assumed-role/Reviewer/bob"
    requester = "arn:aws:iam::111111111111:user/data-scientist"
    status, body = answered("ApproveProd", "approve")
    api.answer("POST", ROUTE, (status, {**body, "approved_by": approver, "requested_by": requester}))

    result = mlops("approve", PIPELINE)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:2] == [
        f"pipeline {PIPELINE}: ApproveProd approved",
        f"approved by {approver}; requested by {requester}",
    ]


def test_a_refused_approval_is_one_line_per_reason_and_exit_1(mlops: Run, api) -> None:
    message = (
        f"arn:aws:iam::111111111111:user/data-scientist may not approve the promotion of pipeline {PIPELINE} to prod"
    )
    problem = "requested this version: a requester cannot approve their own promotion to prod"
    api.answer("POST", ROUTE, (403, {"message": message, "errors": [{"field": "(caller)", "problem": problem}]}))

    result = mlops("approve", PIPELINE)

    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == f"error (HTTP 403): {message}"
    assert problem in result.stderr
    assert result.stdout == ""


def test_approve_with_stage_and_comment_sends_both(mlops: Run, api) -> None:
    api.answer("POST", ROUTE, answered("ApproveProd", "approve"))

    result = mlops("approve", PIPELINE, "--stage", "ApproveProd", "--comment", "canary metrics look good")

    assert result.exit_code == 0, result.output
    assert f"pipeline {PIPELINE}: ApproveProd approved" in result.stdout
    assert api.received[0].body == {
        "decision": "approve",
        "stage": "ApproveProd",
        "comment": "canary metrics look good",
    }


def test_a_pipeline_id_is_escaped_in_the_path_and_still_signed(mlops: Run, api) -> None:
    api.answer("POST", "/pipelines/odd%20id/approval", answered("ApproveStaging", "approve"))

    result = mlops("approve", "odd id")

    assert result.exit_code == 0, result.output
    assert api.received[0].path == "/prod/pipelines/odd%20id/approval"


def test_nothing_pending_is_one_line_and_exit_1(mlops: Run, api) -> None:
    message = f"pipeline {PIPELINE} is not waiting for approval at ApproveProd (pending: ApproveStaging)"
    api.answer("POST", ROUTE, (409, {"message": message}))

    result = mlops("approve", PIPELINE, "--stage", "ApproveProd")

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"error (HTTP 409): {message}"]
    assert result.stdout == ""


def test_an_unknown_pipeline_is_one_line_and_exit_1(mlops: Run, api) -> None:
    api.answer("POST", "/pipelines/nope/approval", (404, {"message": "pipeline 'nope' not found"}))

    result = mlops("approve", "nope")

    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["error (HTTP 404): pipeline 'nope' not found"]


def test_a_server_error_is_one_line_and_not_retried(mlops: Run, api) -> None:
    api.answer("POST", ROUTE, (500, {"message": "internal error", "request_id": "r-1"}))

    result = mlops("approve", PIPELINE)

    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["error: the orchestrator API failed (HTTP 500): internal error"]
    assert len(api.received) == 1  # answering an approval twice is not what the user asked for


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("--stage", "DeployProd"), "error: --stage must be one of ApproveStaging, ApproveProd (got 'DeployProd')"),
        (("--stage", "staging"), "error: --stage must be one of ApproveStaging, ApproveProd (got 'staging')"),
        (("--comment", "x" * 513), "error: --comment must be at most 512 characters (got 513)"),
    ],
)
@pytest.mark.parametrize("command", ["approve", "reject"])
def test_options_the_api_would_refuse_never_reach_it(
    mlops: Run, api, command: str, args: tuple[str, ...], error: str
) -> None:
    # Without --yes, reject would ask first: the check must come before the question too.
    result = mlops(command, PIPELINE, *args)

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [error]
    assert "Reject" not in result.stdout
    assert api.received == []


def test_a_comment_of_exactly_512_characters_is_sent(mlops: Run, api) -> None:
    api.answer("POST", ROUTE, answered("ApproveStaging", "approve"))

    result = mlops("approve", PIPELINE, "--comment", "é" * 512)

    assert result.exit_code == 0, result.output
    assert api.received[0].body["comment"] == "é" * 512


def test_a_rejected_request_lists_the_field_errors(mlops: Run, api) -> None:
    errors = [{"field": "decision", "problem": "must be one of approve, reject"}]
    api.answer("POST", ROUTE, (400, {"message": "invalid approval request", "errors": errors}))

    result = mlops("approve", PIPELINE)

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error (HTTP 400): invalid approval request",
        "  decision: must be one of approve, reject",
    ]


# -- reject -------------------------------------------------------------------------------------


def test_reject_asks_first_and_does_nothing_when_refused(mlops: Run, api) -> None:
    result = mlops("reject", PIPELINE, input="n\n")

    assert result.exit_code == 1
    assert f"Reject the pending approval of pipeline {PIPELINE} and stop its promotion?" in result.stdout
    assert api.received == []


def test_reject_after_confirmation_sends_the_decision(mlops: Run, api) -> None:
    api.answer("POST", ROUTE, answered("ApproveProd", "reject"))

    result = mlops("reject", PIPELINE, "--stage", "ApproveProd", "--comment", "p99 latency regressed", input="y\n")

    assert result.exit_code == 0, result.output
    assert "Reject the ApproveProd approval of pipeline" in result.stdout
    assert result.stdout.splitlines()[-1] == f"pipeline {PIPELINE}: ApproveProd rejected"
    assert api.received[0].body == {"decision": "reject", "stage": "ApproveProd", "comment": "p99 latency regressed"}


@pytest.mark.parametrize("flag", ["--yes", "-y"])
def test_reject_yes_skips_the_prompt(mlops: Run, api, flag: str) -> None:
    api.answer("POST", ROUTE, answered("ApproveStaging", "reject"))

    result = mlops("reject", PIPELINE, flag)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"pipeline {PIPELINE}: ApproveStaging rejected"]
    assert api.received[0].body == {"decision": "reject"}


def test_reject_of_an_approval_answered_meanwhile_is_one_line(mlops: Run, api) -> None:
    message = (
        f"the approval ApproveStaging of pipeline {PIPELINE} is no longer pending "
        "(ApprovalAlreadyCompletedException); see its status"
    )
    api.answer("POST", ROUTE, (409, {"message": message}))

    result = mlops("reject", PIPELINE, "--yes")

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"error (HTTP 409): {message}"]


def test_approve_and_reject_are_listed_in_help(mlops: Run) -> None:
    result = mlops("--help")

    assert result.exit_code == 0
    assert "approve" in result.stdout and "reject" in result.stdout


# -- --json -------------------------------------------------------------------------------------

STATUS = {
    "pipeline_id": PIPELINE,
    "status": "AWAITING_APPROVAL",
    "stages": [{"name": "ApproveStaging", "status": "IN_PROGRESS", "actions": []}],
    "pending_approvals": [{"stage": "ApproveStaging", "action": "ApproveStaging"}],
    "outputs": {"endpoint_name": "churn-xgb-dev"},
    "last_error": None,
}


def test_status_names_the_requester_and_who_answered_without_a_token(mlops: Run, api) -> None:
    answered_status = {
        **STATUS,
        "requested_by": "arn:aws:iam::111111111111:user/data-scientist",
        "approvals": [
            {
                "stage": "ApproveStaging",
                "decision": "approve",
                "approved_by": "arn:aws:sts::111111111111:assumed-role/Reviewer/bob",
                "at": "2026-12-06T08:00:00.000Z",
                "comment": "canary ok",
            }
        ],
        # An orchestrator older than the separation of duties still sent tokens.
        "pending_approvals": [{"stage": "ApproveProd", "action": "ApproveProd", "token": "tok-1"}],
    }
    api.answer("GET", f"/pipelines/{PIPELINE}", (200, answered_status))

    result = mlops("status", PIPELINE)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "requested by arn:aws:iam::111111111111:user/data-scientist" in lines
    assert (
        "ApproveStaging approved by arn:aws:sts::111111111111:assumed-role/Reviewer/bob at 2026-12-06T08:00:00.000Z: "
        "canary ok"
    ) in lines
    assert "awaiting approval: ApproveProd / ApproveProd" in lines
    assert "tok-1" not in result.stdout


def test_status_json_prints_the_api_answer(mlops: Run, api) -> None:
    api.answer("GET", f"/pipelines/{PIPELINE}", (200, STATUS))

    result = mlops("status", PIPELINE, "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == STATUS
    assert "awaiting approval" not in result.stdout  # no tables, no styling


def test_status_json_with_wait_keeps_the_exit_code(mlops: Run, api) -> None:
    api.answer("GET", f"/pipelines/{PIPELINE}", (200, {**STATUS, "status": "PROVISIONING"}), (200, STATUS))

    result = mlops("status", PIPELINE, "--json", "--wait", "--interval", "0.01")

    assert result.exit_code == 4, result.output
    assert json.loads(result.stdout) == STATUS


def test_status_json_on_timeout_prints_the_last_answer(mlops: Run, api) -> None:
    api.answer("GET", f"/pipelines/{PIPELINE}", (200, {**STATUS, "status": "PROVISIONING"}))

    result = mlops("status", PIPELINE, "--json", "--wait", "--timeout", "0.05", "--interval", "0.01")

    assert result.exit_code == 3, result.output
    assert json.loads(result.stdout)["status"] == "PROVISIONING"
    assert "timed out" in result.stderr


def test_status_json_error_goes_to_stderr(mlops: Run, api) -> None:
    api.answer("GET", "/pipelines/nope", (404, {"message": "pipeline 'nope' not found"}))

    result = mlops("status", "nope", "--json")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == ["error (HTTP 404): pipeline 'nope' not found"]


def test_list_json_prints_the_page_as_answered(mlops: Run, api) -> None:
    page = {
        "pipelines": [{"pipeline_id": PIPELINE, "pipeline_type": "byom_realtime_builtin", "status": "DEPLOYED"}],
        "next_token": "page-2",
    }
    api.answer("GET", "/pipelines", (200, page))

    result = mlops("list", "--json", "--limit", "1")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == page
    assert "add --all" not in result.stdout


def test_list_json_all_merges_every_page(mlops: Run, api) -> None:
    first = {"pipeline_id": "a-realtime-builtin", "status": "DEPLOYED"}
    second = {"pipeline_id": "b-batch-builtin", "status": "FAILED"}
    api.answer(
        "GET",
        "/pipelines",
        (200, {"pipelines": [first], "next_token": "t2"}),
        (200, {"pipelines": [second], "next_token": None}),
    )

    result = mlops("list", "--json", "--all")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"pipelines": [first, second], "next_token": None}


def test_list_json_of_nothing_is_an_empty_list(mlops: Run, api) -> None:
    api.answer("GET", "/pipelines", (200, {"pipelines": [], "next_token": None}))

    result = mlops("list", "--json")

    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"pipelines": [], "next_token": None}
