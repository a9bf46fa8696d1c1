"""Model monitors of an existing endpoint: data quality, model quality, bias and explainability.

The package's public names, for the registry and the tests. Modules, each with one reason to change:
images (which image runs where), plan (the plain values a monitor deploys), base (the shape every
monitor deploys), quality (the analyzer's monitors) and clarify (Clarify's monitors).
"""

from components.pipelines.monitors.base import ModelMonitor
from components.pipelines.monitors.clarify import (
    ClarifyMonitor,
    ModelBiasMonitor,
    ModelExplainabilityMonitor,
    bias_analysis,
    clarify_config_expression,
    predicted_label,
    shap_method,
)
from components.pipelines.monitors.images import UnsupportedRegionError, clarify_image, model_monitor_image
from components.pipelines.monitors.plan import MonitorPlan
from components.pipelines.monitors.quality import DataQualityMonitor, ModelQualityMonitor

__all__ = [
    "ClarifyMonitor",
    "DataQualityMonitor",
    "ModelBiasMonitor",
    "ModelExplainabilityMonitor",
    "ModelMonitor",
    "ModelQualityMonitor",
    "MonitorPlan",
    "UnsupportedRegionError",
    "bias_analysis",
    "clarify_config_expression",
    "clarify_image",
    "model_monitor_image",
    "predicted_label",
    "shap_method",
]
