"""Delete stops the pipeline's running deploy builds and waits for them before destroying (issue 11, case 5)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lambda_src.provisioner import builds
from lambda_src.provisioner.errors import BuildsStillRunning
from lambda_src.registry import Status
from mlops_spec import naming
from tests.support.fake_codebuild import FakeCodeBuild


def test_running_builds_are_stopped_and_awaited():
    codebuild = FakeCodeBuild(stops_after=3)
    codebuild.add("deploy-dev", "dev:1", "SUCCEEDED")
    codebuild.add("deploy-dev", "dev:2")
    codebuild.add("deploy-prod", "prod:1")
    slept: list[float] = []

    stopped = builds.stop_and_wait(codebuild, ["deploy-dev", "deploy-prod", "deploy-missing"], sleep=slept.append)

    assert sorted(stopped) == ["dev:2", "prod:1"]
    assert sorted(codebuild.stop_requests) == ["dev:2", "prod:1"]
    assert builds.running_builds(codebuild, ["deploy-dev", "deploy-prod"]) == []
    assert slept == [builds.POLL_SECONDS] * 3


def test_a_build_that_does_not_stop_in_time_is_a_retryable_error():
    codebuild = FakeCodeBuild(stops_after=10_000)
    codebuild.add("deploy-dev", "dev:1")

    with pytest.raises(BuildsStillRunning) as caught:
        builds.stop_and_wait(codebuild, ["deploy-dev"], sleep=lambda _: None, wait_seconds=20)

    assert caught.value.retryable and "dev:1" in caught.value.message


def test_nothing_running_means_no_stop_and_no_wait():
    codebuild = FakeCodeBuild()
    codebuild.add("deploy-dev", "dev:1", "FAILED")
    slept: list[float] = []

    assert builds.stop_and_wait(codebuild, ["deploy-dev"], sleep=slept.append) == []
    assert (codebuild.stop_requests, slept) == ([], [])


def _delete_with_builds(multi: Any, example_body: Callable[..., dict[str, Any]], stops_after: int) -> tuple:
    from tests.lambda_src.provisioner.test_races import provisioned

    pipeline_id, _, _ = provisioned(multi, example_body("byom_realtime_builtin", "multi"))
    codebuild = FakeCodeBuild(stops_after=stops_after)
    codebuild.add(naming.deploy_project_name(pipeline_id, "dev"), "dev:1")
    multi.codebuild = codebuild
    status, _ = multi.api("DELETE", f"/pipelines/{pipeline_id}")
    assert status == 202
    return pipeline_id, codebuild, multi.run_provisioner()


def test_delete_stops_the_running_deploy_build_before_destroying_anything(
    multi: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    pipeline_id, codebuild, result = _delete_with_builds(multi, example_body, stops_after=2)

    assert result["status"] == "DELETED"
    assert codebuild.stop_requests == ["dev:1"]
    # Only the delivery stack exists here (no deploy ran); the next test shows nothing goes before the stop.
    assert [name for action, name in multi.backend.history if action == "destroy"] == [f"{pipeline_id}-delivery"]
    assert multi.record(pipeline_id).status == Status.DELETED


def test_a_build_that_will_not_stop_fails_the_delete_retryably_and_destroys_nothing(
    multi: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    pipeline_id, _, result = _delete_with_builds(multi, example_body, stops_after=10_000)

    assert result["status"] == "FAILED"
    assert [a for a, _ in multi.backend.history if a == "destroy"] == []
    record = multi.record(pipeline_id)
    assert record.status == Status.FAILED
    assert record.last_error.startswith("builds-still-running (retryable)")
