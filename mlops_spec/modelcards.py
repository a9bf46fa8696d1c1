"""Requests of the model-card operations (MWO field names), validated strictly before any SageMaker call.

The sections map onto SageMaker's model card content schema; `content()` builds that JSON.
Differences from MWO: unknown keys are dropped with a warning each (mlops_spec/card_keys.py; errors in
strict mode), values are checked (names, enums, list sizes, metric value types, metric files),
auto-discovery from existing models or training jobs is not done, and an update keeps the card's status
unless a new one is given. The models themselves are strict: the API and the CLI drop the unknown keys
before validating.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from mlops_spec.common import checked, field_problem
from mlops_spec.metric_files import (
    MAX_CARD_CHARS,
    MAX_JOB_GROUPS,
    METRIC_FILE_PREFIX,
    READ_TYPES,
    MetricFileType,
    publish_metric_file_rules,
)
from mlops_spec.routes import PATH_PARAMETER_PATTERNS

# SageMaker's ModelCardName / ModelCardExportJobName pattern (also the REST path parameter's).
ModelCardName = Annotated[
    str, StringConstraints(min_length=1, max_length=63, pattern=f"^{PATH_PARAMETER_PATTERNS['name']}$")
]
ModelCardStatus = Literal["Draft", "PendingReview", "Approved", "Archived"]
RiskRating = Literal["High", "Medium", "Low", "Unknown"]
ObjectiveDirection = Literal["Maximize", "Minimize"]
Facet = Literal["Loss", "Accuracy", "RMSE", "MAE", "AUC"]
MetricType = Literal["number", "linear_graph", "string", "boolean", "matrix", "bar_chart"]
Text = Annotated[str, StringConstraints(max_length=1024)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=255)]


def _integral(value: Any) -> Any:
    """1049.0 is the integer 1049, as JSON Schema's `integer` says; 1049.5 and "1049" stay errors."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# Integers in these strict models; a JSON number with a zero fraction counts. (The bounds come
# before the validator, or pydantic could not publish them as minimum / maximum.)
CardVersion = Annotated[int, Field(ge=1, le=2**31 - 1), BeforeValidator(_integral)]  # SageMaker: a 32-bit Integer
PageSize = Annotated[int, Field(ge=1, le=100), BeforeValidator(_integral)]
# SageMaker limits content to 100,000 characters; the service checks the built JSON against it.
MAX_CONTENT_CHARS = MAX_CARD_CHARS
# Metric groups of one evaluation job, given inline and read from its metric file together.
MAX_METRIC_GROUPS = MAX_JOB_GROUPS


class CardModel(BaseModel):
    """Strict: unknown keys are errors and types are not coerced ("1" is not a number)."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True, frozen=True)

    def plain(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


def _images(images: list[str] | None) -> dict[str, Any] | None:
    return {"container_image": images} if images is not None else None


# -- sections ------------------------------------------------------------------------------------


class ModelOverview(CardModel):
    model_id: Text | None = None
    model_name: Text | None = None
    model_description: Text | None = None
    model_version: Annotated[float, Field(ge=0)] | None = None
    problem_type: Text | None = None
    algorithm_type: Text | None = None
    model_creator: Text | None = None
    model_owner: Text | None = None
    model_artifact: list[Text] | None = Field(default=None, max_length=15)
    inference_environment: list[Text] | None = Field(default=None, max_length=15, description="Inference image URIs.")

    def content(self) -> dict[str, Any]:
        body = self.plain()
        if self.inference_environment is not None:
            body["inference_environment"] = _images(self.inference_environment)
        return body


class IntendedUses(CardModel):
    purpose_of_model: Text | None = None
    intended_uses: Text | None = None
    factors_affecting_model_efficiency: Text | None = None
    risk_rating: RiskRating | None = None
    explanations_for_risk_rating: Text | None = None

    def content(self) -> dict[str, Any]:
        return self.plain()


class BusinessDetails(CardModel):
    business_problem: Text | None = None
    business_stakeholders: Text | None = None
    line_of_business: Text | None = None

    def content(self) -> dict[str, Any]:
        return self.plain()


class ObjectiveFunction(CardModel):
    function: ObjectiveDirection | None = None
    facet: Facet | None = None
    condition: Text | None = None
    notes: Text | None = None

    def content(self) -> dict[str, Any]:
        # The schema nests direction, facet and condition one level down.
        inner = {k: v for k, v in self.plain().items() if k != "notes"}
        body: dict[str, Any] = {"function": inner} if inner else {}
        if self.notes is not None:
            body["notes"] = self.notes
        return body


class TrainingMetric(CardModel):
    name: Name
    value: float
    notes: Text | None = None


class TrainingJobDetails(CardModel):
    training_arn: Text | None = None
    training_datasets: list[Text] | None = Field(default=None, max_length=15)
    training_environment: list[Text] | None = Field(default=None, max_length=15, description="Training image URIs.")
    training_metrics: list[TrainingMetric] | None = Field(default=None, max_length=50)
    user_provided_training_metrics: list[TrainingMetric] | None = Field(default=None, max_length=50)

    def content(self) -> dict[str, Any]:
        body = self.plain()
        if self.training_environment is not None:
            body["training_environment"] = _images(self.training_environment)
        return body


class TrainingDetails(CardModel):
    objective_function: ObjectiveFunction | None = None
    training_observations: Text | None = None
    training_job_details: TrainingJobDetails | None = None

    def content(self) -> dict[str, Any]:
        body = self.plain()
        if self.objective_function is not None:
            body["objective_function"] = self.objective_function.content()
        if self.training_job_details is not None:
            body["training_job_details"] = self.training_job_details.content()
        return body


MetricValue = bool | float | str | list[Any]
# Which JSON values each metric type takes (a boolean is not a number here).
_METRIC_VALUE_TYPES: dict[str, tuple[type, ...]] = {
    "number": (int, float),
    "string": (str,),
    "boolean": (bool,),
    "linear_graph": (list,),
    "matrix": (list,),
    "bar_chart": (list,),
}


def _value_per_type(schema: dict[str, Any]) -> None:
    """JSON Schema of `_value_matches_type`: the JSON type of `value` for each metric type."""
    json_types = {"number": "number", "string": "string", "boolean": "boolean"}
    schema["allOf"] = [
        {
            "if": {"properties": {"type": {"const": kind}}},
            "then": {"properties": {"value": {"type": json_types.get(kind, "array")}}},
        }
        for kind in _METRIC_VALUE_TYPES
    ]


class Metric(CardModel):
    model_config = ConfigDict(json_schema_extra=_value_per_type)

    name: Name
    type: MetricType
    value: MetricValue
    notes: Text | None = None
    x_axis_name: Text | list[Text] | None = None
    y_axis_name: Text | list[Text] | None = None

    @model_validator(mode="after")
    def _value_matches_type(self) -> Self:
        allowed = _METRIC_VALUE_TYPES[self.type]
        is_bool = isinstance(self.value, bool)
        if not isinstance(self.value, allowed) or (is_bool and bool not in allowed):
            raise field_problem("value", f"must be a {self.type} value for a metric of type {self.type}", self.value)
        return self


class MetricGroup(CardModel):
    name: Name
    metric_data: list[Metric] = Field(max_length=100)


# MWO's metric files: an s3:// URL (of a .json object under model_card_metrics/ of the orchestrator's assets
# bucket, the only place the API may read them: mlops_spec.metric_files.location_problem).
if TYPE_CHECKING:  # a string to a type checker; pydantic checks it as below
    MetricFileUrl = str
else:
    MetricFileUrl = Annotated[
        checked(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/\S*[^/\s]", "must be an S3 URL like s3://bucket/metrics.json"),
        StringConstraints(max_length=1024),
    ]


class EvaluationJob(CardModel):
    model_config = ConfigDict(json_schema_extra=publish_metric_file_rules)

    name: Name
    evaluation_observation: Text | None = None
    evaluation_job_arn: Text | None = None
    datasets: list[Text] | None = Field(default=None, max_length=10)
    metadata: dict[Name, Text] | None = None
    metric_groups: list[MetricGroup] | None = Field(default=None, max_length=MAX_METRIC_GROUPS)
    # MWO's metric file: read from S3 when the card is created or updated, its groups added after
    # metric_groups (lambda_src/api/modelcards.py; formats: mlops_spec/metric_files.py).
    metric_file_s3_url: MetricFileUrl | None = Field(
        default=None,
        description="A metrics JSON file (with metric_type) under s3://<assets bucket>/"
        + METRIC_FILE_PREFIX
        + " (the orchestrator's assets bucket): the only place the API reads them.",
    )
    metric_type: MetricFileType | None = Field(
        default=None,
        description="The metric file's format: " + ", ".join(READ_TYPES) + ".",
    )

    @model_validator(mode="after")
    def _metric_file_and_type_together(self) -> Self:
        if self.metric_file_s3_url is not None and self.metric_type is None:
            raise field_problem("metric_type", f"is required with metric_file_s3_url: one of {', '.join(READ_TYPES)}")
        if self.metric_type is not None and self.metric_file_s3_url is None:
            raise field_problem("metric_file_s3_url", "is required with metric_type")
        return self

    def content(self) -> dict[str, Any]:
        """The job as SageMaker's schema has it: the metric file is read into metric_groups, not sent."""
        return {k: v for k, v in self.plain().items() if k not in ("metric_file_s3_url", "metric_type")}


class AdditionalInformation(CardModel):
    ethical_considerations: Text | None = None
    caveats_and_recommendations: Text | None = None
    custom_details: dict[Name, Text] | None = None

    def content(self) -> dict[str, Any]:
        return self.plain()


_SECTIONS = (
    "model_overview",
    "intended_uses",
    "business_details",
    "training_details",
    "evaluation_details",
    "additional_information",
)


class ModelCardSections(CardModel):
    """The content sections a create or update may carry."""

    model_overview: ModelOverview | None = None
    intended_uses: IntendedUses | None = None
    business_details: BusinessDetails | None = None
    training_details: TrainingDetails | None = None
    evaluation_details: list[EvaluationJob] | None = Field(default=None, max_length=50)
    additional_information: AdditionalInformation | None = None

    def content(self) -> dict[str, Any]:
        """The given sections as SageMaker model card content (absent sections are left out)."""
        body: dict[str, Any] = {}
        for section in _SECTIONS:
            value = getattr(self, section)
            if isinstance(value, list):
                body[section] = [job.content() for job in value]
            elif value is not None:
                body[section] = value.content()
        return body

    def has_sections(self) -> bool:
        return any(getattr(self, section) is not None for section in _SECTIONS)


# -- operations ----------------------------------------------------------------------------------


class CreateModelCard(ModelCardSections):
    OPERATION: ClassVar[str] = "create_model_card"

    name: ModelCardName
    status: ModelCardStatus = "Draft"
    # Accepted so MWO requests keep working; SageMaker sets these itself, so they are ignored.
    arn: Text | None = None
    version: CardVersion | None = None
    created_by: Any = None
    last_modified_by: Any = None


def _needs_a_change(schema: dict[str, Any]) -> None:
    """The JSON Schema of `_changes_something`: a status or a section, given and not null."""
    schema["anyOf"] = [
        {"required": [name], "properties": {name: {"not": {"type": "null"}}}} for name in ("status", *_SECTIONS)
    ]


class UpdateModelCardBody(ModelCardSections):
    """PUT /modelcards/{name}: the card is named by the path."""

    model_config = ConfigDict(json_schema_extra=_needs_a_change)

    version: CardVersion | None = Field(default=None, description="Card version whose content is updated.")
    status: ModelCardStatus | None = Field(default=None, description="New status; the current one is kept if absent.")

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if self.status is None and not self.has_sections():
            raise ValueError("give a new status or at least one section to update")
        return self


class UpdateModelCard(UpdateModelCardBody):
    OPERATION: ClassVar[str] = "update_model_card"

    name: ModelCardName


class DescribeModelCard(CardModel):
    OPERATION: ClassVar[str] = "describe_model_card"

    name: ModelCardName
    version: CardVersion | None = None


class DeleteModelCard(CardModel):
    OPERATION: ClassVar[str] = "delete_model_card"

    name: ModelCardName


class ExportModelCardBody(CardModel):
    """POST /modelcards/{name}/export: the card is named by the path."""

    export_job_name: ModelCardName | None = None
    model_card_version: CardVersion | None = None


class ExportModelCard(ExportModelCardBody):
    OPERATION: ClassVar[str] = "export_model_card"

    name: ModelCardName


class ListModelCards(CardModel):
    OPERATION: ClassVar[str] = "list_model_cards"

    name_contains: ModelCardName | None = None
    status: ModelCardStatus | None = None
    limit: PageSize = 100
    next_token: Annotated[str, StringConstraints(max_length=8192)] | None = None


# pipeline_type of the MWO-style request on /provisionpipeline -> its request model.
MODEL_CARD_OPERATIONS: dict[str, type[CardModel]] = {
    model.OPERATION: model  # type: ignore[attr-defined]
    for model in (CreateModelCard, UpdateModelCard, DescribeModelCard, DeleteModelCard, ExportModelCard, ListModelCards)
}
