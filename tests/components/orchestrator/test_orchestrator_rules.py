"""The orchestrator's own rules: the drift check (issue 15) sends the status function the
drift-check input on its schedule (none when drift checks are off or there is no provisioner yet);
model package approvals and rejections reach the trigger function (issue 14)."""

from __future__ import annotations

import functools
import json

from mlops_cli.planner import StackPlan, plan_stack
from mlops_spec.drift import DRIFT_CHECK_EVENT
from tests.components.orchestrator.test_orchestrator_plan import FIRST_INSTALL
from tests.components.orchestrator.test_teardown_project import INSTALLED

RULE = "aws:cloudwatch/eventRule:EventRule"


@functools.cache
def planned(values: str) -> StackPlan:
    """The dev stack planned once per process for each config (given as JSON: a cache key)."""
    return plan_stack("dev", config_values=json.loads(values))


def installed() -> StackPlan:
    return planned(json.dumps(INSTALLED, sort_keys=True))


def drift_rules(values: dict[str, object]) -> list[dict[str, object]]:
    plan = installed() if values == INSTALLED else plan_stack("dev", config_values=values)
    return [r.inputs for r in plan.recorder.of_type(RULE) if r.inputs.get("name") == "mlops-drift-check"]


def test_the_rule_runs_on_the_configured_schedule_and_sends_the_drift_check_input() -> None:
    plan = plan_stack("dev", config_values={**INSTALLED, "mlops:driftSchedule": "cron(0 4 * * ? *)"})
    [rule] = [r for r in plan.recorder.of_type(RULE) if r.inputs.get("name") == "mlops-drift-check"]
    [target] = [
        t
        for t in plan.recorder.of_type("aws:cloudwatch/eventTarget:EventTarget")
        if t.name.endswith("-drift-check-target")
    ]
    [permission] = [
        p for p in plan.recorder.of_type("aws:lambda/permission:Permission") if p.name.endswith("-from-drift-check")
    ]

    assert rule.inputs["scheduleExpression"] == "cron(0 4 * * ? *)"
    assert json.loads(target.inputs["input"]) == DRIFT_CHECK_EVENT
    assert permission.inputs["principal"] == "events.amazonaws.com"


def test_no_rule_when_drift_checks_are_off_or_before_the_provisioner_exists() -> None:
    assert drift_rules({**INSTALLED, "mlops:driftSchedule": "off"}) == []
    assert drift_rules(FIRST_INSTALL) == []
    assert [r["scheduleExpression"] for r in drift_rules(INSTALLED)] == ["rate(1 day)"]


def test_model_package_approvals_and_rejections_reach_the_trigger_function() -> None:
    plan = installed()
    [rule] = [r for r in plan.recorder.of_type(RULE) if r.inputs.get("name") == "mlops-model-approvals"]
    [permission] = [
        p for p in plan.recorder.of_type("aws:lambda/permission:Permission") if p.name.endswith("-from-model-approvals")
    ]

    # Only the orchestrator account's own registry: the bus also takes events target accounts forward.
    assert json.loads(rule.inputs["eventPattern"]) == {
        "account": ["111111111111"],
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Package State Change"],
        "detail": {"ModelApprovalStatus": ["Approved", "Rejected"]},
    }
    assert (permission.inputs["function"], permission.inputs["principal"]) == (
        "mlops-orch-trigger",
        "events.amazonaws.com",
    )


def test_delivery_state_changes_are_heard_only_from_the_orchestrator_account() -> None:
    """Target accounts may put (monitor violation) events on the orchestrator's bus: a CodePipeline
    of theirs named like a delivery pipeline must not move a pipeline's record."""
    plan = installed()
    [rule] = [r for r in plan.recorder.of_type(RULE) if r.inputs.get("name") == "mlops-delivery-state-changes"]

    pattern = json.loads(rule.inputs["eventPattern"])
    assert pattern["account"] == ["111111111111"]
    assert pattern["source"] == ["aws.codepipeline"]
