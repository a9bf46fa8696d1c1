"""Running a pipeline's one-off job (baseline, AutoML, image build, batch transform) when it is deployed.

pulumi-aws has no resource for processing, transform, AutoML or CodeBuild runs, and a SageMaker
Pipeline can neither build images nor run AutoML V2. So each such job is a Step Functions state
machine (its service integrations start the job and wait for it: `.sync`, or a polling loop) and a
small starter Lambda (lambda_src/job_starter) invoked once by `aws.lambda_.Invocation` during `pulumi up`.

Runs are keyed by a *run name* derived from the request (see `PipelineSpec.run_name`): deploying
an unchanged request never starts the job again; a changed request gets a new run. A run whose
last attempt failed is retried under `<run name>-<attempt>` on the next deploy. Job names inside
the state machine come from the execution name, so every attempt gets a fresh, valid job name.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from components import policies
from components.base import MlopsComponent
from components.lambda_package import code_archive
from components.pipelines import roles
from components.pipelines.base import PipelineContext
from mlops_spec import naming

Statement = policies.Statement

# Step Functions' own limit on execution names; SageMaker job names are shorter (see name_limit).
EXECUTION_NAME_LIMIT = 80
LAMBDA_NAME_LIMIT = 64
EVENT_RULE_NAME_LIMIT = 64
STARTER_RUNTIME = "python3.12"
# A waiting starter polls until this close to Lambda's 15-minute limit, then lets the deploy go on.
WAITING_STARTER_TIMEOUT = 900
STARTER_TIMEOUT = 60

# Managed EventBridge rules through which `.sync` integrations learn that a job finished.
PROCESSING_SYNC_RULE = "StepFunctionsGetEventsForSageMakerProcessingJobsRule"
TRANSFORM_SYNC_RULE = "StepFunctionsGetEventsForSageMakerTransformJobsRule"
CODEBUILD_SYNC_RULE = "StepFunctionsGetEventsForCodeBuildStartBuildRule"

# The execution name as a JSONPath into the context object: the job name of every attempt.
EXECUTION_NAME_PATH = "$$.Execution.Name"

# The starter's code (lambda_src/job_starter) and its entry point: the package alone, as it needs only boto3.
STARTER_CODE = ["lambda_src/__init__.py", "lambda_src/job_starter"]
STARTER_HANDLER = "lambda_src.job_starter.handler.handler"


# -- plain decisions -------------------------------------------------------------------------
def task_definition(comment: str, resource: str, parameters: dict[str, Any], timeout_seconds: int) -> dict[str, Any]:
    """A state machine with one task that runs a job and waits for it (a `.sync` integration)."""
    return {
        "Comment": comment,
        "StartAt": "RunJob",
        "TimeoutSeconds": timeout_seconds,
        "States": {"RunJob": {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True}},
    }


def sync_rule_access(context: PipelineContext, rule_name: str) -> Statement:
    """`.sync` integrations make Step Functions manage one EventBridge rule of its own."""
    return policies.statement(
        ["events:DescribeRule", "events:PutRule", "events:PutTargets"], [context.arn("events", f"rule/{rule_name}")]
    )


def pass_role(role_arn: str, service: str) -> Statement:
    """Hand one role to one service (the job runs under it), and nothing else."""
    return policies.statement(
        ["iam:PassRole"], [role_arn], condition={"StringEquals": {"iam:PassedToService": service}}
    )


def log_delivery() -> Statement:
    # CloudWatch Logs' log-delivery actions, which Step Functions uses to write execution logs,
    # support no resource-level permissions: AWS requires "*".
    return policies.statement(policies.LOG_DELIVERY, "*")


def state_machine_statements(job_statements: list[Statement], key_arn: str) -> list[Statement]:
    """What the state machine's role may do: the job's own calls, its logs, and the state key."""
    return [*job_statements, log_delivery(), roles.kms_use([key_arn])]


def starter_statements(machine_arn: str, log_group_arn: str, key_arn: str) -> list[Statement]:
    """The starter may start and read executions of its own state machine only."""
    executions = machine_arn.replace(":stateMachine:", ":execution:", 1) + ":*"
    return [
        policies.statement(["states:ListExecutions", "states:StartExecution"], [machine_arn]),
        policies.statement(["states:DescribeExecution"], [executions]),
        policies.statement(["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_group_arn}:*"]),
        # Executions of a state machine encrypted with a customer key are encrypted for the caller.
        policies.statement(["kms:Decrypt", "kms:GenerateDataKey"], [key_arn]),
    ]


def run_finished_pattern(machine_arn: str) -> dict[str, Any]:
    """EventBridge pattern matching the end of any run of one state machine."""
    return {
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        "detail": {"stateMachineArn": [machine_arn], "status": ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]},
    }


def finish_topic(context: PipelineContext) -> pulumi.Input[str] | None:
    """The topic on which run endings are announced, or None.

    The notification topic is the orchestrator's, and its policy admits events from the orchestrator's
    account only: an EventBridge rule in another account could never deliver to it.
    """
    if context.account_id != context.orchestrator_account_id:
        return None
    return context.notification_topic_arn


def starter_event(machine_arn: str, run_name: str, name_limit: int, wait: bool) -> dict[str, Any]:
    return {"state_machine_arn": machine_arn, "run_name": run_name, "name_limit": name_limit, "wait": wait}


# -- the component ---------------------------------------------------------------------------
class RunOnDeploy(MlopsComponent):
    """A state machine that runs one job, started by `pulumi up` once per run name.

    `definition` is the state machine (ASL JSON text); `job_statements` what its role needs for the
    job (service calls, PassRole, sync rule). `run_name` must fit `name_limit`, the limit of the job
    name the state machine derives from the execution name. With `wait`, the deploy waits for the
    run (up to about 14 minutes) and fails if the run fails.
    """

    def __init__(
        self,
        name: str,
        *,
        context: PipelineContext,
        machine_name: str,
        definition: pulumi.Input[str],
        job_statements: pulumi.Input[list[Statement]],
        run_name: str,
        name_limit: int = EXECUTION_NAME_LIMIT,
        wait: bool = False,
        tags: dict[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("mlops:pipelines:RunOnDeploy", name, opts)
        if len(run_name) > name_limit:
            raise ValueError(f"run name {run_name!r} is longer than {name_limit} characters")
        self._prefix, self._context, self._machine_name, self._tags = name, context, machine_name, tags
        self.state_machine = self._machine(definition, job_statements)
        self.starter = self._starter(wait)
        self.invocation = aws.lambda_.Invocation(
            f"{name}-start",
            function_name=self.starter.name,
            input=self.state_machine.arn.apply(lambda arn: json.dumps(starter_event(arn, run_name, name_limit, wait))),
            # A new run name (a changed request) starts a new run; anything else does not.
            triggers={"run_name": run_name},
            opts=self.child,
        )
        self._notify_on_finish()
        self.state_machine_arn = self.state_machine.arn
        self.register_outputs({"state_machine_arn": self.state_machine_arn, "run_name": run_name})

    def _role(self, suffix: str, service: str, statements: pulumi.Input[list[Statement]]) -> roles.ExecutionRole:
        """The role `<name>-<suffix>` (physically `<machine name>-<suffix>`) that `service` assumes."""
        return roles.ExecutionRole(
            f"{self._prefix}-{suffix}",
            role_name=naming.bounded(f"{self._machine_name}-{suffix}", roles.IAM_ROLE_NAME_LIMIT),
            service=service,
            account_id=self._context.account_id,
            permissions_boundary=self._context.permissions_boundary,
            statements=statements,
            tags=self._tags,
            opts=self.child,
        )

    def _machine(
        self, definition: pulumi.Input[str], job_statements: pulumi.Input[list[Statement]]
    ) -> aws.sfn.StateMachine:
        key = self._context.kms_key_arn
        machine_logs = self.log_group(
            f"{self._prefix}-logs",
            # The vended-logs prefix keeps CloudWatch's resource policy small however many machines exist.
            name=f"/aws/vendedlogs/states/{self._machine_name}",
            kms_key_id=key,
            tags=self._tags,
        )
        statements = pulumi.Output.all(job=pulumi.Output.from_input(job_statements), key=key).apply(
            lambda v: state_machine_statements(v["job"], v["key"])
        )
        machine_role = self._role("role", "states.amazonaws.com", statements)
        return aws.sfn.StateMachine(
            f"{self._prefix}-machine",
            name=self._machine_name,
            type="STANDARD",
            role_arn=machine_role.arn,
            definition=definition,
            encryption_configuration={
                "type": "CUSTOMER_MANAGED_KMS_KEY",
                "kms_key_id": key,
                "kms_data_key_reuse_period_seconds": 300,
            },
            # Execution data can hold S3 paths and parameters only; it is encrypted with the same key.
            logging_configuration={
                "level": "ALL",
                "include_execution_data": True,
                "log_destination": machine_logs.arn.apply(lambda arn: f"{arn}:*"),
            },
            tags=self._tags,
            opts=self.child_opts(depends_on=[machine_role]),
        )

    def _starter(self, wait: bool) -> aws.lambda_.Function:
        """The starter function (lambda_src/job_starter), with its own log group and role."""
        function_name = naming.bounded(f"{self._machine_name}-start", LAMBDA_NAME_LIMIT)
        key = self._context.kms_key_arn
        logs = self.log_group(
            f"{self._prefix}-starter-logs", name=f"/aws/lambda/{function_name}", kms_key_id=key, tags=self._tags
        )
        statements = pulumi.Output.all(machine=self.state_machine.arn, logs=logs.arn, key=key).apply(
            lambda v: starter_statements(v["machine"], v["logs"], v["key"])
        )
        role = self._role("starter-role", "lambda.amazonaws.com", statements)
        return aws.lambda_.Function(
            f"{self._prefix}-starter",
            name=function_name,
            runtime=STARTER_RUNTIME,
            handler=STARTER_HANDLER,
            code=code_archive(STARTER_CODE),
            role=role.arn,
            timeout=WAITING_STARTER_TIMEOUT if wait else STARTER_TIMEOUT,
            logging_config={"log_format": "JSON", "log_group": logs.name},
            tags=self._tags,
            opts=self.child_opts(depends_on=[role, logs]),
        )

    def _notify_on_finish(self) -> None:
        """Tell the pipeline's subscribers when a run ends (the deploy may be long over by then); only
        pipelines in the orchestrator's account can (see finish_topic)."""
        topic = finish_topic(self._context)
        if topic is None:
            return
        rule = aws.cloudwatch.EventRule(
            f"{self._prefix}-finished",
            name=naming.bounded(f"{self._machine_name}-finished", EVENT_RULE_NAME_LIMIT),
            description="A one-off job of this pipeline finished",
            event_pattern=self.state_machine.arn.apply(lambda arn: json.dumps(run_finished_pattern(arn))),
            tags=self._tags,
            opts=self.child,
        )
        aws.cloudwatch.EventTarget(f"{self._prefix}-finished-notify", rule=rule.name, arn=topic, opts=self.child)
