"""Deleting a pipeline where no 15-minute limit applies: the teardown build.

The provisioner function only claims a deletion and starts a teardown build: a CodeBuild run of the
provisioner's own image, as the provisioner's own role, that stops the pipeline's runs and deploy
builds and destroys its stacks (`mlops teardown` -> Provisioner.tear_down). A killed Lambda run left
a stack lock that blocked every retry until it went stale; a build may run for hours, and when it
is killed anyway (its timeout) the sweep sees the build ended and fails the deletion retryably.

The request is four build variables the provisioner sets when it starts the build (the only
variables a start may override, see components/orchestrator/teardown.py). The build acts only while
the record is DELETING at that version with that claim, so a late or forged start destroys nothing.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lambda_src.provisioner.settings import SettingsError
from mlops_spec.env_vars import TeardownVar


@dataclass(frozen=True)
class TeardownRequest:
    """Which deletion a teardown build runs: the record's version and the claim the provisioner holds."""

    pipeline_id: str
    version: int
    claim: str
    previous_build: str | None = None
    """The pipeline's last teardown build, if any: stopped and awaited before anything is destroyed."""

    def overrides(self) -> list[dict[str, str]]:
        """CodeBuild's environmentVariablesOverride for this request."""
        values = {
            TeardownVar.PIPELINE_ID: self.pipeline_id,
            TeardownVar.VERSION: str(self.version),
            TeardownVar.CLAIM: self.claim,
        }
        if self.previous_build:
            values[TeardownVar.PREVIOUS_BUILD] = self.previous_build
        return [{"name": name.value, "value": value, "type": "PLAINTEXT"} for name, value in values.items()]

    def idempotency_token(self) -> str:
        """The same start sent twice (a retried invocation) starts one build, not two."""
        return hashlib.sha256(f"{self.pipeline_id}\n{self.version}\n{self.claim}".encode()).hexdigest()[:32]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TeardownRequest:
        """The request a teardown build was started with; SettingsError when it lacks one."""
        env = os.environ if environ is None else environ
        missing = [
            var.value for var in (TeardownVar.PIPELINE_ID, TeardownVar.VERSION, TeardownVar.CLAIM) if not env.get(var)
        ]
        if missing:
            raise SettingsError(f"not a teardown build: {', '.join(missing)} not set")
        version = env[TeardownVar.VERSION]
        if not (version.isascii() and version.isdigit()):
            raise SettingsError(f"{TeardownVar.VERSION.value} must be a whole number, not {version[:20]!r}")
        return cls(
            pipeline_id=env[TeardownVar.PIPELINE_ID],
            version=int(version),
            claim=env[TeardownVar.CLAIM],
            previous_build=env.get(TeardownVar.PREVIOUS_BUILD) or None,
        )


def start(codebuild: Any, project: str, request: TeardownRequest) -> str:
    """Start the teardown build of `request`; its build id."""
    response = codebuild.start_build(
        projectName=project,
        environmentVariablesOverride=request.overrides(),
        idempotencyToken=request.idempotency_token(),
    )
    return str(response["build"]["id"])
