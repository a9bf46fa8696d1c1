"""Request bodies the tests build, independent of the examples/ folder."""

from __future__ import annotations

from typing import Any


def realtime_body(**overrides: Any) -> dict[str, Any]:
    """A valid single-account real-time request (independent of the examples/ folder)."""
    body: dict[str, Any] = {
        "pipeline_type": "byom_realtime_builtin",
        "model_name": "churn-xgb",
        "inference_instance": "ml.m5.large",
        "model_framework": "xgboost",
        "model_framework_version": "1.7-1",
        "model_artifact_location": "models/churn-xgb/model.tar.gz",
        "data_capture_location": "capture-bucket/churn-xgb",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


# Keys a request from the old solution may carry (one unknown, one misspelt) and the field errors a
# strict install (mlops:strictRequests) answers for them.
UNKNOWN_KEYS = {"description": "churn model of team A", "modle_name": "churn"}
UNKNOWN_KEY_ERRORS = [
    {"field": "description", "problem": "is not a known field"},
    {"field": "modle_name", "problem": "is not a known field (did you mean model_name?)"},
]
