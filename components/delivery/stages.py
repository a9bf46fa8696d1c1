"""The shape of a delivery pipeline: its stages and actions, approval messages and the deploy step.

Changes when how a request is promoted through its environments changes. Plain decisions, no Pulumi.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mlops_spec.approvals import approval_stage, deploy_stage
from mlops_spec.base import PipelineSpec
from mlops_spec.naming import SPEC_FILE

ActionKind = Literal["source", "deploy", "approval"]
SOURCE_ARTIFACT = "spec"
# CodePipeline limits an approval's custom message to 500 characters.
APPROVAL_MESSAGE_LIMIT = 500


@dataclass(frozen=True)
class Action:
    name: str
    kind: ActionKind
    environment: str | None = None


@dataclass(frozen=True)
class Stage:
    name: str
    actions: tuple[Action, ...]


def delivery_stages(spec: PipelineSpec, mode: str, home: str = "dev") -> list[Stage]:
    """Source, then one deploy stage per environment; in multi-account mode a manual approval
    stage guards staging and prod. Types that are single-account only get one deploy stage."""
    environments = spec.environments(mode, home=home)  # type: ignore[arg-type]
    stages = [Stage("Source", (Action("Spec", "source"),))]
    if len(environments) == 1:
        return [*stages, Stage("Deploy", (Action("Deploy", "deploy", environments[0]),))]
    for index, env in enumerate(environments):
        if index > 0:
            stages.append(Stage(approval_stage(env), (Action(approval_stage(env), "approval", env),)))
        stages.append(Stage(deploy_stage(env), (Action(deploy_stage(env), "deploy", env),)))
    return stages


def deploy_environments(stages: list[Stage]) -> list[str]:
    return [a.environment for s in stages for a in s.actions if a.kind == "deploy" and a.environment]


def previous_environment(environments: list[str], env: str) -> str | None:
    """The environment deployed just before `env` (None for the first, or one not deployed)."""
    index = environments.index(env) if env in environments else 0
    return environments[index - 1] if index > 0 else None


def approval_message(pipeline_id: str, env: str, account_id: str, previous: str | None) -> str:
    done = f" It is live in {previous}; check it there first." if previous else ""
    text = (
        f"Approve deploying MLOps pipeline {pipeline_id} to {env} (account {account_id}).{done}"
        " Rejecting stops this run; nothing is changed in that account."
    )
    return text[:APPROVAL_MESSAGE_LIMIT]


def buildspec() -> str:
    """The deploy step: up the target stack from the spec in this run's source artifact, so every
    environment deploys exactly the request that was approved (not whatever S3 holds by then)."""
    return "\n".join(
        [
            "version: 0.2",
            "phases:",
            "  build:",
            "    commands:",
            '      - mlops deploy --pipeline-id "$PIPELINE_ID" --env "$TARGET_ENV"'
            f' --spec-file "$CODEBUILD_SRC_DIR/{SPEC_FILE}"',
            "",
        ]
    )
