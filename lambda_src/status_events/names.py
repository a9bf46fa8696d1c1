"""Names of delivery pipelines: defined once in mlops_spec/naming.py (the delivery component makes
them, the status function reads them back)."""

from mlops_spec.naming import DELIVERY_PIPELINE_PREFIX as PREFIX
from mlops_spec.naming import codepipeline_name, pipeline_id_of

__all__ = ["PREFIX", "codepipeline_name", "pipeline_id_of"]
