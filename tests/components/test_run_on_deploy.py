"""Running a one-off job on deploy: the starter Lambda's run/retry/wait rules, and the RunOnDeploy component."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pulumi
import pytest
from botocore.stub import Stubber

from components.pipelines import run_on_deploy
from components.pipelines.base import PipelineContext
from mlops_cli.mocks import PlanRecorder, policy_of

MACHINE_ARN = "arn:aws:states:us-east-1:111111111111:stateMachine:churn-dev-baseline"
KEY = "arn:aws:kms:us-east-1:111111111111:key/11111111-1111-1111-1111-111111111111"
TOPIC = "arn:aws:sns:us-east-1:111111111111:mlops-notifications"


# -- the starter Lambda ----------------------------------------------------------------------
class FakeLambdaContext:
    def __init__(self, remaining_millis: int = 600_000):
        self.remaining_millis = remaining_millis

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_millis


@pytest.fixture
def starter(aws_credentials: None) -> Any:
    """The starter's module, loaded from its source, with a stubbed Step Functions client."""
    namespace: dict[str, Any] = {}
    exec(compile(run_on_deploy.STARTER_SOURCE, "index.py", "exec"), namespace)
    client = boto3.client("stepfunctions", region_name="us-east-1")
    namespace["sfn"] = client
    namespace["POLL_SECONDS"] = 0
    with Stubber(client) as stubber:
        namespace["stubber"] = stubber
        yield namespace
        stubber.assert_no_pending_responses()


def execution(name: str, status: str) -> dict[str, Any]:
    return {
        "executionArn": f"{MACHINE_ARN.replace(':stateMachine:', ':execution:')}:{name}",
        "stateMachineArn": MACHINE_ARN,
        "name": name,
        "status": status,
        "startDate": datetime(2026, 11, 1, tzinfo=UTC),
    }


def expect_executions(starter: Any, *executions: dict[str, Any]) -> None:
    starter["stubber"].add_response(
        "list_executions", {"executions": list(executions)}, {"stateMachineArn": MACHINE_ARN}
    )


def expect_start(starter: Any, name: str) -> None:
    starter["stubber"].add_response(
        "start_execution",
        {"executionArn": execution(name, "RUNNING")["executionArn"], "startDate": datetime(2026, 11, 1, tzinfo=UTC)},
        {"stateMachineArn": MACHINE_ARN, "name": name, "input": "{}"},
    )


def expect_status(starter: Any, name: str, status: str, cause: str | None = None) -> None:
    response = {**execution(name, status), "input": "{}"}
    if cause:
        response["cause"] = cause
    starter["stubber"].add_response(
        "describe_execution", response, {"executionArn": execution(name, status)["executionArn"]}
    )


def event(run_name: str = "churn-dev-baseline-ab12cd", wait: bool = False, limit: int = 63) -> dict[str, Any]:
    return run_on_deploy.starter_event(MACHINE_ARN, run_name, limit, wait)


def test_first_deploy_starts_the_run_under_its_run_name(starter: Any) -> None:
    expect_executions(starter)
    expect_start(starter, "churn-dev-baseline-ab12cd")
    result = starter["handler"](event(), FakeLambdaContext())
    assert result["status"] == "RUNNING"
    assert result["execution_arn"].endswith(":execution:churn-dev-baseline:churn-dev-baseline-ab12cd")


def test_a_run_that_succeeded_is_never_started_again(starter: Any) -> None:
    expect_executions(starter, execution("churn-dev-baseline-ab12cd", "SUCCEEDED"))
    result = starter["handler"](event(), FakeLambdaContext())
    assert result["execution_arn"].endswith(":churn-dev-baseline-ab12cd")


def test_a_running_run_is_joined_not_duplicated(starter: Any) -> None:
    expect_executions(starter, execution("churn-dev-baseline-ab12cd", "RUNNING"))
    assert starter["handler"](event(), FakeLambdaContext())["status"] == "RUNNING"


def test_a_failed_run_is_retried_under_the_next_attempt_name(starter: Any) -> None:
    expect_executions(
        starter,
        execution("churn-dev-baseline-ab12cd", "FAILED"),
        execution("churn-dev-baseline-ab12cd-2", "TIMED_OUT"),
    )
    expect_start(starter, "churn-dev-baseline-ab12cd-3")
    starter["handler"](event(), FakeLambdaContext())


def test_retry_names_are_trimmed_to_the_job_name_limit(starter: Any) -> None:
    run_name = "r" * 32
    expect_executions(starter, execution(run_name, "FAILED"))
    expect_start(starter, "r" * 30 + "-2")
    starter["handler"](event(run_name, limit=32), FakeLambdaContext())


def test_executions_of_other_runs_and_schedules_are_ignored(starter: Any) -> None:
    expect_executions(
        starter,
        execution("churn-dev-baseline-ff0000", "SUCCEEDED"),
        execution("0b9e1c6e-scheduled-run", "SUCCEEDED"),
    )
    expect_start(starter, "churn-dev-baseline-ab12cd")
    starter["handler"](event(), FakeLambdaContext())


def test_waiting_returns_once_the_run_succeeds(starter: Any) -> None:
    expect_executions(starter)
    expect_start(starter, "churn-dev-baseline-ab12cd")
    expect_status(starter, "churn-dev-baseline-ab12cd", "RUNNING")
    expect_status(starter, "churn-dev-baseline-ab12cd", "SUCCEEDED")
    assert starter["handler"](event(wait=True), FakeLambdaContext())["status"] == "SUCCEEDED"


def test_waiting_fails_the_deploy_with_the_runs_cause(starter: Any) -> None:
    expect_executions(starter)
    expect_start(starter, "churn-dev-baseline-ab12cd")
    expect_status(starter, "churn-dev-baseline-ab12cd", "FAILED", cause="ClientError: baseline data not found")
    with pytest.raises(RuntimeError, match=r"ended FAILED.*baseline data not found"):
        starter["handler"](event(wait=True), FakeLambdaContext())


def test_waiting_gives_up_before_the_lambda_times_out(starter: Any) -> None:
    expect_executions(starter)
    expect_start(starter, "churn-dev-baseline-ab12cd")
    result = starter["handler"](event(wait=True), FakeLambdaContext(remaining_millis=10_000))
    assert result["status"] == "RUNNING"


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
