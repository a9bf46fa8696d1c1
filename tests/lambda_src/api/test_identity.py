"""A pipeline's identity: names that fold onto one id never reach another team's pipeline (issue 11, case 1)."""

from __future__ import annotations

from typing import Any

import pytest

from lambda_src.registry import Registry, Status
from tests.support.api_gateway import api_event, call
from tests.support.moto_orchestrator import TABLE
from tests.support.requests import realtime_body

PIPELINE = "churn-xgb-realtime-builtin"


def provision(body: dict[str, Any]):  # type: ignore[no-untyped-def]
    return call(api_event("POST", "/provisionpipeline", body))


def deployed(pipeline_id: str = PIPELINE) -> None:
    registry = Registry(TABLE)
    for status in (Status.PROVISIONING, Status.DEPLOYED):
        registry.transition(pipeline_id, status)


def stored(orchestrator: Any) -> dict[str, Any]:
    item = orchestrator.item(PIPELINE)
    assert item is not None
    return {key: next(iter(value.values())) for key, value in item.items() if key in ("name", "owner", "version")}


@pytest.mark.parametrize("other_name", ["Churn-XGB", "CHURN-xgb", "churn--xgb"])
def test_a_name_that_folds_onto_an_existing_pipeline_is_refused_naming_it(orchestrator, other_name):
    assert provision(realtime_body(owner="team-a")).status == 202
    deployed()

    response = provision(realtime_body(model_name=other_name, owner="team-a", inference_instance="ml.c5.xlarge"))

    assert response.status == 409
    assert PIPELINE in response.body["message"] and "'churn-xgb'" in response.body["message"]
    assert response.body["errors"] == [
        {"field": "pipeline_id", "problem": "is taken by the pipeline created as 'churn-xgb'"}
    ]
    assert stored(orchestrator) == {"name": "churn-xgb", "owner": "team-a", "version": "1"}
    assert len(orchestrator.invocations.calls) == 1


def test_another_owner_can_neither_update_nor_replay_a_pipeline(orchestrator):
    assert provision(realtime_body(owner="team-a")).status == 202
    deployed()

    changed = provision(realtime_body(owner="team-b", inference_instance="ml.c5.xlarge"))
    same_spec = provision(realtime_body(owner="team-b"))
    no_owner = provision(realtime_body())

    assert [r.status for r in (changed, same_spec, no_owner)] == [409, 409, 409]
    assert changed.body["errors"] == [
        {"field": "owner", "problem": f"differs from the owner of pipeline {PIPELINE} ('team-a')"}
    ]
    assert stored(orchestrator) == {"name": "churn-xgb", "owner": "team-a", "version": "1"}
    assert len(orchestrator.invocations.calls) == 1


def test_naming_the_pipeline_by_id_updates_it_and_keeps_its_name(orchestrator):
    assert provision(realtime_body(owner="team-a")).status == 202
    deployed()

    response = provision(
        realtime_body(model_name="Churn-XGB", owner="team-a", inference_instance="ml.c5.xlarge", pipeline_id=PIPELINE)
    )

    assert response.status == 202, response.body
    assert response.body["version"] == 2
    assert stored(orchestrator) == {"name": "churn-xgb", "owner": "team-a", "version": "2"}


def test_the_exact_name_updates_the_pipeline(orchestrator):
    assert provision(realtime_body(owner="team-a")).status == 202
    deployed()

    response = provision(realtime_body(owner="team-a", inference_instance="ml.c5.xlarge"))

    assert (response.status, response.body["version"]) == (202, 2)


def test_a_pipeline_id_that_is_not_the_requests_own_is_a_field_error_and_writes_nothing(orchestrator):
    response = provision(realtime_body(pipeline_id="fraud-realtime-builtin"))

    assert response.status == 400
    assert response.body["errors"] == [
        {
            "field": "pipeline_id",
            "problem": f"names 'fraud-realtime-builtin', but this request's model_name and type give '{PIPELINE}'",
        }
    ]
    assert orchestrator.items() == []
    assert orchestrator.object_keys() == []


def test_a_deleted_pipelines_id_is_free_for_another_team(orchestrator):
    assert provision(realtime_body(owner="team-a")).status == 202
    registry = Registry(TABLE)
    for status in (Status.PROVISIONING, Status.DEPLOYED, Status.DELETING, Status.DELETED):
        registry.transition(PIPELINE, status)

    response = provision(realtime_body(model_name="Churn-XGB", owner="team-b"))

    assert response.status == 202, response.body
    assert stored(orchestrator) == {"name": "Churn-XGB", "owner": "team-b", "version": "2"}


def test_a_record_written_before_identities_were_kept_takes_the_next_requests_identity(orchestrator):
    assert provision(realtime_body(owner="team-a")).status == 202
    deployed()
    orchestrator.dynamodb.update_item(
        TableName=TABLE,
        Key={"pipeline_id": {"S": PIPELINE}},
        UpdateExpression="REMOVE #n, #o",
        ExpressionAttributeNames={"#n": "name", "#o": "owner"},
    )

    response = provision(realtime_body(model_name="Churn-XGB", owner="team-a", inference_instance="ml.c5.xlarge"))

    assert response.status == 202, response.body
    assert stored(orchestrator) == {"name": "Churn-XGB", "owner": "team-a", "version": "2"}


def test_two_different_images_whose_names_run_together_are_two_identities(orchestrator):
    """Review: tag v1 of team-a/serving and tag v1-team of a/serving share one pipeline id."""
    first = {
        "pipeline_type": "byom_image_builder",
        "custom_algorithm_docker": "images/serving.zip",
        "ecr_repo_name": "team-a/serving",
        "image_tag": "v1",
    }
    second = {**first, "ecr_repo_name": "a/serving", "image_tag": "v1-team"}
    accepted = provision(first)
    assert accepted.status == 202
    pipeline_id = accepted.body["pipeline_id"]

    refused = provision(second)

    assert refused.status == 409, refused.body
    assert pipeline_id in refused.body["message"] and "'v1:team-a/serving'" in refused.body["message"]
    item = orchestrator.item(pipeline_id)
    assert (item["name"], item["version"]) == ({"S": "v1:team-a/serving"}, {"N": "1"})
