"""`mlops provision|status|list|delete` against a local API that checks every request's SigV4 signature."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

Run = Callable[..., Result]

PIPELINE = "churn-xgb-realtime-builtin"
REQUEST = {
    "pipeline_type": "byom_realtime_builtin",
    "model_name": "churn-xgb",
    "inference_instance": "ml.m5.large",
    "model_framework": "xgboost",
    "model_framework_version": "1.7-1",
    "model_artifact_location": "models/churn/model.tar.gz",
    "data_capture_location": "my-bucket/capture",
}
FAST = ("--interval", "0.01")


def status_answer(status: str, **extra: object) -> tuple[int, dict[str, object]]:
    return 200, {"pipeline_id": PIPELINE, "status": status, "stages": [], **extra}


@pytest.fixture
def request_file(tmp_path: Path) -> str:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(REQUEST))
    return str(path)


# -- provision ----------------------------------------------------------------------------------


def test_provision_sends_the_request_and_prints_id_and_status(mlops: Run, api, request_file: str) -> None:
    stacks = [f"{PIPELINE}-delivery", f"{PIPELINE}-dev"]
    answer = {"pipeline_id": PIPELINE, "status": "QUEUED", "stacks": stacks, "idempotent_replay": False}
    api.answer("POST", "/provisionpipeline", (202, answer))

    result = mlops("provision", request_file)

    assert result.exit_code == 0, result.output
    assert f"pipeline {PIPELINE}: QUEUED\n" in result.stdout
    assert f"stacks: {PIPELINE}-delivery, {PIPELINE}-dev" in result.stdout
    assert f"mlops status {PIPELINE} --wait" in result.stdout
    [sent] = api.received
    assert (sent.method, sent.path, sent.query) == ("POST", "/prod/provisionpipeline", {})
    assert sent.body == REQUEST
    assert sent.headers["content-type"] == "application/json"


def test_provision_replay_says_nothing_new_was_queued(mlops: Run, api, request_file: str) -> None:
    answer = {"pipeline_id": PIPELINE, "status": "DEPLOYED", "idempotent_replay": True}
    api.answer("POST", "/provisionpipeline", (200, answer))

    result = mlops("provision", request_file)

    assert result.exit_code == 0, result.output
    assert "DEPLOYED (the same request was sent before: nothing new was queued)" in result.stdout


def test_provision_dry_run_asks_the_api_to_validate_only(mlops: Run, api, request_file: str) -> None:
    api.answer("POST", "/provisionpipeline", (200, {"pipeline_id": PIPELINE, "status": "VALID", "dry_run": True}))

    result = mlops("provision", request_file, "--dry-run")

    assert result.exit_code == 0, result.output
    assert "dry run" in result.stdout and "nothing was created" in result.stdout
    assert api.received[0].query == {"dry_run": ["true"]}


def test_provision_dry_run_without_checks_asks_the_api_to_call_nothing(mlops: Run, api, request_file: str) -> None:
    answer = {"pipeline_id": PIPELINE, "dry_run": True, "preflight": {"status": "not checked", "reason": "skipped"}}
    api.answer("POST", "/provisionpipeline", (200, answer))

    result = mlops("provision", request_file, "--dry-run", "--no-checks")

    assert result.exit_code == 0, result.output
    assert api.received[0].query == {"dry_run": ["true"], "checks": ["false"]}
    assert "quota preflight: not checked (skipped)" in result.stdout


def test_no_checks_without_a_dry_run_is_one_line_and_sends_nothing(mlops: Run, api, request_file: str) -> None:
    result = mlops("provision", request_file, "--no-checks")

    assert result.exit_code == 2
    assert result.stderr.strip() == "--no-checks applies only to a dry run: add --dry-run"
    assert api.received == []


def test_provision_of_an_invalid_request_never_reaches_the_api(mlops: Run, api, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({**REQUEST, "inference_instance": "huge"}))

    result = mlops("provision", str(path))

    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "inference_instance: must be a SageMaker instance type for endpoints, like ml.m5.large "
        "(277 types are valid here)"
    )
    assert api.received == []


def test_provision_rejected_by_the_api_prints_message_and_field_errors(mlops: Run, api, request_file: str) -> None:
    errors = [
        {"field": "model_artifact_location", "problem": "no such object in the assets bucket"},
        {"field": "endpoint_name", "problem": "is already used by pipeline other-realtime-builtin"},
    ]
    api.answer("POST", "/provisionpipeline", (400, {"message": "invalid pipeline request", "errors": errors}))

    result = mlops("provision", request_file)

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error (HTTP 400): invalid pipeline request",
        "  model_artifact_location: no such object in the assets bucket",
        "  endpoint_name: is already used by pipeline other-realtime-builtin",
    ]


# -- status -------------------------------------------------------------------------------------


def test_status_shows_stages_actions_approvals_error_and_outputs(mlops: Run, api) -> None:
    api.answer(
        "GET",
        f"/pipelines/{PIPELINE}",
        status_answer(
            "AWAITING_APPROVAL",
            stages=[
                {
                    "name": "deploy-dev",
                    "status": "SUCCEEDED",
                    "actions": [
                        {"name": "pulumi-up", "status": "SUCCEEDED", "last_error": None},
                        {"name": "smoke-test", "status": "FAILED", "last_error": "JobFailed: endpoint timed out"},
                    ],
                },
                {
                    "name": "approve-staging",
                    "status": "IN_PROGRESS",
                    "actions": [{"name": "approval", "status": "IN_PROGRESS"}],
                },
            ],
            pending_approvals=[{"stage": "approve-staging", "action": "approval", "token": "tok-1"}],
            last_error="dev smoke test retried once",
            errors=[{"field": "endpoint_name", "problem": "is taken"}],
            outputs={"endpoint_name": "churn-xgb-dev"},
        ),
    )

    result = mlops("status", PIPELINE)

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"pipeline {PIPELINE}: AWAITING_APPROVAL" in out
    assert "deploy-dev" in out and "pulumi-up: SUCCEEDED " in out  # no error shown for it
    assert "smoke-test: FAILED (JobFailed: endpoint timed out)" in out
    # An orchestrator older than the separation of duties still sent approval tokens: never shown.
    assert "awaiting approval: approve-staging / approval\n" in out
    assert "tok-1" not in out
    assert "last error: dev smoke test retried once" in out
    assert "error: endpoint_name: is taken" in out
    assert "endpoint_name" in out and "churn-xgb-dev" in out
    assert api.received[0].method == "GET"


def test_status_wait_polls_until_deployed(mlops: Run, api) -> None:
    api.answer(
        "GET",
        f"/pipelines/{PIPELINE}",
        status_answer("QUEUED"),
        status_answer("PROVISIONING"),
        status_answer("DEPLOYED", outputs={"endpoint_name": "churn-xgb-dev"}),
    )

    result = mlops("status", PIPELINE, "--wait", *FAST)

    assert result.exit_code == 0, result.output
    assert f"pipeline {PIPELINE}: DEPLOYED" in result.stdout
    assert "churn-xgb-dev" in result.stdout
    assert len(api.received) == 3


@pytest.mark.parametrize(("final", "code"), [("FAILED", 1), ("REJECTED", 1), ("AWAITING_APPROVAL", 4), ("DELETED", 0)])
def test_status_wait_exit_code_follows_the_status_it_stops_on(mlops: Run, api, final: str, code: int) -> None:
    api.answer("GET", f"/pipelines/{PIPELINE}", status_answer("PROVISIONING"), status_answer(final))

    result = mlops("status", PIPELINE, "--wait", *FAST)

    assert result.exit_code == code, result.output
    assert f"pipeline {PIPELINE}: {final}" in result.stdout


def test_status_wait_times_out_with_exit_3(mlops: Run, api) -> None:
    api.answer("GET", f"/pipelines/{PIPELINE}", status_answer("PROVISIONING"))

    result = mlops("status", PIPELINE, "--wait", "--timeout", "0.1", *FAST)

    assert result.exit_code == 3, result.output
    assert f"timed out after 0.1 s waiting for {PIPELINE} (last: PROVISIONING)" in result.stderr
    assert f"pipeline {PIPELINE}: PROVISIONING" in result.stdout
    assert len(api.received) >= 2


def test_status_wait_rides_out_a_server_error(mlops: Run, api) -> None:
    api.answer("GET", f"/pipelines/{PIPELINE}", (503, {"message": "busy"}), status_answer("DEPLOYED"))

    result = mlops("status", PIPELINE, "--wait", *FAST)

    assert result.exit_code == 0, result.output
    assert len(api.received) == 2


def test_status_of_an_unknown_pipeline_is_a_404_message(mlops: Run, api) -> None:
    api.answer("GET", "/pipelines/nope", (404, {"message": "pipeline nope not found"}))

    result = mlops("status", "nope", "--wait", *FAST)

    assert result.exit_code == 1
    assert result.stderr.strip() == "error (HTTP 404): pipeline nope not found"
    assert len(api.received) == 1  # a 4xx is not retried


def test_server_error_is_one_line(mlops: Run, api) -> None:
    api.answer("GET", f"/pipelines/{PIPELINE}", (500, {"message": "internal error"}))

    result = mlops("status", PIPELINE)

    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["error: the orchestrator API failed (HTTP 500): internal error"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused_is_one_line_without_traceback(mlops: Run, aws_credentials: None) -> None:
    url = f"http://127.0.0.1:{free_port()}/prod"

    result = mlops("status", PIPELINE, "--api-url", url)

    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(f"error: cannot reach the orchestrator API at {url}: ")
    assert "refused" in result.stderr.lower()
    assert isinstance(result.exception, SystemExit)


# -- list ---------------------------------------------------------------------------------------


def test_list_shows_one_page_and_says_when_there_are_more(mlops: Run, api) -> None:
    page = {
        "pipelines": [{"pipeline_id": PIPELINE, "pipeline_type": "byom_realtime_builtin", "status": "DEPLOYED"}],
        "next_token": "page-2",
    }
    api.answer("GET", "/pipelines", (200, page))

    result = mlops("list", "--type", "byom_realtime_builtin", "--status", "DEPLOYED", "--limit", "1")

    assert result.exit_code == 0, result.output
    assert PIPELINE in result.stdout and "byom_realtime_builtin" in result.stdout
    assert "add --all" in result.stdout
    assert api.received[0].query == {"limit": ["1"], "pipeline_type": ["byom_realtime_builtin"], "status": ["DEPLOYED"]}


def test_list_all_follows_next_token(mlops: Run, api) -> None:
    api.answer(
        "GET",
        "/pipelines",
        (200, {"pipelines": [{"pipeline_id": "a-realtime-builtin", "status": "DEPLOYED"}], "next_token": "t/2 +"}),
        (200, {"pipelines": [{"pipeline_id": "b-batch-builtin", "status": "FAILED"}]}),
    )

    result = mlops("list", "--all")

    assert result.exit_code == 0, result.output
    assert "a-realtime-builtin" in result.stdout and "b-batch-builtin" in result.stdout
    assert "add --all" not in result.stdout
    assert [r.query.get("next_token") for r in api.received] == [None, ["t/2 +"]]  # and the signature still matched


def test_list_with_nothing_to_show(mlops: Run, api) -> None:
    api.answer("GET", "/pipelines", (200, {"pipelines": []}))

    result = mlops("list")

    assert result.exit_code == 0
    assert result.stdout.strip() == "no pipelines"


# -- delete -------------------------------------------------------------------------------------


def test_delete_asks_first_and_does_nothing_when_refused(mlops: Run, api) -> None:
    result = mlops("delete", PIPELINE, input="n\n")

    assert result.exit_code == 1
    assert f"Delete pipeline {PIPELINE}" in result.stdout
    assert api.received == []


def test_delete_after_confirmation(mlops: Run, api) -> None:
    api.answer("DELETE", f"/pipelines/{PIPELINE}", (202, {"pipeline_id": PIPELINE, "status": "DELETING"}))

    result = mlops("delete", PIPELINE, input="y\n")

    assert result.exit_code == 0, result.output
    assert f"pipeline {PIPELINE}: DELETING" in result.stdout
    assert [(r.method, r.path) for r in api.received] == [("DELETE", f"/prod/pipelines/{PIPELINE}")]


def test_delete_yes_skips_the_prompt(mlops: Run, api) -> None:
    api.answer("DELETE", f"/pipelines/{PIPELINE}", (202, {"pipeline_id": PIPELINE, "status": "DELETING"}))

    result = mlops("delete", PIPELINE, "--yes")

    assert result.exit_code == 0, result.output
    assert "Delete pipeline" not in result.stdout
    assert len(api.received) == 1


# -- setup problems -----------------------------------------------------------------------------


def test_missing_credentials_is_one_line(mlops: Run, api, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)

    result = mlops("status", PIPELINE)

    assert result.exit_code == 1
    assert result.stderr.startswith("error: no AWS credentials found")
    assert len(result.stderr.splitlines()) == 1
    assert api.received == []


def test_unknown_profile_is_one_line(mlops: Run, api) -> None:
    result = mlops("list", "--profile", "no-such-profile")

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: cannot load AWS credentials: The config profile (no-such-profile) could not be found"
    ]


def test_without_url_or_pulumi_the_user_is_told_how_to_point_at_the_api(
    mlops: Run, aws_credentials: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("MLOPS_API_URL", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))

    result = mlops("list")

    assert result.exit_code == 1
    assert "pass --api-url or set MLOPS_API_URL" in result.stderr
    assert "pulumi CLI" in result.stderr


def test_wrong_stage_in_the_url_gets_a_hint(mlops: Run, api) -> None:
    result = mlops("list", "--api-url", api.url.removesuffix("/prod") + "/production")

    assert result.exit_code == 1
    assert "error (HTTP 403): Missing Authentication Token (API Gateway says this for unknown paths" in result.stderr


def test_delete_answered_without_a_body_still_reports_the_request(mlops: Run, api) -> None:
    api.answer("DELETE", f"/pipelines/{PIPELINE}", (202, b""))

    result = mlops("delete", PIPELINE, "--yes")

    assert result.exit_code == 0, result.output
    assert f"pipeline {PIPELINE}: deletion requested" in result.stdout


def test_a_non_json_success_answer_is_an_error_not_a_crash(mlops: Run, api) -> None:
    api.answer("GET", f"/pipelines/{PIPELINE}", (200, b"<html>gateway</html>"))

    result = mlops("status", PIPELINE)

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: the orchestrator API answered HTTP 200 with a body that is not a JSON object"
    ]


def test_status_wait_that_only_sees_server_errors_times_out_naming_the_last_one(mlops: Run, api) -> None:
    api.answer("GET", f"/pipelines/{PIPELINE}", (502, {"message": "Internal server error"}))

    result = mlops("status", PIPELINE, "--wait", "--timeout", "0.05", *FAST)

    assert result.exit_code == 3, result.output
    assert "(last: retrying: the orchestrator API failed (HTTP 502): Internal server error)" in result.stderr


def test_status_wait_rides_out_throttling(mlops: Run, api) -> None:
    api.answer("GET", f"/pipelines/{PIPELINE}", (429, {"message": "Too Many Requests"}), status_answer("DEPLOYED"))

    result = mlops("status", PIPELINE, "--wait", *FAST)

    assert result.exit_code == 0, result.output
    assert len(api.received) == 2


def test_provision_of_a_multi_account_request_is_not_refused_locally_by_default(
    mlops: Run, api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Outside a project (no stack config to follow): multi-account mode, which accepts either kind.
    monkeypatch.chdir(tmp_path)
    example = Path(__file__).parents[2] / "examples" / "multi" / "byom_realtime_builtin.json"
    api.answer("POST", "/provisionpipeline", (202, {"pipeline_id": "churn-xgb-realtime-builtin", "status": "QUEUED"}))

    result = mlops("provision", str(example), "--no-model-registry")

    assert result.exit_code == 0, result.output
    [sent] = api.received
    assert sent.body == json.loads(example.read_text())


@pytest.mark.parametrize(("text", "problem"), [('{"x": NaN}', "NaN is not a JSON value"), ("[" * 5000, "nested")])
def test_validate_refuses_what_the_api_would_not_parse(mlops: Run, tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "request.json"
    path.write_text(text)

    result = mlops("validate", str(path))

    assert result.exit_code == 2
    assert problem in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.fast
def test_without_a_region_the_error_names_what_boto3_reads():
    from mlops_cli.api_client import ApiError, resolve_region

    with pytest.raises(ApiError) as refused:
        resolve_region("https://api.example.com/v1", None, None)
    assert str(refused.value) == "no AWS region: pass --region or set AWS_DEFAULT_REGION"
    assert resolve_region("https://abc123.execute-api.eu-west-1.amazonaws.com/v1", None, None) == "eu-west-1"
