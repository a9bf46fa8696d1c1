"""Runs a month of each schedule form, as cost estimates count them (730-hour months)."""

from __future__ import annotations

import pytest

from mlops_spec.schedule_runs import runs_per_month

pytestmark = pytest.mark.fast


@pytest.mark.parametrize(
    ("expression", "runs"),
    [
        ("cron(0 * ? * * *)", 730.0),  # Model Monitor hourly
        ("cron(0 5 ? * * *)", 30.42),  # daily
        ("cron(0 0/6 ? * * *)", 121.67),  # every 6 hours: 0, 6, 12, 18
        ("cron(0 3/6 ? * * *)", 121.67),  # 3, 9, 15, 21
        ("cron(0,30 9-16 ? * MON-FRI *)", 347.62),  # 2 x 8 a day, 5 days of 4.345 weeks
        ("cron(0 3 1,15 * ? *)", 2.0),
        ("cron(0 3 L * ? *)", 1.0),
        ("cron(0 3 ? * 6#3 *)", 1.0),  # third Friday
        ("cron(0 3 1 JAN-MAR ? *)", 0.25),  # one day in 3 months out of 12
        ("rate(1 day)", 30.42),
        ("rate(12 hours)", 60.83),
        ("rate(30 minutes)", 1460.0),
    ],
)
def test_runs_a_month(expression: str, runs: float) -> None:
    assert round(runs_per_month(expression), 2) == runs


def test_what_is_no_schedule_is_refused() -> None:
    with pytest.raises(ValueError, match="not a schedule expression"):
        runs_per_month("every day")
