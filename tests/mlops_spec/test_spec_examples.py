"""Every example request is accepted in its mode, survives a round trip, and per-environment ones need multi mode."""

from __future__ import annotations

import json

import pytest

from mlops_spec.errors import SpecError
from mlops_spec.request import parse_pipeline_request
from mlops_spec.spec_union import SPEC_TYPES

PIPELINE_TYPES = sorted(SPEC_TYPES)
SINGLE_ACCOUNT_ONLY = sorted(name for name, spec in SPEC_TYPES.items() if not spec.MULTI_ACCOUNT)
STAGE_AWARE = sorted(name for name, spec in SPEC_TYPES.items() if spec.MULTI_ACCOUNT)
REGISTRY_TYPES = ["byom_batch_builtin", "byom_realtime_builtin"]
# Examples of a request option rather than of a type (named after the option, in both modes).
OPTION_EXAMPLES = {
    "byom_realtime_async": "byom_realtime_custom",
    "byom_realtime_serverless": "byom_realtime_builtin",
    "byom_realtime_deploy_on_approval": "byom_realtime_builtin",
}


def test_there_is_an_example_per_type_and_mode(examples_dir):
    single, multi = (sorted(path.stem for path in (examples_dir / folder).glob("*.json")) for folder in ("", "multi"))
    # One per type, and the examples of request options (named after the option), in both modes.
    assert set(PIPELINE_TYPES) <= set(single) and set(OPTION_EXAMPLES) <= set(single)
    assert multi == single
    assert sorted(path.stem for path in (examples_dir / "registry").glob("*.json")) == REGISTRY_TYPES


def test_single_account_only_types_are_training_tuning_autopilot_and_image_builds():
    assert SINGLE_ACCOUNT_ONLY == [
        "byom_image_builder",
        "model_autopilot_training",
        "model_training_builtin",
        "model_tuner_builtin",
    ]


@pytest.mark.parametrize("pipeline_type", PIPELINE_TYPES)
def test_single_account_example_is_accepted(example, pipeline_type):
    spec = parse_pipeline_request(example(pipeline_type), mode="single")
    assert spec.pipeline_type == pipeline_type
    assert type(spec) is SPEC_TYPES[pipeline_type]
    assert spec.environments("single") == ("dev",)


@pytest.mark.parametrize("pipeline_type", PIPELINE_TYPES)
def test_single_account_example_is_also_valid_in_multi_mode(example, pipeline_type):
    # A plain value is reused for every environment.
    spec = parse_pipeline_request(example(pipeline_type), mode="multi")
    assert spec.for_env("prod") == spec.for_env("dev")


@pytest.mark.parametrize("pipeline_type", STAGE_AWARE)
def test_multi_account_example_is_accepted_and_deploys_to_three_environments(example, pipeline_type):
    spec = parse_pipeline_request(example(pipeline_type, "multi"), mode="multi")
    assert spec.environments("multi") == ("dev", "staging", "prod")
    assert spec.for_env("dev") != spec.for_env("prod"), "the multi example should differ per environment"


@pytest.mark.parametrize("pipeline_type", STAGE_AWARE)
def test_multi_account_example_is_rejected_in_single_mode_naming_each_per_environment_field(example, pipeline_type):
    body = example(pipeline_type, "multi")
    per_environment = {name for name, value in body.items() if isinstance(value, dict) and "prod" in value}
    with pytest.raises(SpecError) as caught:
        parse_pipeline_request(body, mode="single")
    assert {error.field for error in caught.value.errors} == per_environment
    assert {error.problem for error in caught.value.errors} == {
        "per-environment values {dev, staging, prod} are only allowed in multi-account mode; give one value"
    }


@pytest.mark.parametrize("pipeline_type", SINGLE_ACCOUNT_ONLY)
def test_single_account_only_types_take_the_plain_request_in_multi_mode(example, pipeline_type):
    assert example(pipeline_type, "multi") == example(pipeline_type)
    spec = parse_pipeline_request(example(pipeline_type, "multi"), mode="multi")
    assert spec.environments("multi") == ("dev",)
    assert spec.staged_fields() == ()


@pytest.mark.parametrize("pipeline_type", REGISTRY_TYPES)
def test_registry_example_is_accepted_with_the_registry_on(example, pipeline_type):
    spec = parse_pipeline_request(example(pipeline_type, "registry"), use_model_registry=True)
    assert spec.model_package_name == "arn:aws:sagemaker:us-east-1:111111111111:model-package/mlops-models/3"
    assert spec.model_framework is None and spec.model_artifact_location is None


@pytest.mark.parametrize("pipeline_type", REGISTRY_TYPES)
def test_image_based_example_is_rejected_with_the_registry_on(example, reject, pipeline_type):
    error = reject(example(pipeline_type), use_model_registry=True)
    assert (error.field, error.problem) == ("model_package_name", "is required when the model registry is enabled")


@pytest.mark.parametrize(("folder", "mode"), [("", "single"), ("multi", "multi")])
@pytest.mark.parametrize("pipeline_type", PIPELINE_TYPES)
def test_a_validated_request_reads_back_unchanged(example, pipeline_type, folder, mode):
    # The provisioner re-reads the stored, normalised request: it must validate to the same spec.
    spec = parse_pipeline_request(example(pipeline_type, folder), mode=mode)
    again = parse_pipeline_request(spec.model_dump(mode="json"), mode=mode)
    assert again == spec
    assert again.spec_hash() == spec.spec_hash()


@pytest.mark.parametrize(("folder", "mode"), [("", "single"), ("multi", "multi")])
@pytest.mark.parametrize(("name", "pipeline_type"), sorted(OPTION_EXAMPLES.items()))
def test_option_example_is_accepted_as_its_type(examples_dir, folder, mode, name, pipeline_type):
    body = json.loads((examples_dir / folder / f"{name}.json").read_text())
    spec = parse_pipeline_request(body, mode=mode)
    assert type(spec) is SPEC_TYPES[pipeline_type]
    assert (spec.serverless is not None, spec.async_inference is not None) == (
        name.endswith("serverless"),
        name.endswith("async"),
    )
