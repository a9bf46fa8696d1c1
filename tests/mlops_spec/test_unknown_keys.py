"""Unknown keys: ignored with a warning in compatibility mode, errors in strict mode, each with the
closest known field when one is close; names trimmed of surrounding whitespace."""

from __future__ import annotations

import pytest

from mlops_spec.errors import FieldError
from mlops_spec.request import RequestError, parse_pipeline_request, read_pipeline_request


@pytest.mark.parametrize(
    ("pipeline_type", "key", "problem"),
    [
        ("byom_realtime_builtin", "description", "is not a known field; ignored"),
        (
            "byom_realtime_builtin",
            "inference_instances",
            "is not a known field; ignored (did you mean inference_instance?)",
        ),
        (
            "byom_batch_builtin",
            "batch_inference_dta",
            "is not a known field; ignored (did you mean batch_inference_data?)",
        ),
        ("byom_data_quality_monitor", "schedule", "is not a known field; ignored"),
        ("model_tuner_builtin", "tuner_config", "is not a known field; ignored (did you mean tuner_configs?)"),
        ("byom_image_builder", "image_tags", "is not a known field; ignored (did you mean image_tag?)"),
    ],
)
def test_compatibility_mode_ignores_an_unknown_key_with_a_warning(example, pipeline_type, key, problem):
    read = read_pipeline_request({**example(pipeline_type), key: "x"})
    assert read.warnings == (FieldError(key, problem),)
    assert read.spec == parse_pipeline_request(example(pipeline_type))


def test_strict_mode_makes_each_unknown_key_an_error_with_its_suggestion(example):
    with pytest.raises(RequestError) as caught:
        read_pipeline_request({**example("byom_realtime_builtin"), "modle_name": "x", "team": "a"}, strict=True)
    assert caught.value.errors == [
        FieldError("modle_name", "is not a known field (did you mean model_name?)"),
        FieldError("team", "is not a known field"),
    ]


def test_an_invalid_request_carries_its_errors_and_its_warnings(example):
    body = {**example("byom_realtime_builtin"), "team": "a", "inference_instance": "ml.m5.largee"}
    with pytest.raises(RequestError) as caught:
        read_pipeline_request(body)
    assert [e.field for e in caught.value.errors] == ["inference_instance"]
    assert caught.value.warnings == [FieldError("team", "is not a known field; ignored")]


def test_a_nested_unknown_key_is_an_error_in_both_modes(example):
    body = {**example("byom_realtime_builtin"), "autoscaling": {"min_capacty": 1}}
    with pytest.raises(RequestError) as caught:
        read_pipeline_request(body)
    assert caught.value.errors == [
        FieldError("autoscaling.min_capacty", "is not a known field (did you mean min_capacity?)")
    ]


def test_the_mwo_spelling_and_the_correct_one_are_both_known(example):
    body = example("model_training_builtin")
    body["algo_hyperparameters"] = body.pop("algo_hyperparamaters")
    assert read_pipeline_request(body).warnings == ()


def test_names_are_trimmed_of_surrounding_whitespace(example):
    body = {**example("byom_realtime_builtin"), "model_name": " churn ", "endpoint_name": "churn-endpoint "}
    spec = read_pipeline_request(body).spec
    assert (spec.model_name, spec.endpoint_name) == ("churn", "churn-endpoint")  # type: ignore[attr-defined]
