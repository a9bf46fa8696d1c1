"""CodeBuild and CodePipeline as a deploy build sees them, for the promotion gate (moto has neither
ListActionExecutions nor a build's initiator). One `DeliveryRun` answers both services' calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lambda_src.provisioner.promotion import Promotion
from mlops_spec import naming
from mlops_spec.approvals import approval_stage, deploy_stage

MANUAL = {"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"}
ORCHESTRATOR = "111111111111"


@dataclass
class DeliveryRun:
    """One delivery pipeline run deploying `env`, its build, and that run's approval of `env`.

    Each field is what the services answer; tests change one to make a run that is not approved.
    """

    pipeline_id: str
    env: str
    execution_id: str = "run-7"
    build_uuid: str = "5f0c6a9e-0000-4000-8000-000000000001"
    initiator: str | None = None
    project: str | None = None
    build_status: str = "IN_PROGRESS"
    running_build: str | None = None
    """The build the pipeline's deploy action runs (this run's build unless set)."""
    action_status: str = "InProgress"
    approval_status: str | None = "Succeeded"
    approval_type: dict[str, str] = field(default_factory=lambda: dict(MANUAL))
    approval_execution_id: str | None = None
    """The run the approval belongs to (this run unless set)."""
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def pipeline(self) -> str:
        return naming.codepipeline_name(self.pipeline_id)

    @property
    def build_id(self) -> str:
        return f"{naming.deploy_project_name(self.pipeline_id, self.env)}:{self.build_uuid}"

    @property
    def build_arn(self) -> str:
        return f"arn:aws:codebuild:us-east-1:{ORCHESTRATOR}:build/{self.build_id}"

    def promotion(self) -> Promotion:
        return Promotion(build_id=self.build_id, build_arn=self.build_arn, codebuild=self, codepipeline=self)

    def environment(self) -> dict[str, str]:
        """What CodeBuild sets in the build's environment."""
        return {"CODEBUILD_BUILD_ID": self.build_id, "CODEBUILD_BUILD_ARN": self.build_arn}

    # -- CodeBuild ------------------------------------------------------------------------------------
    def batch_get_builds(self, ids: list[str]) -> dict[str, Any]:
        self.calls.append(("batch_get_builds", {"ids": ids}))
        if ids != [self.build_id]:
            return {"builds": [], "buildsNotFound": ids}
        build = {
            "id": self.build_id,
            "arn": self.build_arn,
            "projectName": self.project or naming.deploy_project_name(self.pipeline_id, self.env),
            "initiator": self.initiator or f"codepipeline/{self.pipeline}",
            "buildStatus": self.build_status,
        }
        return {"builds": [build]}

    # -- CodePipeline ---------------------------------------------------------------------------------
    def get_pipeline_state(self, name: str) -> dict[str, Any]:
        self.calls.append(("get_pipeline_state", {"name": name}))
        if name != self.pipeline:
            raise LookupError(name)
        action = deploy_stage(self.env)
        running = {
            "stageName": action,
            "latestExecution": {"pipelineExecutionId": self.execution_id, "status": "InProgress"},
            "actionStates": [
                {
                    "actionName": action,
                    "latestExecution": {
                        "status": self.action_status,
                        "externalExecutionId": self.running_build or self.build_id,
                    },
                }
            ],
        }
        approval = approval_stage(self.env)
        passed = {
            "stageName": approval,
            "latestExecution": {"pipelineExecutionId": self.execution_id, "status": "Succeeded"},
        }
        return {"pipelineName": name, "stageStates": [passed, running]}

    def list_action_executions(
        self, pipelineName: str, filter: dict[str, str], nextToken: str | None = None
    ) -> dict[str, Any]:
        """Two pages: the deploy actions first, the approvals on the page behind the token."""
        self.calls.append(("list_action_executions", {"pipelineName": pipelineName, "filter": filter}))
        execution = filter["pipelineExecutionId"]
        if nextToken is None:
            deploy = self._detail(deploy_stage(self.env), "InProgress", {**MANUAL, "category": "Build"})
            return {"actionExecutionDetails": [deploy], "nextToken": "page-2"}
        approvals = []
        if self.approval_status and (self.approval_execution_id or self.execution_id) == execution:
            approvals.append(self._detail(approval_stage(self.env), self.approval_status, self.approval_type))
        return {"actionExecutionDetails": approvals}

    def _detail(self, action: str, status: str, type_id: dict[str, str]) -> dict[str, Any]:
        return {
            "pipelineExecutionId": self.execution_id,
            "stageName": action,
            "actionName": action,
            "status": status,
            "input": {"actionTypeId": type_id},
        }


def approved_run(pipeline_id: str, env: str) -> Promotion:
    """The promotion of a build the delivery pipeline runs after `env`'s approval succeeded."""
    return DeliveryRun(pipeline_id, env).promotion()
