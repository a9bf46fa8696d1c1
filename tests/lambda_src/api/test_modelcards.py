"""Model cards: REST routes and MWO-style operations on /provisionpipeline, against moto's SageMaker."""

from __future__ import annotations

import json

import pytest
from botocore.stub import Stubber

from lambda_src.common import aws
from mlops_spec.modelcards import CreateModelCard, UpdateModelCard
from tests.support.api_gateway import api_event, call
from tests.support.moto_orchestrator import BUCKET

CARD_BODY = {
    "name": "churn-card",
    "status": "PendingReview",
    "model_overview": {
        "model_description": "Predicts churn",
        "model_owner": "retention-team",
        "problem_type": "Binary Classification",
        "model_artifact": ["s3://bucket/model.tar.gz"],
        "inference_environment": ["123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1"],
    },
    "intended_uses": {"purpose_of_model": "retention offers", "risk_rating": "Medium"},
    "training_details": {
        "objective_function": {"function": "Maximize", "facet": "AUC", "notes": "validation AUC"},
        "training_job_details": {"training_metrics": [{"name": "auc", "value": 0.91}]},
    },
    "evaluation_details": [
        {
            "name": "holdout",
            "metric_groups": [{"name": "quality", "metric_data": [{"name": "auc", "type": "number", "value": 0.9}]}],
        }
    ],
    "additional_information": {"caveats_and_recommendations": "retrain monthly", "custom_details": {"jira": "ML-1"}},
}


def card_call(method: str, path: str, body: object = None, query: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return call(api_event(method, path, body, query=query))


def legacy(operation: str, **fields: object):  # type: ignore[no-untyped-def]
    return call(api_event("POST", "/provisionpipeline", {"pipeline_type": operation, **fields}))


def test_content_follows_the_model_card_schema():
    content = CreateModelCard.model_validate(CARD_BODY).content()
    assert content["model_overview"]["inference_environment"] == {
        "container_image": ["123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1"]
    }
    assert content["training_details"]["objective_function"] == {
        "function": {"function": "Maximize", "facet": "AUC"},
        "notes": "validation AUC",
    }
    assert content["evaluation_details"][0]["metric_groups"][0]["metric_data"][0] == {
        "name": "auc",
        "type": "number",
        "value": 0.9,
    }
    assert "name" not in content and "status" not in content


def test_create_then_describe_over_rest(orchestrator):
    created = card_call("POST", "/modelcards", CARD_BODY)

    assert created.status == 201, created.body
    assert created.headers["Location"] == "/modelcards/churn-card"
    assert created.body["name"] == "churn-card"
    assert created.body["status"] == "PendingReview"
    assert created.body["version"] == 1
    assert created.body["content"]["intended_uses"] == {"purpose_of_model": "retention offers", "risk_rating": "Medium"}
    stored = aws.client("sagemaker").describe_model_card(ModelCardName="churn-card")
    assert json.loads(stored["Content"]) == CreateModelCard.model_validate(CARD_BODY).content()

    described = card_call("GET", "/modelcards/churn-card")
    assert described.status == 200
    assert described.body == created.body


def test_update_replaces_given_sections_and_keeps_the_status(orchestrator):
    card_call("POST", "/modelcards", CARD_BODY)

    updated = card_call("PUT", "/modelcards/churn-card", {"intended_uses": {"risk_rating": "High"}})

    assert updated.status == 200, updated.body
    assert updated.body["status"] == "PendingReview"  # MWO would have reset it to Draft
    assert updated.body["version"] == 2
    assert updated.body["content"]["intended_uses"] == {"risk_rating": "High"}
    assert updated.body["content"]["model_overview"]["model_owner"] == "retention-team"  # untouched section


def test_update_can_change_the_status(orchestrator):
    card_call("POST", "/modelcards", CARD_BODY)
    updated = legacy("update_model_card", name="churn-card", status="Approved")
    assert updated.status == 200
    assert updated.body["status"] == "Approved"


def test_an_update_must_change_something():
    with pytest.raises(ValueError, match="give a new status or at least one section"):
        UpdateModelCard.model_validate({"name": "c"})


@pytest.mark.parametrize("name", ["other", "churn-card"])
def test_the_path_names_the_card_not_the_body(orchestrator, name):
    card_call("POST", "/modelcards", CARD_BODY)
    for method, path in [("PUT", "/modelcards/churn-card"), ("POST", "/modelcards/churn-card/export")]:
        response = card_call(method, path, {"name": name, "status": "Draft"})
        assert response.status == 400
        assert response.body["errors"] == [
            {"field": "name", "problem": "is not a known field (the path names the card)"}
        ]
    assert card_call("GET", "/modelcards/churn-card").body["version"] == 1


def test_legacy_operations_on_provisionpipeline(orchestrator):
    created = legacy("create_model_card", **{k: v for k, v in CARD_BODY.items() if k != "status"})
    assert created.status == 200
    assert created.body["status"] == "Draft"
    assert legacy("describe_model_card", name="churn-card").body["name"] == "churn-card"
    listed = legacy("list_model_cards")
    assert [c["name"] for c in listed.body["model_cards"]] == ["churn-card"]
    deleted = legacy("delete_model_card", name="churn-card")
    assert deleted.status == 200
    assert deleted.body == {"message": "model card churn-card deleted", "name": "churn-card"}
    assert legacy("describe_model_card", name="churn-card").status == 404
    # Model-card operations never touch the pipeline registry.
    assert orchestrator.items() == []


def test_mwo_compat_fields_are_accepted_on_create(orchestrator):
    response = legacy("create_model_card", name="compat", arn="arn:x", version=3, created_by={"u": 1})
    assert response.status == 200
    assert response.body["version"] == 1


def test_list_over_rest_with_filters_and_limit(orchestrator):
    for name in ("card-a", "card-b", "other"):
        card_call("POST", "/modelcards", {"name": name, "status": "Draft" if name != "card-b" else "Approved"})
    page = card_call("GET", "/modelcards", query={"name_contains": "card", "limit": "10"})
    assert sorted(c["name"] for c in page.body["model_cards"]) == ["card-a", "card-b"]
    approved = card_call("GET", "/modelcards", query={"status": "Approved"})
    assert [c["name"] for c in approved.body["model_cards"]] == ["card-b"]
    assert card_call("GET", "/modelcards", query={"limit": "0"}).status == 400
    assert card_call("GET", "/modelcards", query={"colour": "red"}).status == 400


def test_delete_over_rest(orchestrator):
    card_call("POST", "/modelcards", {"name": "gone"})
    assert card_call("DELETE", "/modelcards/gone").status == 200
    assert card_call("DELETE", "/modelcards/gone").status == 404


def test_unknown_cards_are_404_and_duplicates_409(orchestrator):
    assert card_call("GET", "/modelcards/missing").status == 404
    assert card_call("PUT", "/modelcards/missing", {"status": "Draft"}).status == 404
    card_call("POST", "/modelcards", {"name": "twice"})
    duplicate = card_call("POST", "/modelcards", {"name": "twice"})
    assert duplicate.status == 409
    assert "already exists" in duplicate.body["message"]


def test_export_starts_a_job_writing_to_the_assets_bucket(orchestrator):
    with Stubber(aws.client("sagemaker")) as stub:
        stub.add_response(
            "create_model_card_export_job",
            {"ModelCardExportJobArn": "arn:aws:sagemaker:us-east-1:111111111111:model-card/churn-card/export-job/e1"},
            {
                "ModelCardName": "churn-card",
                "ModelCardExportJobName": "e1",
                "ModelCardVersion": 2,
                "OutputConfig": {"S3OutputPath": f"s3://{BUCKET}/model_card_exports"},
            },
        )
        response = card_call(
            "POST", "/modelcards/churn-card/export", {"export_job_name": "e1", "model_card_version": 2}
        )
        stub.assert_no_pending_responses()
    assert response.status == 202
    assert response.body == {
        "name": "churn-card",
        "export_job_name": "e1",
        "export_job_arn": "arn:aws:sagemaker:us-east-1:111111111111:model-card/churn-card/export-job/e1",
        "output_location": f"s3://{BUCKET}/model_card_exports",
    }


def test_export_without_a_body_names_the_job_itself(orchestrator):
    with Stubber(aws.client("sagemaker")) as stub:
        stub.add_response("create_model_card_export_job", {"ModelCardExportJobArn": "arn:x"})
        response = call(api_event("POST", "/modelcards/churn-card/export"))
    assert response.status == 202
    assert response.body["export_job_name"].startswith("churn-card-export-")
    assert len(response.body["export_job_name"]) <= 63


def test_export_of_a_missing_card_is_404(orchestrator):
    with Stubber(aws.client("sagemaker")) as stub:
        stub.add_client_error(
            "create_model_card_export_job", service_error_code="ResourceNotFound", service_message="no card"
        )
        response = legacy("export_model_card", name="missing")
    assert response.status == 404
    assert response.body == {"message": "no card"}


@pytest.mark.parametrize(
    ("body", "field", "problem"),
    [
        ({"status": "Draft"}, "name", "is required"),
        ({"name": "bad_name"}, "name", "String should match pattern"),
        ({"name": "c", "status": "Done"}, "status", "Input should be"),
        ({"name": "c", "intended_uses": {"risk_rating": "Extreme"}}, "intended_uses.risk_rating", "Input should be"),
        (
            {"name": "c", "model_overview": {"model_artifact": [f"a{n}" for n in range(16)]}},
            "model_overview.model_artifact",
            "at most 15",
        ),
        (
            {
                "name": "c",
                "evaluation_details": [
                    {
                        "name": "e",
                        "metric_groups": [
                            {"name": "g", "metric_data": [{"name": "m", "type": "boolean", "value": "yes"}]}
                        ],
                    }
                ],
            },
            "evaluation_details[0].metric_groups[0].metric_data[0].value",
            "must be a boolean value",
        ),
        (
            {"name": "c", "evaluation_details": [{"name": "e", "metric_file_s3_url": "s3://bucket/m.json"}]},
            "evaluation_details[0].metric_type",
            "is required with metric_file_s3_url",
        ),
        ({"name": "c", "model_overview": {"model_version": "1"}}, "model_overview.model_version", "valid number"),
    ],
)
def test_invalid_card_requests_are_400_and_call_nothing(orchestrator, body, field, problem):
    with Stubber(aws.client("sagemaker")) as stub:  # no responses queued: any SageMaker call would fail
        rest = card_call("POST", "/modelcards", body)
        mwo = legacy("create_model_card", **body)
        stub.assert_no_pending_responses()
    for response in (rest, mwo):
        assert response.status == 400, response.body
        fields = {e["field"]: e["problem"] for e in response.body["errors"]}
        assert field in fields, response.body
        assert problem in fields[field]


def test_a_dry_run_of_a_card_operation_validates_and_calls_nothing(orchestrator):
    body = {"pipeline_type": "create_model_card", **CARD_BODY}
    with Stubber(aws.client("sagemaker")) as stub:  # no responses queued: any SageMaker call would fail
        response = call(api_event("POST", "/provisionpipeline", body, query={"dry_run": "true"}))
        invalid = call(api_event("POST", "/provisionpipeline", {**body, "status": "Done"}, query={"dry_run": "true"}))
        stub.assert_no_pending_responses()
    assert response.status == 200, response.body
    assert response.body["dry_run"] is True
    assert response.body["pipeline_type"] == "create_model_card"
    assert response.body["request"] == CreateModelCard.model_validate(CARD_BODY).plain()
    assert invalid.status == 400
    assert invalid.body["errors"][0]["field"] == "status"


def test_integral_numbers_are_integers_and_fractions_are_not(orchestrator):
    card_call("POST", "/modelcards", CARD_BODY)
    updated = legacy("update_model_card", name="churn-card", status="Approved", version=1.0)
    assert updated.status == 200, updated.body
    listed = legacy("list_model_cards", limit=10.0)
    assert listed.status == 200
    for fields in ({"version": 1.5}, {"version": "1"}, {"version": True}):
        response = legacy("update_model_card", name="churn-card", status="Draft", **fields)
        assert response.status == 400, fields
        assert response.body["errors"][0]["field"] == "version"
