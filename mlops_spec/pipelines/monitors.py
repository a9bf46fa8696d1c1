"""Requests for model monitors of an endpoint: data quality, model quality, bias and explainability."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Self, get_args

from pydantic import (
    AfterValidator,
    Discriminator,
    Field,
    Strict,
    Tag,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails

from mlops_spec import naming
from mlops_spec.base import PipelineSpec
from mlops_spec.common import (
    AssetKey,
    Environment,
    JsonObject,
    KmsKeyArn,
    ModelName,
    MonitorSchedule,
    ProcessingInstanceType,
    S3Location,
    SageMakerName,
    Staged,
    StrictModel,
    VolumeSize,
    checked,
    field_problem,
)
from mlops_spec.monitor_images import monitor_region_problem
from mlops_spec.published import Rule, given, not_blank, published_keys, value_in, when

ProblemType = Literal["Regression", "BinaryClassification", "MulticlassClassification"]
# A column index or JSONPath into the captured records; the old solution also sends bare numbers.
Attribute = Annotated[
    str,
    Field(min_length=1, max_length=256, coerce_numbers_to_str=True),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "minLength": 1, "maxLength": 256, "pattern": not_blank(1)},
                # A number is taken as its text, which must fit in 256 characters too.
                {"type": "number", "exclusiveMinimum": -(10**255), "exclusiveMaximum": 10**256},
            ]
        }
    ),
]
# Bounds of a monitoring job's StoppingCondition.
MonitorRuntime = Annotated[int, Field(ge=1, le=86400)]
# The baseline is a processing job, whose StoppingCondition allows up to 9 days.
BaselineRuntime = Annotated[int, Field(ge=1, le=777600)]
ProbabilityThreshold = Annotated[float, Field(ge=0, le=1)]

# sagemaker.clarify.BiasConfig cannot be built without these keys.
_BIAS_CONFIG_KEYS = ("label_values_or_threshold", "facet_name")


def _check_bias_config(value: dict[str, Any]) -> dict[str, Any]:
    missing = [key for key in _BIAS_CONFIG_KEYS if key not in value]
    if missing:
        raise ValueError(f"needs the key{'s' if len(missing) > 1 else ''} {' and '.join(missing)}")
    return value


BiasConfig = Annotated[JsonObject, AfterValidator(_check_bias_config), published_keys(*_BIAS_CONFIG_KEYS)]

# -- what a monitoring run with violations does (lambda_src/trigger/monitor_violations.py acts on it) --
# A pipeline id as naming.pipeline_id makes them: lower-case letters and digits in hyphen-separated words.
_PIPELINE_ID = checked(
    r"[a-z0-9]+(-[a-z0-9]+)*", "must be a pipeline id: lower-case letters, digits and single hyphens"
)
# The length first, so that its error reads as a text's (metadata after a validator applies generically).
PipelineIdRef = Annotated[str, Field(max_length=naming.PIPELINE_ID_LIMIT), *get_args(_PIPELINE_ID)[1:]]
SimpleViolationAction = Literal["notify", "block", "rollback"]


class RetrainTarget(StrictModel):
    training_pipeline_id: PipelineIdRef = Field(description="The training pipeline to run again.")


class Retrain(StrictModel):
    """Start a new run of a training pipeline (its model can come back through registry approval)."""

    retrain: RetrainTarget


def _violation_kind(value: Any) -> str:
    """An object is a retrain; anything else is one of the plain actions (so errors name one shape)."""
    return "retrain" if isinstance(value, dict | Retrain) else "action"


def _untagged(error: Any) -> InitErrorDetails:
    """One error of the union, located without the union's tag (its first location part)."""
    detail = InitErrorDetails(type=error["type"], loc=tuple(error["loc"][1:]), input=error.get("input"))
    if "ctx" in error:
        detail["ctx"] = error["ctx"]
    return detail


OnViolation = Annotated[
    Annotated[SimpleViolationAction, Tag("action")] | Annotated[Retrain, Tag("retrain")],
    Discriminator(_violation_kind),
]


class MonitorSpec(PipelineSpec):
    """Fields of every monitor: a baseline job on `baseline_data`, then a schedule on the endpoint's captured data."""

    model_name: ModelName = Field(description="Name of the monitored model; with the type it forms the pipeline id.")
    endpoint_name: Staged[SageMakerName] = Field(description="The monitored endpoint (with data capture on).")
    baseline_data: AssetKey = Field(description="Key of the baseline dataset inside the assets bucket.")
    baseline_job_output_location: Staged[S3Location] = Field(description="bucket/prefix for baseline results.")
    data_capture_location: Staged[S3Location] = Field(description="bucket/prefix where the endpoint captures data.")
    monitoring_output_location: Staged[S3Location] = Field(description="bucket/prefix for monitoring reports.")
    schedule_expression: Staged[MonitorSchedule] = Field(
        description="When to run: hourly cron(0 * ? * * *), daily cron(0 H ? * * *), every N hours cron(0 H/N ? * * *)."
    )
    monitor_max_runtime_seconds: Staged[MonitorRuntime] = Field(description="Time limit of each run, 1-86400.")
    instance_type: Staged[ProcessingInstanceType] = Field(description="Instance type of baseline and monitoring jobs.")
    instance_volume_size: Staged[VolumeSize] = Field(description="Volume size in GB of each job instance.")
    baseline_max_runtime_seconds: Staged[BaselineRuntime] | None = Field(
        default=None, description="Time limit of the baseline job; SageMaker's default when absent."
    )
    kms_key_arn: Staged[KmsKeyArn] | None = Field(
        default=None, description="Customer KMS key; the environment's key is used when absent."
    )
    on_violation: OnViolation = Field(
        default="notify",
        description="When a run finds violations: notify (email), block (promotions of the monitored pipeline "
        "wait for a human), rollback (its previous version), or {retrain: {training_pipeline_id}}. Always emails.",
    )

    @field_validator("on_violation", mode="wrap")
    @classmethod
    def _errors_without_union_tags(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """Errors name the field as the user wrote it (`on_violation.retrain.training_pipeline_id`), not
        with the union's tag in it."""
        try:
            return handler(value)
        except ValidationError as exc:
            details = [_untagged(error) for error in exc.errors()]
            raise ValidationError.from_exception_data("on_violation", details) from None

    @model_validator(mode="after")
    def _image_published_in_region(self, info: ValidationInfo) -> Self:
        """The monitor's image is published in the orchestrator's region, when the validation context names
        it (as built-in framework images are checked): GovCloud has no model-monitor analyzer."""
        region = (info.context or {}).get("region")
        problem = monitor_region_problem(self.pipeline_type, region) if isinstance(region, str) else None
        if problem:
            raise field_problem("pipeline_type", f"{self.pipeline_type} cannot run in {region}: {problem}")
        return self

    @property
    def violation_action(self) -> str:
        """notify, block, rollback or retrain."""
        return "retrain" if isinstance(self.on_violation, Retrain) else self.on_violation

    @property
    def retrain_pipeline_id(self) -> str | None:
        return self.on_violation.retrain.training_pipeline_id if isinstance(self.on_violation, Retrain) else None

    def baseline_job_name(self, env: Environment) -> str:
        return self.run_name(env, "baseline")

    def monitoring_schedule_name(self, env: Environment) -> str:
        # A schedule is updated in place, so its name stays the same across request changes.
        return naming.resource_name(self.pipeline_id, env, "schedule")


def _required_for(cls: type) -> dict[str, Any]:
    """JSON Schema of `_required_for_problem_type`, for this class's REQUIRED_FOR."""
    required: dict[str, frozenset[str]] = getattr(cls, "REQUIRED_FOR")  # noqa: B009
    return {"allOf": [when(value_in("problem_type", sorted(kinds)), given(name)) for name, kinds in required.items()]}


class ProblemTypeMonitorSpec(MonitorSpec):
    """Monitors that read model predictions: which keys are required depends on `problem_type`."""

    SCHEMA_RULES: ClassVar[tuple[Rule, ...]] = (_required_for,)

    # field -> problem types for which it is required (the old solution's conditional keys).
    REQUIRED_FOR: ClassVar[dict[str, frozenset[str]]] = {
        "monitor_inference_attribute": frozenset({"Regression", "MulticlassClassification"}),
    }

    problem_type: ProblemType
    monitor_inference_attribute: Attribute | None = Field(
        default=None, description="Where the prediction is in captured records (Regression, Multiclass)."
    )
    monitor_probability_attribute: Attribute | None = Field(
        default=None, description="Where the probability is in captured records."
    )
    probability_threshold_attribute: ProbabilityThreshold | None = Field(
        default=None, description="Probability above which a binary prediction is positive."
    )

    @model_validator(mode="after")
    def _required_for_problem_type(self) -> Self:
        for name, problem_types in self.REQUIRED_FOR.items():
            if self.problem_type in problem_types and getattr(self, name) is None:
                raise field_problem(name, f"is required when problem_type is {self.problem_type}")
        return self


class DataQualityMonitorSpec(MonitorSpec):
    """Watch the statistics of the endpoint's input data against a baseline."""

    TYPE_SLUG: ClassVar[str] = "data-quality"
    pipeline_type: Literal["byom_data_quality_monitor"]


class ModelQualityMonitorSpec(ProblemTypeMonitorSpec):
    """Watch prediction quality against ground-truth labels."""

    TYPE_SLUG: ClassVar[str] = "model-quality"
    REQUIRED_FOR: ClassVar[dict[str, frozenset[str]]] = {
        **ProblemTypeMonitorSpec.REQUIRED_FOR,
        "baseline_probability_attribute": frozenset({"BinaryClassification"}),
    }
    pipeline_type: Literal["byom_model_quality_monitor"]
    baseline_inference_attribute: Attribute = Field(description="Prediction column of the baseline dataset.")
    baseline_ground_truth_attribute: Attribute = Field(description="Label column of the baseline dataset.")
    baseline_probability_attribute: Attribute | None = Field(
        default=None, description="Probability column of the baseline dataset (BinaryClassification)."
    )
    monitor_ground_truth_input: Staged[S3Location] = Field(description="bucket/prefix of the ground-truth labels.")


class ModelBiasMonitorSpec(ProblemTypeMonitorSpec):
    """Watch bias metrics of predictions with SageMaker Clarify."""

    TYPE_SLUG: ClassVar[str] = "model-bias"
    REQUIRED_FOR: ClassVar[dict[str, frozenset[str]]] = {
        **ProblemTypeMonitorSpec.REQUIRED_FOR,
        "model_predicted_label_config": frozenset({"BinaryClassification", "MulticlassClassification"}),
    }
    pipeline_type: Literal["byom_model_bias_monitor"]
    monitor_ground_truth_input: Staged[S3Location] = Field(description="bucket/prefix of the ground-truth labels.")
    bias_config: BiasConfig = Field(description="Arguments of sagemaker.clarify.BiasConfig.")
    model_predicted_label_config: dict[str, Any] | None = Field(
        default=None, description="Arguments of sagemaker.clarify.ModelPredictedLabelConfig (classification)."
    )
    features_attribute: Attribute | None = Field(default=None, description="Where the features are in records.")


class ModelExplainabilityMonitorSpec(ProblemTypeMonitorSpec):
    """Watch feature attributions (SHAP values) of predictions with SageMaker Clarify."""

    TYPE_SLUG: ClassVar[str] = "explainability"
    pipeline_type: Literal["byom_model_explainability_monitor"]
    shap_config: JsonObject = Field(description="Arguments of sagemaker.clarify.SHAPConfig.")
    # Strict: text that reads as a number is an Attribute (and held to its length), never an index.
    model_scores: Annotated[int, Strict()] | Attribute | None = Field(
        default=None, description="Index or JSONPath of the model scores in the endpoint's response."
    )
    features_attribute: Attribute | None = Field(default=None, description="Where the features are in records.")
