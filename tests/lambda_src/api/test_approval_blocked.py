"""Monitors that act (issue 14) at the approval: a pipeline a monitor blocked has its promotions refused (409
naming the monitor and how to lift the block; rejecting stays possible), and the requester of the version a
rollback sends again may not approve it into prod, as the rollback's own requester may not. Its status shows
the block."""

from __future__ import annotations

from botocore.stub import Stubber

from lambda_src.common import aws
from lambda_src.registry import Registry
from lambda_src.registry import violations as notes
from lambda_src.registry.attributes import to_attr
from tests.lambda_src.api.test_approval import (
    AT_PROD,
    AT_STAGING,
    CALLER,
    CODEPIPELINE,
    PIPELINE,
    REVIEWER,
    answered,
    put_params,
)
from tests.lambda_src.api.test_approval_duties import approve, provisioned
from tests.support.api_gateway import api_event, call
from tests.support.moto_orchestrator import TABLE

BLOCK = {"monitor": "churn-xgb-data-quality", "run": "arn:aws:sagemaker:us-east-1:1:processing-job/r1", "at": "T"}


def blocked() -> None:
    assert notes.block(Registry(TABLE), PIPELINE, {**BLOCK, "environment": "dev"}) is not None


def test_approving_a_blocked_pipeline_is_refused_naming_the_monitor(orchestrator):
    provisioned()
    blocked()

    response = approve(AT_STAGING, None, REVIEWER)

    assert response.status == 409, response.body
    assert response.body == {
        "message": f"pipeline {PIPELINE} is blocked by monitor churn-xgb-data-quality (run {BLOCK['run']}, T): its"
        " promotions may not be approved; to lift the block, send the pipeline a new request version (mlops"
        " provision) as yourself",
        "errors": [{"field": "pipeline_id", "problem": "is blocked by monitor churn-xgb-data-quality"}],
    }


def test_rejecting_a_blocked_pipelines_promotion_stays_possible(orchestrator):
    provisioned()
    blocked()
    expected = put_params(
        "ApproveStaging",
        "Rejected",
        f"rejected by {REVIEWER['userArn']} via the mlops API; requested by {CALLER}",
    )

    assert answered({"decision": "reject"}, AT_STAGING, expected, identity=REVIEWER).status == 200


def test_the_status_and_the_list_show_the_block(orchestrator):
    provisioned()
    blocked()

    with Stubber(aws.client("codepipeline")) as stub:
        stub.add_response("get_pipeline_state", AT_STAGING, {"name": CODEPIPELINE})
        status = call(api_event("GET", f"/pipelines/{PIPELINE}")).body
    [listed] = call(api_event("GET", "/pipelines")).body["pipelines"]

    assert (
        status["blocked"]
        == listed["blocked"]
        == {
            **BLOCK,
            "environment": "dev",
            "lift": "send the pipeline a new request version (mlops provision) as yourself",
        }
    )


def test_the_requester_of_the_version_a_rollback_sends_again_may_not_approve_it_into_prod(orchestrator):
    provisioned()  # requested by the API's default caller
    aws.client("dynamodb").update_item(
        TableName=TABLE,
        Key={"pipeline_id": {"S": PIPELINE}},
        UpdateExpression="SET barred = :barred",
        ExpressionAttributeValues={":barred": to_attr([{"arn": REVIEWER["userArn"]}])},
    )

    response = approve(AT_PROD, None, REVIEWER)

    assert response.status == 403, response.body
    assert response.body["errors"] == [
        {
            "field": "(caller)",
            "problem": "requested the version this one sends again: they cannot approve its promotion to prod",
        }
    ]
