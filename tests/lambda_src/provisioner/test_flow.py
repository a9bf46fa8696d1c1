"""End to end without AWS: API request -> registry -> provisioner -> delivery stack -> pipeline events -> status."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lambda_src.common import aws
from lambda_src.provisioner.deploy import WrongEnvironment, deploy
from lambda_src.provisioner.source import spec_from_zip
from lambda_src.registry import Status
from lambda_src.status_events.names import codepipeline_name
from tests.lambda_src.provisioner.promotion_fakes import approved_run

BUCKET = "mlops-assets-111111111111-us-east-1"


def submit(world: Any, body: dict[str, Any]) -> str:
    status, reply = world.api("POST", "/provisionpipeline", body)
    assert status == 202, reply
    assert reply["status"] == "QUEUED"
    pipeline_id: str = reply["pipeline_id"]
    return pipeline_id


def stored(key: str) -> bytes:
    body: bytes = aws.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return body


def build_deploys(world: Any, pipeline_id: str, env: str, fakes: Any) -> None:
    """What the environment's CodeBuild action runs: `mlops deploy` on the run's source artifact, in
    the run whose approval of `env` succeeded (test_promotion.py covers the runs that are not)."""
    spec = spec_from_zip(stored(f"pipelines/{pipeline_id}/source.zip"))
    path = world.tmp / "spec.json"
    path.write_bytes(spec)
    deploy(
        pipeline_id,
        env,
        world.settings,
        spec_file=path,
        runner=fakes.Runner(world.backend),
        registry=world.registry,
        promotion=approved_run(pipeline_id, env),
    )


def test_single_account_request_is_provisioned_deployed_and_deleted(
    single: Any, example_body: Callable[..., dict[str, Any]], fakes: Any, tmp_path: Any
) -> None:
    single.tmp = tmp_path
    pipeline_id = submit(single, example_body("byom_realtime_builtin"))
    name = codepipeline_name(pipeline_id)
    assert single.invocations == [{"action": "provision", "pipeline_id": pipeline_id, "version": 1}]

    single.run_provisioner()

    record = single.record(pipeline_id)
    assert record.status == Status.PROVISIONING
    assert record.codepipeline_name == name
    assert record.outputs["delivery"]["pipeline_name"] == name
    assert ("up", f"{pipeline_id}-delivery") in single.backend.history
    assert single.backend.config[f"{pipeline_id}-delivery"]["aws:region"] == "us-east-1"
    # The delivery source is the request the API stored, zipped for CodeBuild.
    assert spec_from_zip(stored(f"pipelines/{pipeline_id}/source.zip")) == stored(f"pipelines/{pipeline_id}/spec.json")
    # A new pipeline starts its first run by itself: the provisioner does not start a second one.
    assert single.codepipeline.started == []
    [run] = single.codepipeline.executions[name]

    assert single.event(name, run["pipelineExecutionId"], "pipeline", "STARTED")["outcome"] == "PROVISIONING"
    build_deploys(single, pipeline_id, "dev", fakes)
    single.codepipeline.finish(name, "Succeeded")
    single.event(name, run["pipelineExecutionId"], "pipeline", "SUCCEEDED")

    record = single.record(pipeline_id)
    assert record.status == Status.DEPLOYED
    assert record.outputs["dev"] == {"endpoint_name": f"{pipeline_id}-dev-endpoint"}
    # The status function's DEPLOYED joins the history of deployed versions (what a monitor's rollback reads).
    [entry] = record.deployed
    assert (entry["version"], entry["spec_hash"], entry["requested_by"]) == (1, record.spec_hash, record.requested_by)
    assert single.emails() == [f"MLOps pipeline {pipeline_id} is deployed"]

    status, reply = single.api("DELETE", f"/pipelines/{pipeline_id}")
    assert (status, reply["status"]) == (202, "DELETING")
    single.run_provisioner()

    assert single.record(pipeline_id).status == Status.DELETED
    # The delivery stack first: with its pipeline and deploy projects gone, nothing can deploy any more.
    assert single.backend.history[-2:] == [("destroy", f"{pipeline_id}-delivery"), ("destroy", f"{pipeline_id}-dev")]
    assert single.backend.stacks == {}


def test_multi_account_run_waits_for_approvals_and_a_rejection_is_recorded_once(
    multi: Any, example_body: Callable[..., dict[str, Any]], fakes: Any, tmp_path: Any
) -> None:
    multi.tmp = tmp_path
    pipeline_id = submit(multi, example_body("byom_realtime_builtin", "multi"))
    name = codepipeline_name(pipeline_id)
    multi.run_provisioner()
    [run] = multi.codepipeline.executions[name]
    execution = run["pipelineExecutionId"]

    def approval(stage: str, state: str, summary: str = "") -> str:
        result = {"external-execution-summary": summary} if summary else {}
        outcome: str = multi.event(
            name,
            execution,
            "action",
            state,
            stage=stage,
            action=stage,
            type={"owner": "AWS", "category": "Approval", "provider": "Manual", "version": "1"},
            **({"execution-result": result} if result else {}),
        )["outcome"]
        return outcome

    multi.event(name, execution, "pipeline", "STARTED")
    build_deploys(multi, pipeline_id, "dev", fakes)
    assert approval("ApproveStaging", "STARTED") == "AWAITING_APPROVAL"
    assert approval("ApproveStaging", "SUCCEEDED") == "PROVISIONING"
    build_deploys(multi, pipeline_id, "staging", fakes)
    assert approval("ApproveProd", "STARTED") == "AWAITING_APPROVAL"
    assert approval("ApproveProd", "FAILED", "not before the freeze ends") == "REJECTED"
    multi.codepipeline.finish(name, "Failed")
    multi.event(name, execution, "pipeline", "FAILED")

    record = multi.record(pipeline_id)
    assert record.status == Status.REJECTED
    assert "not before the freeze ends" in record.last_error
    assert set(record.outputs) == {"delivery", "dev", "staging"}
    # The approval requests themselves are mailed by CodePipeline; we mail the result, once.
    assert multi.emails() == [f"MLOps pipeline {pipeline_id} was not approved"]


def test_a_changed_request_reruns_the_existing_delivery_pipeline(
    multi: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    body = example_body("byom_realtime_builtin", "multi")
    pipeline_id = submit(multi, body)
    name = codepipeline_name(pipeline_id)
    multi.run_provisioner()
    first = multi.codepipeline.executions[name][0]["pipelineExecutionId"]
    multi.codepipeline.finish(name, "Succeeded")
    multi.event(name, first, "pipeline", "SUCCEEDED")
    multi.emails()
    multi.advance(minutes=60)

    pipeline_id_again = submit(multi, {**body, "tags": {**body.get("tags", {}), "release": "2"}})
    multi.run_provisioner()

    assert pipeline_id_again == pipeline_id
    assert multi.codepipeline.started == [name]
    assert multi.record(pipeline_id).version == 2
    second = multi.codepipeline.executions[name][0]["pipelineExecutionId"]
    assert multi.event(name, second, "pipeline", "STARTED")["outcome"] == "PROVISIONING"
    # A late event of the finished first run does not undo anything: it is not version 2's run.
    multi.codepipeline.finish(name, "Succeeded")
    multi.event(name, second, "pipeline", "SUCCEEDED")
    assert multi.event(name, first, "pipeline", "STARTED")["outcome"] == "stale: not the run of the current request"
    assert multi.event(name, second, "pipeline", "STARTED")["outcome"] == "stale: the execution has finished"
    assert multi.record(pipeline_id).status == Status.DEPLOYED


def test_deleting_stops_the_running_delivery_pipeline_before_destroying_stacks(
    multi: Any, example_body: Callable[..., dict[str, Any]], fakes: Any, tmp_path: Any
) -> None:
    multi.tmp = tmp_path
    pipeline_id = submit(multi, example_body("byom_realtime_builtin", "multi"))
    name = codepipeline_name(pipeline_id)
    multi.run_provisioner()
    [run] = multi.codepipeline.executions[name]
    build_deploys(multi, pipeline_id, "dev", fakes)
    multi.event(
        name,
        run["pipelineExecutionId"],
        "action",
        "STARTED",
        stage="ApproveStaging",
        action="ApproveStaging",
        type={"category": "Approval"},
    )

    status, _ = multi.api("DELETE", f"/pipelines/{pipeline_id}")
    assert status == 202
    multi.run_provisioner()

    assert multi.codepipeline.stopped == [run["pipelineExecutionId"]]
    destroyed = [stack for op, stack in multi.backend.history if op == "destroy"]
    assert destroyed == [f"{pipeline_id}-delivery", f"{pipeline_id}-dev"]  # staging/prod never existed
    assert multi.record(pipeline_id).status == Status.DELETED


def test_the_status_function_handler_ignores_other_pipelines(single: Any) -> None:
    from types import SimpleNamespace

    from lambda_src.status_events.handler import handler

    context = SimpleNamespace(
        function_name="mlops-orch-status",
        memory_limit_in_mb=256,
        invoked_function_arn="arn:aws:lambda:us-east-1:111111111111:function:mlops-orch-status",
        aws_request_id="req-2",
    )
    event = {"detail-type": "CodePipeline Pipeline Execution State Change", "detail": {"pipeline": "other"}}

    assert handler(event, context) == {"outcome": "ignored"}
    ghost = {**event, "detail": {"pipeline": codepipeline_name("ghost-realtime-builtin"), "state": "STARTED"}}
    assert handler(ghost, context) == {"pipeline_id": "ghost-realtime-builtin", "outcome": "unknown pipeline"}


def test_a_user_deploys_from_the_stored_spec_but_only_to_the_pipelines_environments(
    single: Any, example_body: Callable[..., dict[str, Any]], fakes: Any
) -> None:
    pipeline_id = submit(single, example_body("byom_realtime_builtin"))
    runner = fakes.Runner(single.backend)

    outcome = deploy(pipeline_id, "dev", single.settings, runner=runner, s3=aws.client("s3"))

    assert outcome.outputs == {"endpoint_name": f"{pipeline_id}-dev-endpoint"}
    assert single.backend.config[f"{pipeline_id}-dev"]["mlops:environment"] == "dev"
    with pytest.raises(WrongEnvironment, match="deploys to dev, not prod"):
        deploy(pipeline_id, "prod", single.settings, runner=runner, s3=aws.client("s3"))
