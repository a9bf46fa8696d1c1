"""The moto account the contract test runs the API in: the orchestrator's resources in multi-account
mode (so both forms of a per-environment field are accepted, as the document allows), a few
pipelines and model cards for the generated requests to find, and answers to the calls moto does
not implement (a model card export; a delivery pipeline's state and its approvals)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from lambda_src.common import aws, settings
from lambda_src.registry import Registry, Status
from tests.support import moto_template
from tests.support.api_gateway import api_event, call
from tests.support.examples import load_example
from tests.support.moto_orchestrator import TABLE, start_orchestrator

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}
TOKEN = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
CARDS = ("churn-card", "fraud-card")
# The seeded pipelines: (multi-account example, the status it is moved to; None: left QUEUED).
SEEDS = (
    ("byom_realtime_builtin", None),
    ("byom_batch_builtin", Status.DEPLOYED),
    ("byom_realtime_custom", Status.AWAITING_APPROVAL),
)

# The deployed seed's last drift check (as lambda_src/provisioner/drift.py records it): one environment
# drifted, one that could not be checked; GET /pipelines/{id}/drift answers it.
DRIFT = {
    "checked_at": "2026-12-06T03:00:00Z",
    "in_sync": False,
    "environments": {
        "dev": {
            "in_sync": False,
            "changes": {"update": 1},
            "resources": [
                {
                    "urn": "urn:pulumi:p-dev::mlops-target::aws:sagemaker/endpoint:Endpoint::p-dev",
                    "type": "aws:sagemaker/endpoint:Endpoint",
                    "op": "update",
                    "properties": ["endpointConfigName"],
                }
            ],
        },
        "staging": {"in_sync": None, "error": "untrusted-state: not staging's deploy role"},
    },
}


def seeded_pipeline_ids() -> list[str]:
    """The ids of the seeded pipelines, known before the account exists (cases may be generated first)."""
    from mlops_spec.request import parse_pipeline_request

    return [parse_pipeline_request(load_example(example, "multi"), mode="multi").pipeline_id for example, _ in SEEDS]


@dataclass
class World:
    """What the account holds when a test starts: ids the generated requests may name."""

    pipelines: list[str] = field(default_factory=list)
    cards: list[str] = field(default_factory=lambda: list(CARDS))
    # codepipeline name -> the approval stage waiting for an answer, if any
    delivery: dict[str, str | None] = field(default_factory=dict)


def _answer(status: int, body: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
    return AWSResponse("https://fake.local", status, {}, None), {**body, "ResponseMetadata": {"HTTPStatusCode": status}}


def _error(code: str, message: str) -> tuple[AWSResponse, dict[str, Any]]:
    return _answer(400, {"Error": {"Code": code, "Message": message}})


def _export_job(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
    """CreateModelCardExportJob as SageMaker answers it: 404 for a card that does not exist."""
    request = json.loads(params["body"])
    name = request["ModelCardName"]
    existing = aws.client("sagemaker").list_model_cards(NameContains=name)["ModelCardSummaries"]
    if not any(card["ModelCardName"] == name for card in existing):
        return _error("ResourceNotFound", f"Modelcard {name} does not exist")
    job = request["ModelCardExportJobName"]
    return _answer(200, {"ModelCardExportJobArn": f"arn:aws:sagemaker:us-east-1:111111111111:model-card/{name}/{job}"})


def _pipeline_state(world: World) -> Callable[..., tuple[AWSResponse, dict[str, Any]]]:
    """GetPipelineState of the seeded delivery pipelines: everything up to the pending approval done."""

    def answer(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        name = json.loads(params["body"])["name"]
        if name not in world.delivery:
            return _error("PipelineNotFoundException", f"pipeline {name} not found")
        pending = world.delivery[name]
        stages = []
        for stage in ("Source", "DeployDev", "ApproveStaging", "DeployStaging"):
            latest: dict[str, Any] = {"status": "Succeeded", "lastStatusChange": datetime(2026, 1, 1, tzinfo=UTC)}
            if stage == pending:
                latest = {**latest, "status": "InProgress", "token": TOKEN}
            action = {"actionName": stage, "latestExecution": latest}
            stages.append({"stageName": stage, "actionStates": [action], "latestExecution": {"status": "InProgress"}})
        return _answer(200, {"pipelineName": name, "pipelineVersion": 1, "stageStates": stages})

    return answer


def _approval_result(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
    return _answer(200, {"approvedAt": datetime(2026, 1, 1, tzinfo=UTC).timestamp()})


def _seed(world: World) -> None:
    """A queued pipeline, a deployed one (with a drift check) and one waiting for approval (registry +
    delivery state), and two model cards: all created through the API itself."""
    registry = Registry(TABLE)
    for example, status in SEEDS:
        answer = call(api_event("POST", "/provisionpipeline", load_example(example, "multi")))
        assert answer.status == 202, answer.body
        pipeline_id = answer.body["pipeline_id"]
        world.pipelines.append(pipeline_id)
        if status is not None:
            delivery = f"mlops-{pipeline_id}"
            registry.transition(pipeline_id, Status.PROVISIONING, codepipeline_name=delivery)
            registry.transition(pipeline_id, status)
            if status == Status.DEPLOYED:
                assert registry.record_drift(pipeline_id, 1, DRIFT)
            world.delivery[delivery] = "ApproveStaging" if status == Status.AWAITING_APPROVAL else None
    for card in world.cards:
        assert call(api_event("POST", "/modelcards", {"name": card})).status == 201


def _seeded(world: World) -> tuple[list[str], dict[str, str | None]]:
    _seed(world)
    return world.pipelines, world.delivery


# Where the seeded account's state lives: the seeding is done through the API once per process and
# copied into each operation's fresh account afterwards (tests/support/moto_template.py).
SEEDED_SERVICES = ("dynamodb", "s3", "sns", "sqs", "sagemaker")

FAKES: tuple[tuple[str, str, Callable[[World], Callable[..., Any]]], ...] = (
    ("sagemaker", "CreateModelCardExportJob", lambda world: _export_job),
    ("codepipeline", "GetPipelineState", _pipeline_state),
    ("codepipeline", "PutApprovalResult", lambda world: _approval_result),
)


@contextlib.contextmanager
def contract_world() -> Iterator[World]:
    """A fresh moto account, its settings in the environment, seeded; undone afterwards."""
    patch = pytest.MonkeyPatch()
    for key, value in FAKE_CREDENTIALS.items():
        patch.setenv(key, value)
    patch.delenv("AWS_PROFILE", raising=False)
    orchestrator = start_orchestrator(patch)
    next(orchestrator)
    patch.setenv(settings.MODE, "multi")
    world = World()
    hooks = [
        (aws.client(service).meta.events, f"before-call.{service}.{op}", make(world)) for service, op, make in FAKES
    ]
    for events, name, hook in hooks:
        events.register(name, hook)
    try:
        world.pipelines, world.delivery = moto_template.install(
            "contract-world", SEEDED_SERVICES, lambda: _seeded(world), on_top_of="orchestrator"
        )
        yield world
    finally:
        for events, name, hook in hooks:
            events.unregister(name, hook)
        orchestrator.close()
        patch.undo()
