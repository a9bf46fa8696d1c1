"""Clarify explainability reports (MWO's metric_type clarify_explainability) as a model card's metric groups.

The report (`analysis.json` of a Clarify explainability job) holds `{"explanations": {"kernel_shap": {label:
{"global_shap_values": {feature: shap}, "global_top_shap_text": {feature: {token: shap}}}}, "pdp":
[{"feature_name", "data_type", "feature_values", "data_distribution", "label_headers", "model_predictions"}]}}`.
So that a card's limits hold for wide models
(100 metrics a group), SHAP values come in groups of at most 100 features, largest |SHAP| first, and each
partial dependence plot is a group of its own (split likewise past 100 series); the SDK puts every plot in
one group. Every value is checked here: a card holds numbers in its graphs, and a problem must be reported
on the file (never quoting it), not by SageMaker later. What the groups will take of the card is spent from
the file's Budget (mlops_spec.metric_files) before they are built.
"""

from __future__ import annotations

import math
from typing import Any

from mlops_spec.metric_files import MAX_AXIS_CHARS, Budget, MetricFileProblem, checked_name, is_name, is_number

KIND = "clarify_explainability"
_KIND = f"(metric_type {KIND})"
# A card's group holds at most 100 metrics (mlops_spec.modelcards.MetricGroup).
METRICS_PER_GROUP = 100
_PLOT_NEEDS = (
    "every pdp plot needs a feature_name, data_type numerical or categorical, non-empty feature_values and "
    "data_distribution of the same length, label_headers, and one list of model_predictions per label header, "
    "a prediction per feature value; distribution and predictions are numbers, and so are a numerical "
    f"feature's values {_KIND}"
)


def explainability_groups(document: dict[str, Any], budget: Budget | None = None) -> list[dict[str, Any]]:
    """The report's global SHAP values (per label) and partial dependence plots (per feature) as groups;
    MetricFileProblem naming what the format needs, or that a card could not hold them, otherwise."""
    budget = budget or Budget(KIND)
    explanations = document.get("explanations")
    if not isinstance(explanations, dict):
        raise MetricFileProblem(f"must hold an explanations object {_KIND}")
    groups = _shap_groups(explanations.get("kernel_shap"), budget) + _pdp_groups(explanations.get("pdp"), budget)
    if not groups:
        raise MetricFileProblem(f"holds no SHAP values or partial dependence plots in explanations {_KIND}")
    return groups


def _shap_groups(kernel_shap: Any, budget: Budget) -> list[dict[str, Any]]:
    """Per label, the features by decreasing |SHAP|, as numbers; and a text feature's top tokens."""
    if kernel_shap is None:
        return []
    if not isinstance(kernel_shap, dict) or not all(isinstance(label, dict) for label in kernel_shap.values()):
        raise MetricFileProblem(f"must hold kernel_shap as an object of an explanation per label {_KIND}")
    groups: list[dict[str, Any]] = []
    for label, explanation in kernel_shap.items():
        label = checked_name(label, "label", KIND)
        values = explanation.get("global_shap_values")
        if values is not None:
            groups += _ranked(f"explanations - global_shap_values, label={label}", values, "features", budget)
        # A text feature's tokens of largest SHAP value (NLP explainability), per feature.
        texts = explanation.get("global_top_shap_text")
        if texts is None:
            continue
        if not isinstance(texts, dict):
            raise MetricFileProblem(f"must hold global_top_shap_text as an object of tokens per feature {_KIND}")
        for feature, tokens in texts.items():
            name = (
                f"explanations - global_top_shap_text, label={label}, feature={checked_name(feature, 'feature', KIND)}"
            )
            groups += _ranked(name, tokens, "tokens", budget)
    return groups


def _ranked(name: str, values: Any, what: str, budget: Budget) -> list[dict[str, Any]]:
    """`values` ({name: SHAP value}) as numbers, largest |SHAP| first, in groups a card holds."""
    if not isinstance(values, dict) or not all(is_number(v) for v in values.values()):
        raise MetricFileProblem(f"every global SHAP value must be a finite number {_KIND}")
    budget.group(_groups_needed(len(values)))
    budget.spend(metrics=len(values))
    ranked = sorted(values.items(), key=lambda item: -abs(item[1]))
    metrics = [{"name": checked_name(key, what[:-1], KIND), "type": "number", "value": v} for key, v in ranked]
    return _split(name, metrics, what)


def _pdp_groups(pdp: Any, budget: Budget) -> list[dict[str, Any]]:
    """Per feature: its data distribution and the model's prediction of each label, as a line over a
    numerical feature's values or bars over a categorical one's."""
    if pdp is None:
        return []
    if not isinstance(pdp, list):
        raise MetricFileProblem(f"must hold pdp as a list of plots {_KIND}")
    groups: list[dict[str, Any]] = []
    for plot in pdp:
        plot = _checked_plot(plot)
        series = len(plot["label_headers"]) + 1
        budget.group(_groups_needed(series))
        # A line's point is [x,y] (three values' worth); a bar chart's axis, its categories as JSON text, is
        # written again for every series.
        numerical = plot["data_type"] == "numerical"
        points = len(plot["feature_values"]) * (3 if numerical else 1)
        axis = 0 if numerical else sum(len(str(v)) + 3 for v in plot["feature_values"])
        budget.spend(metrics=series, values=series * (points + axis // Budget.VALUE_CHARS))
        feature, metrics = _plot_series(plot)
        groups += _split(f"explanations - pdp, feature={feature}", metrics, "series")
    return groups


def _plot_series(plot: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    feature, values = checked_name(plot["feature_name"], "feature_name", KIND), plot["feature_values"]
    numerical = plot["data_type"] == "numerical"
    # A categorical plot's one x axis for every series (its names, shared, not copied per series).
    categories = [] if numerical else [checked_name(v, "category", KIND, MAX_AXIS_CHARS) for v in values]
    headers = [checked_name(h, "label header", KIND) for h in plot["label_headers"]]

    def series(name: str, y_axis: str, points: list[Any]) -> dict[str, Any]:
        if numerical:  # a line through (feature value, y) points
            line = [[x, y] for x, y in zip(values, points, strict=True)]
            return {"name": name, "type": "linear_graph", "value": line, "x_axis_name": feature, "y_axis_name": y_axis}
        return {"name": name, "type": "bar_chart", "value": points, "x_axis_name": categories, "y_axis_name": y_axis}

    metrics = [series(f"data_distribution - feature={feature}", "Data distribution", plot["data_distribution"])]
    for header, predictions in zip(headers, plot["model_predictions"], strict=True):
        metrics.append(series(f"model_predictions - feature={feature}, label={header}", header, predictions))
    return feature, metrics


def _checked_plot(plot: Any) -> dict[str, Any]:
    """A partial dependence plot whose lists line up and hold what a card's graphs take."""
    if not isinstance(plot, dict) or plot.get("data_type") not in ("numerical", "categorical"):
        raise MetricFileProblem(_PLOT_NEEDS)
    keys = ("feature_values", "data_distribution", "label_headers", "model_predictions")
    lists: list[list[Any]] = [item for key in keys if isinstance(item := plot.get(key), list)]
    if not is_name(plot.get("feature_name")) or len(lists) != len(keys):
        raise MetricFileProblem(_PLOT_NEEDS)
    values, distribution, headers, predictions = lists
    point_kind = is_number if plot["data_type"] == "numerical" else is_name
    well_formed = (
        0 < len(values) == len(distribution)
        and len(predictions) == len(headers)
        and all(point_kind(v) for v in values)
        and all(is_number(d) for d in distribution)
        and all(is_name(h) for h in headers)
        and all(isinstance(p, list) and len(p) == len(values) and all(is_number(y) for y in p) for p in predictions)
    )
    if not well_formed:
        raise MetricFileProblem(_PLOT_NEEDS)
    return plot


def _groups_needed(metrics: int) -> int:
    return max(1, math.ceil(metrics / METRICS_PER_GROUP))


def _split(name: str, metrics: list[dict[str, Any]], what: str) -> list[dict[str, Any]]:
    """`metrics` as groups of at most METRICS_PER_GROUP, numbered past one group ("name (features 1-100)")."""
    if len(metrics) <= METRICS_PER_GROUP:
        return [{"name": name, "metric_data": metrics}]
    return [
        {"name": f"{name} ({what} {start + 1}-{start + len(chunk)})", "metric_data": chunk}
        for start in range(0, len(metrics), METRICS_PER_GROUP)
        if (chunk := metrics[start : start + METRICS_PER_GROUP])
    ]
