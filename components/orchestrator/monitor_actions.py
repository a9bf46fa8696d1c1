"""The orchestrator's side of monitors that act: their runs with violations reach the trigger function.

Changes when how violations arrive changes. A monitor's own stack sends its runs with violations to
this account's default event bus (components/pipelines/monitors/violations.py; in this account
SageMaker puts them there itself). Here a rule hands them to the trigger function, which already
resubmits requests through the normal update path for deploys on approval, and so does what each
monitor's `on_violation` says (lambda_src/trigger/monitor_violations.py). The bus lets each other
environment account put events on it: one statement per account (EventPermission adds a statement
and leaves the bus's other statements alone).
"""

from __future__ import annotations

import json

import pulumi_aws as aws

from components.base import MlopsComponent
from components.orchestrator.args import OrchestratorArgs
from mlops_spec.monitor_violations import violation_pattern

RULE_NAME = "mlops-monitor-violations"


def bus_statement_id(account: str) -> str:
    """The bus policy's statement for one environment account (ids are unique per bus)."""
    return f"mlops-monitor-violations-{account}"


def monitor_violations(owner: MlopsComponent, name: str, args: OrchestratorArgs, trigger: aws.lambda_.Function) -> None:
    """The rule to the trigger function, its permission to invoke it, and the bus's statements."""
    rule = aws.cloudwatch.EventRule(
        f"{name}-monitor-violations",
        name=RULE_NAME,
        description="Monitoring runs with violations (from every environment), to the trigger function",
        event_pattern=json.dumps(violation_pattern(), sort_keys=True),
        tags=args.tags,
        opts=owner.child,
    )
    aws.lambda_.Permission(
        f"{name}-trigger-from-monitor-violations",
        action="lambda:InvokeFunction",
        function=trigger.name,
        principal="events.amazonaws.com",
        source_arn=rule.arn,
        opts=owner.child,
    )
    aws.cloudwatch.EventTarget(f"{name}-monitor-violations-target", rule=rule.name, arn=trigger.arn, opts=owner.child)
    for account in args.other_accounts:
        aws.cloudwatch.EventPermission(
            f"{name}-monitor-violations-from-{account}",
            principal=account,
            statement_id=bus_statement_id(account),
            action="events:PutEvents",
            opts=owner.child,
        )
