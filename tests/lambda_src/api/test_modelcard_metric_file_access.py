"""Review of metric_file_s3_url (issue 12, H1/M1): the API reads metric files only under model_card_metrics/ of
the assets bucket, never repeats a file's keys or values, answers every read failure with one message (no
existence oracle), and turns crafted files and unusual S3 errors into the field's 400, never a 500; nothing
is written to SageMaker in any of these cases."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from lambda_src.common import aws
from mlops_spec.metric_files import UNREADABLE
from tests.support.api_gateway import api_event, call
from tests.support.moto_orchestrator import BUCKET

FIELD = "evaluation_details[0].metric_file_s3_url"
OUTSIDE = f"must name a .json file under s3://{BUCKET}/model_card_metrics/ (the orchestrator's assets bucket)"


def put(key: str, document: object) -> str:
    body = document if isinstance(document, str) else json.dumps(document)
    aws.client("s3").put_object(Bucket=BUCKET, Key=key, Body=body)
    return f"s3://{BUCKET}/{key}"


def card(url: str, metric_type: str) -> dict:
    return {
        "name": "evil-card",
        "evaluation_details": [{"name": "j", "metric_file_s3_url": url, "metric_type": metric_type}],
    }


def refused(body: dict, dry_run: bool = False):  # type: ignore[no-untyped-def]
    """The answer to creating the card (or its dry run), asserting SageMaker was never called."""
    with Stubber(aws.client("sagemaker")) as stub:  # no responses queued: any SageMaker call would fail
        if dry_run:
            event = api_event(
                "POST", "/provisionpipeline", {"pipeline_type": "create_model_card", **body}, query={"dry_run": "true"}
            )
        else:
            event = api_event("POST", "/modelcards", body)
        response = call(event)
        stub.assert_no_pending_responses()
    return response


def test_another_pipelines_stored_request_is_not_read_nor_its_keys_echoed(orchestrator):
    url = put("pipelines/other-team/spec.json", {"secret_project": {"owner": "team-x"}, "pipeline_type": "byom"})

    response = refused(card(url, "clarify_bias"), dry_run=True)

    assert (response.status, response.body["errors"]) == (400, [{"field": FIELD, "problem": OUTSIDE}])
    assert "secret_project" not in json.dumps(response.body)


@pytest.mark.parametrize(
    "key",
    [
        "team-y/private/eval/report.json",  # any other prefix of the bucket
        "model_card_metrics/team-y/mlops-config.json",  # an upload there is a pipeline request
        "model_card_metrics/../pipelines/x/spec.json",
        "model_card_metrics/report.txt",
    ],
)
def test_a_file_outside_the_metric_files_prefix_is_refused_before_it_is_read(orchestrator, key):
    url = put(key, {"regression_metrics": {"mse": {"value": 12.5}, "private_kpi": {"value": 99}}})

    response = refused(card(url, "regression"))

    assert (response.status, response.body["errors"]) == (400, [{"field": FIELD, "problem": OUTSIDE}])
    assert "private_kpi" not in json.dumps(response.body)


def test_a_missing_file_and_a_file_that_is_not_json_read_the_same(orchestrator):
    not_json = refused(card(put("model_card_metrics/x.json", "not json"), "regression"))
    missing = refused(card(f"s3://{BUCKET}/model_card_metrics/missing.json", "regression"))

    assert (not_json.status, not_json.body) == (missing.status, missing.body)
    assert missing.body["errors"] == [{"field": FIELD, "problem": UNREADABLE}]


@pytest.mark.parametrize(
    ("code", "status"),
    [("InvalidObjectState", 403), ("InvalidRequest", 400), ("KMS.DisabledException", 400), ("AccessDenied", 403)],
)
def test_any_s3_refusal_is_the_fields_400(orchestrator, monkeypatch, code, status):
    def refuse(**_: object) -> None:
        error = {"Error": {"Code": code, "Message": "x"}, "ResponseMetadata": {"HTTPStatusCode": status}}
        raise ClientError(error, "GetObject")  # type: ignore[arg-type]

    monkeypatch.setattr(aws.client("s3"), "get_object", refuse)

    response = refused(card(f"s3://{BUCKET}/model_card_metrics/a.json", "regression"))

    assert (response.status, response.body["errors"]) == (400, [{"field": FIELD, "problem": UNREADABLE}])


def test_s3_throttling_stays_a_429_to_send_again(orchestrator, monkeypatch):
    def throttle(**_: object) -> None:
        error = {"Error": {"Code": "SlowDown", "Message": "x"}, "ResponseMetadata": {"HTTPStatusCode": 503}}
        raise ClientError(error, "GetObject")  # type: ignore[arg-type]

    monkeypatch.setattr(aws.client("s3"), "get_object", throttle)

    assert refused(card(f"s3://{BUCKET}/model_card_metrics/a.json", "regression")).status == 429


@pytest.mark.parametrize(
    ("facets", "problem"),
    [
        (
            {"age": [{"value_or_threshold": "40", "metrics": 5}]},
            "every facet value needs value_or_threshold and a list of metrics (metric_type clarify_bias)",
        ),
        ({"age": "40"}, "every facet must hold a list of values (metric_type clarify_bias)"),
        (
            {"age": [{"value_or_threshold": "40", "metrics": [7]}]},
            "every metric needs a name and a value (metric_type clarify_bias)",
        ),
    ],
)
def test_a_crafted_bias_report_is_the_fields_400(orchestrator, facets, problem):
    report = {"pre_training_bias_metrics": {"label": "y", "label_value_or_threshold": "1", "facets": facets}}

    response = refused(card(put("model_card_metrics/b.json", report), "clarify_bias"))

    assert (response.status, response.body["errors"]) == (400, [{"field": FIELD, "problem": problem}])


def test_a_report_without_bias_sections_names_none_of_its_keys(orchestrator):
    url = put("model_card_metrics/b.json", {"secret_project": {"owner": "team-x"}})

    response = refused(card(url, "clarify_bias"))

    problem = (
        "holds no bias metrics in pre_training_bias_metrics or post_training_bias_metrics (metric_type clarify_bias)"
    )
    assert (response.status, response.body["errors"]) == (400, [{"field": FIELD, "problem": problem}])


def test_an_unknown_key_of_a_files_metric_group_is_not_named(orchestrator):
    document = {"metric_groups": [{"name": "g", "metric_data": [], "secret_kpi": 1}]}

    response = refused(card(put("model_card_metrics/s.json", document), "model_card_metric_schema"))

    problem = "its metric_groups[0] holds a key that is not a known field"
    assert (response.status, response.body["errors"]) == (400, [{"field": FIELD, "problem": problem}])
