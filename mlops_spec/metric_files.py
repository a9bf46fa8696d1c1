"""Model card metric files (MWO's `metric_file_s3_url` + `metric_type`): their formats turned into the
`metric_groups` of a card's evaluation job. Pure Python; the API reads the file (lambda_src/api/modelcards.py).

The formats are those the SageMaker Python SDK reads for model cards (EvaluationJob.add_metric_group_from_json):
  - model_card_metric_schema: `{"metric_groups": [...]}`, already the card's shape;
  - clarify_bias: a Clarify bias report (`{"pre_training_bias_metrics": {"label", "label_value_or_threshold",
    "facets": {facet: [{"value_or_threshold", "metrics": [{"name", "value"}]}]}}, ...}`);
  - regression, binary_classification, multiclass_classification: a Model Monitor model quality report
    (`{"<kind>_metrics": {metric: {"value", "standard_deviation"}, "confusion_matrix": {...}}}`).
  - clarify_explainability: a Clarify explainability report (`{"explanations": {"kernel_shap": {label:
    {"global_shap_values": {feature: shap}}}, "pdp": [{"feature_name", "data_type", "feature_values",
    "data_distribution", "label_headers", "model_predictions"}]}}`). So that a card's limits (100 metrics a
    group) hold for wide models, SHAP values come in groups of at most 100 features, largest first, and each
    partial dependence plot is a group of its own (the SDK puts every plot in one group).

Where a metric file may be: only under METRIC_FILE_PREFIX of the orchestrator's assets bucket, the one
place the API's role may read them (components/orchestrator/access.py). Anywhere else the API would read
for its caller what the caller could not (another pipeline's request under pipelines/, another team's
report). The API and `mlops validate` decide it with `location_problem`. Messages never repeat a file's
keys or values, and every failure to read one gets the same message (no existence oracle).
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from mlops_spec.naming import CONFIG_FILE_NAME

MetricFileType = Literal[
    "model_card_metric_schema",
    "clarify_bias",
    "clarify_explainability",
    "regression",
    "binary_classification",
    "multiclass_classification",
]
METRIC_FILE_TYPES: tuple[str, ...] = get_args(MetricFileType)
READ_TYPES = METRIC_FILE_TYPES
# A metric file is read whole into the function's memory; a card's content is at most 100,000
# characters anyway, so a larger file could not fit in it.
MAX_METRIC_FILE_BYTES = 1_000_000
# A card's whole content is at most this long (mlops_spec.modelcards.MAX_CONTENT_CHARS, which imports this module).
MAX_CARD_CHARS = 100_000
# The dedicated place of metric files in the assets bucket (the API role's s3:GetObject names it too).
METRIC_FILE_PREFIX = "model_card_metrics/"
# Every failure to read a file (any S3 error, not UTF-8 JSON, not an object) reads the same.
UNREADABLE = "cannot be read (missing, not allowed, or not a JSON object of a supported format)"
# The sections of a Clarify bias report (analysis.json) that hold bias metrics.
_BIAS_SECTIONS = ("pre_training_bias_metrics", "post_training_bias_metrics")
_MODEL_QUALITY_GROUPS = {
    "regression": "regression_metrics",
    "binary_classification": "binary_classification_metrics",
    "multiclass_classification": "multiclass_classification_metrics",
}


# What only reading the metric file can tell (lambda_src/api/modelcards.py, mlops_spec/metric_files.py), and
# the rules between the two fields, as the API words them: published as the contract's x-rules.
METRIC_FILE_RULES: list[dict[str, str]] = [
    {"field": "metric_file_s3_url", "problem": problem}
    for problem in (
        "is required with metric_type",
        "must name a .json file under",
        "cannot be read",
        "is larger than",
        "must hold",
        "holds no",
        "every",
        "its metric_groups",
        "adds",
    )
] + [{"field": "metric_type", "problem": "is required with metric_file_s3_url"}]


def publish_metric_file_rules(schema: dict[str, Any]) -> None:
    """`json_schema_extra` of a card's evaluation job: its metric file's rules as the contract's x-rules."""
    schema["x-rules"] = list(METRIC_FILE_RULES)


class MetricFileProblem(ValueError):
    """The file's content cannot become metric groups; the message says why, for the caller."""


def location_problem(url: str, assets_bucket: str | None) -> str | None:
    """Why a metric file at `url` is not read (None when it is): it must be a .json object under
    METRIC_FILE_PREFIX of the assets bucket, and not a config file (an upload there is a pipeline request).
    Without `assets_bucket` (the CLI outside a project) only the key is checked; the API checks the bucket."""
    where = f"s3://{assets_bucket or '<assets bucket>'}/{METRIC_FILE_PREFIX}"
    problem = f"must name a .json file under {where} (the orchestrator's assets bucket)"
    location = s3_location(url)
    if location is None or (assets_bucket is not None and location[0] != assets_bucket):
        return problem
    return None if _metric_file_key(location[1]) else problem


def _metric_file_key(key: str) -> bool:
    # Empty, "." and ".." segments are refused too: the key is read as written, never resolved.
    segments = key.removeprefix(METRIC_FILE_PREFIX).split("/")
    return (
        key.startswith(METRIC_FILE_PREFIX)
        and key.endswith(".json")
        and not key.endswith(CONFIG_FILE_NAME)
        and all(segment not in ("", ".", "..") for segment in segments)
    )


def s3_location(url: str) -> tuple[str, str] | None:
    """(bucket, key) of an `s3://bucket/key` URL; None when it is not one."""
    if not url.startswith("s3://"):
        return None
    bucket, _, key = url.removeprefix("s3://").partition("/")
    return (bucket, key) if bucket and key and not key.endswith("/") else None


def metric_groups(document: Any, metric_type: str) -> list[dict[str, Any]]:
    """The metric groups a metric file of `metric_type` holds, in the card's shape (not yet validated
    against the card's limits: see mlops_spec.modelcards.MetricGroup); MetricFileProblem otherwise,
    also for groups larger than a whole card may be, before anything is built from them."""
    groups = _groups_of(document, metric_type)
    if _json_chars(groups, MAX_CARD_CHARS) > MAX_CARD_CHARS:
        raise MetricFileProblem(f"adds more than {MAX_CARD_CHARS} characters of metric groups, all a card may hold")
    return groups


def _json_chars(value: Any, budget: int) -> int:
    """About the length of `value` as JSON, counted only until it passes `budget`: a 1 MB file whose groups
    would be many times larger (a long x axis repeated per series) is refused without being written out."""
    total, pending = 0, [value]
    while pending and total <= budget:
        item = pending.pop()
        if isinstance(item, dict):
            total += 2 + sum(len(str(key)) + 4 for key in item)
            pending.extend(item.values())
        elif isinstance(item, list):
            total += 2 + len(item)
            pending.extend(item)
        else:
            total += len(str(item)) + 2
    return total


def _groups_of(document: Any, metric_type: str) -> list[dict[str, Any]]:
    if not isinstance(document, dict):
        raise MetricFileProblem("must hold a JSON object")
    if metric_type == "model_card_metric_schema":
        groups = document.get("metric_groups")
        if not isinstance(groups, list):
            raise MetricFileProblem('must hold {"metric_groups": [...]} (metric_type model_card_metric_schema)')
        return groups
    if metric_type == "clarify_bias":
        return _clarify_bias(document)
    if metric_type in _MODEL_QUALITY_GROUPS:
        return _model_quality(document, _MODEL_QUALITY_GROUPS[metric_type])
    if metric_type == "clarify_explainability":
        from mlops_spec.clarify_explainability import explainability_groups

        return explainability_groups(document)
    raise MetricFileProblem(f"metric_type {metric_type} is not read; use one of {', '.join(READ_TYPES)}")


def _clarify_bias(document: dict[str, Any]) -> list[dict[str, Any]]:
    """One group per report section, label and facet value: the section's metrics as numbers."""
    groups: list[dict[str, Any]] = []
    for section in _BIAS_SECTIONS:
        report = document.get(section)
        if report is None:
            continue
        facets = report.get("facets") if isinstance(report, dict) else None
        if not isinstance(facets, dict):
            raise MetricFileProblem(f"must hold a facets object in {section} (metric_type clarify_bias)")
        label = f"label {report.get('label')} = {report.get('label_value_or_threshold')}"
        for facet, values in facets.items():
            for value in _facet_values(values):
                name = f"{section} - {label} and facet {facet}={value['value_or_threshold']}"
                # Clarify writes null for a metric it could not compute for this facet: nothing to show.
                metrics = [_number(m) for m in value["metrics"] if _known(m)]
                groups.append({"name": name, "metric_data": metrics})
    if not groups:
        raise MetricFileProblem(f"holds no bias metrics in {' or '.join(_BIAS_SECTIONS)} (metric_type clarify_bias)")
    return groups


def _facet_values(values: Any) -> list[dict[str, Any]]:
    """A facet's values, each checked: an object with value_or_threshold and a list of metrics."""
    if not isinstance(values, list):
        raise MetricFileProblem("every facet must hold a list of values (metric_type clarify_bias)")
    for value in values:
        if (
            not isinstance(value, dict)
            or "value_or_threshold" not in value
            or not isinstance(value.get("metrics"), list)
        ):
            raise MetricFileProblem(
                "every facet value needs value_or_threshold and a list of metrics (metric_type clarify_bias)"
            )
    return values


def _model_quality(document: dict[str, Any], section: str) -> list[dict[str, Any]]:
    """The report's section as one group: each metric's value (and standard deviation), the confusion
    matrix as a matrix."""
    metrics = document.get(section)
    if not isinstance(metrics, dict):
        raise MetricFileProblem(f"must hold a {section} object")
    data: list[dict[str, Any]] = []
    for name, raw in metrics.items():
        if name == "confusion_matrix":
            data.append(_confusion_matrix(raw, section))
        elif isinstance(raw, dict) and "value" in raw:
            data.append({"name": name, "type": "number", "value": raw["value"]})
            deviation = raw.get("standard_deviation")
            if isinstance(deviation, int | float) and not isinstance(deviation, bool):
                data.append({"name": f"{name} - standard_deviation", "type": "number", "value": deviation})
        # Curves (receiver_operating_characteristic_curve, precision_recall_curve) are left out: graphs
        # of hundreds of points that the card's content limit would rarely hold.
    return [{"name": section, "metric_data": data}]


def _confusion_matrix(raw: Any, section: str) -> dict[str, Any]:
    if not isinstance(raw, dict) or not all(isinstance(row, dict) for row in raw.values()):
        raise MetricFileProblem(f"{section}.confusion_matrix must map each label to its counts")
    actual = list(raw)
    predicted = list(next(iter(raw.values()), {}))
    rows = [[raw[label].get(column, 0) for column in predicted] for label in actual]
    return {
        "name": "confusion_matrix",
        "type": "matrix",
        "value": rows,
        "x_axis_name": [str(label) for label in actual],
        "y_axis_name": [str(label) for label in predicted],
    }


def _number(metric: Any) -> dict[str, Any]:
    if not isinstance(metric, dict) or "name" not in metric or "value" not in metric:
        raise MetricFileProblem("every metric needs a name and a value (metric_type clarify_bias)")
    return {"name": metric["name"], "type": "number", "value": metric["value"]}


def _known(metric: Any) -> bool:
    return not (isinstance(metric, dict) and metric.get("value", 0) is None)
