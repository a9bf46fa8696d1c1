"""Deploys on registry approval (issue 14): an Approved newer version of the group a pipeline follows
is deployed once, however often SageMaker sends the event; nothing else acts; a rejected deployed
version is announced and, when asked, rolled back to the newest approved version before it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambda_src.common import aws
from lambda_src.registry import Registry, Status
from lambda_src.trigger.handler import handler
from lambda_src.trigger.model_approvals import ApprovalEvent, decide
from mlops_spec.request import parse_pipeline_request
from tests.support.api_gateway import LAMBDA_CONTEXT, api_event, call
from tests.support.aws_stubs import answering
from tests.support.moto_orchestrator import Orchestrator
from tests.support.requests import realtime_body

GROUP = "arn:aws:sagemaker:us-east-1:111111111111:model-package/churn"


def version(n: int) -> str:
    return f"{GROUP}/{n}"


def package_event(n: int, status: str = "Approved", group: str = GROUP) -> dict[str, Any]:
    return {
        "version": "0",
        "id": f"e-{n}-{status}",
        "detail-type": "SageMaker Model Package State Change",
        "source": "aws.sagemaker",
        "account": "111111111111",
        "region": "us-east-1",
        "resources": [f"{group}/{n}"],
        "detail": {
            "ModelPackageGroupName": group.rsplit("/", 1)[-1],
            "ModelPackageVersion": n,
            "ModelPackageArn": f"{group}/{n}",
            "ModelApprovalStatus": status,
        },
    }


def following(**changes: Any) -> dict[str, Any]:
    body = realtime_body(**{"model_package_name": version(3), "deploy_on_approval": True, **changes})
    for image_field in ("model_framework", "model_framework_version", "model_artifact_location"):
        body.pop(image_field)
    return body


def deployed(orchestrator: Orchestrator, body: dict[str, Any]) -> str:
    response = call(api_event("POST", "/provisionpipeline", body))
    assert response.status == 202, response.body
    pipeline_id = str(response.body["pipeline_id"])
    registry = Registry(orchestrator.table)
    registry.transition(pipeline_id, Status.PROVISIONING)
    registry.transition(pipeline_id, Status.DEPLOYED, outputs={"dev": {"endpoint_name": "e"}})
    return pipeline_id


APPROVER = {"Arn": "arn:aws:sts::111111111111:assumed-role/ModelReviewer/alice", "PrincipalId": "AROAREVIEWER:alice"}


def registry_says(status: str, approver: dict[str, str] | None = None) -> Any:
    """DescribeModelPackage as the model registry answers it now (whatever the event said)."""

    def describe(request: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = {"ModelPackageArn": request["ModelPackageName"], "ModelApprovalStatus": status}
        if approver:
            answer["LastModifiedBy"] = {"IamIdentity": approver}
        return answer

    return answering(aws.client("sagemaker"), "DescribeModelPackage", describe)


def stored_package(orchestrator: Orchestrator, pipeline_id: str) -> str:
    record = Registry(orchestrator.table).get(pipeline_id)
    return str(json.loads(record.spec)["model_package_name"])


# -- decisions ---------------------------------------------------------------------------------------------
@pytest.mark.fast
@pytest.mark.parametrize(
    ("event", "action"),
    [
        (package_event(4), "deploy"),
        (package_event(3), "none"),  # the deployed version again
        (package_event(2), "none"),  # an older version approved later
        (package_event(4, "PendingManualApproval"), "none"),
        (package_event(4, "Rejected"), "none"),  # not the deployed version
        (package_event(3, "Rejected"), "rejected"),
        (package_event(9, group="arn:aws:sagemaker:us-east-1:111111111111:model-package/fraud"), "none"),
    ],
)
def test_only_a_newer_approved_version_of_the_followed_group_deploys(event: dict[str, Any], action: str) -> None:
    spec = parse_pipeline_request(following(), mode="single")
    parsed = ApprovalEvent.parse(event)
    assert parsed is not None
    assert decide(spec, Status.DEPLOYED, parsed).action == action


@pytest.mark.fast
def test_a_pipeline_that_does_not_follow_or_is_going_does_nothing() -> None:
    event = ApprovalEvent.parse(package_event(4))
    assert event is not None
    assert (
        decide(
            parse_pipeline_request(following(deploy_on_approval=False), mode="single"), Status.DEPLOYED, event
        ).action
        == "none"
    )
    assert decide(parse_pipeline_request(following(), mode="single"), Status.DELETING, event).action == "none"
    assert ApprovalEvent.parse({"source": "aws.s3", "detail-type": "Object Created"}) is None


# -- through the trigger function ----------------------------------------------------------------------------
def test_an_approved_version_delivered_three_times_is_deployed_once(orchestrator: Orchestrator) -> None:
    pipeline_id = deployed(orchestrator, following())
    other = deployed(orchestrator, realtime_body(model_name="not-following"))
    before = len(orchestrator.invocations.calls)

    with registry_says("Approved", APPROVER):
        results = [handler(package_event(4), LAMBDA_CONTEXT) for _ in range(3)]

    assert results[0]["results"] == [
        {"pipeline_id": pipeline_id, "outcome": "queued", "version": 2, "why": "version 4 supersedes 3"}
    ]
    assert results[1]["results"] == results[2]["results"] == []
    assert orchestrator.invocations.payloads[before:] == [
        {"action": "provision", "pipeline_id": pipeline_id, "version": 2}
    ]
    record = Registry(orchestrator.table).get(pipeline_id)
    # The registry's approver is the requester: they may not approve this version's promotion to prod.
    assert (record.status, record.version) == (Status.QUEUED, 2)
    assert record.requested_by == {"arn": APPROVER["Arn"], "principal_id": APPROVER["PrincipalId"]}
    assert stored_package(orchestrator, pipeline_id) == version(4)
    assert Registry(orchestrator.table).get(other).version == 1


def test_pending_older_and_other_groups_deploy_nothing(orchestrator: Orchestrator) -> None:
    pipeline_id = deployed(orchestrator, following())
    before = len(orchestrator.invocations.calls)

    for event in (package_event(5, "PendingManualApproval"), package_event(2), package_event(5, "Rejected")):
        with registry_says(event["detail"]["ModelApprovalStatus"]):
            assert handler(event, LAMBDA_CONTEXT)["results"] == []

    assert len(orchestrator.invocations.calls) == before
    assert stored_package(orchestrator, pipeline_id) == version(3)


def test_a_rejected_deployed_version_is_announced_and_rolled_back_when_asked(orchestrator: Orchestrator) -> None:
    pipeline_id = deployed(orchestrator, following(rollback_on_reject=True))
    orchestrator.announcements()
    listed: list[dict[str, Any]] = []

    def approved_versions(request: dict[str, Any]) -> dict[str, Any]:
        listed.append(request)
        return {"ModelPackageSummaryList": [{"ModelPackageArn": version(n)} for n in (5, 2, 1)]}

    with answering(aws.client("sagemaker"), "ListModelPackages", approved_versions), registry_says("Rejected"):
        result = handler(package_event(3, "Rejected"), LAMBDA_CONTEXT)

    assert listed[0]["ModelPackageGroupName"] == "churn" and listed[0]["ModelApprovalStatus"] == "Approved"
    assert result["results"] == [
        {"pipeline_id": pipeline_id, "outcome": "queued", "version": 2, "why": "rollback from rejected version 3"}
    ]
    assert stored_package(orchestrator, pipeline_id) == version(2)
    [announced] = [a for a in orchestrator.announcements() if "rejected" in a["Subject"]]
    assert "Rolling back to version 2." in announced["Message"]


def test_a_late_approved_event_of_a_version_rejected_since_deploys_nothing(orchestrator: Orchestrator) -> None:
    pipeline_id = deployed(orchestrator, following())

    with registry_says("Rejected"):
        assert handler(package_event(4, "Approved"), LAMBDA_CONTEXT)["results"] == []

    assert stored_package(orchestrator, pipeline_id) == version(3)


def test_an_event_naming_another_accounts_package_is_ignored(orchestrator: Orchestrator) -> None:
    deployed(orchestrator, following())
    forged = {**package_event(4), "account": "999999999999"}

    assert handler(forged, LAMBDA_CONTEXT) == {"results": []}


def test_a_pipeline_sent_with_a_client_token_follows_too(orchestrator: Orchestrator) -> None:
    pipeline_id = deployed(orchestrator, following(client_token="ci-run-12345678"))

    with registry_says("Approved", APPROVER):
        result = handler(package_event(4), LAMBDA_CONTEXT)

    assert [r["outcome"] for r in result["results"]] == ["queued"]
    assert stored_package(orchestrator, pipeline_id) == version(4)


def test_a_busy_pipeline_does_not_cost_the_others_their_deploy_and_the_event_is_retried(
    orchestrator: Orchestrator,
) -> None:
    busy = deployed(orchestrator, following(model_name="busy-model"))
    Registry(orchestrator.table).transition(busy, Status.DELETING)
    call(api_event("POST", "/provisionpipeline", following(model_name="queued-model")))
    free = deployed(orchestrator, following(model_name="free-model"))

    with registry_says("Approved", APPROVER), pytest.raises(RuntimeError, match="queued-model"):
        handler(package_event(4), LAMBDA_CONTEXT)

    assert stored_package(orchestrator, free) == version(4)
    assert stored_package(orchestrator, busy) == version(3)
