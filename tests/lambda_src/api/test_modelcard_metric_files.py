"""MWO's metric_file_s3_url: the metrics JSON is read from S3 (moto) when a card is created or updated, checked,
and its groups added to the evaluation job; a file that cannot be read or is invalid is a 400 naming the field,
and nothing is written."""

from __future__ import annotations

import json

import pytest
from botocore.stub import Stubber

from lambda_src.common import aws
from mlops_spec.metric_files import UNREADABLE
from tests.support.api_gateway import api_event, call
from tests.support.moto_orchestrator import BUCKET

FIELD = "evaluation_details[0].metric_file_s3_url"
OUTSIDE = f"must name a .json file under s3://{BUCKET}/model_card_metrics/ (the orchestrator's assets bucket)"
INLINE = {"name": "inline", "metric_data": [{"name": "auc", "type": "number", "value": 0.9}]}
SCHEMA_FILE = {"metric_groups": [{"name": "holdout", "metric_data": [{"name": "f1", "type": "number", "value": 0.8}]}]}
BINARY_REPORT = {
    "binary_classification_metrics": {
        "accuracy": {"value": 0.93, "standard_deviation": 0.01},
        "confusion_matrix": {"0": {"0": 50, "1": 3}, "1": {"0": 4, "1": 43}},
        "receiver_operating_characteristic_curve": {"false_positive_rates": [0, 1], "true_positive_rates": [0, 1]},
    }
}
BIAS_REPORT = {
    "pre_training_bias_metrics": {
        "label": "churn",
        "label_value_or_threshold": "1",
        "facets": {"age": [{"value_or_threshold": "40", "metrics": [{"name": "CI", "value": 0.2}]}]},
    }
}

SHAP_VALUES = {"charges": 0.2, "tenure": -0.3}
EXPLAINABILITY_REPORT = {"explanations": {"kernel_shap": {"churn": {"global_shap_values": SHAP_VALUES}}}}


def put(key: str, document: object) -> str:
    body = document if isinstance(document, str) else json.dumps(document)
    aws.client("s3").put_object(Bucket=BUCKET, Key=key, Body=body)
    return f"s3://{BUCKET}/{key}"


def card(url: str, metric_type: str, groups: list | None = None) -> dict:
    job = {"name": "holdout", "metric_file_s3_url": url, "metric_type": metric_type}
    if groups is not None:
        job["metric_groups"] = groups
    return {"name": "churn-card", "evaluation_details": [job]}


def create(body: dict):  # type: ignore[no-untyped-def]
    return call(api_event("POST", "/modelcards", body))


def stored_evaluation() -> list:
    content = aws.client("sagemaker").describe_model_card(ModelCardName="churn-card")["Content"]
    return json.loads(content)["evaluation_details"]


def test_a_schema_file_is_added_after_the_inline_groups_and_not_sent_as_a_key(orchestrator):
    response = create(card(put("model_card_metrics/metrics.json", SCHEMA_FILE), "model_card_metric_schema", [INLINE]))

    assert response.status == 201, response.body
    assert stored_evaluation() == [{"name": "holdout", "metric_groups": [INLINE, *SCHEMA_FILE["metric_groups"]]}]


def test_a_model_quality_report_becomes_numbers_and_a_confusion_matrix(orchestrator):
    response = create(card(put("model_card_metrics/quality.json", BINARY_REPORT), "binary_classification"))

    assert response.status == 201, response.body
    [group] = stored_evaluation()[0]["metric_groups"]
    assert group == {
        "name": "binary_classification_metrics",
        "metric_data": [
            {"name": "accuracy", "type": "number", "value": 0.93},
            {"name": "accuracy - standard_deviation", "type": "number", "value": 0.01},
            {
                "name": "confusion_matrix",
                "type": "matrix",
                "value": [[50, 3], [4, 43]],
                "x_axis_name": ["0", "1"],
                "y_axis_name": ["0", "1"],
            },
        ],
    }


def test_a_clarify_bias_report_becomes_one_group_per_facet_value(orchestrator):
    response = create(card(put("model_card_metrics/bias.json", BIAS_REPORT), "clarify_bias"))

    assert response.status == 201, response.body
    assert stored_evaluation()[0]["metric_groups"] == [
        {
            "name": "pre_training_bias_metrics - label churn = 1 and facet age=40",
            "metric_data": [{"name": "CI", "type": "number", "value": 0.2}],
        }
    ]


def test_an_update_reads_the_file_and_keeps_the_other_sections(orchestrator):
    assert create({"name": "churn-card", "intended_uses": {"risk_rating": "Low"}}).status == 201
    url = put("model_card_metrics/metrics.json", SCHEMA_FILE)

    body = {"evaluation_details": card(url, "model_card_metric_schema")["evaluation_details"]}
    response = call(api_event("PUT", "/modelcards/churn-card", body))

    assert response.status == 200, response.body
    assert response.body["content"]["intended_uses"] == {"risk_rating": "Low"}
    assert response.body["content"]["evaluation_details"][0]["metric_groups"] == SCHEMA_FILE["metric_groups"]


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ("[1, 2]", UNREADABLE),
        ("{not json", UNREADABLE),
        ({"groups": []}, 'must hold {"metric_groups": [...]} (metric_type model_card_metric_schema)'),
        (
            {"metric_groups": [{"name": "g", "metric_data": [{"name": "m", "type": "number", "value": "high"}]}]},
            "its metric_groups[0].metric_data[0].value must be a number value for a metric of type number",
        ),
    ],
)
def test_an_invalid_file_is_a_400_naming_the_field_and_nothing_is_written(orchestrator, document, problem):
    url = put("model_card_metrics/bad.json", document)
    with Stubber(aws.client("sagemaker")) as stub:  # no responses queued: any SageMaker call would fail
        response = create(card(url, "model_card_metric_schema"))
        stub.assert_no_pending_responses()

    assert (response.status, response.body["errors"]) == (400, [{"field": FIELD, "problem": problem}])


def test_a_missing_file_or_another_bucket_is_a_400_and_nothing_is_written(orchestrator):
    with Stubber(aws.client("sagemaker")) as stub:
        missing = create(card(f"s3://{BUCKET}/model_card_metrics/absent.json", "regression"))
        elsewhere = create(card("s3://someone-elses-bucket/metrics.json", "regression"))
        stub.assert_no_pending_responses()

    assert (missing.status, missing.body["errors"]) == (400, [{"field": FIELD, "problem": UNREADABLE}])
    assert (elsewhere.status, elsewhere.body["errors"]) == (400, [{"field": FIELD, "problem": OUTSIDE}])


def test_a_file_over_the_size_limit_is_refused(orchestrator, monkeypatch):
    monkeypatch.setattr("mlops_spec.metric_files.MAX_METRIC_FILE_BYTES", 100)
    url = put("model_card_metrics/big.json", {"metric_groups": [], "padding": "x" * 200})

    response = create(card(url, "model_card_metric_schema"))

    assert (response.status, response.body["errors"]) == (
        400,
        [{"field": FIELD, "problem": "is larger than 100 bytes"}],
    )


def test_a_dry_run_reads_and_checks_the_file_without_calling_sagemaker(orchestrator):
    url = put(
        "model_card_metrics/quality.json", {"regression_metrics": {"mse": {"value": 0.4, "standard_deviation": None}}}
    )
    body = {"pipeline_type": "create_model_card", **card(url, "regression")}
    with Stubber(aws.client("sagemaker")) as stub:
        good = call(api_event("POST", "/provisionpipeline", body, query={"dry_run": "true"}))
        body["evaluation_details"][0]["metric_type"] = "binary_classification"
        bad = call(api_event("POST", "/provisionpipeline", body, query={"dry_run": "true"}))
        stub.assert_no_pending_responses()

    assert good.status == 200, good.body
    assert (bad.status, bad.body["errors"]) == (
        400,
        [{"field": FIELD, "problem": "must hold a binary_classification_metrics object"}],
    )


def test_an_explainability_report_is_read_into_shap_and_plot_groups(orchestrator):
    url = put("model_card_metrics/shap.json", EXPLAINABILITY_REPORT)

    response = create(card(url, "clarify_explainability"))

    assert response.status == 201, response.body
    assert stored_evaluation()[0]["metric_groups"] == [
        {
            "name": "explanations - global_shap_values, label=churn",
            "metric_data": [
                {"name": "tenure", "type": "number", "value": -0.3},
                {"name": "charges", "type": "number", "value": 0.2},
            ],
        }
    ]


def test_a_malformed_explainability_report_is_400_on_the_file_and_creates_no_card(orchestrator):
    url = put("model_card_metrics/shap.json", {"explanations": {"kernel_shap": {"churn": {"global_shap_values": 1}}}})

    response = create(card(url, "clarify_explainability"))

    assert (response.status, response.body["errors"]) == (
        400,
        [
            {
                "field": FIELD,
                "problem": "every global SHAP value must be a finite number (metric_type clarify_explainability)",
            }
        ],
    )
    assert aws.client("sagemaker").list_model_cards()["ModelCardSummaries"] == []


def test_a_file_named_by_many_jobs_is_read_and_converted_once(orchestrator, monkeypatch):
    from mlops_spec import metric_files

    url = put("model_card_metrics/shap.json", EXPLAINABILITY_REPORT)
    reads, conversions = [], []
    events = aws.client("s3").meta.events
    events.register("before-call.s3.GetObject", lambda **kw: reads.append(kw["params"]["url_path"]))
    original = metric_files.metric_groups
    monkeypatch.setattr(metric_files, "metric_groups", lambda *a: conversions.append(a[1]) or original(*a))
    jobs = [{"name": f"job-{i}", "metric_file_s3_url": url, "metric_type": "clarify_explainability"} for i in range(3)]
    try:
        response = create({"name": "churn-card", "evaluation_details": jobs})
    finally:
        events.unregister("before-call.s3.GetObject")

    assert response.status == 201, response.body
    assert (len(reads), conversions) == (1, ["clarify_explainability"])
    assert [len(job["metric_groups"]) for job in stored_evaluation()] == [1, 1, 1]


def test_a_dry_run_refuses_a_card_too_large_as_the_real_create_would(orchestrator):
    body = {
        "pipeline_type": "create_model_card",
        "name": "churn-card",
        "additional_information": {"custom_details": {f"k{i}": "x" * 1000 for i in range(120)}},
    }

    response = call(api_event("POST", "/provisionpipeline", body, query={"dry_run": "true"}))

    assert (response.status, response.body["errors"]) == (
        413,
        [{"field": "(body)", "problem": "must be at most 100000"}],
    )


def test_an_unknown_key_holding_dots_is_named_by_its_place_not_its_text(orchestrator):
    group = {"name": "g", "metric_data": [{"name": "f1", "type": "number", "value": 1, "top.secret.key": 1}]}
    url = put("model_card_metrics/metrics.json", {"metric_groups": [group]})

    response = create(card(url, "model_card_metric_schema"))

    assert (response.status, response.body["errors"]) == (
        400,
        [{"field": FIELD, "problem": "its metric_groups[0].metric_data[0] holds a key that is not a known field"}],
    )


def test_the_metric_files_of_one_request_are_bounded_in_all_and_nothing_is_created(orchestrator):
    # Each file under the 1 MB limit, padded with members the format ignores; four are over 3 MB in all.
    padded = {**SCHEMA_FILE, "pad": ["x" * 1000] * 850}
    urls = [put(f"model_card_metrics/padded-{i}.json", padded) for i in range(4)]
    jobs = [
        {"name": f"job-{i}", "metric_file_s3_url": url, "metric_type": "model_card_metric_schema"}
        for i, url in enumerate(urls)
    ]

    response = create({"name": "churn-card", "evaluation_details": jobs})

    assert (response.status, response.body["errors"]) == (
        400,
        [
            {
                "field": "evaluation_details[3].metric_file_s3_url",
                "problem": "is larger than the 3000000 bytes the metric files of one request hold in all",
            }
        ],
    )
    assert aws.client("sagemaker").list_model_cards()["ModelCardSummaries"] == []
