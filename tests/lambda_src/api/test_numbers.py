"""Numbers a double cannot hold (`1e400`): refused at decode time with a field error, nothing written.

Python reads `1e400` as infinity; stored, it would become `null` (or `Infinity`, which is not JSON)
and the provisioner would fail much later. NaN and Infinity literals are not JSON at all.
"""

from __future__ import annotations

import pytest

from lambda_src.common.untrusted_json import NOT_FINITE
from tests.support.api_gateway import api_event, call
from tests.support.examples import EXAMPLES

TRAINING = (EXAMPLES / "model_training_builtin.json").read_text()


def training_with_eta(number: str) -> str:
    """examples/model_training_builtin.json as written, with `eta` spelled `number`."""
    assert '"eta": 0.2' in TRAINING
    return TRAINING.replace('"eta": 0.2', f'"eta": {number}')


def assert_nothing_written(orchestrator) -> None:  # type: ignore[no-untyped-def]
    assert orchestrator.items() == []
    assert orchestrator.object_keys() == []
    assert orchestrator.invocations.calls == []


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1.5e309", "2e308"])
def test_a_training_request_with_an_overflowing_hyperparameter_is_400_naming_it(orchestrator, number):
    response = call(api_event("POST", "/provisionpipeline", raw_body=training_with_eta(number)))

    assert response.status == 400, response.body
    assert response.body["errors"] == [{"field": "algo_hyperparamaters.eta", "problem": NOT_FINITE}]
    assert_nothing_written(orchestrator)


def test_a_dry_run_refuses_it_too(orchestrator):
    event = api_event("POST", "/provisionpipeline", raw_body=training_with_eta("1e400"), query={"dry_run": "true"})
    response = call(event)
    assert response.status == 400
    assert response.body["errors"][0]["field"] == "algo_hyperparamaters.eta"
    assert_nothing_written(orchestrator)


def test_every_overflowing_number_is_named_with_its_path(orchestrator):
    body = (
        '{"pipeline_type": "byom_realtime_builtin", "model_name": "churn-xgb", "inference_instance": "ml.m5.large",'
        ' "model_framework": "xgboost", "model_framework_version": "1.7-1",'
        ' "model_artifact_location": "models/m.tar.gz", "data_capture_location": "capture/x",'
        ' "data_capture_percentage": 1e999, "deployment": {"canary_percentage": [1, -2e308]}}'
    )
    response = call(api_event("POST", "/provisionpipeline", raw_body=body))
    assert response.status == 400
    assert response.body["errors"] == [
        {"field": "data_capture_percentage", "problem": NOT_FINITE},
        {"field": "deployment.canary_percentage[1]", "problem": NOT_FINITE},
    ]
    assert_nothing_written(orchestrator)


@pytest.mark.parametrize("number", ["1.7976931348623157e308", "-1.7976931348623157e308", "1e-400"])
def test_the_largest_finite_double_and_tiny_numbers_pass(orchestrator, number):
    # The largest double is finite; 1e-400 underflows to 0.0, which is a number like any other.
    response = call(api_event("POST", "/provisionpipeline", raw_body=training_with_eta(number)))
    assert response.status == 202, response.body
    assert orchestrator.item("churn-xgb-training")["status"] == {"S": "QUEUED"}


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals_are_not_json(orchestrator, literal):
    response = call(api_event("POST", "/provisionpipeline", raw_body=training_with_eta(literal)))
    assert response.status == 400
    assert response.body["errors"][0]["field"] == "(body)"
    assert "is not valid JSON" in response.body["errors"][0]["problem"]
    assert_nothing_written(orchestrator)


def test_a_top_level_overflowing_number_is_a_body_error(orchestrator):
    response = call(api_event("POST", "/pipelinestatus", raw_body="1e400"))
    assert response.status == 400
    assert response.body["errors"] == [{"field": "(body)", "problem": NOT_FINITE}]


def test_model_card_bodies_are_checked_before_sagemaker_is_called(orchestrator):
    body = (
        '{"name": "churn-card", "training_details": {"training_job_details":'
        ' {"training_metrics": [{"name": "auc", "value": 1e400}]}}}'
    )
    response = call(api_event("POST", "/modelcards", raw_body=body))
    assert response.status == 400
    assert response.body["errors"] == [
        {"field": "training_details.training_job_details.training_metrics[0].value", "problem": NOT_FINITE}
    ]
    listed = call(api_event("GET", "/modelcards"))
    assert listed.body["model_cards"] == []


def test_an_approval_comment_body_with_an_overflowing_number_is_400(orchestrator):
    response = call(api_event("POST", "/pipelines/x/approval", raw_body='{"decision": "approve", "stage": 1e400}'))
    assert response.status == 400
    assert response.body["errors"] == [{"field": "stage", "problem": NOT_FINITE}]
