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

import json
import math
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
# ... and all the files one request names, together: each is parsed whole, into many times its size.
MAX_METRIC_FILES_BYTES = 3_000_000
# A card's whole content is at most this long, a job holds at most this many groups, a name this many
# characters, an axis label this many (mlops_spec.modelcards, which imports this module, has them from here).
MAX_CARD_CHARS = 100_000
MAX_JOB_GROUPS = 50
MAX_NAME_CHARS = 255
MAX_AXIS_CHARS = 1024
# The dedicated place of metric files in the assets bucket (the API role's s3:GetObject names it too).
METRIC_FILE_PREFIX = "model_card_metrics/"
# Every failure to read a file (any S3 error, not UTF-8 JSON, not an object) reads the same.
UNREADABLE = "cannot be read (missing, not allowed, or not a JSON object of a supported format)"
_BIAS = "clarify_bias"
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


class Budget:
    """What a file's groups may still take of a card, spent while the file is read, before anything is
    built from it: a 1 MB file can describe groups many times its size (a long axis repeated per series,
    a matrix of every row by every column), which must be refused, not built."""

    # At least {"name":"x","type":"number","value":0} a metric, "0," a value of a graph or a matrix, and
    # {"name":"x","metric_data":[]} a group, as JSON.
    METRIC_CHARS, VALUE_CHARS, GROUP_CHARS = 36, 2, 30

    def __init__(self, kind: str) -> None:
        self.kind, self.left, self.groups = kind, MAX_CARD_CHARS, 0

    def spend(self, metrics: int = 0, values: int = 0) -> None:
        self.left -= metrics * self.METRIC_CHARS + values * self.VALUE_CHARS
        if self.left < 0:
            raise MetricFileProblem(
                f"adds more than {MAX_CARD_CHARS} characters of metric groups, all a card may hold "
                f"(metric_type {self.kind})"
            )

    def group(self, count: int = 1) -> None:
        self.groups += count
        if self.groups > MAX_JOB_GROUPS:
            raise MetricFileProblem(
                f"adds more than {MAX_JOB_GROUPS} metric groups; a job holds at most {MAX_JOB_GROUPS} in all "
                f"(metric_type {self.kind})"
            )
        self.left -= count * self.GROUP_CHARS


def checked_name(value: Any, what: str, kind: str, limit: int = MAX_NAME_CHARS) -> str:
    """A label, feature, facet or category of the file as text (numbers are names too: labels 0 and 1),
    at most `limit` characters: a card's names hold 255, its axis labels 1,024."""
    if is_name(value) and len(str(value)) <= limit:
        return str(value)
    raise MetricFileProblem(
        f"every {what} must be a text or a number of at most {limit} characters (metric_type {kind})"
    )


def is_name(value: Any) -> bool:
    """A label, feature or category name: text, or a number written as one (labels 0 and 1)."""
    return isinstance(value, str) or is_number(value)


def is_number(value: Any) -> bool:
    """A finite JSON number (not a boolean; an integer too large for a float is not one either)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


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
    against the card's models: see mlops_spec.modelcards.MetricGroup); MetricFileProblem otherwise, also
    for groups a card could not hold (counted while the file is read, then exactly once built)."""
    groups = _groups_of(document, metric_type, Budget(metric_type))
    if len(groups) > MAX_JOB_GROUPS:
        raise MetricFileProblem(f"adds {len(groups)} metric groups; a job holds at most {MAX_JOB_GROUPS} in all")
    if any(_too_long(group) for group in groups):
        raise MetricFileProblem(
            f"makes a group or metric name longer than {MAX_NAME_CHARS} characters; shorten its labels, "
            f"features or facets (metric_type {metric_type})"
        )
    if json_chars(groups, MAX_CARD_CHARS) > MAX_CARD_CHARS:
        raise MetricFileProblem(f"adds more than {MAX_CARD_CHARS} characters of metric groups, all a card may hold")
    return groups


def _too_long(group: Any) -> bool:
    """A group or one of its metrics named with more characters than a card's names hold."""
    if not isinstance(group, dict):
        return False
    metrics = group.get("metric_data")
    names = (
        [group.get("name"), *(m.get("name") for m in metrics if isinstance(m, dict))]
        if isinstance(metrics, list)
        else [group.get("name")]
    )
    return any(isinstance(name, str) and len(name) > MAX_NAME_CHARS for name in names)


def json_chars(value: Any, budget: int) -> int:
    """The length of `value` as the card's JSON writes it (compact, non-ASCII escaped), counted only until
    it passes `budget`."""
    total, pending = 0, [value]
    while pending and total <= budget:
        item = pending.pop()
        if isinstance(item, dict):
            # Braces, a colon per member, commas between them, and the keys as JSON strings.
            total += 2 + len(item) + max(len(item) - 1, 0) + sum(len(json.dumps(str(key))) for key in item)
            pending.extend(item.values())
        elif isinstance(item, list):
            total += 2 + max(len(item) - 1, 0)
            pending.extend(item)
        else:
            total += len(json.dumps(item, default=str))
    return total


def _groups_of(document: Any, metric_type: str, budget: Budget) -> list[dict[str, Any]]:
    if not isinstance(document, dict):
        raise MetricFileProblem("must hold a JSON object")
    if metric_type == "model_card_metric_schema":
        groups = document.get("metric_groups")
        if not isinstance(groups, list):
            raise MetricFileProblem('must hold {"metric_groups": [...]} (metric_type model_card_metric_schema)')
        return groups
    if metric_type == "clarify_bias":
        return _clarify_bias(document, budget)
    if metric_type in _MODEL_QUALITY_GROUPS:
        return _model_quality(document, _MODEL_QUALITY_GROUPS[metric_type], budget)
    if metric_type == "clarify_explainability":
        from mlops_spec.clarify_explainability import explainability_groups

        return explainability_groups(document, budget)
    raise MetricFileProblem(f"metric_type {metric_type} is not read; use one of {', '.join(READ_TYPES)}")


def _clarify_bias(document: dict[str, Any], budget: Budget) -> list[dict[str, Any]]:
    """One group per report section, label and facet value: the section's metrics as numbers."""
    groups: list[dict[str, Any]] = []
    for section in _BIAS_SECTIONS:
        report = document.get(section)
        if report is None:
            continue
        facets = report.get("facets") if isinstance(report, dict) else None
        if not isinstance(facets, dict):
            raise MetricFileProblem(f"must hold a facets object in {section} (metric_type clarify_bias)")
        label = checked_name(report.get("label"), "label", _BIAS)
        threshold = checked_name(report.get("label_value_or_threshold"), "label_value_or_threshold", _BIAS)
        for facet, values in facets.items():
            facet_name = checked_name(facet, "facet", _BIAS)
            for value in _facet_values(values):
                budget.group()
                budget.spend(metrics=len(value["metrics"]))
                value_name = checked_name(value["value_or_threshold"], "value_or_threshold", _BIAS)
                name = f"{section} - label {label} = {threshold} and facet {facet_name}={value_name}"
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


def _model_quality(document: dict[str, Any], section: str, budget: Budget) -> list[dict[str, Any]]:
    """The report's section as one group: each metric's value (and standard deviation), the confusion
    matrix as a matrix."""
    metrics = document.get(section)
    if not isinstance(metrics, dict):
        raise MetricFileProblem(f"must hold a {section} object")
    budget.spend(metrics=2 * len(metrics))
    data: list[dict[str, Any]] = []
    for name, raw in metrics.items():
        if name == "confusion_matrix":
            data.append(_confusion_matrix(raw, section, budget))
        elif isinstance(raw, dict) and "value" in raw:
            data.append({"name": name, "type": "number", "value": raw["value"]})
            deviation = raw.get("standard_deviation")
            if is_number(deviation):
                data.append({"name": f"{name} - standard_deviation", "type": "number", "value": deviation})
        # Curves (receiver_operating_characteristic_curve, precision_recall_curve) are left out: graphs
        # of hundreds of points that the card's content limit would rarely hold.
    return [{"name": section, "metric_data": data}]


def _confusion_matrix(raw: Any, section: str, budget: Budget) -> dict[str, Any]:
    """Every actual label's counts of every predicted label (the first row's), counted against the budget
    before the rows are written: a matrix is rows times columns."""
    problem = MetricFileProblem(
        f"{section}.confusion_matrix must map each label to its counts, numbers, for the same predicted labels"
    )
    if not isinstance(raw, dict) or not raw or not all(isinstance(row, dict) for row in raw.values()):
        raise problem
    actual = list(raw)
    predicted = list(next(iter(raw.values())))
    budget.spend(values=len(actual) * len(predicted))
    rows = [[raw[label].get(column, 0) for column in predicted] for label in actual]
    if not all(is_number(count) for row in rows for count in row):
        raise problem
    kind = section.removesuffix("_metrics")
    return {
        "name": "confusion_matrix",
        "type": "matrix",
        "value": rows,
        "x_axis_name": [checked_name(label, "confusion matrix label", kind, MAX_AXIS_CHARS) for label in actual],
        "y_axis_name": [checked_name(label, "confusion matrix label", kind, MAX_AXIS_CHARS) for label in predicted],
    }


def _number(metric: Any) -> dict[str, Any]:
    if not isinstance(metric, dict) or "name" not in metric or "value" not in metric:
        raise MetricFileProblem("every metric needs a name and a value (metric_type clarify_bias)")
    return {"name": metric["name"], "type": "number", "value": metric["value"]}


def _known(metric: Any) -> bool:
    return not (isinstance(metric, dict) and metric.get("value", 0) is None)
