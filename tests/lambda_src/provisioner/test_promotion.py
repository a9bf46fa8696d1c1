"""Promotion that cannot be bypassed: `mlops deploy` to staging or prod runs only in the delivery
pipeline's run whose approval for it succeeded, as CodeBuild and CodePipeline tell (fakes and
botocore's Stubber: moto has neither a build's initiator nor ListActionExecutions)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from typer.testing import CliRunner

from lambda_src.common import aws
from lambda_src.provisioner import deploy as deploy_module
from lambda_src.provisioner.deploy import deploy
from lambda_src.provisioner.errors import BeingDeleted
from lambda_src.provisioner.promotion import Promotion, PromotionRefused
from lambda_src.registry import Status
from mlops_cli.main import app
from tests.lambda_src.provisioner.promotion_fakes import MANUAL, DeliveryRun, approved_run
from tests.support.provisioner_settings import example_spec, make_settings

PIPELINE_ID = "churn-xgb-realtime-builtin"
BUCKET = "mlops-assets-111111111111-us-east-1"


# -- which deployments are gated ---------------------------------------------------------------------
def test_staging_and_prod_of_a_multi_account_pipeline_are_gated_and_dev_is_not() -> None:
    spec, settings = example_spec("byom_realtime_builtin", "multi"), make_settings("multi")
    outside_codebuild = Promotion(build_id=None)

    assert [outside_codebuild.required(spec, env, settings) for env in ("dev", "staging", "prod")] == [
        False,
        True,
        True,
    ]


def test_single_account_installs_and_single_environment_types_are_not_gated() -> None:
    single_prod = make_settings("single", accounts={"prod": "444444444444"}, orchestrator_environment="prod")
    training = example_spec("model_training_builtin", "multi")

    assert not Promotion(build_id=None).required(example_spec(), "dev", make_settings("single"))
    assert not Promotion(build_id=None).required(example_spec(), "prod", single_prod)
    assert not Promotion(build_id=None).required(training, "dev", make_settings("multi"))


def test_build_variables_that_claim_a_single_account_install_do_not_lift_the_gate() -> None:
    """A build of the orchestrator account (111111111111) told it is a single-account install whose
    home is prod still deploys into the prod account (333333333333): that is a promotion."""
    run = DeliveryRun(PIPELINE_ID, "prod", initiator="alice")
    forged = make_settings(
        "single",
        accounts={"dev": "111111111111", "prod": "333333333333"},
        orchestrator_environment="prod",
    )

    assert run.promotion().required(example_spec(), "prod", forged)


# -- what proves an approved run -----------------------------------------------------------------------
def test_the_approved_runs_build_is_let_through_after_reading_build_state_and_approval() -> None:
    run = DeliveryRun(PIPELINE_ID, "prod")

    assert run.promotion().verify(PIPELINE_ID, "prod") == "run-7"
    assert [name for name, _ in run.calls] == [
        "batch_get_builds",
        "get_pipeline_state",
        "list_action_executions",
        "list_action_executions",
    ]
    assert run.calls[0][1] == {"ids": [run.build_id]}
    assert run.calls[2][1] == {"pipelineName": run.pipeline, "filter": {"pipelineExecutionId": "run-7"}}


REFUSALS: dict[str, tuple[dict[str, Any], str]] = {
    "started by a person": ({"initiator": "alice"}, "was started by alice, not by the delivery pipeline"),
    "started by another pipeline": (
        {"initiator": "codepipeline/mlops-0badcafe-someone-else"},
        "was started by codepipeline/mlops-0badcafe-someone-else",
    ),
    "a dev project deploying prod": (
        {"project": f"mlops-deploy-{PIPELINE_ID}-dev"},
        f"is of project mlops-deploy-{PIPELINE_ID}-dev, not mlops-deploy-{PIPELINE_ID}-prod",
    ),
    "an old build named by a forged id": ({"build_status": "SUCCEEDED"}, "is SUCCEEDED, not running"),
    "the action runs another build": ({"running_build": "other:1"}, "DeployProd action is not running build"),
    "the action has finished": ({"action_status": "Succeeded"}, "DeployProd action is not running build"),
    "approval rejected": ({"approval_status": "Failed"}, "has no succeeded ApproveProd approval"),
    "approval still waiting": ({"approval_status": "InProgress"}, "has no succeeded ApproveProd approval"),
    "approval missing": ({"approval_status": None}, "has no succeeded ApproveProd approval"),
    "an approval of an earlier run": ({"approval_execution_id": "run-6"}, "has no succeeded ApproveProd approval"),
    "an action named like the approval": (
        {"approval_type": {**MANUAL, "category": "Invoke", "provider": "Lambda"}},
        "has no succeeded ApproveProd approval",
    ),
}


@pytest.mark.parametrize("change", REFUSALS.values(), ids=list(REFUSALS))
def test_anything_but_the_approved_runs_build_is_refused(change: tuple[dict[str, Any], str]) -> None:
    fields, message = change
    run = DeliveryRun(PIPELINE_ID, "prod", **fields)

    with pytest.raises(PromotionRefused) as refused:
        run.promotion().verify(PIPELINE_ID, "prod")

    assert message in refused.value.message
    assert refused.value.reason == "promotion-refused" and not refused.value.retryable
    assert "\n" not in refused.value.message


def test_outside_codebuild_nothing_proves_an_approval() -> None:
    with pytest.raises(PromotionRefused, match=r"only by mlops-.*'s DeployStaging action after ApproveStaging"):
        Promotion.from_environment({}).verify(PIPELINE_ID, "staging")


class Failing:
    """A client whose every call fails with `code`."""

    def __init__(self, code: str):
        self.code = code

    def __getattr__(self, operation: str) -> Callable[..., Any]:
        def call(**_: Any) -> Any:
            raise ClientError({"Error": {"Code": self.code, "Message": "no"}}, operation)

        return call


@pytest.mark.parametrize(("code", "retryable"), [("ThrottlingException", True), ("AccessDeniedException", False)])
def test_a_run_that_cannot_be_read_is_refused_retryably_only_when_aws_was_busy(code: str, retryable: bool) -> None:
    run = DeliveryRun(PIPELINE_ID, "prod")
    promotion = Promotion(build_id=run.build_id, build_arn=run.build_arn, codebuild=run, codepipeline=Failing(code))

    with pytest.raises(PromotionRefused) as refused:
        promotion.verify(PIPELINE_ID, "prod")

    assert code in refused.value.message and refused.value.retryable is retryable


# -- the real clients' shapes (botocore validates every request and answer against the service model) --
@pytest.fixture
def stubbed(aws_credentials: None) -> Iterator[tuple[Any, Any, Stubber, Stubber]]:
    session = botocore.session.get_session()
    codebuild = session.create_client("codebuild", region_name="us-east-1")
    codepipeline = session.create_client("codepipeline", region_name="us-east-1")
    with Stubber(codebuild) as builds, Stubber(codepipeline) as pipelines:
        yield codebuild, codepipeline, builds, pipelines


def test_the_checks_are_well_formed_calls_of_the_real_apis(stubbed: tuple[Any, Any, Stubber, Stubber]) -> None:
    codebuild, codepipeline, builds, pipelines = stubbed
    fake = DeliveryRun(PIPELINE_ID, "staging")
    builds.add_response("batch_get_builds", fake.batch_get_builds([fake.build_id]), {"ids": [fake.build_id]})
    pipelines.add_response("get_pipeline_state", fake.get_pipeline_state(fake.pipeline), {"name": fake.pipeline})
    execution = {"pipelineExecutionId": "run-7"}
    first = fake.list_action_executions(fake.pipeline, execution)
    pipelines.add_response("list_action_executions", first, {"pipelineName": fake.pipeline, "filter": execution})
    pipelines.add_response(
        "list_action_executions",
        fake.list_action_executions(fake.pipeline, execution, nextToken="page-2"),
        {"pipelineName": fake.pipeline, "filter": execution, "nextToken": "page-2"},
    )
    promotion = Promotion(fake.build_id, fake.build_arn, codebuild=codebuild, codepipeline=codepipeline)

    assert promotion.verify(PIPELINE_ID, "staging") == "run-7"
    builds.assert_no_pending_responses()
    pipelines.assert_no_pending_responses()


# -- through deploy() and `mlops deploy` -------------------------------------------------------------------
def provisioning(world: Any, example_body: Callable[..., dict[str, Any]], tmp_path: Path) -> tuple[str, Path]:
    """A multi-account request the provisioner has handed to its delivery pipeline, and its spec file."""
    status, reply = world.api("POST", "/provisionpipeline", example_body("byom_realtime_builtin", "multi"))
    assert status == 202, reply
    world.run_provisioner()
    pipeline_id: str = reply["pipeline_id"]
    spec = tmp_path / "spec.json"
    spec.write_bytes(
        aws.client("s3").get_object(Bucket=BUCKET, Key=f"pipelines/{pipeline_id}/spec.json")["Body"].read()
    )
    return pipeline_id, spec


def test_a_refused_promotion_fails_the_pipeline_and_touches_no_stack(
    multi: Any, example_body: Callable[..., dict[str, Any]], fakes: Any, tmp_path: Path
) -> None:
    pipeline_id, spec = provisioning(multi, example_body, tmp_path)
    history = list(multi.backend.history)
    run = DeliveryRun(pipeline_id, "prod", initiator="alice")

    with pytest.raises(PromotionRefused):
        deploy(
            pipeline_id,
            "prod",
            multi.settings,
            spec_file=spec,
            runner=fakes.Runner(multi.backend),
            registry=multi.registry,
            promotion=run.promotion(),
        )

    record = multi.record(pipeline_id)
    assert record.status == Status.FAILED
    assert record.last_error.startswith("promotion-refused: prod: build mlops-deploy-")
    assert "was started by alice" in record.last_error
    assert multi.backend.history == history


def test_a_deploy_during_a_deletion_is_refused_and_leaves_the_deletion_alone(
    multi: Any, example_body: Callable[..., dict[str, Any]], fakes: Any, tmp_path: Path
) -> None:
    pipeline_id, spec = provisioning(multi, example_body, tmp_path)
    assert multi.api("DELETE", f"/pipelines/{pipeline_id}")[0] == 202

    # Refused before the promotion is even asked about: the pipeline is going.
    with pytest.raises(BeingDeleted):
        deploy(
            pipeline_id, "staging", multi.settings, spec_file=spec, registry=multi.registry, promotion=Promotion(None)
        )

    assert multi.record(pipeline_id).status == Status.DELETING


def test_the_approved_run_deploys_and_records_its_outputs(
    multi: Any, example_body: Callable[..., dict[str, Any]], fakes: Any, tmp_path: Path
) -> None:
    pipeline_id, spec = provisioning(multi, example_body, tmp_path)

    outcome = deploy(
        pipeline_id,
        "prod",
        multi.settings,
        spec_file=spec,
        runner=fakes.Runner(multi.backend),
        registry=multi.registry,
        promotion=approved_run(pipeline_id, "prod"),
    )

    assert outcome.outputs == {"endpoint_name": f"{pipeline_id}-prod-endpoint"}
    assert ("up", f"{pipeline_id}-prod") in multi.backend.history
    assert multi.record(pipeline_id).outputs["prod"] == outcome.outputs


@pytest.fixture
def command(multi: Any, fakes: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """`mlops deploy` as a build runs it: the provisioner's settings in its environment, CodeBuild's
    variables of `run` (none outside CodeBuild), `run` answering CodeBuild and CodePipeline."""
    for key, value in multi.settings.as_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(deploy_module, "AutomationStackRunner", lambda config, retry: fakes.Runner(multi.backend))

    def invoke(pipeline_id: str, env: str, spec: Path, run: DeliveryRun | None = None) -> Any:
        for key in ("CODEBUILD_BUILD_ID", "CODEBUILD_BUILD_ARN"):
            monkeypatch.delenv(key, raising=False)
        if run is not None:
            for key, value in run.environment().items():
                monkeypatch.setenv(key, value)
            monkeypatch.setitem(aws._clients, "codebuild", run)
            monkeypatch.setitem(aws._clients, "codepipeline", run)
        arguments = ["deploy", "--pipeline-id", pipeline_id, "--env", env, "--spec-file", str(spec)]
        return CliRunner().invoke(app, arguments)

    return invoke


def test_mlops_deploy_refuses_a_build_started_by_hand_with_one_line_and_a_failed_pipeline(
    multi: Any, example_body: Callable[..., dict[str, Any]], command: Callable[..., Any], tmp_path: Path
) -> None:
    pipeline_id, spec = provisioning(multi, example_body, tmp_path)
    history = list(multi.backend.history)

    result = command(pipeline_id, "prod", spec, DeliveryRun(pipeline_id, "prod", initiator="alice"))

    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert line.startswith("error: promotion-refused: build mlops-deploy-") and "started by alice" in line
    assert multi.record(pipeline_id).status == Status.FAILED
    assert multi.backend.history == history


def test_mlops_deploy_outside_codebuild_refuses_staging(
    multi: Any, example_body: Callable[..., dict[str, Any]], command: Callable[..., Any], tmp_path: Path
) -> None:
    pipeline_id, spec = provisioning(multi, example_body, tmp_path)

    result = command(pipeline_id, "staging", spec)

    assert result.exit_code == 1
    assert "error: promotion-refused: staging is deployed only by" in result.output
    assert ("up", f"{pipeline_id}-staging") not in multi.backend.history


def test_mlops_deploy_in_the_approved_run_and_to_dev_deploys_as_before(
    multi: Any, example_body: Callable[..., dict[str, Any]], command: Callable[..., Any], tmp_path: Path
) -> None:
    pipeline_id, spec = provisioning(multi, example_body, tmp_path)

    dev = command(pipeline_id, "dev", spec)
    prod = command(pipeline_id, "prod", spec, DeliveryRun(pipeline_id, "prod"))

    assert (dev.exit_code, prod.exit_code) == (0, 0), dev.output + prod.output
    assert json.loads(prod.output.strip().splitlines()[-1]) == {
        "outputs": {"endpoint_name": f"{pipeline_id}-prod-endpoint"},
        "stack": f"{pipeline_id}-prod",
    }
    assert set(multi.record(pipeline_id).outputs) >= {"dev", "prod"}
