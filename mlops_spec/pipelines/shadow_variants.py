"""A shadow test's variants and its promotion, on requests as stored (JSON). Pure Python, without pydantic,
so the API function reads a status and promotes without loading the request models at import.

mlops_spec/pipelines/shadow.py validates the shadow; lambda_src/api reads these names and promotes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The variants of a shadow-tested endpoint, as CloudWatch names them (dimension VariantName). The
# production variant's name is every endpoint's (blue/green updates need it unchanged).
PRODUCTION_VARIANT = "AllTraffic"
SHADOW_VARIANT = "Shadow"
# The deployment type of a shadow test, and the key of its shadow model.
SHADOW = "shadow"
# The fields naming a served model, of the request and of its shadow.
MODEL_SOURCES = ("model_package_name", "model_artifact_location")


def is_shadow_test(document: Mapping[str, Any] | None) -> bool:
    """A stored request (JSON) whose endpoint runs a shadow test."""
    deployment = (document or {}).get("deployment")
    return isinstance(deployment, Mapping) and deployment.get("type") == SHADOW


def promoted_request(document: Mapping[str, Any]) -> dict[str, Any] | None:
    """A stored real-time request (JSON) with its shadow made the production model: the shadow's model,
    instance type and count replace the production ones, and the deployment goes back to all_at_once
    (its other settings kept). None when the request has no shadow. The caller validates the result as
    any request."""
    deployment = document.get("deployment")
    shadow = deployment.get(SHADOW) if isinstance(deployment, Mapping) else None
    if not isinstance(deployment, Mapping) or not isinstance(shadow, Mapping):
        return None
    promoted = {key: value for key, value in document.items() if key not in MODEL_SOURCES}
    package, artifact = shadow.get("model_package_name"), shadow.get("model_artifact_location")
    if package:
        promoted["model_package_name"] = package
    else:
        promoted["model_artifact_location"] = artifact
    promoted["inference_instance"] = shadow.get("instance_type")
    promoted["instance_count"] = shadow.get("instance_count", 1)
    rest = {key: value for key, value in deployment.items() if key not in ("type", SHADOW)}
    promoted["deployment"] = {**rest, "type": "all_at_once"}
    return promoted
