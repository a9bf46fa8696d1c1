"""The one map from a pipeline type's spec class to its component: adding a pipeline type adds one line here."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.pipelines.autopilot import AutopilotTraining
from components.pipelines.base import PipelineComponent, PipelineContext
from components.pipelines.batch import BatchTransform
from components.pipelines.image_builder import ImageBuilder
from components.pipelines.monitors import (
    DataQualityMonitor,
    ModelBiasMonitor,
    ModelExplainabilityMonitor,
    ModelQualityMonitor,
)
from components.pipelines.realtime import RealtimeEndpoint
from components.pipelines.training import HyperparameterTuning, ModelTraining
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


@dataclass(frozen=True)
class PipelineKind:
    spec: type[PipelineSpec]
    component: type[PipelineComponent]


# spec class -> the component that deploys it. The pipeline_type string lives on the spec class only.
COMPONENTS: dict[type[PipelineSpec], type[PipelineComponent]] = {
    RealtimeBuiltinSpec: RealtimeEndpoint,
    RealtimeCustomSpec: RealtimeEndpoint,
    BatchBuiltinSpec: BatchTransform,
    BatchCustomSpec: BatchTransform,
    DataQualityMonitorSpec: DataQualityMonitor,
    ModelQualityMonitorSpec: ModelQualityMonitor,
    ModelBiasMonitorSpec: ModelBiasMonitor,
    ModelExplainabilityMonitorSpec: ModelExplainabilityMonitor,
    TrainingSpec: ModelTraining,
    TunerSpec: HyperparameterTuning,
    AutopilotSpec: AutopilotTraining,
    ImageBuilderSpec: ImageBuilder,
}
# pipeline_type -> (spec, component), derived.
REGISTRY: dict[str, PipelineKind] = {
    spec.type_name(): PipelineKind(spec=spec, component=component) for spec, component in COMPONENTS.items()
}


def build_pipeline(
    spec: PipelineSpec, context: PipelineContext, opts: pulumi.ResourceOptions | None = None
) -> PipelineComponent:
    """The component of a (resolved) pipeline request, named after the pipeline id."""
    kind = REGISTRY.get(spec.pipeline_type)
    if kind is None:
        raise ValueError(f"no component is registered for pipeline type {spec.pipeline_type!r}")
    if not isinstance(spec, kind.spec):
        raise TypeError(f"{spec.pipeline_type} expects a {kind.spec.__name__}, got {type(spec).__name__}")
    return kind.component(spec.pipeline_id, spec, context, opts)
