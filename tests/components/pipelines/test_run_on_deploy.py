"""Running a one-off job on deploy: the RunOnDeploy component, its plain decisions, and the event it sends."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pulumi
import pytest

from components.pipelines import run_on_deploy
from components.pipelines.base import PipelineContext
from lambda_src.job_starter.handler import StarterEvent
from mlops_cli.mocks import PlanRecorder, policy_of

MACHINE_ARN = "arn:aws:states:us-east-1:111111111111:stateMachine:churn-dev-baseline"
KEY = "arn:aws:kms:us-east-1:111111111111:key/11111111-1111-1111-1111-111111111111"
TOPIC = "arn:aws:sns:us-east-1:111111111111:mlops-notifications"


# -- the starter Lambda's contract ---------------------------------------------------------------
def test_the_starter_event_is_what_the_job_starter_reads() -> None:
    """The deploy writes the event here; lambda_src/job_starter reads it (its rules are tested there)."""
    event = run_on_deploy.starter_event(MACHINE_ARN, "churn-dev-baseline-ab12cd", 63, True)
    assert set(event) == set(StarterEvent.__required_keys__)
    assert event == {
        "state_machine_arn": MACHINE_ARN,
        "run_name": "churn-dev-baseline-ab12cd",
        "name_limit": 63,
        "wait": True,
    }


# -- plain decisions -------------------------------------------------------------------------
def test_starter_may_read_only_its_own_machines_executions() -> None:
    statements = run_on_deploy.starter_statements(MACHINE_ARN, "arn:aws:logs:us-east-1:1:log-group:/aws/lambda/x", KEY)
    by_action = {action: s["Resource"] for s in statements for action in s["Action"]}
    assert by_action["states:StartExecution"] == [MACHINE_ARN]
    assert by_action["states:DescribeExecution"] == [
        "arn:aws:states:us-east-1:111111111111:execution:churn-dev-baseline:*"
    ]
    assert by_action["kms:GenerateDataKey"] == [KEY]


def test_only_log_delivery_is_granted_on_every_resource() -> None:
    statements = run_on_deploy.state_machine_statements([], KEY)
    wildcard = [s for s in statements if s["Resource"] == "*"]
    assert wildcard == [run_on_deploy.log_delivery()]
    assert all(action.startswith("logs:") for action in wildcard[0]["Action"])


def test_task_definition_runs_one_job_and_waits() -> None:
    definition = run_on_deploy.task_definition("c", "arn:aws:states:::sagemaker:createProcessingJob.sync", {"A": 1}, 60)
    assert definition["StartAt"] == "RunJob"
    assert definition["States"]["RunJob"] == {
        "Type": "Task",
        "Resource": "arn:aws:states:::sagemaker:createProcessingJob.sync",
        "Parameters": {"A": 1},
        "End": True,
    }
    assert definition["TimeoutSeconds"] == 60


# -- the component ---------------------------------------------------------------------------
def context(topic: str | None = TOPIC, account_id: str = "111111111111") -> PipelineContext:
    return PipelineContext(
        environment="dev",
        account_id=account_id,
        region="us-east-1",
        orchestrator_account_id="111111111111",
        kms_key_arn=KEY,
        artifacts_bucket="mlops-dev-artifacts",
        assets_bucket="mlops-assets",
        notification_topic_arn=topic,
    )


def run(
    recorder: PlanRecorder,
    wait: bool = False,
    topic: str | None = TOPIC,
    account_id: str = "111111111111",
    name: str = "job",
    machine_name: str = "churn-dev-job",
) -> None:
    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        component = run_on_deploy.RunOnDeploy(
            name,
            context=context(topic, account_id),
            machine_name=machine_name,
            definition=json.dumps(run_on_deploy.task_definition("c", "arn:r", {}, 60)),
            job_statements=[{"Effect": "Allow", "Action": ["x:Y"], "Resource": ["arn:aws:x:::y"]}],
            run_name="churn-dev-job-ab12cd",
            name_limit=63,
            wait=wait,
            tags={"mlops:pipeline-id": "churn"},
        )

        def check(arn: str) -> None:
            assert arn.endswith(machine_name)

        return component.state_machine_arn.apply(check)

    program()


def test_state_machine_is_encrypted_and_logs_to_an_encrypted_group(pulumi_mocks: PlanRecorder) -> None:
    run(pulumi_mocks)
    machine = pulumi_mocks.named("aws:sfn/stateMachine:StateMachine", "job-machine").inputs
    assert machine["encryptionConfiguration"]["type"] == "CUSTOMER_MANAGED_KMS_KEY"
    assert machine["encryptionConfiguration"]["kmsKeyId"] == KEY
    assert machine["loggingConfiguration"]["logDestination"].endswith("/aws/vendedlogs/states/churn-dev-job:*")
    groups = pulumi_mocks.of_type("aws:cloudwatch/logGroup:LogGroup")
    assert groups and all(g.inputs["kmsKeyId"] == KEY for g in groups)


def test_the_run_starts_once_per_run_name(pulumi_mocks: PlanRecorder) -> None:
    run(pulumi_mocks)
    [invocation] = pulumi_mocks.of_type("aws:lambda/invocation:Invocation")
    assert invocation.inputs["triggers"] == {"run_name": "churn-dev-job-ab12cd"}
    payload = json.loads(invocation.inputs["input"])
    assert payload["run_name"] == "churn-dev-job-ab12cd" and payload["name_limit"] == 63
    assert payload["state_machine_arn"].endswith("churn-dev-job")


def test_a_waiting_starter_may_run_for_lambdas_full_limit(pulumi_mocks: PlanRecorder) -> None:
    run(pulumi_mocks, wait=True)
    [function] = pulumi_mocks.of_type("aws:lambda/function:Function")
    assert function.inputs["timeout"] == 900
    assert json.loads(pulumi_mocks.of_type("aws:lambda/invocation:Invocation")[0].inputs["input"])["wait"] is True


def test_roles_trust_their_one_service_in_this_account(pulumi_mocks: PlanRecorder) -> None:
    run(pulumi_mocks)
    trusts = {
        r.name: json.loads(r.inputs["assumeRolePolicy"])["Statement"][0]
        for r in pulumi_mocks.of_type("aws:iam/role:Role")
    }
    assert trusts["job-role"]["Principal"] == {"Service": "states.amazonaws.com"}
    assert trusts["job-starter-role"]["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert all(t["Condition"] == {"StringEquals": {"aws:SourceAccount": "111111111111"}} for t in trusts.values())
    machine_policy = policy_of(pulumi_mocks.named("aws:iam/rolePolicy:RolePolicy", "job-role-policy"))
    assert {"Effect": "Allow", "Action": ["x:Y"], "Resource": ["arn:aws:x:::y"]} in machine_policy["Statement"]


def test_run_endings_are_announced_on_the_notification_topic(pulumi_mocks: PlanRecorder) -> None:
    run(pulumi_mocks)
    [rule] = pulumi_mocks.of_type("aws:cloudwatch/eventRule:EventRule")
    pattern = json.loads(rule.inputs["eventPattern"])
    assert pattern["detail"]["status"] == ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]
    [target] = pulumi_mocks.of_type("aws:cloudwatch/eventTarget:EventTarget")
    assert target.inputs["arn"] == TOPIC


def test_no_topic_no_announcement(pulumi_mocks: PlanRecorder) -> None:
    run(pulumi_mocks, topic=None)
    assert not pulumi_mocks.of_type("aws:cloudwatch/eventRule:EventRule")


def test_runs_in_the_orchestrators_account_announce_on_its_topic(pulumi_mocks: PlanRecorder) -> None:
    run(pulumi_mocks, account_id="111111111111")
    [rule] = pulumi_mocks.of_type("aws:cloudwatch/eventRule:EventRule")
    assert rule.inputs["name"] == "churn-dev-job-finished"
    [target] = pulumi_mocks.of_type("aws:cloudwatch/eventTarget:EventTarget")
    assert (target.inputs["rule"], target.inputs["arn"]) == ("churn-dev-job-finished", TOPIC)


def test_runs_in_another_account_make_no_rule_the_topic_would_refuse(pulumi_mocks: PlanRecorder) -> None:
    """The orchestrator's topic admits events from its own account only: a rule in a staging or prod
    account could never deliver to it."""
    run(pulumi_mocks, account_id="222222222222")
    assert not pulumi_mocks.of_type("aws:cloudwatch/eventRule:EventRule")
    assert not pulumi_mocks.of_type("aws:cloudwatch/eventTarget:EventTarget")
    # The run itself is unaffected.
    assert pulumi_mocks.of_type("aws:lambda/invocation:Invocation")


def test_roles_and_rule_have_bounded_names_however_long_the_machine_name(pulumi_mocks: PlanRecorder) -> None:
    """Autonaming (logical name + 8 characters) overran IAM's and EventBridge's 64-character limits."""
    machine_name = "m" * 80
    run(pulumi_mocks, name="p" * 40 + "-baseline", machine_name=machine_name)
    names = {r.name: r.inputs["name"] for r in pulumi_mocks.of_type("aws:iam/role:Role")}
    [rule] = pulumi_mocks.of_type("aws:cloudwatch/eventRule:EventRule")
    names[rule.name] = rule.inputs["name"]
    assert set(names) == {
        "p" * 40 + "-baseline-role",
        "p" * 40 + "-baseline-starter-role",
        "p" * 40 + "-baseline-finished",
    }
    assert all(len(name) <= 64 and name.startswith("m" * 50) for name in names.values())
    assert len(set(names.values())) == 3
    assert {r.inputs["path"] for r in pulumi_mocks.of_type("aws:iam/role:Role")} == {"/mlops/"}


def test_a_run_name_longer_than_the_job_name_limit_is_refused(pulumi_mocks: PlanRecorder) -> None:
    with pytest.raises(ValueError, match="longer than 32"):
        run_on_deploy.RunOnDeploy(
            "job",
            context=context(),
            machine_name="m",
            definition="{}",
            job_statements=[],
            run_name="x" * 33,
            name_limit=32,
            tags={},
        )


def test_the_starter_ships_the_job_starter_package_alone(pulumi_mocks: PlanRecorder) -> None:
    run(pulumi_mocks)
    [function] = pulumi_mocks.of_type("aws:lambda/function:Function")
    module, _, entry = function.inputs["handler"].rpartition(".")
    assert (module, entry) == ("lambda_src.job_starter.handler", "handler")
    assert callable(getattr(importlib.import_module(module), entry))
    assert sorted(function.inputs["code"].assets) == [
        "lambda_src/__init__.py",
        "lambda_src/job_starter/__init__.py",
        "lambda_src/job_starter/handler.py",
    ]
