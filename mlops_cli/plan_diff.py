"""`mlops plan --diff OLD.json`: what changed between a saved JSON plan and this one, per stack:
resources added and removed, and for each changed resource the inputs that differ."""

from __future__ import annotations

import json
from typing import Any

Key = tuple[str, str, str]  # (parent, type, name): a resource's identity within its stack


def _by_identity(stack: dict[str, Any]) -> dict[Key, dict[str, Any]]:
    return {(r.get("parent") or "", r["type"], r["name"]): r.get("inputs", {}) for r in stack.get("resources", [])}


def _label(key: Key) -> str:
    parent, typ, name = key
    return f"{name} ({typ})" + (f" under {parent}" if parent else "")


def changed_inputs(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The input names whose values differ, sorted."""
    return sorted(name for name in set(old) | set(new) if _canonical(old.get(name)) != _canonical(new.get(name)))


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def stack_diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Lines `+ added`, `- removed`, `~ changed: inputs` for one stack, in a stable order."""
    before, after = _by_identity(old), _by_identity(new)
    lines = [f"+ {_label(key)}" for key in sorted(set(after) - set(before))]
    lines += [f"- {_label(key)}" for key in sorted(set(before) - set(after))]
    for key in sorted(set(before) & set(after)):
        inputs = changed_inputs(before[key], after[key])
        if inputs:
            lines.append(f"~ {_label(key)}: {', '.join(inputs)}")
    return lines


def plan_diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Per stack of either plan, its changes, or that it has none."""
    old_stacks = {s["stack"]: s for s in old.get("stacks", [])}
    new_stacks = {s["stack"]: s for s in new.get("stacks", [])}
    lines: list[str] = []
    for name in sorted(set(old_stacks) | set(new_stacks)):
        if name not in new_stacks:
            lines.append(f"stack {name}: not in this plan")
            continue
        changes = stack_diff(old_stacks.get(name, {}), new_stacks[name])
        lines.append(f"stack {name}: {len(changes)} change(s)" if changes else f"stack {name}: no changes")
        lines += [f"  {line}" for line in changes]
    return lines
