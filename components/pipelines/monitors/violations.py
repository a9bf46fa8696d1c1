"""Where a monitor's runs with violations go: to the orchestrator's event bus, which acts on them.

Changes when how violations leave the monitor's account changes. The orchestrator's rule
(components/orchestrator/monitor_actions.py) hands them to its trigger function, which does what the
request's `on_violation` says (lambda_src/trigger/monitor_violations.py). In the orchestrator's own
account SageMaker's events are already on that bus: nothing is forwarded. In another account a rule of
the monitor's own schedule sends them there, under a role that may put events on that bus only
(EventBridge's cross-account delivery: the rule's target is the other account's bus ARN, the role is
the rule's; the orchestrator's bus allows the environment accounts to put events on it).
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from components import policies
from components.pipelines import roles
from components.pipelines.base import PipelineContext
from mlops_spec.monitor_violations import default_bus_arn, violation_pattern

Statement = policies.Statement
# PutRule's limit on rule names.
RULE_NAME_LIMIT = 64


def forwards_violations(context: PipelineContext) -> bool:
    """Only a monitor in another account than the orchestrator's forwards its runs' events."""
    return context.account_id != context.orchestrator_account_id


def orchestrator_bus(context: PipelineContext) -> str:
    return default_bus_arn(context.partition, context.region, context.orchestrator_account_id)


def forwarder_statements(context: PipelineContext) -> list[Statement]:
    """The rule's role puts events on the orchestrator's default bus, and nowhere else."""
    return [policies.statement(["events:PutEvents"], [orchestrator_bus(context)])]


def schedule_pattern(schedule_arn: str) -> str:
    return json.dumps(violation_pattern([schedule_arn]), sort_keys=True)


def forward_violations(
    owner: Any, name: str, context: PipelineContext, schedule: aws.sagemaker.MonitoringSchedule, tags: dict[str, str]
) -> aws.cloudwatch.EventRule | None:
    """The rule, its role and its target (children of `owner`, the monitor); None where nothing is forwarded."""
    if not forwards_violations(context):
        return None
    role = roles.ExecutionRole(
        f"{name}-violations-role",
        role_name=owner.physical_name("violations-role", roles.IAM_ROLE_NAME_LIMIT),
        service="events.amazonaws.com",
        account_id=context.account_id,
        permissions_boundary=context.permissions_boundary,
        statements=forwarder_statements(context),
        tags=tags,
        opts=owner.child,
    )
    rule = aws.cloudwatch.EventRule(
        f"{name}-violations",
        name=owner.physical_name("violations", RULE_NAME_LIMIT),
        description=pulumi.Output.concat("Runs of ", schedule.name, " with violations, to the MLOps orchestrator"),
        event_pattern=schedule.arn.apply(schedule_pattern),
        tags=tags,
        opts=owner.child,
    )
    aws.cloudwatch.EventTarget(
        f"{name}-violations-target",
        rule=rule.name,
        arn=orchestrator_bus(context),
        role_arn=role.arn,
        opts=owner.child_opts(depends_on=[role]),
    )
    return rule
