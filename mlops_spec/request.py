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

# Every pipeline type's spec class. Adding a type adds its class here; its `pipeline_type` string
# is written only on the class (the Literal of its discriminator field).
SPEC_CLASSES: tuple[type[PipelineSpec], ...] = (
    RealtimeBuiltinSpec,
    RealtimeCustomSpec,
    BatchBuiltinSpec,
    BatchCustomSpec,
    DataQualityMonitorSpec,
    ModelQualityMonitorSpec,
    ModelBiasMonitorSpec,
    ModelExplainabilityMonitorSpec,
    TrainingSpec,
    TunerSpec,
    AutopilotSpec,
    ImageBuilderSpec,
)
# pipeline_type -> spec class.
SPEC_TYPES: dict[str, type[PipelineSpec]] = {spec.type_name(): spec for spec in SPEC_CLASSES}

PipelineRequest = Annotated[Union[SPEC_CLASSES], Field(discriminator="pipeline_type")]  # type: ignore[valid-type]
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
