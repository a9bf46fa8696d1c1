"""The `mlops:maxMonthlyCostPerPipeline` setting as written: its rule and how its text is read. Light (no
request models), so the stack config and the functions' settings read it without loading mlops_spec.costs."""

from __future__ import annotations

import math
from typing import Any

COST_SETTING = "mlops:maxMonthlyCostPerPipeline"
UNKNOWN_PRICES_SETTING = "mlops:costLimitUnknownPrices"
# What a limit does with an estimate it cannot check (the Price List unreadable, a price it does not
# hold): "refuse" the request (the default: a limit that can be bypassed is no limit), or "allow" it and
# say so in the answer's cost_limit_unchecked.
UNKNOWN_PRICES_CHOICES = ("refuse", "allow")


def max_monthly_cost_problem(value: Any) -> str | None:
    """None for a valid `mlops:maxMonthlyCostPerPipeline` (a positive number of US dollars)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        return "must be a positive number of US dollars, e.g. 500"
    return None


def parse_cost_limit(value: Any) -> float:
    """The setting as written: a number, or its text (as Pulumi hands config to a program, and the
    functions read it from their environment) -> USD; ValueError naming the problem."""
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            value = None
    problem = max_monthly_cost_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return float(value)
