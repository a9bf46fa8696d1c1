"""Names of delivery pipelines: made by the delivery component, read back by the status function."""

from __future__ import annotations

import hashlib
import re

# The orchestrator's event rule forwards CodePipeline events of pipelines named `mlops-*`.
PREFIX = "mlops-"
HASH_LENGTH = 8
_NAME = re.compile(rf"{PREFIX}([0-9a-f]{{{HASH_LENGTH}}})-(.+)")


def _digest(pipeline_id: str) -> str:
    return hashlib.sha256(pipeline_id.encode()).hexdigest()[:HASH_LENGTH]


def codepipeline_name(pipeline_id: str) -> str:
    """`mlops-<hash>-<pipeline id>`: readable, and its first 20 characters (the folder CodePipeline
    files a run's artifacts under) differ between pipelines whose ids start alike."""
    return f"{PREFIX}{_digest(pipeline_id)}-{pipeline_id}"


def pipeline_id_of(name: str) -> str | None:
    """The pipeline id of a delivery pipeline's name; None for any other CodePipeline."""
    match = _NAME.fullmatch(name)
    if not match or _digest(match.group(2)) != match.group(1):
        return None
    return match.group(2)
