"""mlops:driftSchedule (issue 15): daily unless set, any EventBridge schedule, or off."""

from __future__ import annotations

import pytest

from mlops_spec.stack_config import load_stack_config
from tests.mlops_spec.test_stack_config_checks import SINGLE, problem_of

pytestmark = pytest.mark.fast


def test_deployed_stacks_are_checked_daily_unless_told_otherwise() -> None:
    assert load_stack_config(SINGLE, "dev").drift_schedule == "rate(1 day)"
    assert load_stack_config({**SINGLE, "mlops:driftSchedule": "cron(0 3 * * ? *)"}, "dev").drift_schedule == (
        "cron(0 3 * * ? *)"
    )
    assert load_stack_config({**SINGLE, "mlops:driftSchedule": "off"}, "dev").drift_schedule == "off"


def test_a_schedule_eventbridge_would_refuse_is_refused_naming_the_key_and_the_way_out() -> None:
    problem = problem_of({**SINGLE, "mlops:driftSchedule": "daily"})
    assert "mlops:driftSchedule" in problem
    assert 'must be a cron(...) or rate(...) expression, e.g. cron(0 3 * * ? *) or rate(1 day), or "off"' in problem
