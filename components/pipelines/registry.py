"""The one map from pipeline_type to its spec and component: adding a pipeline type adds one line here."""

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


REGISTRY: dict[str, PipelineKind] = {
    "byom_realtime_builtin": PipelineKind(spec=RealtimeBuiltinSpec, component=RealtimeEndpoint),
    "byom_realtime_custom": PipelineKind(spec=RealtimeCustomSpec, component=RealtimeEndpoint),
    "byom_batch_builtin": PipelineKind(spec=BatchBuiltinSpec, component=BatchTransform),
    "byom_batch_custom": PipelineKind(spec=BatchCustomSpec, component=BatchTransform),
    "byom_data_quality_monitor": PipelineKind(spec=DataQualityMonitorSpec, component=DataQualityMonitor),
    "byom_model_quality_monitor": PipelineKind(spec=ModelQualityMonitorSpec, component=ModelQualityMonitor),
    "byom_model_bias_monitor": PipelineKind(spec=ModelBiasMonitorSpec, component=ModelBiasMonitor),
    "byom_model_explainability_monitor": PipelineKind(
        spec=ModelExplainabilityMonitorSpec, component=ModelExplainabilityMonitor
    ),
    "model_training_builtin": PipelineKind(spec=TrainingSpec, component=ModelTraining),
    "model_tuner_builtin": PipelineKind(spec=TunerSpec, component=HyperparameterTuning),
    "model_autopilot_training": PipelineKind(spec=AutopilotSpec, component=AutopilotTraining),
    "byom_image_builder": PipelineKind(spec=ImageBuilderSpec, component=ImageBuilder),
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
