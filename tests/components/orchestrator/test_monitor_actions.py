"""Monitors that act (issue 14), the orchestrator's side: runs with violations from every environment reach
the trigger function through the orchestrator's own bus, and each other environment account may put them
on that bus; the default bus is left alone."""

from __future__ import annotations

import json

from tests.support.urn_snapshot import shipped_plan

RULE = "aws:cloudwatch/eventRule:EventRule"
BUS = "aws:cloudwatch/eventBus:EventBus"
BUS_POLICY = "aws:cloudwatch/eventBusPolicy:EventBusPolicy"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"


def test_runs_with_violations_reach_the_trigger_function_from_every_environment_account() -> None:
    plan = shipped_plan("stack", "dev")  # multi-account: staging 222222222222, prod 333333333333
    [rule] = [r for r in plan.recorder.of_type(RULE) if r.inputs.get("name") == "mlops-monitor-violations"]
    [target] = [t for t in plan.recorder.of_type(TARGET) if t.name.endswith("-monitor-violations-target")]
    [permission] = [
        p
        for p in plan.recorder.of_type("aws:lambda/permission:Permission")
        if p.name.endswith("-trigger-from-monitor-violations")
    ]

    assert json.loads(rule.inputs["eventPattern"]) == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Processing Job State Change"],
        "detail": {
            "ProcessingJobStatus": ["Completed"],
            "ExitMessage": [{"prefix": "CompletedWithViolations"}],
            "MonitoringScheduleArn": [{"exists": True}],
        },
        # Only the environments' accounts: a schedule of the same name in any other account is not heard.
        "account": ["111111111111", "222222222222", "333333333333"],
    }
    # The rule and its target are on the dedicated bus, where every monitor forwards its runs.
    assert (rule.inputs["eventBusName"], target.inputs["eventBusName"]) == (
        "mlops-monitor-violations",
        "mlops-monitor-violations",
    )
    assert (target.inputs["rule"], target.inputs["arn"]) == (
        "mlops-monitor-violations",
        "arn:aws:lambda:us-east-1:111111111111:function:mlops-orch-trigger",
    )
    assert (permission.inputs["function"], permission.inputs["principal"]) == (
        "mlops-orch-trigger",
        "events.amazonaws.com",
    )


def test_the_dedicated_bus_admits_each_other_account_and_the_default_bus_gets_no_policy() -> None:
    plan = shipped_plan("stack", "dev")
    [bus] = plan.recorder.of_type(BUS)
    [policy] = plan.recorder.of_type(BUS_POLICY)  # none on the default bus

    assert bus.inputs["name"] == "mlops-monitor-violations"
    assert policy.inputs["eventBusName"] == "mlops-monitor-violations"
    # The orchestrator's own account needs no statement (its monitors' roles' IAM policies suffice in one
    # account). The others may put SageMaker's processing job state changes and nothing else.
    statements = json.loads(policy.inputs["policy"])["Statement"]
    assert [(s["Principal"], s["Action"], s["Resource"], s["Condition"]) for s in statements] == [
        (
            {"AWS": account},
            "events:PutEvents",
            "arn:aws:events:us-east-1:111111111111:event-bus/mlops-monitor-violations",
            {
                "StringEquals": {
                    "events:source": "aws.sagemaker",
                    "events:detail-type": "SageMaker Processing Job State Change",
                }
            },
        )
        for account in ("222222222222", "333333333333")
    ]


def test_a_single_account_install_has_the_bus_and_its_rule_but_no_bus_policy() -> None:
    plan = shipped_plan("examples", "single")
    [bus] = plan.recorder.of_type(BUS)
    [rule] = [r for r in plan.recorder.of_type(RULE) if r.inputs.get("name") == "mlops-monitor-violations"]

    assert (bus.inputs["name"], rule.inputs["eventBusName"]) == ("mlops-monitor-violations", "mlops-monitor-violations")
    assert plan.recorder.of_type(BUS_POLICY) == []
