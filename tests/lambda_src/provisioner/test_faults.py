"""Every provisioning fault ends in a recorded FAILED status with its reason, and never in a hang."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from lambda_src.common import aws
from lambda_src.provisioner.deploy import deploy
from lambda_src.provisioner.errors import (
    AssumeRoleDenied,
    DeploymentFailed,
    ExternalIdUnavailable,
    PulumiUnavailable,
    StackBusy,
)
from lambda_src.provisioner.runner import AutomationStackRunner, RetryPolicy, RunnerConfig
from lambda_src.registry import Status
from lambda_src.status_events.names import codepipeline_name

BUCKET = "mlops-assets-111111111111-us-east-1"


def submit(world: Any, body: dict[str, Any]) -> str:
    status, reply = world.api("POST", "/provisionpipeline", body)
    assert status in (200, 202), reply
    pipeline_id: str = reply["pipeline_id"]
    return pipeline_id


def test_a_busy_stack_is_recorded_as_retryable_and_the_same_request_can_be_sent_again(
    single: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    single.backend.faults["up"] = [StackBusy("churn-delivery stayed locked by another update")]
    body = example_body("byom_realtime_builtin")
    pipeline_id = submit(single, body)

    single.run_provisioner()

    record = single.record(pipeline_id)
    assert record.status == Status.FAILED
    assert record.last_error.startswith("stack-busy (retryable): ")

    assert submit(single, body) == pipeline_id
    single.run_provisioner()
    assert single.record(pipeline_id).status == Status.PROVISIONING
    assert single.record(pipeline_id).last_error is None


def test_a_missing_pulumi_cli_is_recorded_as_an_operator_problem(
    single: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    single.backend.faults["select"] = [PulumiUnavailable("the pulumi CLI cannot be run: [Errno 2] pulumi")]
    pipeline_id = submit(single, example_body("byom_realtime_builtin"))

    single.run_provisioner()

    record = single.record(pipeline_id)
    assert record.status == Status.FAILED
    assert record.last_error.startswith("pulumi-unavailable: ")


def test_a_denied_deploy_role_fails_the_deletion_and_a_second_delete_finishes_it(
    multi: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    pipeline_id = submit(multi, example_body("byom_realtime_builtin", "multi"))
    multi.run_provisioner()
    name = codepipeline_name(pipeline_id)
    multi.codepipeline.finish(name, "Succeeded")
    multi.event(name, multi.codepipeline.executions[name][0]["pipelineExecutionId"], "pipeline", "SUCCEEDED")
    multi.backend.stacks[f"{pipeline_id}-staging"] = {"endpoint_name": "x"}
    multi.backend.faults["destroy"] = [AssumeRoleDenied("mlops-staging-deploy refused sts:AssumeRole")]

    multi.api("DELETE", f"/pipelines/{pipeline_id}")
    multi.run_provisioner()

    record = multi.record(pipeline_id)
    assert record.status == Status.FAILED
    assert record.last_error.startswith("assume-role-denied: ")
    assert f"{pipeline_id}-delivery" in multi.backend.stacks  # nothing after the failure was touched

    status, _ = multi.api("DELETE", f"/pipelines/{pipeline_id}")
    assert status == 202
    multi.run_provisioner()
    assert multi.record(pipeline_id).status == Status.DELETED
    assert multi.backend.stacks == {}


def test_a_missing_spec_object_is_recorded(single: Any, example_body: Callable[..., dict[str, Any]]) -> None:
    pipeline_id = submit(single, example_body("byom_realtime_builtin"))
    aws.client("s3").delete_object(Bucket=BUCKET, Key=f"pipelines/{pipeline_id}/spec.json")

    single.run_provisioner()

    record = single.record(pipeline_id)
    assert record.status == Status.FAILED
    assert record.last_error.startswith("spec-unavailable: ")
    assert single.backend.history == []


def test_an_unexpected_error_is_recorded_as_a_retryable_failure(
    single: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    single.backend.faults["up"] = [RuntimeError("connection reset by peer")]
    pipeline_id = submit(single, example_body("byom_realtime_builtin"))

    single.run_provisioner()

    assert single.record(pipeline_id).last_error.startswith("deployment-failed (retryable): ")


def test_a_run_about_to_time_out_is_recorded_before_lambda_cuts_it_off(
    single: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    pipeline_id = submit(single, example_body("byom_realtime_builtin"))
    released = threading.Event()
    single.backend.block = lambda: released.wait(timeout=5)
    provisioner = single.provisioner()
    record_failure = provisioner._fail

    def fail_then_release(*args: Any) -> None:
        record_failure(*args)
        released.set()

    provisioner._fail = fail_then_release
    # 30.05 s left: the watchdog (30 s margin) fires after 50 ms.
    context = SimpleNamespace(get_remaining_time_in_millis=lambda: 30_050)
    payload = single.invocations.pop(0)

    provisioner.provision(payload["pipeline_id"], payload["version"], context)

    assert released.is_set()
    record = single.record(pipeline_id)
    assert record.status == Status.FAILED
    assert record.last_error.startswith("timed-out (retryable): ")


def test_a_duplicate_delivery_of_the_same_request_runs_once(
    single: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    submit(single, example_body("byom_realtime_builtin"))
    payload = dict(single.invocations[0])

    single.run_provisioner()
    single.invocations.append(payload)
    result = single.run_provisioner()

    assert result["skipped"] == "PROVISIONING v1"
    assert [op for op, _ in single.backend.history].count("up") == 1


def test_a_failed_deploy_build_keeps_its_cause_through_the_pipeline_failure(
    single: Any, example_body: Callable[..., dict[str, Any]], fakes: Any, tmp_path: Path
) -> None:
    pipeline_id = submit(single, example_body("byom_realtime_builtin"))
    name = codepipeline_name(pipeline_id)
    single.run_provisioner()
    [run] = single.codepipeline.executions[name]
    spec = tmp_path / "spec.json"
    spec.write_bytes(
        aws.client("s3").get_object(Bucket=BUCKET, Key=f"pipelines/{pipeline_id}/spec.json")["Body"].read()
    )
    single.backend.faults["up"] = [DeploymentFailed("creating SageMaker Endpoint: ResourceLimitExceeded")]

    with pytest.raises(DeploymentFailed):
        deploy(
            pipeline_id,
            "dev",
            single.settings,
            spec_file=spec,
            runner=fakes.Runner(single.backend),
            registry=single.registry,
        )
    single.event(
        name,
        run["pipelineExecutionId"],
        "action",
        "FAILED",
        stage="Deploy",
        action="Deploy",
        type={"category": "Build"},
        **{"execution-result": {"external-execution-summary": "Build terminated with state: FAILED"}},
    )
    single.codepipeline.finish(name, "Failed")
    single.event(name, run["pipelineExecutionId"], "pipeline", "FAILED")

    record = single.record(pipeline_id)
    assert record.status == Status.FAILED
    assert "ResourceLimitExceeded" in record.last_error and record.last_error.startswith("deployment-failed")
    assert single.emails() == [f"MLOps pipeline {pipeline_id} failed"]


def test_a_deploy_build_whose_external_id_parameter_is_missing_records_an_operator_problem(
    single: Any, example_body: Callable[..., dict[str, Any]], fakes: Any, tmp_path: Path
) -> None:
    pipeline_id = submit(single, example_body("byom_realtime_builtin"))
    single.run_provisioner()
    spec = tmp_path / "spec.json"
    spec.write_bytes(
        aws.client("s3").get_object(Bucket=BUCKET, Key=f"pipelines/{pipeline_id}/spec.json")["Body"].read()
    )
    settings = replace(single.settings, deploy_role_external_id_parameter="/mlops/deploy-role-external-id")
    history = list(single.backend.history)

    with pytest.raises(ExternalIdUnavailable):
        deploy(
            pipeline_id, "dev", settings, spec_file=spec, runner=fakes.Runner(single.backend), registry=single.registry
        )

    last_error = single.record(pipeline_id).last_error
    assert last_error.startswith("external-id-unavailable: dev: ")
    assert "/mlops/deploy-role-external-id" in last_error
    assert single.backend.history == history  # no stack was touched


def test_the_real_runner_reports_a_held_lock_as_a_recorded_busy_stack(
    single: Any, example_body: Callable[..., dict[str, Any]], fake_pulumi: Any, tmp_path: Path
) -> None:
    lock = (
        "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end "
        "or delete the lock file with `pulumi cancel`.\n  s3://state/.pulumi/locks/x.json: "
        "created by runner@build (pid 7) at 2099-01-01T00:00:00Z"
    )
    fake_pulumi.fail_next("up", lock, lock)
    sleeps: list[float] = []
    config = RunnerConfig(
        backend_url="s3://state?region=us-east-1",
        secrets_provider="awskms://alias/mlops-pulumi-secrets?region=us-east-1",
        pulumi_home=str(tmp_path / "home"),
        pulumi_root=str(fake_pulumi.root),
    )
    provisioner = single.provisioner()
    provisioner.runners = lambda retry: AutomationStackRunner(
        config, retry=RetryPolicy(attempts=2, stale_lock_after=retry.stale_lock_after), sleep=sleeps.append
    )
    pipeline_id = submit(single, example_body("byom_realtime_builtin"))
    payload = single.invocations.pop(0)

    provisioner.provision(payload["pipeline_id"], payload["version"])

    record = single.record(pipeline_id)
    assert record.status == Status.FAILED
    assert record.last_error.startswith("stack-busy (retryable): ")
    assert sleeps == [5.0]
    assert fake_pulumi.commands().count("up") == 2


def test_the_real_runner_records_pending_creates_of_a_killed_run_for_an_operator_and_keeps_them(
    single: Any, example_body: Callable[..., dict[str, Any]], fake_pulumi: Any, tmp_path: Path
) -> None:
    pipeline_id = submit(single, example_body("byom_realtime_builtin"))
    stack = f"{pipeline_id}-delivery"
    pipeline_urn = f"urn:pulumi:{stack}::mlops-pipelines::aws:codepipeline/pipeline:Pipeline::{pipeline_id}-pipeline"
    fake_pulumi.fail_next(
        "up",
        "error: the current deployment has 1 resource(s) with pending operations:\n"
        f"  * {pipeline_urn}, interrupted while creating",
    )
    fake_pulumi.leave_pending("creating", pipeline_urn)
    config = RunnerConfig(
        backend_url="s3://state?region=us-east-1",
        secrets_provider="awskms://alias/mlops-pulumi-secrets?region=us-east-1",
        pulumi_home=str(tmp_path / "home"),
        pulumi_root=str(fake_pulumi.root),
    )
    provisioner = single.provisioner()
    provisioner.runners = lambda retry: AutomationStackRunner(config, retry=retry, sleep=lambda _: None)
    payload = single.invocations.pop(0)

    provisioner.provision(payload["pipeline_id"], payload["version"])

    record = single.record(pipeline_id)
    assert record.status == Status.FAILED
    assert record.last_error.startswith("pending-creates: ")  # not retryable: an operator decides
    assert pipeline_urn in record.last_error and f"--stack {stack}" in record.last_error
    assert not any("--clear-pending-creates" in call["argv"] for call in fake_pulumi.calls())
    assert "refresh" not in fake_pulumi.commands()
    assert fake_pulumi.state()["pending_operations"][0]["resource"]["urn"] == pipeline_urn


def test_a_provisioner_killed_mid_run_is_marked_failed_through_its_failure_destination(
    single: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    from lambda_src.status_events import records
    from lambda_src.status_events.handler import handler

    pipeline_id = submit(single, example_body("byom_realtime_builtin"))
    payload = single.invocations.pop(0)
    records.set_status(single.registry, pipeline_id, Status.PROVISIONING)  # the run claimed it, then died
    destination_record = {
        "version": "1.0",
        "requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": 1},
        "requestPayload": payload,
        "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": "Task timed out after 900.10 seconds"},
    }
    context = SimpleNamespace(
        function_name="mlops-orch-status",
        memory_limit_in_mb=256,
        invoked_function_arn="arn:aws:lambda:us-east-1:111111111111:function:mlops-orch-status",
        aws_request_id="req-3",
    )

    assert handler(destination_record, context)["outcome"] == "FAILED"
    record = single.record(pipeline_id)
    assert record.last_error.startswith("provisioner-crashed (retryable): ")
    assert "Task timed out" in record.last_error
    assert single.emails() == [f"MLOps pipeline {pipeline_id} failed"]
    # A late record of the same run changes nothing once the request was sent again.
    submit(single, example_body("byom_realtime_builtin"))
    assert handler(destination_record, context)["outcome"] == "no change"
