"""Reusable field types and the per-environment value wrapper shared by every spec."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeVar, Union, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PlainValidator,
    Strict,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue

from mlops_spec import schedules
from mlops_spec.environments import ENVIRONMENTS, Environment, Mode  # noqa: F401  (re-exported)
from mlops_spec.instance_types import Purpose, instance_type_problem, valid_instance_types
from mlops_spec.published import NOT_SPACE, Rule, publish_rules, published_pattern

T = TypeVar("T")


class StrictModel(BaseModel):
    """Base of every request model: unknown keys are errors (typos must not pass silently).

    SCHEMA_RULES: the JSON Schema of what the class's model validators check (mlops_spec.published),
    published in its schema with those of its bases.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True, json_schema_extra=publish_rules)
    SCHEMA_RULES: ClassVar[tuple[Rule, ...]] = ()

    @model_validator(mode="before")
    @classmethod
    def _no_boolean_numbers(cls, data: Any) -> Any:
        """true/false is not a number (pydantic's lax mode would read true as 1); numbers written as
        text stay accepted, as the old solution's clients send them."""
        if isinstance(data, dict):
            for name, field in cls.model_fields.items():
                value = data.get(name)
                values = value.values() if isinstance(value, dict) else [value]
                if _numeric(field.annotation) and any(isinstance(item, bool) for item in values):
                    raise field_problem(name, "must be a number, not true or false", value)
        return data


def _numeric(annotation: Any) -> bool:
    """True when a field annotation takes a number (int or float, alone or in a union or per environment)."""
    if annotation in (int, float):
        return True
    return any(_numeric(arg) for arg in get_args(annotation) if arg is not bool)


def _check(pattern: str, problem: str):  # type: ignore[no-untyped-def]
    # ASCII: `\d` and `\w` mean what they mean in the published JSON Schema (ECMA-262), not any
    # Unicode digit or letter, which no AWS name accepts.
    regex = re.compile(pattern, re.ASCII)

    def validate(value: str) -> str:
        if not regex.fullmatch(value):
            raise ValueError(problem)
        return value

    return validate


def checked(pattern: str, problem: str) -> Any:
    """A string type that must match `pattern` in full; `problem` is the error. Published as a pattern."""
    return Annotated[str, AfterValidator(_check(pattern, problem)), published_pattern(pattern)]


def _no_problem(problem_of: Callable[[str], str | None]) -> Callable[[str], str]:
    def validate(value: str) -> str:
        problem = problem_of(value)
        if problem:
            raise ValueError(problem)
        return value

    return validate


AccountId = checked(r"\d{12}", "must be a 12-digit AWS account id")
OrganizationalUnitId = checked(
    r"ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}", "must be an organizational unit id like ou-ab12-cd34ef56"
)
Region = checked(r"[a-z]{2}(-gov)?-[a-z]+-\d", "must be an AWS region like us-east-1")


@dataclass(frozen=True)
class _PublishedInstanceTypes:
    """The valid instance types as the JSON Schema `enum`, read from the table only when a schema is made."""

    purpose: Purpose

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["enum"] = list(valid_instance_types(self.purpose))
        return schema


def instance_type(purpose: Purpose) -> Any:
    """An instance type SageMaker's API accepts for `purpose` (mlops_spec.instance_types)."""
    return Annotated[
        str,
        AfterValidator(_no_problem(lambda value: instance_type_problem(value, purpose))),
        _PublishedInstanceTypes(purpose),
    ]


HostingInstanceType = instance_type("hosting")
TransformInstanceType = instance_type("transform")
ProcessingInstanceType = instance_type("processing")
TrainingInstanceType = instance_type("training")
TuningInstanceType = instance_type("tuning")
# Old-solution form: "bucket/prefix" without a scheme. We also accept "s3://bucket/prefix"
# and normalise it away, because users copy URIs from the console.
_BUCKET = r"(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"


def _normalise_s3_location(value: str) -> str:
    value = value.removeprefix("s3://").rstrip("/")
    if not re.fullmatch(_BUCKET + f"(/{NOT_SPACE}+)?", value):
        raise ValueError("must be an S3 location 'bucket/prefix' (a valid bucket name, optional prefix, no spaces)")
    return value


# As published: the scheme and trailing slashes that normalisation removes are allowed.
S3Location = Annotated[
    str, AfterValidator(_normalise_s3_location), published_pattern(f"(s3://)?{_BUCKET}(/{NOT_SPACE}*)?")
]


def _check_asset_key(value: str) -> str:
    if (
        value.startswith(("s3://", "/"))
        or not re.fullmatch(f"{NOT_SPACE}{{1,1024}}", value)
        or ".." in value.split("/")
    ):
        raise ValueError("must be a key inside the assets bucket (no scheme, no leading '/', no spaces, no '..')")
    return value


AssetKey = Annotated[
    str,
    AfterValidator(_check_asset_key),
    published_pattern(r"(?!s3://)(?!/)(?!(.*/)?\.\.(/|$))" + f"{NOT_SPACE}{{1,1024}}"),
]
EcrImageUri = checked(
    r"\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9][a-z0-9._/-]{0,255}(:[\w.-]{1,128}|@sha256:[0-9a-f]{64})",
    "must be an ECR image URI like 123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:tag",
)
KmsKeyArn = checked(
    r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key/[0-9a-f-]{36}|alias/[\w/-]+)",
    "must be a KMS key ARN like arn:aws:kms:us-east-1:123456789012:key/<uuid>",
)
ModelPackageArn = checked(
    r"arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/[a-zA-Z0-9-]{1,63}/\d+",
    "must be a model package version ARN like arn:aws:sagemaker:us-east-1:123456789012:model-package/group/1",
)


# When a batch transform runs: an EventBridge rule's schedule, cron or rate.
EventBridgeSchedule = Annotated[
    str,
    AfterValidator(_no_problem(schedules.eventbridge_schedule_problem)),
    published_pattern(schedules.EVENTBRIDGE_PATTERN),
]
# When a monitor runs: the hourly, daily or every-N-hours cron expressions Model Monitor accepts.
MonitorSchedule = Annotated[
    str, AfterValidator(_no_problem(schedules.monitor_schedule_problem)), published_pattern(schedules.MONITOR_PATTERN)
]
# SageMaker resource names: alphanumerics and hyphens, at most 63 characters.
SageMakerName = checked(
    r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", "must be 1-63 letters, digits or hyphens, starting with a letter or digit"
)
ModelName = checked(
    r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", "must be 1-63 letters, digits or hyphens (no '_', '.' or spaces)"
)
PositiveInt = Annotated[int, Field(gt=0)]
# EBS volume of a SageMaker job instance, in GB.
VolumeSize = Annotated[int, Field(ge=1, le=16384)]
NonEmptyStr = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
# AWS reserves tag keys starting with aws: (in any case); the orchestrator sets its own mlops: tags.
_RESERVED_TAG_KEY = r"^([aA][wW][sS]|mlops):"


def _not_reserved(key: str) -> str:
    if re.match(_RESERVED_TAG_KEY, key):
        raise ValueError("must not start with aws: or mlops: (reserved for AWS and for the orchestrator's own tags)")
    return key


@dataclass(frozen=True)
class _PublishedTagRules:
    """Tag keys as published: pydantic writes a key pattern as `patternProperties`, which lets keys
    that do not match through; the pattern belongs in `propertyNames`, with the reserved prefixes."""

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        names = schema.setdefault("propertyNames", {})
        for pattern, value in schema.pop("patternProperties", {}).items():
            names["pattern"] = pattern
            schema["additionalProperties"] = value
        names["not"] = {"pattern": _RESERVED_TAG_KEY}
        return schema


# At most 50 tags per AWS resource, of which the orchestrator sets up to 4 (Spec.tags_for).
MAX_USER_TAGS = 46
TagKey = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[\w\s.:/=+@-]*$"), AfterValidator(_not_reserved)
]
TagValue = Annotated[str, StringConstraints(max_length=256, pattern=r"^[\w\s.:/=+@-]*$")]
Tags = Annotated[dict[TagKey, TagValue], Field(max_length=MAX_USER_TAGS), _PublishedTagRules()]
# JSON objects passed through to SageMaker (hyperparameters, Clarify configs): the old solution's
# users send objects, never pre-encoded strings.
JsonObject = Annotated[dict[str, Any], Field(min_length=1)]


def _flag(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value


# A boolean; also "True"/"False", the strings the old solution's users send. Other strings
# ("yes", "1") are rejected rather than guessed at.
Flag = Annotated[
    bool,
    Strict(),
    BeforeValidator(_flag, json_schema_input_type=Union[bool, Literal["True", "False", "true", "false"]]),
]


class _StagedMarker:
    """Metadata that marks a field as stage-aware, so specs can resolve it per environment."""


STAGED = _StagedMarker()


def first_problem(exc: ValidationError) -> str:
    """The message of a validation error without pydantic's 'Value error, ' prefix."""
    return exc.errors()[0]["msg"].removeprefix("Value error, ")


def _staged_field(inner: Any) -> Any:
    @cache
    def adapter() -> TypeAdapter[Any]:
        # Built on first use, not at import: a request validates the fields of its own type only,
        # and the API's cold start does not pay for every type's (issue 12).
        return TypeAdapter(inner)

    def validate_one(value: Any, env: str | None) -> Any:
        if isinstance(value, str):
            # As every other string of a request (StrictModel's str_strip_whitespace): the old
            # solution trimmed names, so "my-endpoint " is my-endpoint.
            value = value.strip()
        try:
            return adapter().validate_python(value)
        except ValidationError as exc:
            prefix = f"{env}: " if env else ""
            raise ValueError(prefix + first_problem(exc)) from None

    def validate(value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, dict):
            return validate_one(value, None)
        mode = (info.context or {}).get("mode", "single")
        if mode != "multi":
            raise ValueError(
                "per-environment values {dev, staging, prod} are only allowed in multi-account mode; give one value"
            )
        unknown = sorted(set(value) - set(ENVIRONMENTS))
        missing = [env for env in ENVIRONMENTS if env not in value]
        if unknown or missing:
            raise ValueError(
                "per-environment value needs exactly the keys dev, staging, prod"
                + (f"; missing {', '.join(missing)}" if missing else "")
                + (f"; unknown {', '.join(map(str, unknown))}" if unknown else "")
            )
        return {env: validate_one(value[env], env) for env in ENVIRONMENTS}

    return Annotated[
        Union[inner, dict[Environment, inner]],  # type: ignore[valid-type]
        PlainValidator(validate, json_schema_input_type=Union[inner, _per_environment_schema(inner)]),  # type: ignore[valid-type]
        STAGED,
    ]


@dataclass(frozen=True)
class _PerEnvironmentSchema:
    """The {dev, staging, prod} form, for JSON Schema / OpenAPI only; made when a schema is asked for
    (not at import: the API's cold start does not pay for it, nor read the instance-type table).

    Inline rather than a model per inner type: such models share a name, and pydantic then
    numbers them in generation order, so unrelated edits would rename them in openapi.json.
    """

    inner: Any

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        one = TypeAdapter(self.inner).json_schema()
        return {
            "type": "object",
            "title": "Per environment",
            "properties": {env: one for env in ENVIRONMENTS},
            "required": list(ENVIRONMENTS),
            "additionalProperties": False,
        }


def _per_environment_schema(inner: Any) -> Any:
    return Annotated[dict[str, Any], _PerEnvironmentSchema(inner)]


if TYPE_CHECKING:
    # For type checkers a stage-aware field is "a value or a dict of values per environment".
    Staged = Union[T, dict[Environment, T]]
else:

    class Staged:
        """`Staged[X]`: X, or {"dev": X, "staging": X, "prod": X} in multi-account mode."""

        def __class_getitem__(cls, inner):
            return _staged_field(inner)


def field_problem(field: str, problem: str, value: Any = None) -> ValidationError:
    """A validation error located at `field`, for cross-field rules checked in a model validator."""
    from pydantic_core import InitErrorDetails, PydanticCustomError

    detail = InitErrorDetails(type=PydanticCustomError("invalid_field", problem), loc=(field,), input=value)
    return ValidationError.from_exception_data("request", [detail])
