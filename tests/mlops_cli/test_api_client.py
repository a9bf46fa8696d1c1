"""Finding the orchestrator API (flag, environment, pulumi stack output) and the region to sign for."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from mlops_cli.api_client import ApiClient, ApiError, load_credentials, resolve_api_url, resolve_region

EXECUTE_API = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"


def fake_pulumi(directory: Path, script: str) -> None:
    """A `pulumi` executable on PATH that runs `script` (a shell body)."""
    path = directory / "pulumi"
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_flag_wins_over_the_environment() -> None:
    assert resolve_api_url("https://flag.example/prod/", {"MLOPS_API_URL": EXECUTE_API}) == "https://flag.example/prod"


def test_environment_is_used_without_a_flag() -> None:
    assert resolve_api_url(None, {"MLOPS_API_URL": EXECUTE_API}) == EXECUTE_API


def test_url_without_scheme_is_refused() -> None:
    with pytest.raises(ApiError, match="must start with https://"):
        resolve_api_url("abc123.execute-api.eu-west-1.amazonaws.com/prod", {})


def test_stack_output_is_read_with_the_pulumi_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_pulumi(tmp_path, f'[ "$*" = "stack output apiUrl" ] && echo "{EXECUTE_API}/" || exit 9')
    monkeypatch.setenv("PATH", str(tmp_path))

    assert resolve_api_url(None, {}) == EXECUTE_API


def test_failing_stack_output_explains_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_pulumi(tmp_path, 'echo "error: no stack selected" >&2; exit 255')
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(ApiError) as caught:
        resolve_api_url(None, {})

    assert caught.value.message == (
        "`pulumi stack output apiUrl` failed: error: no stack selected; pass --api-url or set MLOPS_API_URL"
    )


def test_region_comes_from_an_execute_api_url() -> None:
    assert resolve_region(EXECUTE_API, None, "us-east-1") == "eu-west-1"


def test_region_flag_wins_over_the_url() -> None:
    assert resolve_region(EXECUTE_API, "eu-central-1", "us-east-1") == "eu-central-1"


def test_custom_domain_signs_for_the_session_region() -> None:
    assert resolve_region("https://mlops.example.com", None, "us-west-2") == "us-west-2"


def test_no_region_anywhere_is_an_error() -> None:
    with pytest.raises(ApiError, match="pass --region"):
        resolve_region("https://mlops.example.com", None, None)


def test_connect_signs_for_the_region_of_the_url(aws_credentials: None) -> None:
    client = ApiClient.connect(EXECUTE_API, None, None)

    assert (client.base_url, client.region) == (EXECUTE_API, "eu-west-1")
    assert load_credentials(None)[0].get_frozen_credentials().access_key == "testing"


@pytest.mark.parametrize("number", [float("inf"), float("-inf"), float("nan")])
def test_a_body_with_a_non_finite_number_is_refused_before_sending(aws_credentials: None, api, number) -> None:
    client = ApiClient.connect(api.url, "us-east-1", None)

    with pytest.raises(ApiError, match="not finite"):
        client.call("POST", "/provisionpipeline", body={"algo_hyperparamaters": {"eta": number}})

    assert api.received == []
