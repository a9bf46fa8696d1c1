"""The union of every pipeline type, discriminated on `pipeline_type`: for the OpenAPI document, the error
of a body naming no known type, and code that goes over every type. Importing it imports every type's
module; a request of a known type needs only its own (mlops_spec/pipeline_types.py)."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Union

from pydantic import Field, TypeAdapter

from mlops_spec.base import PipelineSpec
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

# Every pipeline type's spec class. Adding a type adds its class here and its module to
# mlops_spec/pipeline_types.py; its `pipeline_type` string is written only on the class (the Literal of
# its discriminator field), and a test checks the two lists name the same classes.
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

# Union of a tuple of classes, which `X | Y` cannot write.
PipelineRequest = Annotated[Union[SPEC_CLASSES], Field(discriminator="pipeline_type")]  # type: ignore[valid-type]


@cache
def union() -> TypeAdapter[PipelineSpec]:
    """The union's validator, built once (it builds every type's)."""
    return TypeAdapter(PipelineRequest)  # type: ignore[arg-type]
