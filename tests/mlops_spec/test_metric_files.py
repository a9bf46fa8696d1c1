"""The metric files of examples/model_cards/metric_files/ become metric groups a card accepts
(mlops_spec/metric_files.py)."""

from __future__ import annotations

import json

import pytest

from mlops_spec.metric_files import MetricFileProblem, location_problem, metric_groups, s3_location
from mlops_spec.modelcards import MetricGroup, UpdateModelCard
from tests.support.examples import EXAMPLES

pytestmark = pytest.mark.fast
FOLDER = EXAMPLES / "model_cards" / "metric_files"


def test_the_example_update_names_each_file_with_its_type():
    body = json.loads((FOLDER / "update_model_card.json").read_text())
    request = UpdateModelCard.model_validate({k: v for k, v in body.items() if k != "pipeline_type"})

    jobs = request.evaluation_details or []
    assert [(s3_location(str(j.metric_file_s3_url))[1], j.metric_type) for j in jobs] == [  # type: ignore[index]
        ("model_card_metrics/churn-xgb/model_quality.json", "binary_classification"),
        ("model_card_metrics/churn-xgb/metrics.json", "model_card_metric_schema"),
    ]
    assert "metric_file_s3_url" not in request.content()["evaluation_details"][0]


@pytest.mark.parametrize(
    ("name", "kind", "metrics"),
    [("model_quality.json", "binary_classification", 7), ("metrics.json", "model_card_metric_schema", 3)],
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
    report = {"post_training_bias_metrics": {"facets": {"age": [{"value_or_threshold": "4", "metrics": 5}]}}}
    with pytest.raises(MetricFileProblem, match=r"^every facet value needs value_or_threshold and a list of metrics"):
        metric_groups(report, "clarify_bias")
