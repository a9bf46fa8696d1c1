"""POST /pipelines/{id}/promote through the API handler: the shadow becomes the production model through a
normal update; a pipeline without a deployed shadow is refused and nothing is written."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambda_src.common import settings
from lambda_src.registry import Registry, Status
from mlops_spec import naming
from mlops_spec.approvers import ApprovalRules, Principal
from tests.support.api_gateway import api_event, call
from tests.support.examples import load_example
from tests.support.moto_orchestrator import TABLE
from tests.support.requests import realtime_body

PIPELINE = "churn-xgb-realtime-builtin"
CALLER = "arn:aws:iam::111111111111:user/data-scientist"
PACKAGE = "arn:aws:sagemaker:us-east-1:111111111111:model-package/churn-xgb/7"
SHADOW = {
    "model_package_name": PACKAGE,
    "instance_type": "ml.c5.xlarge",
    "instance_count": 2,
    "sampling_percentage": 20,
}


def shadow_body(**overrides: Any) -> dict[str, Any]:
    return realtime_body(deployment={"type": "shadow", "shadow": SHADOW}, client_token="first-request", **overrides)


def promote(pipeline_id: str):  # type: ignore[no-untyped-def]
    path = f"/pipelines/{pipeline_id}/promote"
    return call(api_event("POST", path, resource="/pipelines/{pipeline_id}/promote"))


def provisioned(body: dict[str, Any], status: Status = Status.DEPLOYED) -> None:
    assert call(api_event("POST", "/provisionpipeline", body)).status == 202
    registry = Registry(TABLE)
    registry.transition(PIPELINE, Status.PROVISIONING, codepipeline_name=f"mlops-{PIPELINE}")
    if status != Status.PROVISIONING:
        registry.transition(PIPELINE, status)


def test_promote_queues_the_shadow_as_the_production_model_without_shadow(orchestrator):
    provisioned(shadow_body())
    orchestrator.invocations.calls.clear()

    answer = promote(PIPELINE)

    assert answer.status == 202
    assert answer.headers["Location"] == f"/pipelines/{PIPELINE}"
    assert answer.body == {
        "pipeline_id": PIPELINE,
        "status": "QUEUED",
        "pipeline_type": "byom_realtime_builtin",
        "version": 2,
        "environments": ["dev"],
        "stacks": [f"{PIPELINE}-delivery", f"{PIPELINE}-dev"],
        "requested_by": CALLER,
        "source": f"promote:{CALLER}",
    }
    record = Registry(TABLE).get(PIPELINE)
    assert record is not None
    assert (record.status, record.version, record.source) == (Status.QUEUED, 2, f"promote:{CALLER}")
    assert record.requested_by == {"arn": CALLER, "principal_id": "AIDAEXAMPLE"}
    spec = record.spec_document()
    assert spec is not None
    assert spec["model_package_name"] == PACKAGE and "model_artifact_location" not in spec
    assert (spec["inference_instance"], spec["instance_count"]) == ("ml.c5.xlarge", 2)
    assert spec["deployment"]["type"] == "all_at_once" and "shadow" not in spec["deployment"]
    assert "client_token" not in spec and record.client_token is None
    # The delivery pipeline's source is the promoted request, and the provisioner runs it.
    stored = orchestrator.s3.get_object(Bucket=orchestrator.bucket, Key=naming.spec_key(PIPELINE))
    assert json.loads(stored["Body"].read()) == spec
    assert orchestrator.invocations.payloads == [{"action": "provision", "pipeline_id": PIPELINE, "version": 2}]


def test_a_pipeline_without_shadow_has_nothing_to_promote_and_nothing_is_written(orchestrator):
    provisioned(realtime_body())
    item = orchestrator.item(PIPELINE)
    orchestrator.invocations.calls.clear()

    answer = promote(PIPELINE)

    assert answer.status == 409
    assert answer.body["message"].startswith(f"pipeline {PIPELINE} runs no shadow test: there is no shadow to promote")
    assert answer.body["errors"] == [{"field": "pipeline_id", "problem": "has no shadow"}]
    assert orchestrator.item(PIPELINE) == item
    assert orchestrator.invocations.calls == []


@pytest.mark.parametrize(
    ("status", "why"),
    [
        (Status.PROVISIONING, "wait until its current operation has finished"),
        (Status.DELETING, "it is being deleted"),
        (Status.FAILED, "it has no deployed shadow test to promote"),
    ],
)
def test_a_shadow_not_deployed_is_not_promoted_and_nothing_is_written(orchestrator, status, why):
    provisioned(shadow_body(), status)
    item = orchestrator.item(PIPELINE)
    orchestrator.invocations.calls.clear()

    answer = promote(PIPELINE)

    assert answer.status == 409
    assert answer.body == {
        "message": f"pipeline {PIPELINE} is {status}: only a DEPLOYED pipeline's shadow can be promoted; {why}",
        "errors": [{"field": "pipeline_id", "problem": f"is {status}"}],
    }
    assert orchestrator.item(PIPELINE) == item
    assert orchestrator.invocations.calls == []


def test_a_promoted_request_that_does_not_validate_is_400_and_nothing_is_written(orchestrator):
    """A stored shadow an earlier release accepted, on an instance type endpoints no longer take: promoted,
    it is validated as any request, and refused."""
    provisioned(shadow_body())
    stored = {**json.loads(str(Registry(TABLE).get(PIPELINE).spec))}  # type: ignore[union-attr]
    stored["deployment"]["shadow"]["instance_type"] = "ml.t3.medium"
    orchestrator.dynamodb.update_item(
        TableName=TABLE,
        Key={"pipeline_id": {"S": PIPELINE}},
        UpdateExpression="SET spec = :spec",
        ExpressionAttributeValues={":spec": {"S": json.dumps(stored)}},
    )
    item = orchestrator.item(PIPELINE)
    orchestrator.invocations.calls.clear()

    answer = promote(PIPELINE)

    assert answer.status == 400
    [error] = answer.body["errors"]
    assert error["field"] == "inference_instance"
    assert error["problem"].startswith("must be a SageMaker instance type for endpoints")
    assert orchestrator.item(PIPELINE) == item
    assert orchestrator.invocations.calls == []


def test_promote_of_an_unknown_pipeline_is_404(orchestrator):
    answer = promote("no-such-pipeline")

    assert answer.status == 404
    assert orchestrator.items() == []
    assert orchestrator.invocations.calls == []


def test_in_multi_account_mode_the_promotion_goes_through_every_environment(orchestrator, monkeypatch):
    """A normal update: the new version is deployed dev -> staging -> prod, with the caller its requester
    (who then may not approve its promotion to prod), each environment's shadow values promoted."""
    monkeypatch.setenv(settings.MODE, "multi")
    body = load_example("byom_realtime_shadow", "multi")
    assert call(api_event("POST", "/provisionpipeline", body)).status == 202
    pipeline = "churn-xgb-shadow-realtime-builtin"
    Registry(TABLE).transition(pipeline, Status.PROVISIONING)
    Registry(TABLE).transition(pipeline, Status.DEPLOYED)

    answer = promote(pipeline)

    assert answer.status == 202
    assert (answer.body["version"], answer.body["environments"]) == (2, ["dev", "staging", "prod"])
    spec = Registry(TABLE).get(pipeline).spec_document()  # type: ignore[union-attr]
    assert spec["inference_instance"] == {"dev": "ml.m5.large", "staging": "ml.m5.large", "prod": "ml.m5.xlarge"}
    assert spec["instance_count"] == {"dev": 1, "staging": 1, "prod": 2}
    assert spec["model_artifact_location"] == "models/churn-xgb-v2/model.tar.gz"


def promote_as_read(monkeypatch: pytest.MonkeyPatch, read: Any):  # type: ignore[no-untyped-def]
    """Promote with the API's read of the record being `read`: what it was when the request arrived,
    before a write that lands between that read and the promotion's own."""
    from lambda_src.api import promote as promote_module

    monkeypatch.setattr(promote_module, "find", lambda pipeline_id, settings: read)
    return promote(PIPELINE)


def test_a_version_sent_after_the_read_is_not_overwritten_by_the_promotion(orchestrator, monkeypatch):
    """Review M6: version 2 was sent and failed between the read of version 1 and the promotion's write.
    Compare-and-swap on the version read: 409 naming the version the pipeline is at, nothing written."""
    provisioned(shadow_body())
    read = Registry(TABLE).get(PIPELINE)
    assert call(api_event("POST", "/provisionpipeline", realtime_body(instance_count=3))).status == 202
    Registry(TABLE).transition(PIPELINE, Status.FAILED, last_error="the endpoint did not become healthy")
    item = orchestrator.item(PIPELINE)
    orchestrator.invocations.calls.clear()

    answer = promote_as_read(monkeypatch, read)

    assert answer.status == 409
    assert answer.body["message"].startswith(
        f"pipeline {PIPELINE} is at version 2 (FAILED) now, not version 1 whose shadow was to be promoted"
    )
    assert answer.body["errors"] == [{"field": "pipeline_id", "problem": "is at version 2, not 1"}]
    assert orchestrator.item(PIPELINE) == item
    assert orchestrator.invocations.calls == []


def test_a_write_that_keeps_the_version_read_does_not_stop_the_promotion(orchestrator, monkeypatch):
    """A change of the same version in between (here its revision, as an approval or a note makes) is read
    again: the version read is still the one deployed, so its shadow is promoted on top of it."""
    provisioned(shadow_body())
    read = Registry(TABLE).get(PIPELINE)
    orchestrator.dynamodb.update_item(
        TableName=TABLE,
        Key={"pipeline_id": {"S": PIPELINE}},
        UpdateExpression="SET revision = revision + :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )

    answer = promote_as_read(monkeypatch, read)

    assert (answer.status, answer.body["version"]) == (202, 2)
    record = Registry(TABLE).get(PIPELINE)
    assert record is not None and (record.version, record.source) == (2, f"promote:{CALLER}")
    assert "shadow" not in record.spec_document()["deployment"]  # type: ignore[index]


LEAD = {"userArn": "arn:aws:sts::111111111111:assumed-role/Lead/bob", "caller": "AROALEAD:bob"}


def test_who_chose_the_shadow_may_not_approve_its_promotion_to_prod(orchestrator):
    """Review M6: the data scientist's request chose the shadow; the lead promotes it. The lead requests the
    new version (the requester rule bars them), and the scientist is barred from approving it into prod."""
    provisioned(shadow_body())
    event = api_event("POST", f"/pipelines/{PIPELINE}/promote", resource="/pipelines/{pipeline_id}/promote")
    event["requestContext"]["identity"].update(LEAD)

    assert call(event).status == 202

    record = Registry(TABLE).get(PIPELINE)
    assert record is not None
    assert record.requested_by == {"arn": LEAD["userArn"], "principal_id": LEAD["caller"]}
    assert record.barred == ({"arn": CALLER, "principal_id": "AIDAEXAMPLE"},)
    scientist, lead = Principal(CALLER, "AIDAEXAMPLE"), Principal(LEAD["userArn"], LEAD["caller"])
    barred = tuple(Principal.from_dict(other) for other in record.barred)
    assert ApprovalRules().refusals("prod", "approve", scientist, lead, barred)
    assert (
        ApprovalRules().refusals("prod", "approve", Principal("arn:aws:iam::111111111111:user/ops"), lead, barred) == []
    )


def test_a_promoter_who_chose_the_shadow_is_barred_once_as_its_requester(orchestrator):
    provisioned(shadow_body())

    assert promote(PIPELINE).status == 202

    record = Registry(TABLE).get(PIPELINE)
    assert record is not None and record.barred == ()
    assert record.requested_by == {"arn": CALLER, "principal_id": "AIDAEXAMPLE"}


@pytest.mark.fast
def test_a_rollback_versions_barred_requester_stays_barred_and_the_unknown_are_left_out():
    """The version read was a monitor's rollback (its requester the monitor's, its barred the original
    requester, who chose the shadow it sends again): both are barred; a principal id naming no one is not."""
    from lambda_src.api.promote import shadow_choosers
    from lambda_src.registry import PipelineRecord

    monitor = {"arn": "arn:aws:iam::111111111111:role/MonitorOwner"}
    original = {"arn": CALLER, "principal_id": "AIDAEXAMPLE"}
    read = PipelineRecord(
        PIPELINE, Status.DEPLOYED, "byom_realtime_builtin", 3, "t", "t", requested_by=monitor, barred=(original,)
    )
    lead = Principal(LEAD["userArn"], LEAD["caller"])
    assert shadow_choosers(read, lead) == (monitor, original)
    assert shadow_choosers(read, Principal(CALLER)) == (monitor,)
    federated = PipelineRecord(
        PIPELINE, Status.DEPLOYED, "byom_realtime_builtin", 3, "t", "t", requested_by={"principal_id": "111111111111:x"}
    )
    assert shadow_choosers(federated, lead) == ()


def test_a_promotion_above_the_cost_limit_is_refused_and_nothing_is_written(orchestrator, monkeypatch):
    """The promoted request is a request like any other: mlops:maxMonthlyCostPerPipeline applies to it (the
    shadow's two ml.c5.xlarge at the test's $0.25 an hour are $365.00 a month)."""
    from lambda_src.common import cost_limit

    prices = {("us-east-1", "ml.c5.xlarge", "hosting"): 0.25, ("us-east-1", "ml.m5.large", "hosting"): 0.5}
    monkeypatch.setattr(cost_limit, "live_prices", lambda region: lambda r, kind, usage: prices.get((r, kind, usage)))
    provisioned(shadow_body())
    monkeypatch.setenv("MLOPS_MAX_MONTHLY_COST_PER_PIPELINE", "200")
    item = orchestrator.item(PIPELINE)
    orchestrator.invocations.calls.clear()

    answer = promote(PIPELINE)

    assert answer.status == 400
    assert answer.body["errors"] == [
        {
            "field": "inference_instance",
            "problem": f"{PIPELINE} in dev is estimated at up to $365.00 ($365.00 a month), "
            "above mlops:maxMonthlyCostPerPipeline $200.00",
        }
    ]
    assert orchestrator.item(PIPELINE) == item
    assert orchestrator.invocations.calls == []


def test_a_promotion_the_cost_limit_cannot_check_is_refused_with_a_retryable_503(orchestrator, monkeypatch):
    """A Price List that cannot be read (throttled) does not let a promotion past the limit (review M3)."""
    from botocore.exceptions import ClientError

    from lambda_src.common import cost_limit

    def throttled(region, instance_type, usage):  # type: ignore[no-untyped-def]
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "GetProducts")

    provisioned(shadow_body())
    monkeypatch.setattr(cost_limit, "live_prices", lambda region: throttled)
    monkeypatch.setenv("MLOPS_MAX_MONTHLY_COST_PER_PIPELINE", "200")
    item = orchestrator.item(PIPELINE)
    orchestrator.invocations.calls.clear()

    answer = promote(PIPELINE)

    assert (answer.status, answer.body["message"]) == (
        503,
        "the cost limit could not be checked: the AWS Price List could not be read (ThrottlingException); try again",
    )
    assert orchestrator.item(PIPELINE) == item
    assert orchestrator.invocations.calls == []
