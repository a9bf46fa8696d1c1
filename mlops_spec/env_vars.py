"""The environment variables the orchestrator sets on its functions: written and read under these names only.

The orchestrator component writes them (components/orchestrator); the light functions' settings
(lambda_src/common/settings.py) and the provisioner's (lambda_src/provisioner/settings.py) read
them; the provisioner hands them on to the delivery pipelines' builds. Pure Python.
"""

from __future__ import annotations

from enum import StrEnum


class EnvVar(StrEnum):
    REGION = "AWS_REGION"
    MODE = "MLOPS_MODE"
    ACCOUNTS = "MLOPS_ACCOUNTS"
    ORCHESTRATOR_ENVIRONMENT = "MLOPS_ORCHESTRATOR_ENVIRONMENT"
    REGISTRY_TABLE = "MLOPS_REGISTRY_TABLE"
    ASSETS_BUCKET = "MLOPS_ASSETS_BUCKET"
    # The CMK for objects the functions write (the bucket's default encryption uses it too).
    ASSETS_KMS_KEY_ARN = "MLOPS_ASSETS_KMS_KEY_ARN"
    TOPIC_ARN = "MLOPS_TOPIC_ARN"
    USE_MODEL_REGISTRY = "MLOPS_USE_MODEL_REGISTRY"
    PROVISIONER_FUNCTION = "MLOPS_PROVISIONER_FUNCTION"
    # Who may answer manual approvals (mlops_spec/approvers.py ApprovalRules, as JSON); read by the API.
    APPROVAL_RULES = "MLOPS_APPROVAL_RULES"
    # "true": a request's unknown keys are errors, not warnings (mlops:strictRequests); read by the API and trigger.
    STRICT_REQUESTS = "MLOPS_STRICT_REQUESTS"
    # USD a pipeline may be estimated at in a month (mlops:maxMonthlyCostPerPipeline); unset: no limit.
    # Read by the API and the trigger, which refuse provisioning above it (mlops_spec/costs.py).
    MAX_MONTHLY_COST_PER_PIPELINE = "MLOPS_MAX_MONTHLY_COST_PER_PIPELINE"
    # "refuse" (unset too) or "allow" an estimate the limit cannot check (mlops:costLimitUnknownPrices).
    COST_LIMIT_UNKNOWN_PRICES = "MLOPS_COST_LIMIT_UNKNOWN_PRICES"
    STATE_BACKEND_URL = "MLOPS_STATE_BACKEND_URL"
    SECRETS_PROVIDER = "MLOPS_SECRETS_PROVIDER"
    STATE_KEY_ARN = "MLOPS_STATE_KEY_ARN"
    PROVISIONER_IMAGE_URI = "MLOPS_PROVISIONER_IMAGE_URI"
    ECR_REPOSITORY = "MLOPS_ECR_REPOSITORY"
    TAGS = "MLOPS_TAGS"
    # Only the name of the SSM SecureString parameter: the secret itself never sits in settings.
    DEPLOY_ROLE_EXTERNAL_ID_PARAMETER = "MLOPS_DEPLOY_ROLE_EXTERNAL_ID_PARAMETER"
    # Read when set (a local run), never written by the orchestrator.
    DEPLOY_ROLE_EXTERNAL_ID = "MLOPS_DEPLOY_ROLE_EXTERNAL_ID"
    PULUMI_HOME = "MLOPS_PULUMI_HOME"
    BAKED_PULUMI_HOME = "MLOPS_BAKED_PULUMI_HOME"
    PULUMI_ROOT = "MLOPS_PULUMI_ROOT"
    POWERTOOLS_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
    POWERTOOLS_LOG_LEVEL = "POWERTOOLS_LOG_LEVEL"


class TeardownVar(StrEnum):
    """What one teardown build is asked to do (lambda_src/provisioner/teardown.py): set by the
    provisioner when it starts the build, and the only variables such a start may override."""

    PIPELINE_ID = "MLOPS_TEARDOWN_PIPELINE_ID"
    VERSION = "MLOPS_TEARDOWN_VERSION"
    CLAIM = "MLOPS_TEARDOWN_CLAIM"
    PREVIOUS_BUILD = "MLOPS_TEARDOWN_PREVIOUS_BUILD"


TEARDOWN_VARIABLE_PATTERN = "MLOPS_TEARDOWN_*"


# What each kind of function is given by the orchestrator (the settings models read these).
LIGHT_FUNCTION_VARIABLES = frozenset(
    {
        EnvVar.MODE,
        EnvVar.REGISTRY_TABLE,
        EnvVar.ASSETS_BUCKET,
        EnvVar.ASSETS_KMS_KEY_ARN,
        EnvVar.USE_MODEL_REGISTRY,
        EnvVar.ORCHESTRATOR_ENVIRONMENT,
        EnvVar.ACCOUNTS,
        EnvVar.STATE_BACKEND_URL,
        EnvVar.SECRETS_PROVIDER,
        EnvVar.TOPIC_ARN,
        EnvVar.PROVISIONER_FUNCTION,
        EnvVar.APPROVAL_RULES,
        EnvVar.STRICT_REQUESTS,
        EnvVar.MAX_MONTHLY_COST_PER_PIPELINE,
        EnvVar.COST_LIMIT_UNKNOWN_PRICES,
        EnvVar.POWERTOOLS_SERVICE_NAME,
        EnvVar.POWERTOOLS_LOG_LEVEL,
    }
)
# The provisioner answers no approval and reads only stored (normalised) requests, already checked
# against the cost limit: it is not given the approval rules, the strictness of request reading nor the limit.
PROVISIONER_VARIABLES = (
    LIGHT_FUNCTION_VARIABLES
    - {
        EnvVar.PROVISIONER_FUNCTION,
        EnvVar.APPROVAL_RULES,
        EnvVar.STRICT_REQUESTS,
        EnvVar.MAX_MONTHLY_COST_PER_PIPELINE,
        EnvVar.COST_LIMIT_UNKNOWN_PRICES,
    }
) | {
    EnvVar.STATE_KEY_ARN,
    EnvVar.PROVISIONER_IMAGE_URI,
    EnvVar.ECR_REPOSITORY,
    EnvVar.TAGS,
    EnvVar.DEPLOY_ROLE_EXTERNAL_ID_PARAMETER,
}
