"""The shadow test of `mlops status ID`: per environment, the production and shadow variants' last hour
side by side (the `shadow_test` of GET /pipelines/{id}, lambda_src/api/shadow_metrics.py)."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

# Rows of the table: the answer's metric -> its label.
ROWS = {
    "invocations": "invocations",
    "invocation_5xx_errors": "5XX errors",
    "invocation_4xx_errors": "4XX errors",
    "model_latency_ms": "model latency (ms, average)",
}


def _cell(value: Any) -> str:
    return "-" if value is None else escape(str(value))


def shadow_tables(shadow_test: Any) -> list[Table | str]:
    """One table per environment read (metrics side by side), or a line saying where to read them."""
    if not isinstance(shadow_test, dict):
        return []
    shown: list[Table | str] = []
    hours = shadow_test.get("window_hours", 1)
    for env, entry in (shadow_test.get("environments") or {}).items():
        if not isinstance(entry, dict):
            continue
        where = f"shadow test in {escape(str(env))} ({escape(str(entry.get('endpoint_name', '?')))})"
        production, shadow = entry.get("production"), entry.get("shadow")
        if not isinstance(production, dict) or not isinstance(shadow, dict):
            shown.append(f"{where}: {escape(str(entry.get('note') or 'no metrics'))}")
            shown += elsewhere_lines(str(env), entry)
            continue
        table = Table("", "production", "shadow", title=f"{where}, last {hours} h")
        for key, label in ROWS.items():
            table.add_row(label, _cell(production.get(key)), _cell(shadow.get(key)))
        shown.append(table)
    return shown


def elsewhere_lines(env: str, entry: dict[str, Any]) -> list[str]:
    """Where to read an environment's metrics in its own account: the console page, and where the exact
    AWS CLI command is (it carries every query as JSON: too long for a line, copied from --json)."""
    lines = []
    if isinstance(entry.get("console"), str):
        lines.append(f"  console: {escape(entry['console'])}")
    if isinstance(entry.get("command"), str):
        lines.append(
            f"  command: aws cloudwatch get-metric-data ..., in full in this status with --json "
            f"(shadow_test.environments.{escape(env)}.command)"
        )
    return lines
