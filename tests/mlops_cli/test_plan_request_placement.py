"""What `mlops plan --request` says when the request adds nothing to the planned stack (issue 12: a
request that plans nothing in the chosen environment says why)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_cli.plan_text import nothing_added_reason
from mlops_spec.base import PipelineSpec
from mlops_spec.common import Mode
from mlops_spec.request import parse_pipeline_request

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example(name: str, mode: Mode = "multi") -> PipelineSpec:
    folder = EXAMPLES / "multi" if mode == "multi" else EXAMPLES
    return parse_pipeline_request(json.loads((folder / f"{name}.json").read_text()), mode)


@pytest.mark.fast
def test_training_planned_in_prod_says_it_runs_in_the_orchestrators_environment_only() -> None:
    assert nothing_added_reason(example("model_training_builtin"), "multi", "dev", "prod") == (
        "it deploys to dev only (a model_training_builtin pipeline runs in the orchestrator's environment only)"
    )


@pytest.mark.fast
def test_an_endpoint_planned_in_a_target_environment_names_its_delivery_pipeline() -> None:
    assert nothing_added_reason(example("byom_realtime_builtin"), "multi", "dev", "prod") == (
        "its resources in prod are deployed by its delivery pipeline (plan them with --delivery)"
    )


@pytest.mark.fast
def test_a_single_account_request_planned_in_another_environment_names_where_it_deploys() -> None:
    assert nothing_added_reason(example("byom_realtime_builtin", "single"), "single", "dev", "staging") == (
        "it deploys to dev only"
    )
