"""The orchestrator's side of monitors that act: their runs with violations reach the trigger function.

Changes when how violations arrive changes. Every monitor's own stack sends its runs with violations
to the orchestrator's dedicated bus `mlops-monitor-violations` (components/pipelines/monitors/violations.py),
a monitor in this very account too: SageMaker puts its events on the default bus of the monitor's
account, and forwarding them all to one bus keeps one rule here, on that bus, instead of a second
rule on the default bus for this account's own monitors. Here that rule hands them to the trigger
function, which already resubmits requests through the normal update path for deploys on approval,
and so does what each monitor's `on_violation` says (lambda_src/trigger/monitor_violations.py).

Why a bus of our own: a bus's resource policy is one document with one owner. The default bus's
policy is shared with whatever else the account runs (organization-wide forwarding, Security Hub);
owning it would remove their statements on every `pulumi up` and delete it on `pulumi destroy`.
This bus's policy is ours outright, and nothing here touches the default bus.

What may come in is narrowed twice: the rule matches events of the environments' accounts only, and
the bus's policy lets each other environment account put SageMaker's processing job state changes
on it and nothing else (a policy condition on events:source and events:detail-type, which an
EventPermission cannot state: it takes organization conditions only). This account's own monitors
need no statement: their forwarding roles' IAM policies suffice within one account. The trigger
function then checks each event against the monitor's own schedule ARN, account and region.
"""

from __future__ import annotations

import json

import pulumi_aws as aws

from components.base import MlopsComponent
from components.orchestrator.args import OrchestratorArgs
from components.orchestrator.events import rule_to_function
from mlops_spec.monitor_violations import BUS_NAME, bus_arn, bus_statements, violation_pattern

RULE_NAME = "mlops-monitor-violations"


def rule_pattern(args: OrchestratorArgs) -> dict[str, object]:
    """Runs with violations from the environments' accounts (the orchestrator's own among them)."""
    return violation_pattern(accounts=[args.account_id, *args.environment_accounts.values()])


def bus_policy(args: OrchestratorArgs) -> dict[str, object] | None:
    """The bus's policy: one statement per other environment account; None when there is none."""
    if not args.other_accounts:
        return None
    bus = bus_arn(args.partition, args.region, args.account_id)
    return {"Version": "2012-10-17", "Statement": bus_statements(bus, args.other_accounts)}


def monitor_violations(owner: MlopsComponent, name: str, args: OrchestratorArgs, trigger: aws.lambda_.Function) -> None:
    """The bus and its policy, the rule on it to the trigger function, and its permission to invoke it."""
    # Always there, single-account too: this account's own monitors forward to it as well.
    bus = aws.cloudwatch.EventBus(f"{name}-monitor-violations-bus", name=BUS_NAME, tags=args.tags, opts=owner.child)
    policy = bus_policy(args)
    if policy is not None:
        aws.cloudwatch.EventBusPolicy(
            f"{name}-monitor-violations-bus-policy",
            event_bus_name=bus.name,
            policy=json.dumps(policy, sort_keys=True),
            opts=owner.child,
        )
    rule_to_function(
        owner,
        name,
        args,
        trigger,
        "trigger",
        "monitor-violations",
        RULE_NAME,
        event_pattern=json.dumps(rule_pattern(args), sort_keys=True),
        event_bus_name=bus.name,
        description="Monitoring runs with violations (from the environments' accounts), to the trigger function",
    )
