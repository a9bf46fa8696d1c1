"""Delivery pipelines: one CodePipeline per pipeline request, promoting it through its environments.

Modules, one concern each: `stages` (the stage list, approval messages, the deploy step), `names`
(physical names), `pipeline` (the `DeliveryPipeline` component wiring them). Imports flow one way:
stages, names <- pipeline. A delivery stack creates no role: the pipeline and its builds run as the
roles of the orchestrator stack (components/orchestrator/delivery_roles.py, delivery_access.py).
"""

from components.delivery.names import ARTIFACT_FOLDER_LENGTH, artifact_folder, project_name
from components.delivery.pipeline import (
    BUILD_LOG_RETENTION_DAYS,
    BUILD_TIMEOUT_MINUTES,
    DeliveryPipeline,
    DeliveryPipelineArgs,
)
from components.delivery.stages import (
    APPROVAL_MESSAGE_LIMIT,
    SOURCE_ARTIFACT,
    Action,
    ActionKind,
    Stage,
    approval_message,
    buildspec,
    delivery_stages,
    deploy_environments,
)
from mlops_spec.naming import codepipeline_name

__all__ = [
    "APPROVAL_MESSAGE_LIMIT",
    "ARTIFACT_FOLDER_LENGTH",
    "BUILD_LOG_RETENTION_DAYS",
    "BUILD_TIMEOUT_MINUTES",
    "SOURCE_ARTIFACT",
    "Action",
    "ActionKind",
    "DeliveryPipeline",
    "DeliveryPipelineArgs",
    "Stage",
    "approval_message",
    "artifact_folder",
    "buildspec",
    "codepipeline_name",
    "delivery_stages",
    "deploy_environments",
    "project_name",
]
