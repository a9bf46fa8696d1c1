"""Monitors that act (issue 14), the monitor's side: every monitor publishes its CloudWatch metrics, is in
alarm after a run with violations, and sends those runs to the orchestrator's dedicated bus (from another
account and from the orchestrator's own alike), never to a default bus."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.environment import EnvironmentBaselineArgs, pipeline_boundary_statements
from components.pipelines.monitors import ModelBiasMonitor, ModelExplainabilityMonitor, ModelQualityMonitor
from components.pipelines.monitors.violations import alarm_arguments, forwarder_statements
from mlops_cli.mocks import PlanRecorder, policy_of
from mlops_spec.request import parse_pipeline_request
from tests.components.iam_eval import allowed
from tests.components.pipelines.test_monitor_decisions import plan_of
from tests.components.support import build, make_context, monitor_request

ORCHESTRATOR_BUS = "arn:aws:events:us-east-1:999999999999:event-bus/mlops-monitor-violations"
RULE = "aws:cloudwatch/eventRule:EventRule"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def deploy(recorder: PlanRecorder, orchestrator_account: str, **overrides: Any) -> None:
    recorder.install(project="mlops", stack="dev")
    spec = parse_pipeline_request(monitor_request("byom_data_quality_monitor", **overrides)).for_env("dev")
    build(spec, make_context(orchestrator_account_id=orchestrator_account))


def test_a_monitor_in_another_account_forwards_its_runs_with_violations_to_the_orchestrators_bus() -> None:
    recorder = PlanRecorder()
    deploy(recorder, "999999999999", on_violation="rollback")
    [rule] = recorder.of_type(RULE)
    [target] = recorder.of_type("aws:cloudwatch/eventTarget:EventTarget")
    [definition] = recorder.of_type("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition")
    policy = policy_of(recorder.named("aws:iam/rolePolicy:RolePolicy", f"{rule.name}-role-policy"))
    role = recorder.named("aws:iam/role:Role", f"{rule.name}-role")

    pattern = json.loads(rule.inputs["eventPattern"])
    assert pattern["detail-type"] == ["SageMaker Processing Job State Change"]
    assert pattern["detail"]["ExitMessage"] == [{"prefix": "CompletedWithViolations"}]
    # Only its own schedule's runs (the schedule's ARN as the mock engine makes it).
    assert pattern["detail"]["MonitoringScheduleArn"] == [
        "arn:aws:sagemaker:us-east-1:111111111111:monitoringschedule/churn-data-quality-dev-schedule"
    ]
    assert rule.inputs["name"] == "churn-data-quality-dev-violations"
    assert target.inputs["arn"] == ORCHESTRATOR_BUS
    assert target.inputs["roleArn"] == "arn:aws:iam::111111111111:role/churn-data-quality-dev-violations-role"
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {
        "Service": "events.amazonaws.com"
    }
    assert [(s["Action"], s["Resource"]) for s in policy["Statement"]] == [(["events:PutEvents"], [ORCHESTRATOR_BUS])]
    assert definition.inputs["dataQualityAppSpecification"]["environment"] == {"publish_cloudwatch_metrics": "Enabled"}


def test_a_monitor_in_the_orchestrators_account_forwards_to_the_same_bus_and_has_its_alarm() -> None:
    recorder = PlanRecorder()
    deploy(recorder, "111111111111")
    [rule] = recorder.of_type(RULE)
    [alarm] = recorder.of_type(ALARM)
    [target] = recorder.of_type("aws:cloudwatch/eventTarget:EventTarget")
    policy = policy_of(recorder.named("aws:iam/rolePolicy:RolePolicy", f"{rule.name}-role-policy"))
    own_bus = "arn:aws:events:us-east-1:111111111111:event-bus/mlops-monitor-violations"

    assert rule.inputs["name"] == "churn-data-quality-dev-violations"
    # SageMaker puts this account's events on its default bus: the rule forwards them to the dedicated bus,
    # where the orchestrator's one rule listens.
    assert (target.inputs["arn"], target.inputs["rule"]) == (own_bus, "churn-data-quality-dev-violations")
    assert target.inputs["roleArn"] == "arn:aws:iam::111111111111:role/churn-data-quality-dev-violations-role"
    assert [(s["Action"], s["Resource"]) for s in policy["Statement"]] == [(["events:PutEvents"], [own_bus])]
    assert (alarm.inputs["name"], alarm.inputs["dimensions"]) == (
        "churn-data-quality-dev-violations",
        {"RuleName": "churn-data-quality-dev-violations"},
    )
    assert (alarm.inputs["namespace"], alarm.inputs["metricName"], alarm.inputs["threshold"]) == (
        "AWS/Events",
        "MatchedEvents",
        1,
    )


@pytest.mark.fast
def test_the_alarm_is_on_after_a_run_with_violations_and_off_without_runs() -> None:
    arguments = alarm_arguments("r")
    assert (arguments["comparison_operator"], arguments["treat_missing_data"]) == (
        "GreaterThanOrEqualToThreshold",
        "notBreaching",
    )
    assert (arguments["statistic"], arguments["period"]) == ("Sum", 3600)


@pytest.mark.fast
def test_the_forwarders_only_right_is_the_orchestrators_dedicated_bus() -> None:
    [statement] = forwarder_statements(make_context(orchestrator_account_id="999999999999"))
    assert (statement["Action"], statement["Resource"]) == (["events:PutEvents"], [ORCHESTRATOR_BUS])


@pytest.mark.fast
def test_the_pipeline_boundary_lets_roles_put_events_on_the_orchestrators_dedicated_bus_only() -> None:
    boundary = pipeline_boundary_statements(
        EnvironmentBaselineArgs("prod", "333333333333", "us-east-1", "999999999999")
    )
    assert allowed(boundary, "events:PutEvents", ORCHESTRATOR_BUS, {})
    assert not allowed(boundary, "events:PutEvents", "arn:aws:events:us-east-1:999999999999:event-bus/default", {})
    assert not allowed(boundary, "events:PutEvents", "arn:aws:events:us-east-1:333333333333:event-bus/default", {})


@pytest.mark.fast
@pytest.mark.parametrize(
    ("monitor", "pipeline_type"),
    [
        (ModelQualityMonitor, "byom_model_quality_monitor"),
        (ModelBiasMonitor, "byom_model_bias_monitor"),
        (ModelExplainabilityMonitor, "byom_model_explainability_monitor"),
    ],
)
def test_every_cloudformation_job_definition_publishes_its_metrics(monitor: Any, pipeline_type: str) -> None:
    properties = monitor.job_properties(plan_of(pipeline_type), "arn:aws:iam::111111111111:role/r", "image")
    app = properties[f"{monitor.MONITORING_TYPE}AppSpecification"]
    assert app["Environment"] == {"publish_cloudwatch_metrics": "Enabled"}
    assert app["ImageUri"] == "image"
