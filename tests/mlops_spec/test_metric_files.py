"""The metric files of examples/model_cards/metric_files/ become metric groups a card accepts
(mlops_spec/metric_files.py)."""

from __future__ import annotations

import json

import pytest

from mlops_spec.metric_files import MetricFileProblem, location_problem, metric_groups, s3_location
from mlops_spec.modelcards import MetricGroup, UpdateModelCard
from tests.support.examples import EXAMPLES
from tests.support.memory import peak_bytes

pytestmark = pytest.mark.fast
FOLDER = EXAMPLES / "model_cards" / "metric_files"


def test_the_example_update_names_each_file_with_its_type():
    body = json.loads((FOLDER / "update_model_card.json").read_text())
    request = UpdateModelCard.model_validate({k: v for k, v in body.items() if k != "pipeline_type"})

    jobs = request.evaluation_details or []
    assert [(s3_location(str(j.metric_file_s3_url))[1], j.metric_type) for j in jobs] == [  # type: ignore[index]
        ("model_card_metrics/churn-xgb/model_quality.json", "binary_classification"),
        ("model_card_metrics/churn-xgb/metrics.json", "model_card_metric_schema"),
        ("model_card_metrics/churn-xgb/explainability.json", "clarify_explainability"),
    ]
    assert "metric_file_s3_url" not in request.content()["evaluation_details"][0]


@pytest.mark.parametrize(
    ("name", "kind", "metrics"),
    [
        ("model_quality.json", "binary_classification", 7),
        ("metrics.json", "model_card_metric_schema", 3),
        # 4 SHAP values; per plot its data distribution and one label's predictions
        ("explainability.json", "clarify_explainability", 8),
    ],
)
def test_each_example_file_becomes_valid_metric_groups(name: str, kind: str, metrics: int):
    groups = metric_groups(json.loads((FOLDER / name).read_text()), kind)

    validated = [MetricGroup.model_validate(group) for group in groups]
    assert sum(len(group.metric_data) for group in validated) == metrics


def test_a_report_of_another_kind_names_the_section_it_lacks():
    with pytest.raises(MetricFileProblem, match="must hold a regression_metrics object"):
        metric_groups(json.loads((FOLDER / "model_quality.json").read_text()), "regression")


def test_clarify_leaves_out_metrics_it_could_not_compute():
    report = {
        "post_training_bias_metrics": {
            "label": "y",
            "label_value_or_threshold": 1,
            "facets": {
                "f": [
                    {
                        "value_or_threshold": "a",
                        "metrics": [{"name": "DPPL", "value": None}, {"name": "DI", "value": 0.9}],
                    }
                ]
            },
        }
    }
    [group] = metric_groups(report, "clarify_bias")
    assert group["metric_data"] == [{"name": "DI", "type": "number", "value": 0.9}]


BUCKET = "mlops-assets-111111111111-us-east-1"
OUTSIDE = f"must name a .json file under s3://{BUCKET}/model_card_metrics/ (the orchestrator's assets bucket)"


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        (f"s3://{BUCKET}/model_card_metrics/churn/metrics.json", True),
        (f"s3://{BUCKET}/pipelines/other-team/spec.json", False),
        (f"s3://{BUCKET}/team-y/report.json", False),
        (f"s3://{BUCKET}/model_card_metrics/churn/mlops-config.json", False),
        (f"s3://{BUCKET}/model_card_metrics/../pipelines/x/spec.json", False),
        (f"s3://{BUCKET}/model_card_metrics//metrics.json", False),
        (f"s3://{BUCKET}/model_card_metrics/metrics.csv", False),
        ("s3://someone-elses-bucket/model_card_metrics/metrics.json", False),
    ],
)
def test_metric_files_are_read_only_under_their_prefix_of_the_assets_bucket(url: str, allowed: bool):
    assert location_problem(url, BUCKET) == (None if allowed else OUTSIDE)


def test_without_the_bucket_only_the_key_is_checked():
    other_bucket = "s3://someone-elses-bucket/model_card_metrics/metrics.json"
    where = "must name a .json file under s3://<assets bucket>/model_card_metrics/ (the orchestrator's assets bucket)"

    assert location_problem(other_bucket, None) is None
    assert location_problem("s3://someone-elses-bucket/pipelines/x/spec.json", None) == where


def test_a_crafted_bias_report_is_a_problem_not_a_crash():
    report = {
        "post_training_bias_metrics": {
            "label": "y",
            "label_value_or_threshold": 1,
            "facets": {"age": [{"value_or_threshold": "4", "metrics": 5}]},
        }
    }
    with pytest.raises(MetricFileProblem, match=r"^every facet value needs value_or_threshold and a list of metrics"):
        metric_groups(report, "clarify_bias")


# -- Clarify explainability (MWO's metric_type clarify_explainability) --------------------------------------


def test_an_explainability_report_becomes_shap_numbers_largest_first_and_a_plot_group_per_feature():
    groups = metric_groups(json.loads((FOLDER / "explainability.json").read_text()), "clarify_explainability")

    assert [group["name"] for group in groups] == [
        "explanations - global_shap_values, label=label0",
        "explanations - pdp, feature=tenure_months",
        "explanations - pdp, feature=contract_type",
    ]
    shap, numerical, categorical = groups
    assert [(m["name"], m["value"]) for m in shap["metric_data"]] == [
        ("tenure_months", 0.1843),
        ("contract_type", -0.1271),
        ("monthly_charges", 0.0917),
        ("support_calls", 0.0462),
    ]
    assert numerical["metric_data"][1] == {
        "name": "model_predictions - feature=tenure_months, label=churn",
        "type": "linear_graph",
        "value": [[1, 0.61], [12, 0.42], [24, 0.3], [48, 0.19], [72, 0.12]],
        "x_axis_name": "tenure_months",
        "y_axis_name": "churn",
    }
    assert categorical["metric_data"][0] == {
        "name": "data_distribution - feature=contract_type",
        "type": "bar_chart",
        "value": [0.55, 0.25, 0.2],
        "x_axis_name": ["month-to-month", "one-year", "two-year"],
        "y_axis_name": "Data distribution",
    }


def test_shap_values_of_a_wide_model_come_in_groups_a_card_holds():
    values = {f"f{i:03d}": i / 1000 for i in range(250)}
    report = {"explanations": {"kernel_shap": {"1": {"global_shap_values": values}}}}

    groups = [MetricGroup.model_validate(g) for g in metric_groups(report, "clarify_explainability")]

    assert [(g.name, len(g.metric_data)) for g in groups] == [
        ("explanations - global_shap_values, label=1 (features 1-100)", 100),
        ("explanations - global_shap_values, label=1 (features 101-200)", 100),
        ("explanations - global_shap_values, label=1 (features 201-250)", 50),
    ]
    assert (groups[0].metric_data[0].name, groups[2].metric_data[-1].name) == ("f249", "f000")


PLOT = {
    "feature_name": "age",
    "data_type": "numerical",
    "feature_values": [1, 2],
    "data_distribution": [0.5, 0.5],
    "label_headers": ["y"],
    "model_predictions": [[0.1, 0.2]],
}
PLOT_PROBLEM = "every pdp plot needs a feature_name, data_type numerical or categorical, non-empty feature_values"
NOT_A_NUMBER = "every global SHAP value must be a finite number"


@pytest.mark.parametrize(
    ("explanations", "problem"),
    [
        (None, "must hold an explanations object"),
        ({}, "holds no SHAP values or partial dependence plots in explanations"),
        ({"kernel_shap": {"y": {"expected_value": 0.3}}}, "holds no SHAP values or partial dependence plots"),
        ({"kernel_shap": ["secret-feature"]}, "must hold kernel_shap as an object of an explanation per label"),
        ({"kernel_shap": {"y": {"global_shap_values": {"a": "high"}}}}, NOT_A_NUMBER),
        ({"kernel_shap": {"y": {"global_shap_values": {"a": True}}}}, NOT_A_NUMBER),
        ({"kernel_shap": {"y": {"global_shap_values": {"a": 10**400}}}}, NOT_A_NUMBER),
        ({"kernel_shap": {"y": {"global_shap_values": {"a": float("nan")}}}}, NOT_A_NUMBER),
        ({"pdp": {"age": PLOT}}, "must hold pdp as a list of plots"),
        ({"pdp": [{**PLOT, "data_type": "ordinal"}]}, PLOT_PROBLEM),
        ({"pdp": [{**PLOT, "data_distribution": [1.0]}]}, PLOT_PROBLEM),
        ({"pdp": [{**PLOT, "model_predictions": [[0.1]]}]}, PLOT_PROBLEM),
        ({"pdp": [{**PLOT, "label_headers": ["y", "z"]}]}, PLOT_PROBLEM),
        ({"pdp": [{**PLOT, "feature_values": None}]}, PLOT_PROBLEM),
        ({"pdp": [{k: v for k, v in PLOT.items() if k != "feature_name"}]}, PLOT_PROBLEM),
        # What a card's graphs would not take, refused on the file rather than by SageMaker later.
        ({"pdp": [{**PLOT, "model_predictions": [[[1, 2], [3, 4]]]}]}, PLOT_PROBLEM),
        ({"pdp": [{**PLOT, "model_predictions": [["secret-feature", None]]}]}, PLOT_PROBLEM),
        ({"pdp": [{**PLOT, "data_distribution": [True, {"secret-feature": 1}]}]}, PLOT_PROBLEM),
        ({"pdp": [{**PLOT, "feature_values": [{"a": 1}, {"b": 2}]}]}, PLOT_PROBLEM),
        ({"pdp": [{**PLOT, "feature_values": [], "data_distribution": [], "model_predictions": [[]]}]}, PLOT_PROBLEM),
        ({"pdp": [{**PLOT, "feature_name": {"a": [1, 2]}}]}, PLOT_PROBLEM),
        ({"pdp": [{**PLOT, "label_headers": [None]}]}, PLOT_PROBLEM),
    ],
)
def test_a_crafted_explainability_report_is_a_problem_naming_no_content(explanations: object, problem: str):
    with pytest.raises(MetricFileProblem) as raised:
        metric_groups({"explanations": explanations}, "clarify_explainability")

    assert str(raised.value).startswith(problem)
    assert str(raised.value).endswith("(metric_type clarify_explainability)")
    assert "secret-feature" not in str(raised.value) and "high" not in str(raised.value)


def test_a_plot_of_more_than_99_labels_comes_in_groups_a_card_holds():
    labels = [f"class-{i}" for i in range(150)]
    plot = {**PLOT, "label_headers": labels, "model_predictions": [[0.1, 0.2]] * 150}

    groups = [
        MetricGroup.model_validate(g)
        for g in metric_groups({"explanations": {"pdp": [plot]}}, "clarify_explainability")
    ]

    assert [(g.name, len(g.metric_data)) for g in groups] == [
        ("explanations - pdp, feature=age (series 1-100)", 100),
        ("explanations - pdp, feature=age (series 101-151)", 51),
    ]


def test_a_report_whose_groups_no_card_could_hold_is_refused_before_they_are_written_out():
    # Under 1 MB of file: 800 long categories, repeated as the x axis of 100 series, would be ~80 MB of card.
    categories = [f"{i:04d}" + "x" * 996 for i in range(800)]
    plot = {
        "feature_name": "segment",
        "data_type": "categorical",
        "feature_values": categories,
        "data_distribution": [0] * 800,
        "label_headers": [str(i) for i in range(99)],
        "model_predictions": [[0] * 800] * 99,
    }

    with pytest.raises(MetricFileProblem, match=r"^adds more than 100000 characters of metric groups"):
        metric_groups({"explanations": {"pdp": [plot]}}, "clarify_explainability")


def test_numbers_are_names_too_labels_0_and_1():
    plot = {**PLOT, "data_type": "categorical", "feature_values": [0, 1], "label_headers": [1]}

    [group] = metric_groups({"explanations": {"pdp": [plot]}}, "clarify_explainability")

    assert group["metric_data"][1]["name"] == "model_predictions - feature=age, label=1"
    assert group["metric_data"][1]["x_axis_name"] == ["0", "1"]


def test_a_text_features_top_tokens_become_a_group_per_feature():
    report = {"kernel_shap": {"1": {"global_top_shap_text": {"review": {"refund": -0.4, "great": 0.7}}}}}

    [group] = metric_groups({"explanations": report}, "clarify_explainability")

    assert group == {
        "name": "explanations - global_top_shap_text, label=1, feature=review",
        "metric_data": [
            {"name": "great", "type": "number", "value": 0.7},
            {"name": "refund", "type": "number", "value": -0.4},
        ],
    }
    with pytest.raises(MetricFileProblem, match=r"^every global SHAP value must be a finite number"):
        metric_groups(
            {"explanations": {"kernel_shap": {"1": {"global_top_shap_text": {"r": [1]}}}}}, "clarify_explainability"
        )


# -- files whose groups would outgrow a card: refused while read, before they are built (review) ---------
LONG = "n" * 100_000
WIDE_PLOT = {
    "feature_name": LONG,
    "data_type": "categorical",
    "feature_values": ["a"],
    "data_distribution": [1],
    "label_headers": [i % 10 for i in range(20_000)],
    "model_predictions": [[1]] * 20_000,
}


def _refused_within(document: dict, metric_type: str, megabytes: int) -> str:
    def refused() -> str:
        with pytest.raises(MetricFileProblem) as raised:
            metric_groups(document, metric_type)
        return str(raised.value)

    problem, peak = peak_bytes(refused)
    assert peak < megabytes * 1024 * 1024, f"peak {peak / 1e6:.0f} MB"
    assert "n" * 300 not in problem  # nothing of the file is quoted
    return problem


@pytest.mark.parametrize(
    ("document", "metric_type", "problem"),
    [
        # A long feature name copied into 20,001 series names (2 GB before this was bounded).
        (
            {"explanations": {"pdp": [WIDE_PLOT]}},
            "clarify_explainability",
            "adds more than 50 metric groups",
        ),
        # A long label copied into every group of 74,983 text features.
        (
            {"explanations": {"kernel_shap": {LONG: {"global_top_shap_text": {str(i): {} for i in range(74_983)}}}}},
            "clarify_explainability",
            "every label must be a text or a number of at most 255 characters",
        ),
        (
            {"pre_training_bias_metrics": {"label": LONG, "label_value_or_threshold": 1,
              "facets": {"f": [{"value_or_threshold": 0, "metrics": []}] * 22_492}}},
            "clarify_bias",
            "every label must be a text or a number of at most 255 characters",
        ),
        (
            {"pre_training_bias_metrics": {"label": "y", "label_value_or_threshold": 1,
              "facets": {"f": [{"value_or_threshold": 0, "metrics": []}] * 22_492}}},
            "clarify_bias",
            "adds more than 50 metric groups",
        ),
        # Rows times columns: 10,000 labels by the first row's 10,000.
        (
            {"binary_classification_metrics": {"confusion_matrix": {"0": {str(i): 1 for i in range(10_000)},
              **{str(i): {} for i in range(1, 10_000)}}}},
            "binary_classification",
            "adds more than 100000 characters of metric groups",
        ),
    ],
    ids=["pdp-series", "shap-label", "bias-label", "bias-groups", "confusion-matrix"],
)  # fmt: skip
def test_a_file_whose_groups_would_outgrow_a_card_is_refused_before_they_are_built(
    document: dict, metric_type: str, problem: str
):
    assert _refused_within(document, metric_type, megabytes=64).startswith(problem)


def test_the_size_of_groups_is_counted_as_the_card_writes_them():
    # 96,490 characters of numbers: within a card (an estimate counting each number as longer refused it).
    line = {"name": "l", "type": "linear_graph", "value": [[1, 2]] * 1600}
    accepted = {"metric_groups": [{"name": "g", "metric_data": [line] * 10}]}
    assert len(json.dumps(accepted["metric_groups"], separators=(",", ":"))) < 100_000
    assert metric_groups(accepted, "model_card_metric_schema") == accepted["metric_groups"]
    # 90,000 characters that JSON escapes to twelve each: far beyond a card.
    escaped = {
        "metric_groups": [{"name": "g", "metric_data": [{"name": "s", "type": "string", "value": "😀" * 90_000}]}]
    }
    with pytest.raises(MetricFileProblem, match=r"^adds more than 100000 characters"):
        metric_groups(escaped, "model_card_metric_schema")


def test_confusion_matrix_counts_must_be_numbers():
    report = {"binary_classification_metrics": {"confusion_matrix": {"0": {"0": "hunter2"}}}}

    with pytest.raises(MetricFileProblem) as raised:
        metric_groups(report, "binary_classification")

    assert str(raised.value).startswith("binary_classification_metrics.confusion_matrix must map each label")
    assert "hunter2" not in str(raised.value)
