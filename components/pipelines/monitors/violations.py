"""A monitor's runs with violations: an alarm of its own, and the way to the orchestrator, which acts on them.

Changes when how violations are counted or leave the monitor's account changes. A rule matches the
runs of the monitor's own schedule that completed with violations (mlops_spec/monitor_violations.py
says why that event), and an alarm counts them (EventBridge's MatchedEvents of the rule): the monitor
is in alarm after a run with violations, whatever its type, with no feature names known at plan time.

The rule sends those runs to the orchestrator's dedicated bus `mlops-monitor-violations`, under a role
that may put events on that bus only (EventBridge's bus-to-bus delivery: the rule's target is the bus's
ARN, the role is the rule's; the bus allows the other environment accounts to put events on it). A
monitor in the orchestrator's own account forwards too: SageMaker puts its events on the default bus,
not on that one, and one way for every monitor keeps the orchestrator at one rule on one bus
(components/orchestrator/monitor_actions.py), whose trigger function does what the request's
`on_violation` says (lambda_src/trigger/monitor_violations.py).
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from components import policies
from components.pipelines import roles
from components.pipelines.base import PipelineContext
from mlops_spec.monitor_violations import bus_arn, violation_pattern

Statement = policies.Statement
# PutRule's limit on rule names.
RULE_NAME_LIMIT = 64
# Monitoring schedules run at most hourly: a run with violations keeps the alarm on until the next run.
ALARM_PERIOD_SECONDS = 3600


def orchestrator_bus(context: PipelineContext) -> str:
    """The orchestrator's monitor-violations bus (never a default bus, whose policy is not ours)."""
    return bus_arn(context.partition, context.region, context.orchestrator_account_id)


def forwarder_statements(context: PipelineContext) -> list[Statement]:
    """The rule's role puts events on the orchestrator's monitor-violations bus, and nowhere else."""
    return [policies.statement(["events:PutEvents"], [orchestrator_bus(context)])]


def schedule_pattern(schedule_arn: str) -> str:
    return json.dumps(violation_pattern([schedule_arn]), sort_keys=True)


def alarm_arguments(rule_name: str) -> dict[str, Any]:
    """In alarm while the last hour saw a run with violations (no run: no data, not breaching)."""
    return {
        "namespace": "AWS/Events",
        "metric_name": "MatchedEvents",
        "dimensions": {"RuleName": rule_name},
        "statistic": "Sum",
        "period": ALARM_PERIOD_SECONDS,
        "evaluation_periods": 1,
        "threshold": 1,
        "comparison_operator": "GreaterThanOrEqualToThreshold",
        "treat_missing_data": "notBreaching",
    }


def violation_rule(
    owner: Any, name: str, context: PipelineContext, schedule: aws.sagemaker.MonitoringSchedule, tags: dict[str, str]
) -> aws.cloudwatch.EventRule:
    """The rule, its alarm, its target (the orchestrator's bus) and its role (children of `owner`, the monitor)."""
    rule_name = owner.physical_name("violations", RULE_NAME_LIMIT)
    rule = aws.cloudwatch.EventRule(
        f"{name}-violations",
        name=rule_name,
        description=pulumi.Output.concat("Runs of ", schedule.name, " with violations"),
        event_pattern=schedule.arn.apply(schedule_pattern),
        tags=tags,
        opts=owner.child,
    )
    aws.cloudwatch.MetricAlarm(
        f"{name}-violations-alarm",
        name=rule_name,
        alarm_description=pulumi.Output.concat("A run of ", schedule.name, " found violations (see its report)"),
        tags=tags,
        opts=owner.child_opts(depends_on=[rule]),
        **alarm_arguments(rule_name),
    )
    _forward(owner, name, context, rule, tags)
    return rule


def _forward(
    owner: Any, name: str, context: PipelineContext, rule: aws.cloudwatch.EventRule, tags: dict[str, str]
) -> None:
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
    aws.cloudwatch.EventTarget(
        f"{name}-violations-target",
        rule=rule.name,
        arn=orchestrator_bus(context),
        role_arn=role.arn,
        opts=owner.child_opts(depends_on=[role]),
    )
