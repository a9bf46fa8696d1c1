"""Requests for SageMaker training and hyperparameter-tuning jobs, and the job fields autopilot shares."""

from __future__ import annotations

import json
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import AfterValidator, AliasChoices, BeforeValidator, Field, ValidationInfo, model_validator

from mlops_spec.base import PipelineSpec
from mlops_spec.common import (
    AssetKey,
    Environment,
    Flag,
    JsonObject,
    KmsKeyArn,
    ModelName,
    PositiveInt,
    SageMakerName,
    StrictModel,
    TrainingInstanceType,
    TuningInstanceType,
    VolumeSize,
    field_problem,
)
from mlops_spec.pipelines.model_source import (
    BuiltinFramework,
    FrameworkVersion,
    check_builtin_image,
    published_versions,
)
from mlops_spec.published import BLANK, Published, Rule, given, rule, value_in, when

# Bounds the old solution's templates put on these values (SageMaker's own limits or tighter).
JobRuntime = Annotated[int, Field(ge=600, le=259200)]
SpotWaitTime = Annotated[int, Field(ge=1, le=259200)]
# A channel content type: a MIME type (text/csv) or an algorithm's short name (csv, libsvm).
ChannelContentType = Annotated[str, Field(pattern=r"^[\w.+-]+(/[\w.+-]+)?$", max_length=256)]


def _decode_json_array(value: Any) -> Any:
    """The old solution takes attribute_names as the text of a JSON array; accept that and real lists."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        raise ValueError("must be a list of attribute names (or the text of a JSON array)") from None


AttributeNames = Annotated[
    list[Annotated[str, Field(min_length=1)]],
    Field(min_length=1),
    BeforeValidator(_decode_json_array, json_schema_input_type=list[str]),
]


def _job_name_limit(cls: type) -> dict[str, Any]:
    """JSON Schema of `_job_name_fits`: this job type's name limit."""
    limit = {"maxLength": getattr(cls, "JOB_NAME_LIMIT")}  # noqa: B009
    return {"properties": {"job_name": {"anyOf": [limit, BLANK]}}}  # a blank name is no name


class JobSpec(PipelineSpec):
    """Fields of every request that starts one SageMaker job in the orchestrator account."""

    MULTI_ACCOUNT: ClassVar[bool] = False
    SCHEMA_RULES: ClassVar[tuple[Rule, ...]] = (_job_name_limit,)
    # SageMaker's limit on this job type's name (training 63, tuning and AutoML 32).
    JOB_NAME_LIMIT: ClassVar[int] = 63

    model_name: ModelName = Field(description="Name of the model; with the type it forms the pipeline id.")
    training_data: AssetKey = Field(description="Key (or prefix) of the training data inside the assets bucket.")
    job_output_location: AssetKey = Field(description="Prefix inside the assets bucket receiving the job's output.")
    job_name: SageMakerName | None = Field(
        default=None, description="Job name; derived from the pipeline id and a hash of the request when absent."
    )
    encrypt_inner_traffic: Flag = Field(default=True, description="Encrypt traffic between job instances.")
    max_runtime_per_job: JobRuntime = Field(default=86400, description="Time limit of each training job, seconds.")
    compression_type: Literal["Gzip"] | None = Field(default=None, description="Gzip when the data is compressed.")
    kms_key_arn: KmsKeyArn | None = Field(
        default=None, description="Customer KMS key; the environment's key is used when absent."
    )

    @model_validator(mode="after")
    def _job_name_fits(self) -> Self:
        if self.job_name and len(self.job_name) > self.JOB_NAME_LIMIT:
            raise field_problem("job_name", f"must be at most {self.JOB_NAME_LIMIT} characters for this job type")
        return self

    def resolved_job_name(self, env: Environment) -> str:
        """The given job name, or a deterministic one that changes only when the request changes."""
        return self.job_name or self.run_name(env, "job", self.JOB_NAME_LIMIT)


class BuiltinTrainingFields(JobSpec):
    """A training job with a SageMaker built-in algorithm: its algorithm, resources and input channels."""

    SCHEMA_RULES: ClassVar[tuple[Rule, ...]] = (
        rule("max_wait_time_spot_instances", "must be at least max_runtime_per_job"),
        when(given("attribute_names", non_empty=True), value_in("s3_data_type", ("AugmentedManifestFile",))),
        published_versions("training"),
    )

    model_framework: BuiltinFramework = Field(description="Built-in algorithm, e.g. xgboost.")
    model_framework_version: FrameworkVersion = Field(description="e.g. 1.7-1")
    # MWO's misspelling is the canonical name; the correct spelling is accepted too.
    algo_hyperparamaters: JsonObject = Field(
        validation_alias=AliasChoices("algo_hyperparamaters", "algo_hyperparameters"),
        description='Static hyperparameters of the algorithm, e.g. {"num_round": 100}.',
    )
    validation_data: AssetKey | None = Field(default=None, description="Key of validation data in the assets bucket.")
    instance_type: TrainingInstanceType = Field(default="ml.m4.xlarge", description="Training instance type.")
    instance_count: PositiveInt = Field(default=1, description="Training instances.")
    instance_volume_size: VolumeSize = Field(default=20, description="Volume size in GB of each instance.")
    use_spot_instances: Flag = Field(default=True, description="Train on managed spot capacity.")
    max_wait_time_spot_instances: SpotWaitTime = Field(
        default=172800, description="Time limit including waits for spot capacity, seconds."
    )
    content_type: ChannelContentType = Field(default="csv", description="Content type of the data channels.")
    s3_data_type: Literal["S3Prefix", "ManifestFile", "AugmentedManifestFile"] = "S3Prefix"
    data_distribution: Literal["FullyReplicated", "ShardedByS3Key"] = "FullyReplicated"
    data_input_mode: Literal["File", "Pipe", "FastFile"] = "File"
    data_record_wrapping: Literal["RecordIO"] | None = None
    attribute_names: AttributeNames | None = Field(
        default=None, description="Attributes read from an augmented manifest file."
    )

    @model_validator(mode="after")
    def _spot_wait_covers_runtime(self) -> Self:
        # SageMaker rejects a spot job whose wait limit is below its runtime limit.
        if self.use_spot_instances and self.max_wait_time_spot_instances < self.max_runtime_per_job:
            raise field_problem(
                "max_wait_time_spot_instances",
                f"must be at least max_runtime_per_job ({self.max_runtime_per_job}) when use_spot_instances is on",
            )
        return self

    @model_validator(mode="after")
    def _image_exists(self, info: ValidationInfo) -> Self:
        check_builtin_image(self.model_framework, self.model_framework_version, "training", info)
        return self

    @model_validator(mode="after")
    def _attribute_names_need_augmented_manifest(self) -> Self:
        if self.attribute_names and self.s3_data_type != "AugmentedManifestFile":
            raise field_problem("attribute_names", "needs s3_data_type AugmentedManifestFile")
        return self


class TrainingSpec(BuiltinTrainingFields):
    """Train a model with a SageMaker built-in algorithm."""

    TYPE_SLUG: ClassVar[str] = "training"
    pipeline_type: Literal["model_training_builtin"]


class MetricDefinition(StrictModel):
    """A metric parsed from the training logs (needed for objectives a built-in algorithm does not emit)."""

    Name: Annotated[str, Field(min_length=1, max_length=255)]
    Regex: Annotated[str, Field(min_length=1, max_length=500)]


class TunerConfig(StrictModel):
    """Arguments of sagemaker.tuner.HyperparameterTuner, as the old solution passes them."""

    SCHEMA_RULES: ClassVar[tuple[Rule, ...]] = (rule("max_parallel_jobs", "must be at most max_jobs"),)

    objective_metric_name: Annotated[str, Field(min_length=1, max_length=255)] = Field(
        description="Metric to optimise, e.g. validation:auc."
    )
    objective_type: Literal["Maximize", "Minimize"] = "Maximize"
    strategy: Literal["Bayesian", "Random", "Hyperband", "Grid"] = "Bayesian"
    max_jobs: PositiveInt = Field(default=10, description="Training jobs in total.")
    max_parallel_jobs: PositiveInt = Field(default=2, description="Training jobs at a time.")
    early_stopping_type: Literal["Off", "Auto"] = "Off"
    metric_definitions: list[MetricDefinition] | None = None

    @model_validator(mode="after")
    def _parallel_within_total(self) -> Self:
        if self.max_parallel_jobs > self.max_jobs:
            raise field_problem("max_parallel_jobs", f"must be at most max_jobs ({self.max_jobs})")
        return self


RangeKind = Literal["continuous", "integer", "categorical"]


def _check_range(value: tuple[str, list[Any]]) -> tuple[str, list[Any]]:
    kind, values = value
    if kind == "integer":
        # 3.0 is the integer 3, as JSON Schema's `integer` (the published form) says.
        values = [int(v) if isinstance(v, float) and v.is_integer() else v for v in values]
        value = (kind, values)
    if kind == "categorical":
        if not values or not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in values):
            raise ValueError("categorical range needs a non-empty list of values (strings or numbers)")
        return value
    number = int if kind == "integer" else (int, float)
    if len(values) != 2 or any(isinstance(v, bool) or not isinstance(v, number) for v in values):
        raise ValueError(f"{kind} range needs [min, max] as {'integers' if kind == 'integer' else 'numbers'}")
    if values[0] >= values[1]:
        raise ValueError(f"{kind} range needs min < max")
    return value


def _range_form(kind: str, values: dict[str, Any]) -> dict[str, Any]:
    return {"prefixItems": [{"const": kind}, {"type": "array", **values}]}


# JSON Schema of `_check_range` but for min < max (a rule of TunerSpec).
_RANGE_FORMS = {
    "anyOf": [
        _range_form("categorical", {"minItems": 1, "items": {"type": ["string", "number"]}}),
        _range_form("integer", {"minItems": 2, "maxItems": 2, "items": {"type": "integer"}}),
        _range_form("continuous", {"minItems": 2, "maxItems": 2, "items": {"type": "number"}}),
    ]
}
# name: ["continuous" | "integer" | "categorical", [...]], e.g. "eta": ["continuous", [0.1, 0.5]].
HyperparameterRange = Annotated[
    tuple[RangeKind, list[Any]], AfterValidator(_check_range), Published(tuple(_RANGE_FORMS.items()))
]


class TunerSpec(BuiltinTrainingFields):
    """Tune a built-in algorithm's hyperparameters with a SageMaker tuning job."""

    TYPE_SLUG: ClassVar[str] = "tuner"
    JOB_NAME_LIMIT: ClassVar[int] = 32
    SCHEMA_RULES: ClassVar[tuple[Rule, ...]] = (rule("hyperparamaters_ranges", "range needs min < max"),)
    pipeline_type: Literal["model_tuner_builtin"]
    instance_type: TuningInstanceType = Field(default="ml.m4.xlarge", description="Instance type of each tuning job.")
    tuner_configs: TunerConfig
    hyperparamaters_ranges: dict[str, HyperparameterRange] = Field(
        min_length=1,
        validation_alias=AliasChoices("hyperparamaters_ranges", "hyperparameters_ranges"),
        description='Ranges to search, e.g. {"eta": ["continuous", [0.1, 0.5]], "max_depth": ["integer", [3, 10]]}.',
    )
