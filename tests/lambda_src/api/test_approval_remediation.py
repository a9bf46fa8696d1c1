"""Review H3: a version a drift check's auto_remediate queued (no person sent it) keeps the deployed version's
requester, so its promotion into prod can be approved through the API by anyone but that requester."""

from __future__ import annotations

from dataclasses import replace

from lambda_src.common.reconciling import AUTO_REMEDIATION_SOURCE, remediate_drift
from lambda_src.common.settings import settings
from lambda_src.registry import Registry, Status
from tests.lambda_src.api.test_approval import AT_PROD, CODEPIPELINE, PIPELINE, REVIEWER, put_params
from tests.lambda_src.api.test_approval_duties import REQUESTER_ROLE, approve, forbidden
from tests.support.api_gateway import api_event, call
from tests.support.moto_orchestrator import TABLE
from tests.support.requests import realtime_body

BARRED = {"arn": "arn:aws:iam::111111111111:role/RolledBackAuthor"}


def remediation_awaiting_prod(barred: tuple[dict[str, str], ...] = ()) -> None:
    """Deployed as REQUESTER_ROLE's version, remediated by a drift check, and its run (e1,
    as AT_PROD) waiting at the prod approval."""
    event = api_event("POST", "/provisionpipeline", realtime_body())
    event["requestContext"]["identity"].update(REQUESTER_ROLE)
    assert call(event).status == 202
    registry = Registry(TABLE)
    registry.transition(PIPELINE, Status.PROVISIONING, codepipeline_name=CODEPIPELINE, execution_id="e0")
    registry.transition(PIPELINE, Status.DEPLOYED, outputs={"dev": {"endpoint_name": "e"}})
    if barred:
        current = registry.get(PIPELINE)
        assert current is not None
        registry._conditional_put(replace(current, barred=barred), current)
    remediate_drift(PIPELINE, 1, settings())
    registry.transition(PIPELINE, Status.PROVISIONING, codepipeline_name=CODEPIPELINE, execution_id="e1")
    registry.transition(PIPELINE, Status.AWAITING_APPROVAL)


def test_a_remediation_keeps_the_deployed_versions_requester_and_barred(orchestrator):
    remediation_awaiting_prod((BARRED,))

    record = Registry(TABLE).get(PIPELINE)
    assert record is not None
    assert (record.version, record.source) == (2, AUTO_REMEDIATION_SOURCE)
    assert record.requested_by == {"arn": REQUESTER_ROLE["userArn"], "principal_id": REQUESTER_ROLE["caller"]}
    assert record.barred == (BARRED,)


def test_someone_else_may_approve_a_remediation_into_prod(orchestrator):
    remediation_awaiting_prod()

    summary = f"approved by {REVIEWER['userArn']} via the mlops API; requested by {REQUESTER_ROLE['userArn']}"
    response = approve(AT_PROD, put_params("ApproveProd", "Approved", summary), REVIEWER)

    assert response.status == 200, response.body
    assert response.body["requested_by"] == REQUESTER_ROLE["userArn"]


def test_the_deployed_versions_requester_may_not_approve_its_remediation_into_prod(orchestrator):
    remediation_awaiting_prod()

    response = approve(AT_PROD, None, REQUESTER_ROLE)

    forbidden(
        response,
        REQUESTER_ROLE["userArn"],
        "prod",
        "requested this version: a requester cannot approve their own promotion to prod",
    )
