"""The request union: every pipeline type, discriminated on `pipeline_type`, and how to parse a body."""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter, ValidationError

from mlops_spec.base import PipelineSpec
from mlops_spec.common import Mode
from mlops_spec.errors import FieldError, SpecError, field_errors
from mlops_spec.pipelines.autopilot import AutopilotSpec
from mlops_spec.pipelines.batch import BatchBuiltinSpec, BatchCustomSpec
from mlops_spec.pipelines.image_builder import ImageBuilderSpec
from mlops_spec.pipelines.monitors import (
    DataQualityMonitorSpec,
    ModelBiasMonitorSpec,
    ModelExplainabilityMonitorSpec,
    ModelQualityMonitorSpec,
)
from mlops_spec.pipelines.realtime import RealtimeBuiltinSpec, RealtimeCustomSpec
from mlops_spec.pipelines.training import TrainingSpec, TunerSpec

# pipeline_type -> spec class. Adding a pipeline type adds one line here.
SPEC_TYPES: dict[str, type[PipelineSpec]] = {
    "byom_realtime_builtin": RealtimeBuiltinSpec,
    "byom_realtime_custom": RealtimeCustomSpec,
    "byom_batch_builtin": BatchBuiltinSpec,
    "byom_batch_custom": BatchCustomSpec,
    "byom_data_quality_monitor": DataQualityMonitorSpec,
    "byom_model_quality_monitor": ModelQualityMonitorSpec,
    "byom_model_bias_monitor": ModelBiasMonitorSpec,
    "byom_model_explainability_monitor": ModelExplainabilityMonitorSpec,
    "model_training_builtin": TrainingSpec,
    "model_tuner_builtin": TunerSpec,
    "model_autopilot_training": AutopilotSpec,
    "byom_image_builder": ImageBuilderSpec,
}

PipelineRequest = Annotated[Union[tuple(SPEC_TYPES.values())], Field(discriminator="pipeline_type")]  # type: ignore[valid-type]
_ADAPTER: TypeAdapter[PipelineSpec] = TypeAdapter(PipelineRequest)  # type: ignore[arg-type]


def parse_pipeline_request(
    body: Any, mode: Mode = "single", use_model_registry: bool = False, root: str = ""
) -> PipelineSpec:
    """Validate a request body into its spec, or raise SpecError naming each bad field."""
    if not isinstance(body, dict):
        raise SpecError("request body must be a JSON object", [FieldError(root or "(body)", "must be a JSON object")])
    try:
        return _ADAPTER.validate_python(body, context={"mode": mode, "use_model_registry": use_model_registry})
    except ValidationError as exc:
        errors = field_errors(exc, tagged_union=True, root=root)
        raise SpecError("invalid pipeline request", errors) from None
