"""How often a schedule fires in an average month, for cost estimates (mlops_spec/costs.py). Pure Python.

Reads the expressions mlops_spec/schedules.py accepts: `rate(n unit)` and six-field EventBridge
`cron(...)` (Model Monitor's hourly, daily and every-N-hours forms are cron expressions too). A month is
730 hours, the figure AWS prices monthly usage with; a cron day-of-week counts 730/24/7 times a month.
"""

from __future__ import annotations

import re

HOURS_PER_MONTH = 730
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
WEEKS_PER_MONTH = DAYS_PER_MONTH / 7
_RATE_HOURS = {"minute": 1 / 60, "hour": 1.0, "day": 24.0}
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


def runs_per_month(expression: str) -> float:
    """Times `expression` fires in an average month. The year field is not read (a schedule limited to
    some years counts as running every year). Raises ValueError for what is not a schedule."""
    rate = re.fullmatch(r"rate\((\d+) (minute|hour|day)s?\)", expression)
    if rate:
        every_hours = int(rate.group(1)) * _RATE_HOURS[rate.group(2)]
        return HOURS_PER_MONTH / every_hours
    cron = re.fullmatch(r"cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)", expression)
    if not cron:
        raise ValueError(f"not a schedule expression: {expression!r}")
    minutes, hours, day_of_month, month, day_of_week, _year = cron.groups()
    per_day = len(_values(minutes, 0, 59)) * len(_values(hours, 0, 23))
    month_share = len(_values(month, 1, 12, _MONTHS, first_name=1)) / 12
    return per_day * _days_per_month(day_of_month, day_of_week) * month_share


def _days_per_month(day_of_month: str, day_of_week: str) -> float:
    """Days a month on which the schedule fires: `?` in one of the two fields leaves the other to decide."""
    if day_of_month == "?":
        if day_of_week == "*":
            return DAYS_PER_MONTH
        items = day_of_week.split(",")
        # 5L (last Friday) and 6#3 (third Friday) are one day a month; plain days are one a week.
        monthly = [item for item in items if "L" in item or "#" in item]
        weekly = [item for item in items if item not in monthly]
        days = {day for item in weekly for day in _values(item, 1, 7, _WEEKDAYS, first_name=1)}
        return len(monthly) + len(days) * WEEKS_PER_MONTH
    if day_of_month == "*":
        return DAYS_PER_MONTH
    items = day_of_month.split(",")
    # L (last day), LW and 15W (nearest weekday) are one day each.
    special = [item for item in items if "L" in item or "W" in item]
    plain = [item for item in items if item not in special]
    return len(special) + len({day for item in plain for day in _values(item, 1, 31)})


def _values(field: str, low: int, high: int, names: tuple[str, ...] = (), first_name: int = 0) -> set[int]:
    """The values of one cron field: `*`, values, ranges and lists, each with an optional /step."""
    found: set[int] = set()
    for item in field.split(","):
        span, _, step = item.partition("/")
        if span == "*":
            start, end = low, high
        else:
            first, _, last = span.partition("-")
            start = _number(first, names, first_name)
            end = _number(last, names, first_name) if last else (high if step else start)
        found.update(range(start, end + 1, int(step) if step else 1))
    return found


def _number(text: str, names: tuple[str, ...], first_name: int) -> int:
    upper = text.upper()
    return names.index(upper) + first_name if upper in names else int(text)
