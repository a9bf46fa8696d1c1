"""Stopping a pipeline's running deploy builds before its stacks are destroyed.

Stopping the CodePipeline execution does not stop a CodeBuild build already running: left alone,
it could re-create a target stack after it was destroyed, then lose its rights mid-`up`. A delete
therefore stops every running deploy build of the pipeline and waits until each has stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from lambda_src.common import aws
from lambda_src.provisioner.errors import BuildsStillRunning

# CodeBuild takes a few seconds to stop a build (its phases finish); a build that keeps running past
# this is reported, and the deletion retried, rather than destroyed under it.
STOP_WAIT_SECONDS = 180
POLL_SECONDS = 5
# The builds a running delivery execution can have: the newest few of each deploy project.
RECENT_BUILDS = 10


def running_builds(codebuild: Any, projects: Iterable[str]) -> list[str]:
    """Ids of the builds in progress in `projects` (a project that does not exist has none)."""
    ids: list[str] = []
    for project in projects:
        try:
            listed = codebuild.list_builds_for_project(projectName=project, sortOrder="DESCENDING")
        except Exception as exc:
            if aws.error_code(exc) == "ResourceNotFoundException":
                continue
            raise
        ids += listed.get("ids", [])[:RECENT_BUILDS]
    return in_progress(codebuild, ids)


def in_progress(codebuild: Any, build_ids: list[str]) -> list[str]:
    if not build_ids:
        return []
    builds = codebuild.batch_get_builds(ids=build_ids).get("builds", [])
    return [build["id"] for build in builds if build.get("buildStatus") == "IN_PROGRESS"]


def stop_and_wait(
    codebuild: Any,
    projects: Iterable[str],
    sleep: Callable[[float], None] = time.sleep,
    wait_seconds: float = STOP_WAIT_SECONDS,
) -> list[str]:
    """Stop every running build of `projects` and wait until none runs; the ids stopped.

    BuildsStillRunning (retryable) when one is still running after `wait_seconds`.
    """
    return _stop_and_wait(codebuild, running_builds(codebuild, projects), sleep, wait_seconds)


def stop_and_wait_builds(
    codebuild: Any,
    build_ids: list[str],
    sleep: Callable[[float], None] = time.sleep,
    wait_seconds: float = STOP_WAIT_SECONDS,
) -> list[str]:
    """Stop those of `build_ids` still running and wait until none runs; the ids stopped."""
    return _stop_and_wait(codebuild, in_progress(codebuild, build_ids), sleep, wait_seconds)


def _stop_and_wait(
    codebuild: Any, stopping: list[str], sleep: Callable[[float], None], wait_seconds: float
) -> list[str]:
    for build_id in stopping:
        try:
            codebuild.stop_build(id=build_id)
        except Exception as exc:
            # A build that finished meanwhile cannot be stopped: nothing left to do for it.
            if aws.error_code(exc) != "InvalidInputException":
                raise
    waited = 0.0
    still = in_progress(codebuild, stopping)
    while still:
        if waited >= wait_seconds:
            raise BuildsStillRunning(
                f"builds still running after {int(wait_seconds)} s: {', '.join(still)}; send the delete again"
            )
        sleep(POLL_SECONDS)
        waited += POLL_SECONDS
        still = in_progress(codebuild, still)
    return stopping
