"""The orchestrator's side of monitors that act: their runs with violations reach the trigger function.

Changes when how violations arrive changes. A monitor's own stack sends its runs with violations to
this account's default event bus (components/pipelines/monitors/violations.py; in this account
SageMaker puts them there itself). Here a rule hands them to the trigger function, which already
resubmits requests through the normal update path for deploys on approval, and so does what each
monitor's `on_violation` says (lambda_src/trigger/monitor_violations.py).

What may come in is narrowed twice: the rule matches events of the environments' accounts only, and
the bus's policy lets each other environment account put SageMaker's processing job state changes
on it and nothing else (a policy condition on events:source and events:detail-type, which an
EventPermission cannot state: it takes organization conditions only). The trigger function then
checks each event against the monitor's own schedule ARN, account and region.
"""

from __future__ import annotations

import json

import pulumi_aws as aws

from components.base import MlopsComponent
from components.orchestrator.args import OrchestratorArgs
from mlops_spec.monitor_violations import bus_statements, default_bus_arn, violation_pattern

RULE_NAME = "mlops-monitor-violations"


def rule_pattern(args: OrchestratorArgs) -> dict[str, object]:
    """Runs with violations from the environments' accounts (the orchestrator's own among them)."""
    return violation_pattern(accounts=[args.account_id, *args.environment_accounts.values()])


def bus_policy(args: OrchestratorArgs) -> dict[str, object] | None:
    """The default bus's policy: one statement per other environment account; None when there is none."""
    if not args.other_accounts:
        return None
    bus = default_bus_arn(args.partition, args.region, args.account_id)
    return {"Version": "2012-10-17", "Statement": bus_statements(bus, args.other_accounts)}


def monitor_violations(owner: MlopsComponent, name: str, args: OrchestratorArgs, trigger: aws.lambda_.Function) -> None:
    """The rule to the trigger function, its permission to invoke it, and the bus's policy."""
    rule = aws.cloudwatch.EventRule(
        f"{name}-monitor-violations",
        name=RULE_NAME,
        description="Monitoring runs with violations (from the environments' accounts), to the trigger function",
        event_pattern=json.dumps(rule_pattern(args), sort_keys=True),
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
    policy = bus_policy(args)
    if policy is not None:
        # The whole default bus policy: nothing else of ours writes one (an EventPermission would be
        # another writer of the same policy).
        aws.cloudwatch.EventBusPolicy(
            f"{name}-monitor-violations-bus-policy",
            event_bus_name="default",
            policy=json.dumps(policy, sort_keys=True),
            opts=owner.child,
        )
