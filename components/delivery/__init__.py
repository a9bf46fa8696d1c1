"""Delivery pipelines: one CodePipeline per pipeline request, promoting it through its environments.

Modules, one concern each: `stages` (the stage list, approval messages, the deploy step), `names`
(physical names), `access` (the pipeline's and builds' IAM statements), `pipeline` (the
`DeliveryPipeline` component wiring them). Imports flow one way: stages, names <- access <- pipeline.
"""

from components.delivery.access import PolicyInputs, codebuild_statements, codepipeline_statements, ecr_repository_arn
from components.delivery.names import (
    ARTIFACT_FOLDER_LENGTH,
    artifact_folder,
    codebuild_role_name,
    codepipeline_role_name,
    project_name,
)
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
    "PolicyInputs",
    "Stage",
    "approval_message",
    "artifact_folder",
    "buildspec",
    "codebuild_role_name",
    "codebuild_statements",
    "codepipeline_name",
    "codepipeline_role_name",
    "codepipeline_statements",
    "delivery_stages",
    "deploy_environments",
    "ecr_repository_arn",
    "project_name",
]
