"""Deterministic, length-bounded names for pipelines, stacks and AWS resources."""

from __future__ import annotations

import hashlib
import re

# SageMaker names (endpoint, model, job, schedule) are limited to 63 characters.
SAGEMAKER_NAME_LIMIT = 63
# Pipeline ids leave room for an environment suffix ("-staging") and resource
# suffixes ("-dq-baseline") inside SageMaker's limit.
PIPELINE_ID_LIMIT = 40


def slug(text: str) -> str:
    """Lower-case letters, digits and single hyphens."""
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9]+", "-", text.lower())).strip("-")


def short_hash(text: str, length: int = 6) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def bounded(name: str, limit: int) -> str:
    """`name` if it fits; otherwise a prefix plus a hash of the full name, so distinct names stay distinct."""
    if len(name) <= limit:
        return name
    digest = short_hash(name)
    return f"{name[: limit - len(digest) - 1].rstrip('-')}-{digest}"


def pipeline_id(infix: str, type_slug: str) -> str:
    """The id of a pipeline: its model (or image) name and its type, e.g. `churn-xgb-realtime-builtin`."""
    return bounded(f"{slug(infix)}-{type_slug}", PIPELINE_ID_LIMIT)


def target_stack_name(pipeline: str, env: str) -> str:
    """The Pulumi stack holding one environment's deployment of a pipeline."""
    return f"{pipeline}-{env}"


def delivery_stack_name(pipeline: str) -> str:
    """The Pulumi stack holding a pipeline's CodePipeline."""
    return f"{pipeline}-delivery"


def resource_name(pipeline: str, env: str, suffix: str, limit: int = SAGEMAKER_NAME_LIMIT) -> str:
    """A physical AWS name for one resource of a pipeline in one environment."""
    return bounded(f"{pipeline}-{env}-{suffix}", limit)
