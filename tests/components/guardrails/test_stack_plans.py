"""The real program, planned offline for every stack and for every example request, breaks no guardrail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from components.guardrails import PUBLIC_ACCESS_BLOCK_TYPES, check_all
from mlops_cli.mocks import PlannedResource
from mlops_cli.planner import StackPlan, config_strings, plan_stack
from mlops_spec.stack_config import load_stack_config
from tests.support.urn_snapshot import shipped_plan

REPO_ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = REPO_ROOT / "examples"
ORCHESTRATOR = "111111111111"  # the dev account hosts the orchestrator in every config below
MULTI: dict[str, Any] = {
    "aws:region": "us-east-1",
    "mlops:mode": "multi",
    "mlops:accounts": {"dev": ORCHESTRATOR, "staging": "222222222222", "prod": "333333333333"},
    "mlops:notificationEmail": "team@example.com",
}
# The example requests name buckets and keys of account 111111111111.
SINGLE: dict[str, Any] = {"aws:region": "us-east-1", "mlops:mode": "single", "mlops:accounts": {"dev": ORCHESTRATOR}}
CONFIG_BY_FOLDER: dict[Path, dict[str, Any]] = {
    EXAMPLES: SINGLE,
    EXAMPLES / "multi": MULTI,
    # Requests that deploy a registered model package (model_package_name) need the registry on.
    EXAMPLES / "registry": {**SINGLE, "mlops:useModelRegistry": True},
}
# Collected when the module is imported: one case per example file present.
EXAMPLE_FILES = sorted(path for folder in CONFIG_BY_FOLDER for path in folder.glob("*.json"))


def violations_of(resources: list[PlannedResource]) -> list[str]:
    return [str(v) for v in check_all(resources, ORCHESTRATOR)]


# -- the stacks as configured -----------------------------------------------------------------
@pytest.fixture(scope="module")
def dev_multi() -> StackPlan:
    return plan_stack("dev", config_values={**MULTI, "mlops:useModelRegistry": True})


def test_dev_stack_breaks_no_guardrail(dev_multi: StackPlan) -> None:
    types = dev_multi.recorder.counts_by_type()
    assert types["aws:s3/bucket:Bucket"] >= 4 and types["aws:iam/role:Role"] >= 4  # what the rules judge
    assert violations_of(dev_multi.recorder.resources) == []


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_target_account_stacks_break_no_guardrail(stack: str) -> None:
    plan = plan_stack(stack, config_values={**MULTI, "mlops:environment": stack})
    assert plan.recorder.of_type("aws:iam/role:Role") != []
    assert violations_of(plan.recorder.resources) == []


def test_single_account_stack_breaks_no_guardrail() -> None:
    assert violations_of(plan_stack("dev", config_values=SINGLE).recorder.resources) == []


def test_a_real_plan_missing_its_public_access_blocks_is_caught(dev_multi: StackPlan) -> None:
    """The zeros here are earned: drop the blocks from a real plan and every bucket is reported."""
    kept = [r for r in dev_multi.recorder.resources if r.type not in PUBLIC_ACCESS_BLOCK_TYPES]
    reported = [v.resource_name for v in check_all(kept, ORCHESTRATOR) if v.rule == "s3-public-access-block"]
    assert sorted(reported) == sorted(b.name for b in dev_multi.recorder.of_type("aws:s3/bucket:Bucket"))


# -- every example request ----------------------------------------------------------------------
# A plan runs the whole program (the orchestrator alone is over 100 resources, 0.3-1 s a plan), so the
# examples of a folder are planned together, once; each example is then judged on its own pipeline.
def request(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def pipeline_id(path: Path) -> str:
    values = {**CONFIG_BY_FOLDER[path.parent], "mlops:pipelines": [request(path)]}
    return load_stack_config(config_strings(values), "dev").pipelines[0].pipeline_id


@pytest.fixture(scope="module")
def folder_plans() -> dict[Path, StackPlan]:
    # The URN snapshot's plans of the same folders (its installs also run the provisioner: more to judge),
    # planned once per process for the snapshot, the IAM tests and these.
    return {
        folder: shipped_plan("examples", "single" if folder == EXAMPLES else folder.name) for folder in CONFIG_BY_FOLDER
    }


def pipeline_resources(plan: StackPlan, pipeline: str) -> list[PlannedResource]:
    """The pipeline's component and everything created under it."""
    roots = [r for r in plan.recorder.resources if r.type.startswith("mlops:pipelines:") and r.name == pipeline]
    assert len(roots) == 1, f"pipeline {pipeline} is not in the plan"
    inside = {roots[0].urn}
    for resource in plan.recorder.resources:  # parents register before their children
        if resource.parent_urn in inside:
            inside.add(resource.urn)
    return [r for r in plan.recorder.resources if r.urn in inside]


def test_there_are_example_requests_to_check() -> None:
    """Without examples the parametrized test below would collect nothing and pass silently."""
    assert list(EXAMPLES.glob("*.json")) != []
    assert list((EXAMPLES / "multi").glob("*.json")) != []


def test_every_registered_pipeline_type_has_an_example_in_each_mode() -> None:
    from components.pipelines.registry import REGISTRY

    for folder in (EXAMPLES, EXAMPLES / "multi"):
        types = {request(path)["pipeline_type"] for path in folder.glob("*.json")}
        assert set(REGISTRY) <= types, f"{folder.name}: no example for {sorted(set(REGISTRY) - types)}"


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[str(p.relative_to(EXAMPLES)) for p in EXAMPLE_FILES])
def test_example_request_breaks_no_guardrail(path: Path, folder_plans: dict[Path, StackPlan]) -> None:
    resources = pipeline_resources(folder_plans[path.parent], pipeline_id(path))
    assert any(r.custom for r in resources), "the pipeline planned no AWS resource"
    assert violations_of(resources) == []


def test_example_plans_break_no_guardrail_outside_the_pipelines_either(folder_plans: dict[Path, StackPlan]) -> None:
    """A pipeline may create resources outside its component, and bucket rules need a bucket and its
    companions together: judge each whole plan too."""
    for folder, plan in folder_plans.items():
        assert violations_of(plan.recorder.resources) == [], folder.name
