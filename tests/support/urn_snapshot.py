"""URN snapshot: the identity of every resource in the plans users already have deployed.

Users upgrade in place, so a refactor must leave every resource's URN (type, name and parent chain)
as it was, or Pulumi would replace the resource. `collect()` plans the multi-account example stacks
(examples/stacks/multi-account/, the stack files this repository shipped at its root), every example
request in each mode (as a declared pipeline and as the delivery stack the provisioner creates), and
returns their URNs; `tests/test_urn_snapshot.py` compares them with the committed snapshot.

Update the snapshot only on purpose, in its own commit:  .venv/bin/python -m tests.support.urn_snapshot
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Any

from mlops_cli.planner import StackPlan, plan_delivery, plan_stack
from mlops_cli.project import find_project

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = REPO_ROOT / "examples"
# The multi-account stacks (dev, staging, prod) the snapshot's `stack:<name>` plans.
STACKS_PROJECT = EXAMPLES / "stacks" / "multi-account"
SNAPSHOT = REPO_ROOT / "tests" / "snapshots" / "urns.json"
ORCHESTRATOR = "111111111111"
MULTI: dict[str, Any] = {
    "aws:region": "us-east-1",
    "mlops:mode": "multi",
    "mlops:accounts": {"dev": ORCHESTRATOR, "staging": "222222222222", "prod": "333333333333"},
    "mlops:notificationEmail": "team@example.com",
    "mlops:provisionerImageTag": "0.1.0",
}
SINGLE: dict[str, Any] = {
    "aws:region": "us-east-1",
    "mlops:mode": "single",
    "mlops:accounts": {"dev": ORCHESTRATOR},
    "mlops:provisionerImageTag": "0.1.0",
}
# Example folder -> the install it was written for.
CONFIG_BY_FOLDER: dict[str, dict[str, Any]] = {
    "single": SINGLE,
    "multi": MULTI,
    "registry": {**SINGLE, "mlops:useModelRegistry": True},
}


def example_folder(name: str) -> Path:
    return EXAMPLES if name == "single" else EXAMPLES / name


def example_requests(folder: str) -> dict[str, dict[str, Any]]:
    return {path.stem: json.loads(path.read_text()) for path in sorted(example_folder(folder).glob("*.json"))}


def urns_of(plan: StackPlan) -> list[str]:
    return sorted(resource.urn for resource in plan.recorder.resources)


def plan_names() -> list[str]:
    """Every plan the snapshot covers: the shipped stacks, each example folder planned as declared
    pipelines, and each example's delivery stack."""
    names = [f"stack:{stack}" for stack in ("dev", "staging", "prod")]
    for folder in CONFIG_BY_FOLDER:
        names.append(f"examples:{folder}")
        names += [f"delivery:{folder}/{name}" for name in example_requests(folder)]
    return names


def urns_for(plan_name: str) -> list[str]:
    """The sorted URNs of one plan named by `plan_names()`."""
    kind, _, what = plan_name.partition(":")
    if kind in ("stack", "examples"):
        return urns_of(shipped_plan(kind, what))
    folder, _, example = what.partition("/")
    return urns_of(plan_delivery("dev", example_requests(folder)[example], CONFIG_BY_FOLDER[folder]))


@functools.cache
def shipped_plan(kind: str, what: str) -> StackPlan:
    """A shipped stack (`stack`, dev/staging/prod) or an example folder planned as declared pipelines of
    the dev stack (`examples`): planned once per process, for the snapshot and the IAM tests alike."""
    if kind == "stack":
        return plan_stack(what, find_project(STACKS_PROJECT))
    requests = list(example_requests(what).values())
    return plan_stack("dev", config_values=CONFIG_BY_FOLDER[what], extra_pipelines=requests)


def collect() -> dict[str, list[str]]:
    return {name: urns_for(name) for name in plan_names()}


def main() -> int:
    SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
    SNAPSHOT.write_text(json.dumps(collect(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {SNAPSHOT.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
