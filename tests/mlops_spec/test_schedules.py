"""Schedule expressions checked field by field as EventBridge and Model Monitor check them, and the
published patterns saying the same."""

from __future__ import annotations

import re

import pytest

from mlops_spec.schedules import (
    EVENTBRIDGE_PATTERN,
    MONITOR_PATTERN,
    eventbridge_schedule_problem,
    monitor_schedule_problem,
)

# expression -> problem an EventBridge rule (a batch schedule) has with it; None when accepted.
EVENTBRIDGE_CASES = [
    ("cron(0 3 * * ? *)", None),
    ("cron(0 3 ? * MON *)", None),
    ("cron(0/15 * * * ? *)", None),
    ("cron(5,35 8-17 ? * MON-FRI *)", None),
    ("cron(0 03 ? JAN-MAR * 2027)", None),
    ("cron(0 12 L * ? *)", None),
    ("cron(0 12 15W * ? *)", None),
    ("cron(0 12 ? * 6#3 *)", None),
    ("cron(0 12 ? * 5L *)", None),
    ("rate(1 day)", None),
    ("rate(1 minute)", None),
    ("rate(12 hours)", None),
    ("cron(60 3 * * ? *)", "minutes field '60' must be 0-59 (with , - * /)"),
    ("cron(0 25 ? * * *)", "hours field '25' must be 0-23 (with , - * /)"),
    ("cron(0 3 32 * ? *)", "day-of-month field '32' must be 1-31 (with , - * / ? L W)"),
    ("cron(0 3 0 * ? *)", "day-of-month field '0' must be 1-31 (with , - * / ? L W)"),
    ("cron(0 3 ? 13 * *)", "month field '13' must be 1-12 or JAN-DEC (with , - * /)"),
    ("cron(0 3 ? * 8 *)", "day-of-week field '8' must be 1-7 or SUN-SAT (with , - * / ? L #)"),
    ("cron(0 3 ? * * 1969)", "year field '1969' must be 1970-2199 (with , - * /)"),
    ("cron(0 3 * * * *)", "needs ? in exactly one of day-of-month (3rd field) and day-of-week (5th field)"),
    ("cron(0 3 ? * ? *)", "needs ? in exactly one of day-of-month (3rd field) and day-of-week (5th field)"),
    (
        "cron(0 3 * * ?)",
        "must have 6 fields separated by single spaces (minutes hours day-of-month month day-of-week year), not 5",
    ),
    ("rate(1 days)", "rate unit must be singular for 1: rate(1 day)"),
    ("rate(5 minute)", "rate unit must be plural for 5: rate(5 minutes)"),
    ("rate(0 hours)", "rate must be at least 1"),
    ("rate(2 weeks)", "rate unit 'weeks' must be minute(s), hour(s) or day(s)"),
    ("0 3 * * ? *", "must be a cron(...) or rate(...) expression, e.g. cron(0 3 * * ? *) or rate(1 day)"),
]
_FORMS = "cron(0 * ? * * *) hourly, cron(0 H ? * * *) daily at hour H, or cron(0 H/N ? * * *) every N hours"
MONITOR_CASES = [
    ("cron(0 * ? * * *)", None),
    ("cron(0 12 ? * * *)", None),
    ("cron(0 00 ? * * *)", None),
    ("cron(0 17/12 ? * * *)", None),
    ("cron(0 0/2 ? * * *)", None),
    ("cron(0/30 * ? * * *)", f"Model Monitor runs at most hourly, on the hour (minutes 0): use {_FORMS}"),
    ("cron(0 3 * * ? *)", f"is not a schedule Model Monitor accepts: use {_FORMS}"),
    ("cron(0 0/25 ? * * *)", f"is not a schedule Model Monitor accepts: use {_FORMS}"),
    ("cron(0 25 ? * * *)", "hours field '25' must be 0-23 (with , - * /)"),
    ("rate(1 hour)", f"must be a cron expression Model Monitor accepts: {_FORMS}"),
    ("NOW", f"NOW (one run) needs a data-analysis window, which this request does not set; use {_FORMS}"),
]


@pytest.mark.parametrize(("expression", "problem"), EVENTBRIDGE_CASES)
def test_batch_schedules_are_checked_as_eventbridge_checks_them(expression, problem):
    assert eventbridge_schedule_problem(expression) == problem


@pytest.mark.parametrize(("expression", "problem"), MONITOR_CASES)
def test_monitor_schedules_are_what_model_monitor_accepts(expression, problem):
    assert monitor_schedule_problem(expression) == problem


@pytest.mark.parametrize(
    ("pattern", "cases"), [(EVENTBRIDGE_PATTERN, EVENTBRIDGE_CASES), (MONITOR_PATTERN, MONITOR_CASES)]
)
def test_the_published_pattern_accepts_exactly_what_the_check_accepts(pattern, cases):
    # The contract publishes the pattern: a schema-valid schedule must pass the API's check, and back.
    assert [bool(re.fullmatch(pattern, expression)) for expression, _ in cases] == [
        problem is None for _, problem in cases
    ]


def test_a_monitor_request_with_a_half_hourly_schedule_is_refused(example, reject):
    error = reject({**example("byom_data_quality_monitor"), "schedule_expression": "cron(0/30 * ? * * *)"})
    assert (error.field, error.problem.split(":")[0]) == (
        "schedule_expression",
        "Model Monitor runs at most hourly, on the hour (minutes 0)",
    )


def test_a_batch_request_may_run_on_a_rate(example):
    from mlops_spec.request import parse_pipeline_request

    spec = parse_pipeline_request({**example("byom_batch_builtin"), "schedule_expression": "rate(1 day)"})
    assert spec.schedule_expression == "rate(1 day)"
