"""What the component tests share: a test environment's context, building one pipeline, finding resources."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi

from components.pipelines.base import PipelineContext
from components.pipelines.registry import build_pipeline
from mlops_cli.mocks import PlannedResource, PlanRecorder
from mlops_spec.base import PipelineSpec

ENV_KEY = "arn:aws:kms:us-east-1:111111111111:key/11111111-1111-1111-1111-111111111111"
ASSETS_KEY = "arn:aws:kms:us-east-1:111111111111:key/99999999-9999-9999-9999-999999999999"


def make_context(**overrides: Any) -> PipelineContext:
    """The dev environment of a single-account install in us-east-1, with `overrides` applied."""
    values: dict[str, Any] = {
        "environment": "dev",
        "account_id": "111111111111",
        "region": "us-east-1",
        "orchestrator_account_id": "111111111111",
        "kms_key_arn": ENV_KEY,
        "artifacts_bucket": "mlops-dev-artifacts",
        "assets_bucket": "mlops-assets",
    }
    return PipelineContext(**{**values, **overrides})


def build(
    spec: PipelineSpec,
    context: PipelineContext,
    expect: type | None = None,
    check: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Build `spec`'s pipeline under the installed mock engine and return its outputs.

    `expect` is the component class the registry must choose; `check` asserts on the outputs inside
    the engine, where a failed assertion fails the test.
    """
    outputs: dict[str, Any] = {}

    def record(values: dict[str, Any]) -> None:
        outputs.update(values)
        if check is not None:
            check(values)

    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        component = build_pipeline(spec, context)
        if expect is not None:
            assert isinstance(component, expect), type(component).__name__
        return pulumi.Output.all(**component.outputs).apply(record)

    program()
    return outputs


def only(recorder: PlanRecorder, typ: str) -> PlannedResource:
    [resource] = recorder.of_type(typ)
    return resource
