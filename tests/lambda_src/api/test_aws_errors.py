"""AWS failures never become a 500 with nothing said: the caller's mistakes are 4xx, throttling 429,
AWS outages and refusals of the orchestrator itself 503 (lambda_src.common.errors.from_aws)."""

from __future__ import annotations

import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from lambda_src.common import aws
from lambda_src.common.errors import (
    Conflict,
    InvalidRequest,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    from_aws,
)
from tests.support.api_gateway import api_event, call


def test_a_next_token_sagemaker_did_not_issue_is_400(orchestrator):
    response = call(api_event("GET", "/modelcards", query={"next_token": "garbage"}))
    assert response.status == 400, response.body
    assert response.body["message"]


@pytest.mark.parametrize(
    ("code", "http_status", "status"),
    [
        ("ValidationException", 400, 400),
        ("InvalidToken", 400, 400),
        ("SomeNewValidationCode", 400, 400),
        ("ResourceNotFound", 400, 404),
        ("ConflictException", 400, 409),
        ("ResourceInUse", 400, 409),
        ("ThrottlingException", 400, 429),
        ("InternalFailure", 500, 503),
        ("ServiceUnavailable", 503, 503),
        ("AccessDeniedException", 400, 503),
    ],
)
def test_sagemaker_errors_of_the_card_routes_map_to_their_meaning(orchestrator, code, http_status, status):
    with Stubber(aws.client("sagemaker")) as stub:
        stub.add_client_error(
            "list_model_cards", service_error_code=code, service_message="said SageMaker", http_status_code=http_status
        )
        response = call(api_event("GET", "/modelcards"))
    assert response.status == status, response.body
    assert set(response.body) == {"message"}
    if status < 429:
        assert response.body["message"] == "said SageMaker"
    else:
        assert code in response.body["message"]


def test_an_unreachable_sagemaker_is_503(orchestrator):
    def unreachable(**_: object) -> None:
        raise EndpointConnectionError(endpoint_url="https://api.sagemaker.us-east-1.amazonaws.com")

    events = aws.client("sagemaker").meta.events
    events.register("before-call.sagemaker.DescribeModelCard", unreachable)
    try:
        response = call(api_event("GET", "/modelcards/churn-card"))
    finally:
        events.unregister("before-call.sagemaker.DescribeModelCard", unreachable)
    assert response.status == 503
    assert response.body == {"message": "SageMaker could not be reached (EndpointConnectionError); try again later"}


def test_dynamodb_throttling_on_a_pipeline_route_is_429(orchestrator):
    with Stubber(aws.client("dynamodb")) as stub:
        stub.add_client_error(
            "get_item", service_error_code="ProvisionedThroughputExceededException", http_status_code=400
        )
        response = call(api_event("GET", "/pipelines/churn-xgb-realtime-builtin"))
    assert response.status == 429
    assert "ProvisionedThroughputExceededException" in response.body["message"]


def test_an_aws_rejection_of_our_own_call_on_a_pipeline_route_stays_a_500(orchestrator):
    # A ValidationException from the registry table is the orchestrator's bug, not the caller's.
    with Stubber(aws.client("dynamodb")) as stub:
        stub.add_client_error("get_item", service_error_code="ValidationException", http_status_code=400)
        response = call(api_event("GET", "/pipelines/churn-xgb-realtime-builtin"))
    assert response.status == 500
    assert response.body["message"] == "internal error"


def test_from_aws_reads_only_aws_failures():
    from botocore.exceptions import ClientError

    def error(code: str, status: int) -> ClientError:
        return ClientError(
            {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "X"
        )

    assert from_aws(ValueError("no"), "S") is None
    assert from_aws(KeyError("x"), "S") is None
    assert type(from_aws(error("ValidationException", 400), "S")) is InvalidRequest
    assert type(from_aws(error("Whatever", 404), "S")) is NotFound
    assert type(from_aws(error("Whatever", 409), "S")) is Conflict
    assert type(from_aws(error("Whatever", 429), "S")) is TooManyRequests
    assert type(from_aws(error("Whatever", 500), "S")) is ServiceUnavailable
    assert type(from_aws(error("ExpiredToken", 400), "S")) is ServiceUnavailable
