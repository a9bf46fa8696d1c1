"""Physical names of a delivery pipeline's resources, derived from the pipeline id (and environment).

Changes when a delivery resource is renamed, which replaces it: names are part of users' stacks.
"""

from __future__ import annotations

from mlops_spec import naming

# CodePipeline files a run's artifacts under the first 20 characters of the pipeline's name.
ARTIFACT_FOLDER_LENGTH = 20


def artifact_folder(pipeline_name: str) -> str:
    return pipeline_name[:ARTIFACT_FOLDER_LENGTH]


def project_name(pipeline_id: str, env: str) -> str:
    return naming.deploy_project_name(pipeline_id, env)


def build_log_group(pipeline_id: str, env: str) -> str:
    return f"/aws/codebuild/{project_name(pipeline_id, env)}"
