"""Model-card operations on SageMaker: validate the request, call the model card APIs, shape the answers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from lambda_src.common import aws
from lambda_src.common.errors import (
    ApiError,
    InvalidRequest,
    PayloadTooLarge,
    ServiceUnavailable,
    TooManyRequests,
    field_error,
    from_aws,
)
from lambda_src.common.settings import Settings, settings

if TYPE_CHECKING:
    from mlops_spec import modelcards as cards
    from mlops_spec.errors import FieldError

EXPORT_PREFIX = "model_card_exports"

M = TypeVar("M")


def _cards() -> Any:
    # Imported on first use: pydantic models cost import time every other route does not need.
    from mlops_spec import modelcards

    return modelcards


def validate(model: type[M], data: Any, strict: bool = True) -> tuple[M, list[dict[str, str]]]:
    """`data` as a `model`, and a warning per unknown key left out (compatibility mode: MWO dropped the
    keys it did not know; with `strict` they are errors); InvalidRequest naming each bad field otherwise
    (and the unknown keys, as a pipeline request's 400 names them)."""
    from pydantic import ValidationError

    from lambda_src.common.submission import InvalidPipelineRequest
    from mlops_spec.card_keys import without_unknown_keys
    from mlops_spec.errors import field_errors

    if not isinstance(data, dict):
        raise InvalidRequest("request body must be a JSON object", [field_error("(body)", "must be a JSON object")])
    warnings: list[dict[str, str]] = []
    if not strict:
        data, ignored = without_unknown_keys(model, data)  # type: ignore[arg-type]
        warnings = [warning.as_dict() for warning in ignored]
    try:
        return model.model_validate(data), warnings  # type: ignore[attr-defined]
    except ValidationError as exc:
        errors = [e.as_dict() for e in field_errors(exc)]
        raise InvalidPipelineRequest("invalid model card request", errors, warnings) from None


def _with_warnings(answer: dict[str, Any], warnings: list[dict[str, str]]) -> dict[str, Any]:
    """The answer, naming the unknown keys that were ignored (only when there were some)."""
    return {**answer, "warnings": warnings} if warnings else answer


@contextmanager
def _sagemaker_errors() -> Iterator[None]:
    """SageMaker's failures as the caller's 4xx (a rejected request) or 429/503 (see errors.from_aws)."""
    try:
        yield
    except Exception as exc:
        error = from_aws(exc, "SageMaker")
        if error is None:
            raise
        raise error from None


def _sagemaker() -> Any:
    return aws.client("sagemaker")


def _iso(value: Any) -> Any:
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value


def _card(response: dict[str, Any]) -> dict[str, Any]:
    """DescribeModelCard, normalised: snake_case keys, content as an object, ISO-8601 times."""
    return {
        "name": response["ModelCardName"],
        "arn": response.get("ModelCardArn"),
        "version": response.get("ModelCardVersion"),
        "status": response.get("ModelCardStatus"),
        "content": json.loads(response.get("Content") or "{}"),
        "created_at": _iso(response.get("CreationTime")),
        "last_modified_at": _iso(response.get("LastModifiedTime")),
        "processing_status": response.get("ModelCardProcessingStatus"),
    }


def _content_json(content: dict[str, Any]) -> str:
    text = json.dumps(content, separators=(",", ":"))
    limit = _cards().MAX_CONTENT_CHARS
    if len(text) > limit:
        raise PayloadTooLarge("model card content is too large", [field_error("(body)", f"must be at most {limit}")])
    return text


# -- operations --------------------------------------------------------------------------------------


def describe(request: cards.DescribeModelCard, settings: Settings) -> dict[str, Any]:
    params: dict[str, Any] = {"ModelCardName": request.name}
    if request.version is not None:
        params["ModelCardVersion"] = request.version
    with _sagemaker_errors():
        return _card(_sagemaker().describe_model_card(**params))


def create(request: cards.CreateModelCard, settings: Settings) -> dict[str, Any]:
    content = _content_json(content_with_metric_files(request, settings))
    with _sagemaker_errors():
        _sagemaker().create_model_card(ModelCardName=request.name, Content=content, ModelCardStatus=request.status)
    return describe(_cards().DescribeModelCard(name=request.name), settings)


def update(request: cards.UpdateModelCard, settings: Settings) -> dict[str, Any]:
    """Replace the given sections of the card (of `version`, default latest); keep the others and the status."""
    # The metric files first: a file that cannot be read changes nothing.
    given = content_with_metric_files(request, settings)
    current = describe(_cards().DescribeModelCard(name=request.name, version=request.version), settings)
    content = {**current["content"], **given}
    # The current status is sent explicitly: omitting it must not change it (MWO reset it to Draft).
    status = request.status or current["status"]
    params: dict[str, Any] = {"ModelCardName": request.name, "Content": _content_json(content)}
    if status:
        params["ModelCardStatus"] = status
    with _sagemaker_errors():
        _sagemaker().update_model_card(**params)
    return describe(_cards().DescribeModelCard(name=request.name), settings)


def delete(request: cards.DeleteModelCard, settings: Settings) -> dict[str, Any]:
    with _sagemaker_errors():
        _sagemaker().delete_model_card(ModelCardName=request.name)
    return {"message": f"model card {request.name} deleted", "name": request.name}


def export(request: cards.ExportModelCard, settings: Settings) -> dict[str, Any]:
    """Start a PDF export to s3://<assets>/model_card_exports (SageMaker appends the job's own path)."""
    job_name = request.export_job_name or _export_job_name(request.name)
    output = f"s3://{settings.assets_bucket}/{EXPORT_PREFIX}"
    params: dict[str, Any] = {
        "ModelCardName": request.name,
        "ModelCardExportJobName": job_name,
        "OutputConfig": {"S3OutputPath": output},
    }
    if request.model_card_version is not None:
        params["ModelCardVersion"] = request.model_card_version
    with _sagemaker_errors():
        response = _sagemaker().create_model_card_export_job(**params)
    return {
        "name": request.name,
        "export_job_name": job_name,
        "export_job_arn": response["ModelCardExportJobArn"],
        "output_location": output,
    }


def list_cards(request: cards.ListModelCards, settings: Settings) -> dict[str, Any]:
    params: dict[str, Any] = {"MaxResults": request.limit}
    if request.name_contains:
        params["NameContains"] = request.name_contains
    if request.status:
        params["ModelCardStatus"] = request.status
    if request.next_token:
        params["NextToken"] = request.next_token
    with _sagemaker_errors():
        response = _sagemaker().list_model_cards(**params)
    return {
        "model_cards": [
            {
                "name": summary["ModelCardName"],
                "arn": summary.get("ModelCardArn"),
                "status": summary.get("ModelCardStatus"),
                "created_at": _iso(summary.get("CreationTime")),
                "last_modified_at": _iso(summary.get("LastModifiedTime")),
            }
            for summary in response.get("ModelCardSummaries", [])
        ],
        "next_token": response.get("NextToken"),
    }


def _export_job_name(card: str) -> str:
    from mlops_spec.naming import bounded

    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    return bounded(f"{card}-export-{stamp}", 63)


_SERVICES: dict[str, Callable[[Any, Settings], dict[str, Any]]] = {
    "create_model_card": create,
    "update_model_card": update,
    "describe_model_card": describe,
    "delete_model_card": delete,
    "export_model_card": export,
    "list_model_cards": list_cards,
}


def is_operation(pipeline_type: Any) -> bool:
    return isinstance(pipeline_type, str) and pipeline_type in _SERVICES


def run_operation(body: dict[str, Any], settings: Settings, strict: bool = False) -> dict[str, Any]:
    """An MWO-style model-card request on /provisionpipeline (`pipeline_type` names the operation); its
    unknown keys are ignored with warnings unless `strict` (or mlops:strictRequests)."""
    operation = body["pipeline_type"]
    fields = {key: value for key, value in body.items() if key != "pipeline_type"}
    model = _cards().MODEL_CARD_OPERATIONS[operation]
    request, warnings = validate(model, fields, strict or settings.strict_requests)
    return _with_warnings(_SERVICES[operation](request, settings), warnings)


def check_operation(body: dict[str, Any], strict: bool = False) -> dict[str, Any]:
    """A dry run of an MWO-style model-card request: validated and normalised (its metric files read and
    checked too), SageMaker not called."""
    config = settings()
    operation = body["pipeline_type"]
    fields = {key: value for key, value in body.items() if key != "pipeline_type"}
    model = _cards().MODEL_CARD_OPERATIONS[operation]
    request, warnings = validate(model, fields, strict or config.strict_requests)
    if isinstance(request, _cards().ModelCardSections):
        # As long as the real call would find it (413): an update's sections alone, since the card's others
        # are not read here.
        _content_json(content_with_metric_files(request, config))
    return _with_warnings({"dry_run": True, "pipeline_type": operation, "request": request.plain()}, warnings)


# -- metric files (MWO's metric_file_s3_url) -----------------------------------------------------------


def content_with_metric_files(request: cards.ModelCardSections, config: Settings) -> dict[str, Any]:
    """The request's card content, each evaluation job's metric file read from S3 and its groups added
    after the job's own metric_groups; InvalidRequest naming the job's metric_file_s3_url otherwise."""
    content = request.content()
    reads = MetricFileReads()
    for index, job in enumerate(request.evaluation_details or []):
        if job.metric_file_s3_url is None or job.metric_type is None:
            continue
        field = f"evaluation_details[{index}].metric_file_s3_url"
        entry = content["evaluation_details"][index]
        groups = [
            *entry.get("metric_groups", []),
            *_file_groups(job.metric_file_s3_url, job.metric_type, field, config, reads),
        ]
        limit = _cards().MAX_METRIC_GROUPS
        if len(groups) > limit:
            raise _bad_file(
                field,
                f"adds {len(groups) - len(entry.get('metric_groups', []))} metric groups; "
                f"a job holds at most {limit} in all",
            )
        entry["metric_groups"] = groups
    return content


@dataclass
class MetricFileReads:
    """One request's metric files: each file's checked groups by (URL, metric type), converted once however
    many jobs name it, and the bytes read in all. A file's parsed document is dropped once converted, and
    the bytes are bounded: each file is parsed whole into memory, many times its size."""

    groups: dict[tuple[str, str], list[dict[str, Any]]] = dataclass_field(default_factory=dict)
    bytes_read: int = 0


def _file_groups(
    url: str, metric_type: str, field: str, config: Settings, reads: MetricFileReads
) -> list[dict[str, Any]]:
    from pydantic import ValidationError

    from mlops_spec.errors import field_errors
    from mlops_spec.metric_files import MetricFileProblem, metric_groups

    if (url, metric_type) in reads.groups:
        return list(reads.groups[url, metric_type])
    try:
        groups = metric_groups(_read_metric_file(url, field, config, reads), metric_type)
    except MetricFileProblem as exc:
        raise _bad_file(field, str(exc)) from None
    checked = []
    for index, group in enumerate(groups):
        try:
            checked.append(_cards().MetricGroup.model_validate(group).plain())
        except ValidationError as exc:
            pairs = zip(exc.errors(include_url=False), field_errors(exc), strict=True)
            problems = [_group_problem(index, error, found) for error, found in list(pairs)[:10]]
            raise InvalidRequest("invalid metric file", [field_error(field, p) for p in problems]) from None
    reads.groups[url, metric_type] = checked
    return list(checked)


def _group_problem(index: int, error: Any, found: FieldError) -> str:
    """A metric group's error (`found`, from pydantic's `error`), never naming a key of the file: an unknown
    key is named by where it sits, its parent's place taken from the error's location (the key itself may
    hold dots)."""
    from mlops_spec.errors import field_path

    if error["type"] == "extra_forbidden":
        parent = field_path(tuple(error["loc"])[:-1])
        return f"its metric_groups[{index}]{'.' + parent if parent else ''} holds a key that is not a known field"
    return f"its metric_groups[{index}].{found.field} {found.problem}"


def _read_metric_file(url: str, field: str, config: Settings, reads: MetricFileReads) -> Any:
    """The JSON document at `url`, which must be a .json file under model_card_metrics/ of the orchestrator's
    assets bucket (the only place the API's role may read them), at most MAX_METRIC_FILE_BYTES;
    InvalidRequest naming `field` otherwise, with one message for every read failure (AWS throttling or
    an outage aside: 429 / 503, to send again)."""
    from lambda_src.common import untrusted_json
    from mlops_spec.metric_files import (
        MAX_METRIC_FILE_BYTES,
        MAX_METRIC_FILES_BYTES,
        UNREADABLE,
        location_problem,
        s3_location,
    )

    problem = location_problem(url, config.assets_bucket)
    location = s3_location(url)
    if problem is not None or location is None:
        raise _bad_file(field, problem or UNREADABLE)
    try:
        response = aws.client("s3").get_object(Bucket=location[0], Key=location[1])
        # At most one byte over the limit is read, whatever ContentLength said.
        raw = response["Body"].read(MAX_METRIC_FILE_BYTES + 1)
        if max(response.get("ContentLength", 0), len(raw)) > MAX_METRIC_FILE_BYTES:
            raise _bad_file(field, f"is larger than {MAX_METRIC_FILE_BYTES} bytes")
        reads.bytes_read += len(raw)
        if reads.bytes_read > MAX_METRIC_FILES_BYTES:
            problem = f"is larger than the {MAX_METRIC_FILES_BYTES} bytes the metric files of one request hold in all"
            raise _bad_file(field, problem)
        document = untrusted_json.loads(raw.decode("utf-8"))
    except InvalidRequest:
        raise
    except Exception as exc:
        raise _unreadable(exc, field) from None
    if not isinstance(document, dict) or untrusted_json.structure_problems(document):
        raise _bad_file(field, UNREADABLE)
    return document


def _unreadable(exc: Exception, field: str) -> ApiError:
    """Any failure to get or parse the file is the field's 400 (whatever S3 refused: missing, denied, a key
    it cannot use), but AWS throttling or an outage (a 5xx, no answer): 429 / 503, to send again."""
    from mlops_spec.metric_files import UNREADABLE

    error = from_aws(exc, "S3")
    response = getattr(exc, "response", None)
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) if isinstance(response, dict) else 0
    if isinstance(error, TooManyRequests) or (isinstance(error, ServiceUnavailable) and not 400 <= status < 500):
        return error
    return _bad_file(field, UNREADABLE)


def _bad_file(field: str, problem: str) -> InvalidRequest:
    return InvalidRequest("invalid metric file", [field_error(field, problem)])


def run(operation: str, data: Any, settings: Settings, strict: bool = False) -> dict[str, Any]:
    """A REST model-card request: `data` merges the path name, query and body fields; unknown body keys
    are ignored with warnings unless `strict` (?strict=true) or the install is (mlops:strictRequests)."""
    model = _cards().MODEL_CARD_OPERATIONS[operation]
    request, warnings = validate(model, data, strict or settings.strict_requests)
    return _with_warnings(_SERVICES[operation](request, settings), warnings)
