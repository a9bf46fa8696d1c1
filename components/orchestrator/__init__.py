"""The orchestrator: the API, its functions, the pipeline registry, buckets, topic and Pulumi state backend.

Modules, one concern each: `args` (settings and derived names), `delivery_access` (the delivery
pipelines' shared roles' statements and the denials that keep deploy builds unbent), `access` (the
functions' IAM statements and resource policies), `storage` (keys, buckets, table, topic,
repositories), `delivery_roles` (the roles delivery pipelines run as), `functions` (the four
functions and their settings), `events` (event sources), `api` (API Gateway), `component` (the
`Orchestrator` wiring them), `existing_bucket` (what a user's existing assets bucket needs, and
checking it). Imports flow one way: args <- delivery_access <- access <- storage <- delivery_roles,
functions; events and api need args only; existing_bucket needs args, access and events; component
needs them all.
"""

from components.orchestrator.access import (
    api_statements,
    assets_cross_account_statements,
    data_key_policy,
    ecr_pull_policy,
    model_group_policy,
    provisioner_statements,
    status_statements,
    topic_policy,
    trigger_statements,
)
from components.orchestrator.api import ACCESS_LOG_FORMAT, THROTTLE_BURST, THROTTLE_RATE
from components.orchestrator.args import EXTERNAL_ID_PARAMETER, OrchestratorArgs, topic_arn
from components.orchestrator.component import Orchestrator
from components.orchestrator.delivery_access import (
    build_role_statements,
    build_role_trust,
    codepipeline_role_statements,
    codepipeline_role_trust,
    deny_bent_deploy_builds,
)
from components.orchestrator.events import SWEEP_SCHEDULE, delivery_event_pattern
from components.orchestrator.functions import (
    LIGHT_FUNCTION_CODE,
    function_environment,
    light_function_environment,
    provisioner_environment,
)

__all__ = [
    "ACCESS_LOG_FORMAT",
    "EXTERNAL_ID_PARAMETER",
    "LIGHT_FUNCTION_CODE",
    "SWEEP_SCHEDULE",
    "THROTTLE_BURST",
    "THROTTLE_RATE",
    "Orchestrator",
    "OrchestratorArgs",
    "api_statements",
    "assets_cross_account_statements",
    "build_role_statements",
    "build_role_trust",
    "codepipeline_role_statements",
    "codepipeline_role_trust",
    "data_key_policy",
    "delivery_event_pattern",
    "deny_bent_deploy_builds",
    "ecr_pull_policy",
    "function_environment",
    "light_function_environment",
    "model_group_policy",
    "provisioner_environment",
    "provisioner_statements",
    "status_statements",
    "topic_arn",
    "topic_policy",
    "trigger_statements",
]
