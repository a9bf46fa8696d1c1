"""Requests for batch transform pipelines (built-in or custom image), run once or on a schedule."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from mlops_spec.common import EventBridgeSchedule, PositiveInt, S3Location, Staged, TransformInstanceType
from mlops_spec.pipelines.model_source import BuiltinImageSpec, CustomImageSpec, ServedModelSpec

# A MIME type such as text/csv or application/x-recordio-protobuf.
ContentType = Annotated[str, Field(pattern=r"^[\w.+-]+/[\w.+-]+$", max_length=256)]


class BatchFields(ServedModelSpec):
    """Transform-job options shared by the built-in and custom batch requests."""

    inference_instance: Staged[TransformInstanceType] = Field(
        description="Transform instance type, e.g. ml.m5.large; per environment in multi-account mode."
    )
    batch_inference_data: Staged[S3Location] = Field(description="bucket/key (or prefix) of the input data.")
    batch_job_output_location: Staged[S3Location] = Field(description="bucket/prefix receiving the predictions.")
    schedule_expression: Staged[EventBridgeSchedule] | None = Field(
        default=None,
        description="Run the transform periodically (an EventBridge schedule), e.g. cron(0 3 * * ? *) or rate(1 day); "
        "once per deployment when absent.",
    )
    content_type: ContentType = Field(default="text/csv", description="MIME type of the input records.")
    split_type: Literal["None", "Line", "RecordIO", "TFRecord"] = Field(
        default="Line", description="How the input is split into records."
    )
    instance_count: Staged[PositiveInt] = Field(default=1, description="Instances running the transform job.")


class BatchBuiltinSpec(BatchFields, BuiltinImageSpec):
    """Run batch transform with a SageMaker built-in algorithm image."""

    TYPE_SLUG: ClassVar[str] = "batch-builtin"
    pipeline_type: Literal["byom_batch_builtin"]


class BatchCustomSpec(BatchFields, CustomImageSpec):
    """Run batch transform with a custom image."""

    TYPE_SLUG: ClassVar[str] = "batch-custom"
    pipeline_type: Literal["byom_batch_custom"]
