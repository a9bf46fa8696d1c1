"""Monitors that act (issue 14), the orchestrator's side: runs with violations from every environment reach
the trigger function, and each other environment account may put them on the orchestrator's bus."""

from __future__ import annotations

import json

from tests.support.urn_snapshot import shipped_plan

RULE = "aws:cloudwatch/eventRule:EventRule"


def test_runs_with_violations_reach_the_trigger_function_from_every_environment_account() -> None:
    plan = shipped_plan("stack", "dev")  # multi-account: staging 222222222222, prod 333333333333
    [rule] = [r for r in plan.recorder.of_type(RULE) if r.inputs.get("name") == "mlops-monitor-violations"]
    [target] = [
        t
        for t in plan.recorder.of_type("aws:cloudwatch/eventTarget:EventTarget")
        if t.name.endswith("-monitor-violations-target")
    ]
    [permission] = [
        p
        for p in plan.recorder.of_type("aws:lambda/permission:Permission")
        if p.name.endswith("-trigger-from-monitor-violations")
    ]
    [bus] = plan.recorder.of_type("aws:cloudwatch/eventBusPolicy:EventBusPolicy")

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
    assert target.inputs["rule"] == "mlops-monitor-violations"
    assert (permission.inputs["function"], permission.inputs["principal"]) == (
        "mlops-orch-trigger",
        "events.amazonaws.com",
    )
    # The orchestrator's own account needs no statement: SageMaker puts its events there itself. The
    # others may put SageMaker's processing job state changes and nothing else.
    assert bus.inputs["eventBusName"] == "default"
    statements = json.loads(bus.inputs["policy"])["Statement"]
    assert [(s["Principal"], s["Action"], s["Resource"], s["Condition"]) for s in statements] == [
        (
            {"AWS": account},
            "events:PutEvents",
            "arn:aws:events:us-east-1:111111111111:event-bus/default",
            {
                "StringEquals": {
                    "events:source": "aws.sagemaker",
                    "events:detail-type": "SageMaker Processing Job State Change",
                }
            },
        )
        for account in ("222222222222", "333333333333")
    ]
