"""Promotion that cannot be bypassed: `mlops deploy` to an environment guarded by a manual approval
runs only inside the delivery pipeline's run whose approval for that environment succeeded.

What it believes is what CodeBuild and CodePipeline answer, never a variable a caller can set: the
build's own record (CodeBuild sets CODEBUILD_BUILD_ID; the record says who started the build and
for which project), the pipeline's state (which build its deploy action is running, in which run),
and that run's action executions (its approval). IAM keeps every role of the project from bringing
a buildspec or variables of its own to a deploy build (components/orchestrator/delivery_access.py);
this check is what stops a build started any other way (docs/security.md).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from lambda_src.common import aws
from lambda_src.provisioner.errors import ProvisioningError
from lambda_src.provisioner.settings import ProvisionerSettings
from mlops_spec import naming
from mlops_spec.approvals import approval_stage, deploy_stage
from mlops_spec.base import PipelineSpec
from mlops_spec.environments import ENVIRONMENTS

# Environments a promotion reaches: in multi-account mode an approval guards each.
PROMOTED = frozenset(ENVIRONMENTS[1:])
MANUAL_APPROVAL = {"category": "Approval", "owner": "AWS", "provider": "Manual"}
# Answers worth another build; any other failure to read the run needs an operator.
TRANSIENT_ERRORS = frozenset({"ThrottlingException", "TooManyRequestsException", "InternalServerError"})


class PromotionRefused(ProvisioningError, reason="promotion-refused", retryable=False):
    """A deployment to an approval-guarded environment that is not the approved pipeline run's."""


@dataclass
class Promotion:
    """The build `mlops deploy` runs in, and the clients that tell what started it."""

    build_id: str | None
    build_arn: str | None = None
    codebuild: Any = None
    codepipeline: Any = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Promotion:
        """CodeBuild sets CODEBUILD_BUILD_ID and CODEBUILD_BUILD_ARN in every build (and no role of
        this project may override a CODEBUILD_ variable); outside CodeBuild both are absent."""
        return cls(build_id=environ.get("CODEBUILD_BUILD_ID"), build_arn=environ.get("CODEBUILD_BUILD_ARN"))

    def required(self, spec: PipelineSpec, env: str, settings: ProvisionerSettings) -> bool:
        """Whether deploying `env` needs an approved run: when an approval guards `env` in the
        pipeline's delivery pipeline, and (so that no build variable can lift it) whenever a build
        deploys staging or prod into another account than the one it runs in, which only a
        multi-account promotion does. Dev, and single-account installs, are not gated."""
        environments = spec.environments(settings.mode, home=settings.orchestrator_environment)  # type: ignore[arg-type]
        if env in environments[1:]:
            return True
        target = settings.accounts.get(env)
        return env in PROMOTED and target is not None and target != self._running_account(settings)

    def refuse_if_blocked(
        self, blocked: Mapping[str, Any] | None, spec: PipelineSpec, env: str, settings: ProvisionerSettings
    ) -> None:
        """A pipeline a monitor blocked (on_violation: block) deploys no environment: PromotionRefused in
        every environment (an approval given before the block does not outlast it), until a person sends
        the pipeline a new request version, which lifts the block (registry/store.py)."""
        if not blocked:
            return
        raise PromotionRefused(
            f"{env} is blocked by monitor {blocked.get('monitor', 'unknown')} (run {blocked.get('run', 'unknown')},"
            f" {blocked.get('at', 'unknown')}): its promotions wait for a person; send the pipeline a new request"
            " version to lift the block"
        )

    def _running_account(self, settings: ProvisionerSettings) -> str:
        parts = (self.build_arn or "").split(":")
        return parts[4] if len(parts) > 5 and parts[2] == "codebuild" else settings.orchestrator_account_id

    def verify(self, pipeline_id: str, env: str) -> str:
        """The id of the pipeline run this build deploys `env` for, once its approval succeeded;
        PromotionRefused otherwise (nothing was deployed)."""
        pipeline = naming.codepipeline_name(pipeline_id)
        if not self.build_id:
            raise PromotionRefused(
                f"{env} is deployed only by {pipeline}'s {deploy_stage(env)} action after"
                f" {approval_stage(env)} succeeds; this is not a CodeBuild build"
            )
        try:
            self._started_by_pipeline(pipeline_id, env, pipeline)
            execution = self._running_execution(pipeline, env)
            self._approved(pipeline, env, execution)
        except PromotionRefused:
            raise
        except Exception as exc:
            code = aws.error_code(exc)
            raise PromotionRefused(
                f"could not check that build {self.build_id} is {pipeline}'s approved run:"
                f" {code or type(exc).__name__}: {exc}",
                retryable=code in TRANSIENT_ERRORS,
            ) from exc
        return execution

    def _started_by_pipeline(self, pipeline_id: str, env: str, pipeline: str) -> None:
        """The build is this pipeline's deploy project of `env`, running, started by CodePipeline."""
        builds = self._codebuild().batch_get_builds(ids=[self.build_id]).get("builds", [])
        build = builds[0] if builds else {}
        project = naming.deploy_project_name(pipeline_id, env)
        if build.get("projectName") != project:
            raise PromotionRefused(
                f"build {self.build_id} is of project {build.get('projectName') or 'unknown'}, not {project}"
            )
        if build.get("initiator") != f"codepipeline/{pipeline}":
            raise PromotionRefused(
                f"build {self.build_id} was started by {build.get('initiator') or 'someone unknown'},"
                f" not by the delivery pipeline {pipeline}"
            )
        if build.get("buildStatus") != "IN_PROGRESS":
            raise PromotionRefused(f"build {self.build_id} is {build.get('buildStatus')}, not running")

    def _running_execution(self, pipeline: str, env: str) -> str:
        """The run whose deploy action for `env` is running this very build."""
        action = deploy_stage(env)
        for stage in self._codepipeline().get_pipeline_state(name=pipeline).get("stageStates", []):
            if stage.get("stageName") != action:
                continue
            for state in stage.get("actionStates", []):
                latest = state.get("latestExecution", {})
                if (
                    state.get("actionName") == action
                    and latest.get("externalExecutionId") == self.build_id
                    and latest.get("status") == "InProgress"
                ):
                    return str(stage.get("latestExecution", {})["pipelineExecutionId"])
        raise PromotionRefused(f"{pipeline}'s {action} action is not running build {self.build_id}")

    def _approved(self, pipeline: str, env: str, execution: str) -> None:
        """In that same run, the manual approval guarding `env` succeeded."""
        approval = approval_stage(env)
        for detail in self._action_executions(pipeline, execution):
            type_id = detail.get("input", {}).get("actionTypeId", {})
            if (
                detail.get("stageName") == approval
                and detail.get("actionName") == approval
                and all(type_id.get(key) == value for key, value in MANUAL_APPROVAL.items())
                and detail.get("status") == "Succeeded"
            ):
                return
        raise PromotionRefused(f"run {execution} of {pipeline} has no succeeded {approval} approval")

    def _action_executions(self, pipeline: str, execution: str) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            page = self._codepipeline().list_action_executions(
                pipelineName=pipeline,
                filter={"pipelineExecutionId": execution},
                **({"nextToken": token} if token else {}),
            )
            yield from page.get("actionExecutionDetails", [])
            token = page.get("nextToken")
            if not token:
                return

    def _codebuild(self) -> Any:
        if self.codebuild is None:
            self.codebuild = aws.client("codebuild")
        return self.codebuild

    def _codepipeline(self) -> Any:
        if self.codepipeline is None:
            self.codepipeline = aws.client("codepipeline")
        return self.codepipeline
