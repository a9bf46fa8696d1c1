"""The pipeline registry: one DynamoDB item per pipeline, written only with conditional writes.

Status names and the moves between them: mlops_spec/status.py (re-exported here for callers).
"""

from lambda_src.registry.attributes import from_attr, to_attr
from lambda_src.registry.conditions import ConcurrentUpdate, RecordNotFound
from lambda_src.registry.record import EXECUTION_PENDING, PipelineRecord, now
from lambda_src.registry.store import CLIENT_TOKEN_INDEX, Registry
from mlops_spec.status import IN_PROGRESS, LIVE, TRANSITIONS, InvalidTransition, Status, check_transition

__all__ = [
    "CLIENT_TOKEN_INDEX",
    "EXECUTION_PENDING",
    "IN_PROGRESS",
    "LIVE",
    "TRANSITIONS",
    "ConcurrentUpdate",
    "InvalidTransition",
    "PipelineRecord",
    "RecordNotFound",
    "Registry",
    "Status",
    "check_transition",
    "from_attr",
    "now",
    "to_attr",
]
