"""Schedule expressions checked as AWS checks them, field by field. Pure Python.

Batch transforms run on an EventBridge rule: `cron(...)` with six fields or `rate(n unit)`.
Model Monitor schedules accept only hourly, daily or every-N-hours cron expressions (SageMaker's
ScheduleConfig; its one-off `NOW` needs a data-analysis window these requests do not carry).
Each check has a regular expression built from the same field table, published in the contract
so the schema refuses what the API refuses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class CronField:
    """One field of an EventBridge cron expression: its values, names and special characters."""

    name: str
    # The rule in words, and the regular expression of one value (a number, maybe zero-padded, or a name).
    rule: str
    value: str
    # Special forms allowed on their own in this field besides values, ranges, lists, `*` and `/`.
    specials: tuple[str, ...] = ()

    @property
    def pattern(self) -> str:
        """The field as a regular expression: a list of `*`, values or ranges, each with an optional
        /step, or one of the field's special forms (`?`, `L`, `15W`, `6#3`, ...)."""
        item = rf"(?:\*|{self.value}(?:-{self.value})?)(?:/[1-9]\d{{0,2}})?"
        return "(?:" + "|".join([*self.specials, rf"{item}(?:,{item})*"]) + ")"


_MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
_WEEKDAY = r"(?:[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)"
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_HOUR = r"(?:[01]?\d|2[0-3])"
MINUTES = CronField("minutes", "0-59", r"[0-5]?\d")
HOURS = CronField("hours", "0-23", _HOUR)
DAY_OF_MONTH = CronField("day-of-month", "1-31", _DAY, specials=(r"\?", "L", "LW", rf"{_DAY}W"))
MONTH = CronField("month", "1-12 or JAN-DEC", rf"(?:0?[1-9]|1[0-2]|{_MONTHS})")
DAY_OF_WEEK = CronField(
    "day-of-week", "1-7 or SUN-SAT", _WEEKDAY, specials=(r"\?", "L", rf"{_WEEKDAY}L", rf"{_WEEKDAY}#[1-5]")
)
YEAR = CronField("year", "1970-2199", r"(?:19[7-9]\d|20\d\d|21\d\d)")
CRON_FIELDS = (MINUTES, HOURS, DAY_OF_MONTH, MONTH, DAY_OF_WEEK, YEAR)
_FIELD_NAMES = " ".join(field.name for field in CRON_FIELDS)

RATE_PATTERN = r"rate\((?:1 (?:minute|hour|day)|(?:[2-9]|[1-9]\d{1,5}) (?:minutes|hours|days))\)"


def _cron_pattern() -> str:
    """The whole cron expression: six fields, `?` in exactly one of day-of-month and day-of-week."""
    minutes, hours, month, year = MINUTES.pattern, HOURS.pattern, MONTH.pattern, YEAR.pattern
    day, weekday = (
        replace(f, specials=tuple(s for s in f.specials if s != r"\?")) for f in (DAY_OF_MONTH, DAY_OF_WEEK)
    )
    days = rf"(?:{day.pattern} {month} \?|\? {month} {weekday.pattern})"
    return rf"cron\({minutes} {hours} {days} {year}\)"


CRON_PATTERN = _cron_pattern()
EVENTBRIDGE_PATTERN = f"{CRON_PATTERN}|{RATE_PATTERN}"
# Model Monitor: cron(0 * ? * * *) hourly, cron(0 H ? * * *) daily, cron(0 H/N ? * * *) every N hours.
MONITOR_PATTERN = rf"cron\(0 (?:\*|{_HOUR}(?:/(?:0?[1-9]|1\d|2[0-4]))?) \? \* \* \*\)"
MONITOR_FORMS = "cron(0 * ? * * *) hourly, cron(0 H ? * * *) daily at hour H, or cron(0 H/N ? * * *) every N hours"


def cron_problem(expression: str) -> str | None:
    """None for a cron expression EventBridge accepts; otherwise the first problem, naming the field."""
    inner = re.fullmatch(r"cron\((.*)\)", expression)
    if not inner:
        return None if re.fullmatch(CRON_PATTERN, expression) else "must be written cron(<6 fields>)"
    fields = inner.group(1).split(" ")
    if len(fields) != len(CRON_FIELDS):
        return f"must have 6 fields separated by single spaces ({_FIELD_NAMES}), not {len(fields)}"
    for field, text in zip(CRON_FIELDS, fields, strict=True):
        if not re.fullmatch(field.pattern, text):
            return f"{field.name} field {text!r} must be {field.rule} (with , - * /{_specials_of(field)})"
    if (fields[2] == "?") == (fields[4] == "?"):
        return "needs ? in exactly one of day-of-month (3rd field) and day-of-week (5th field)"
    return None


def _specials_of(field: CronField) -> str:
    return {"day-of-month": " ? L W", "day-of-week": " ? L #"}.get(field.name, "")


def rate_problem(expression: str) -> str | None:
    """None for a rate expression EventBridge accepts: rate(1 unit) or rate(n units)."""
    if re.fullmatch(RATE_PATTERN, expression):
        return None
    found = re.fullmatch(r"rate\((\d+) (\w+)\)", expression)
    if not found:
        return "must be rate(<number> <unit>), e.g. rate(1 day) or rate(12 hours)"
    count, unit = int(found.group(1)), found.group(2)
    if count < 1:
        return "rate must be at least 1"
    if unit.rstrip("s") not in ("minute", "hour", "day"):
        return f"rate unit {unit!r} must be minute(s), hour(s) or day(s)"
    return f"rate unit must be {'singular' if count == 1 else 'plural'} for {count}: rate({count} {_unit(unit, count)})"


def _unit(unit: str, count: int) -> str:
    return unit.rstrip("s") + ("" if count == 1 else "s")


def eventbridge_schedule_problem(expression: str) -> str | None:
    """None for a schedule an EventBridge rule accepts (cron or rate); otherwise the problem."""
    if expression.startswith("rate("):
        return rate_problem(expression)
    if expression.startswith("cron("):
        return cron_problem(expression)
    return "must be a cron(...) or rate(...) expression, e.g. cron(0 3 * * ? *) or rate(1 day)"


def monitor_schedule_problem(expression: str) -> str | None:
    """None for a schedule Model Monitor accepts; otherwise the problem."""
    if expression == "NOW":
        return "NOW (one run) needs a data-analysis window, which this request does not set; use " + MONITOR_FORMS
    if not expression.startswith("cron("):
        return f"must be a cron expression Model Monitor accepts: {MONITOR_FORMS}"
    problem = cron_problem(expression)
    if problem:
        return problem
    if re.fullmatch(MONITOR_PATTERN, expression):
        return None
    if not expression.startswith("cron(0 "):
        return f"Model Monitor runs at most hourly, on the hour (minutes 0): use {MONITOR_FORMS}"
    return f"is not a schedule Model Monitor accepts: use {MONITOR_FORMS}"
