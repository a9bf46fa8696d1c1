"""A monitor whose image is not published in the orchestrator's region is a field error of the request (review
M3): GovCloud has no model-monitor analyzer, so data and model quality monitors are refused there at validation,
naming the region, while Clarify monitors pass; without a region (no context) nothing is checked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlops_spec.errors import SpecError
from mlops_spec.monitor_images import MODEL_MONITOR_REGISTRIES
from mlops_spec.request import read_pipeline_request

pytestmark = pytest.mark.fast

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example(name: str) -> dict[str, Any]:
    return dict(json.loads((EXAMPLES / f"{name}.json").read_text()))


@pytest.mark.parametrize("pipeline_type", ["byom_data_quality_monitor", "byom_model_quality_monitor"])
def test_a_model_monitor_analyzer_monitor_is_refused_in_govcloud_naming_the_region(pipeline_type: str) -> None:
    with pytest.raises(SpecError) as refused:
        read_pipeline_request(example(pipeline_type), region="us-gov-west-1")

    [error] = refused.value.errors
    supported = ", ".join(sorted(MODEL_MONITOR_REGISTRIES))
    assert (error.field, error.problem) == (
        "pipeline_type",
        f"{pipeline_type} cannot run in us-gov-west-1: no sagemaker-model-monitor-analyzer image is known for "
        f"region 'us-gov-west-1'; supported: {supported}",
    )


def test_the_same_monitor_passes_where_its_image_is_published_and_without_a_region() -> None:
    assert read_pipeline_request(example("byom_data_quality_monitor"), region="cn-north-1").spec
    assert read_pipeline_request(example("byom_data_quality_monitor")).spec


def test_a_clarify_monitor_passes_in_govcloud_where_clarify_is_published() -> None:
    assert read_pipeline_request(example("byom_model_bias_monitor"), region="us-gov-west-1").spec
