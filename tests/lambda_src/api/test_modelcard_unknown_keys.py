"""Compatibility mode for model cards (issue 12): keys a card does not know, at any depth, are ignored and answered
as warnings (MWO dropped them), with the closest known field; ?strict=true or mlops:strictRequests refuses them."""

from __future__ import annotations

import json

from botocore.stub import Stubber

from lambda_src.common import aws
from tests.support.api_gateway import api_event, call

CARD = {
    "name": "churn-card",
    "team": "retention",
    "intended_uses": {"risk_ratng": "Low", "purpose_of_model": "offers"},
    "evaluation_details": [
        {"name": "e", "metric_groups": [{"name": "g", "colour": "red", "metric_data": []}]},
    ],
}
WARNINGS = [
    {"field": "team", "problem": "is not a known field; ignored"},
    {"field": "intended_uses.risk_ratng", "problem": "is not a known field; ignored (did you mean risk_rating?)"},
    {"field": "evaluation_details[0].metric_groups[0].colour", "problem": "is not a known field; ignored"},
]


def test_unknown_keys_are_left_out_of_the_card_and_answered_as_warnings(orchestrator):
    response = call(api_event("POST", "/modelcards", CARD))

    assert response.status == 201, response.body
    assert response.body["warnings"] == WARNINGS
    content = json.loads(aws.client("sagemaker").describe_model_card(ModelCardName="churn-card")["Content"])
    assert content == {
        "intended_uses": {"purpose_of_model": "offers"},
        "evaluation_details": [{"name": "e", "metric_groups": [{"name": "g", "metric_data": []}]}],
    }


def test_the_mwo_form_and_its_dry_run_answer_the_same_warnings(orchestrator):
    body = {"pipeline_type": "create_model_card", **CARD}

    dry = call(api_event("POST", "/provisionpipeline", body, query={"dry_run": "true"}))

    assert (dry.status, dry.body["warnings"]) == (200, WARNINGS)
    assert "team" not in dry.body["request"]


def test_strict_refuses_them_and_calls_nothing(orchestrator, monkeypatch):
    body = {"pipeline_type": "create_model_card", **CARD}
    with Stubber(aws.client("sagemaker")) as stub:  # no responses queued: any SageMaker call would fail
        queried = call(api_event("POST", "/provisionpipeline", body, query={"strict": "true"}))
        monkeypatch.setenv("MLOPS_STRICT_REQUESTS", "true")
        installed = call(api_event("POST", "/modelcards", CARD))
        stub.assert_no_pending_responses()

    for response in (queried, installed):
        assert response.status == 400, response.body
        assert sorted(e["field"] for e in response.body["errors"]) == sorted(w["field"] for w in WARNINGS)


def test_an_invalid_card_names_its_errors_and_the_keys_it_would_have_ignored(orchestrator):
    response = call(api_event("POST", "/modelcards", {**CARD, "status": "Done"}))

    assert response.status == 400
    assert [e["field"] for e in response.body["errors"]] == ["status"]
    assert response.body["warnings"] == WARNINGS


def test_strict_true_on_the_card_routes_refuses_them_and_writes_nothing(orchestrator):
    assert call(api_event("POST", "/modelcards", {"name": "churn-card"})).status == 201
    body = {key: value for key, value in CARD.items() if key != "name"}
    strict = {"strict": "true"}
    with Stubber(aws.client("sagemaker")) as stub:  # no responses queued: any SageMaker call would fail
        created = call(api_event("POST", "/modelcards", CARD, query=strict))
        updated = call(api_event("PUT", "/modelcards/churn-card", body, query=strict))
        exported = call(api_event("POST", "/modelcards/churn-card/export", {"colour": "red"}, query=strict))
        stub.assert_no_pending_responses()

    for response in (created, updated):
        assert response.status == 400, response.body
        assert sorted(e["field"] for e in response.body["errors"]) == sorted(w["field"] for w in WARNINGS)
    assert (exported.status, exported.body["errors"]) == (400, [{"field": "colour", "problem": "is not a known field"}])


def test_thousands_of_unknown_keys_answer_the_first_fifty_and_a_count(orchestrator):
    card = {"name": "churn-card", "model_overview": {f"k{i}": i for i in range(1000)}}

    response = call(
        api_event(
            "POST", "/provisionpipeline", {"pipeline_type": "create_model_card", **card}, query={"dry_run": "true"}
        )
    )

    assert response.status == 200, response.body
    assert len(response.body["warnings"]) == 51
    assert response.body["warnings"][49]["field"] == "model_overview.k49"
    assert response.body["warnings"][50] == {"field": "(body)", "problem": "... and 950 more unknown keys; ignored"}
