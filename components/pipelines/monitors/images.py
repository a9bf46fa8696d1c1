"""The container images monitors run: their URIs in a region, from the publishers of
mlops_spec/monitor_images.py (where the tables live, as the request validation reads them too).
"""

from __future__ import annotations

from mlops_spec import partitions
from mlops_spec.monitor_images import (
    CLARIFY_REGISTRIES,
    CLARIFY_REPOSITORY,
    MODEL_MONITOR_REGISTRIES,
    MODEL_MONITOR_REPOSITORY,
    unpublished,
)

__all__ = [
    "CLARIFY_REGISTRIES",
    "MODEL_MONITOR_REGISTRIES",
    "UnsupportedRegionError",
    "clarify_image",
    "model_monitor_image",
]


class UnsupportedRegionError(partitions.UnsupportedRegion):
    """The monitor's container image is not published in (or not known for) the region. An UnsupportedRegion
    (a ValueError), as the commands report a region they cannot build for in one line."""


def _image(registries: dict[str, str], repository: str, region: str) -> str:
    problem = unpublished(repository, registries, region)
    if problem:
        raise UnsupportedRegionError(problem)
    return f"{partitions.ecr_registry(registries[region], region)}/{repository}"


def model_monitor_image(region: str) -> str:
    """The model-monitor analyzer (data and model quality) of a region."""
    return _image(MODEL_MONITOR_REGISTRIES, MODEL_MONITOR_REPOSITORY, region)


def clarify_image(region: str) -> str:
    """The SageMaker Clarify processing image (bias and explainability) of a region."""
    return _image(CLARIFY_REGISTRIES, CLARIFY_REPOSITORY, region) + ":1.0"
