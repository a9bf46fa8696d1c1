"""The pipeline registry: one entry per request type, each pairing the type's spec with its component."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.pipelines.base import PipelineComponent, PipelineContext
from components.pipelines.batch import BatchTransform
from components.pipelines.realtime import RealtimeEndpoint
from components.pipelines.registry import COMPONENTS, REGISTRY, build_pipeline
from mlops_cli.mocks import PlanRecorder
from mlops_spec.base import PipelineSpec
from mlops_spec.request import parse_pipeline_request
from mlops_spec.spec_union import SPEC_CLASSES, SPEC_TYPES

CONTEXT = PipelineContext(
    environment="dev",
    account_id="111111111111",
    region="us-east-1",
    orchestrator_account_id="999999999999",
    kms_key_arn="arn:aws:kms:us-east-1:111111111111:key/11111111-1111-1111-1111-111111111111",
    artifacts_bucket="mlops-dev-artifacts",
    assets_bucket="mlops-assets",
)
SERVED_MODEL = {
    "model_name": "churn-xgb",
    "inference_instance": "ml.m5.large",
    "model_framework": "xgboost",
    "model_framework_version": "1.7-1",
    "model_artifact_location": "models/model.tar.gz",
}


def test_every_registered_type_is_a_request_type_with_the_same_spec() -> None:
    for pipeline_type, kind in REGISTRY.items():
        assert SPEC_TYPES.get(pipeline_type) is kind.spec, pipeline_type
        assert issubclass(kind.component, PipelineComponent)


def test_every_request_type_has_a_component() -> None:
    assert set(COMPONENTS) == set(SPEC_CLASSES)
    assert set(REGISTRY) == set(SPEC_TYPES)


def test_a_type_string_is_read_from_its_spec_class() -> None:
    assert {spec.type_name(): spec for spec in SPEC_CLASSES} == SPEC_TYPES
    assert len(SPEC_TYPES) == len(SPEC_CLASSES) == 12


def test_every_component_declares_its_own_type_token() -> None:
    tokens = {kind.component.TYPE_TOKEN for kind in REGISTRY.values()}
    assert all(token.startswith("mlops:pipelines:") for token in tokens)


@pytest.mark.parametrize(
    ("body", "component"),
    [
        ({"pipeline_type": "byom_realtime_builtin", "data_capture_location": "capture-bucket/x"}, RealtimeEndpoint),
        (
            {
                "pipeline_type": "byom_batch_builtin",
                "batch_inference_data": "input-bucket/x",
                "batch_job_output_location": "output-bucket/y",
            },
            BatchTransform,
        ),
    ],
)
def test_build_pipeline_names_the_component_after_the_pipeline(
    pulumi_mocks: PlanRecorder, body: dict[str, Any], component: type[PipelineComponent]
) -> None:
    spec = parse_pipeline_request({**SERVED_MODEL, **body})
    built: list[PipelineComponent] = []

    @pulumi.runtime.test
    def program() -> None:
        built.append(build_pipeline(spec, CONTEXT))

    program()
    assert isinstance(built[0], component)
    assert pulumi_mocks.resources[0].type == component.TYPE_TOKEN
    assert pulumi_mocks.resources[0].name == spec.pipeline_id


def test_a_type_without_a_component_is_refused_by_name() -> None:
    class Unregistered(PipelineSpec):
        TYPE_SLUG = "nothing"
        pipeline_type: str = "not_a_pipeline"
        model_name: str = "x"

    with pytest.raises(ValueError, match="not_a_pipeline"):
        build_pipeline(Unregistered(), CONTEXT)


def test_a_spec_of_the_wrong_class_is_refused() -> None:
    class Impostor(PipelineSpec):
        TYPE_SLUG = "impostor"
        pipeline_type: str = "byom_realtime_builtin"
        model_name: str = "x"

    with pytest.raises(TypeError, match="RealtimeBuiltinSpec"):
        build_pipeline(Impostor(), CONTEXT)
