"""Which module holds each pipeline type's spec class, so that a request imports its own type's module
only: importing every type's models is most of the API function's cold start.

The `pipeline_type` strings are the classes' own (their discriminator's Literal); a test checks that this
table and mlops_spec/spec_union.py's SPEC_CLASSES agree, class for class.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops_spec.base import PipelineSpec

# pipeline_type -> (module under mlops_spec.pipelines, spec class).
TYPE_MODULES: dict[str, tuple[str, str]] = {
    "byom_realtime_builtin": ("realtime", "RealtimeBuiltinSpec"),
    "byom_realtime_custom": ("realtime", "RealtimeCustomSpec"),
    "byom_batch_builtin": ("batch", "BatchBuiltinSpec"),
    "byom_batch_custom": ("batch", "BatchCustomSpec"),
    "byom_data_quality_monitor": ("monitors", "DataQualityMonitorSpec"),
    "byom_model_quality_monitor": ("monitors", "ModelQualityMonitorSpec"),
    "byom_model_bias_monitor": ("monitors", "ModelBiasMonitorSpec"),
    "byom_model_explainability_monitor": ("monitors", "ModelExplainabilityMonitorSpec"),
    "model_training_builtin": ("training", "TrainingSpec"),
    "model_tuner_builtin": ("training", "TunerSpec"),
    "model_autopilot_training": ("autopilot", "AutopilotSpec"),
    "byom_image_builder": ("image_builder", "ImageBuilderSpec"),
}


def spec_type(pipeline_type: str) -> type[PipelineSpec] | None:
    """The spec class of `pipeline_type` (its module imported now), None for a name that is no type."""
    found = TYPE_MODULES.get(pipeline_type)
    if found is None:
        return None
    module, name = found
    spec: type[PipelineSpec] = getattr(importlib.import_module(f"mlops_spec.pipelines.{module}"), name)
    return spec
