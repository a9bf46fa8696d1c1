"""What the request models check beyond field types is published in the JSON Schema, and the two agree.

Each case is judged twice: by the published schema (jsonschema, as a client would) and by the
request model (as the API does). They must give the same verdict. tests/contract/ checks the
same through the handler with generated requests; these cases pin the rules down one by one.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from mlops_spec import routes
from mlops_spec.errors import SpecError
from mlops_spec.modelcards import UpdateModelCard, UpdateModelCardBody
from mlops_spec.openapi import json_schema, openapi_document
from mlops_spec.request import parse_pipeline_request
from tests.support.examples import load_example

VALIDATOR = jsonschema.Draft202012Validator(json_schema())
DOCUMENT = openapi_document()


def model_accepts(body: dict[str, Any], mode: str = "multi") -> bool:
    try:
        parse_pipeline_request(body, mode=mode)  # type: ignore[arg-type]
    except SpecError:
        return False
    return True


def verdicts(body: dict[str, Any]) -> tuple[bool, bool]:
    return VALIDATOR.is_valid(body), model_accepts(body)


def realtime(**changes: Any) -> dict[str, Any]:
    body = {**load_example("byom_realtime_builtin"), **changes}
    return {key: value for key, value in body.items() if value is not None}


@pytest.mark.parametrize(
    ("changes", "accepted"),
    [
        ({}, True),
        ({"model_framework": None, "model_framework_version": None}, False),
        (
            {
                "model_framework": None,
                "model_framework_version": None,
                "model_artifact_location": None,
                "model_package_name": "arn:aws:sagemaker:us-east-1:111111111111:model-package/churn/3",
            },
            True,
        ),
        ({"model_artifact_location": None}, False),
        ({"subnet_ids": ["subnet-0123456789abcdef0"]}, False),
        ({"subnet_ids": ["subnet-0123456789abcdef0"], "security_group_ids": ["sg-0123456789abcdef0"]}, True),
        ({"subnet_ids": [], "security_group_ids": []}, True),
        ({"deployment": {"type": "canary"}, "instance_count": 1}, False),
        ({"deployment": {"type": "canary"}, "instance_count": 2}, True),
        ({"deployment": {"type": "linear"}, "instance_count": {"dev": 2, "staging": 1, "prod": 2}}, False),
        ({"deployment": {"type": "linear"}, "instance_count": {"dev": 2, "staging": 2, "prod": 2}}, True),
        ({"deployment": {"type": "canary"}, "instance_count": None}, False),
        ({"instance_count": 2.0}, True),
        ({"instance_count": 2.5}, False),
        ({"tags": {"aws:team": "x"}}, False),
        ({"tags": {"AWS:team": "x"}}, False),
        ({"tags": {"mlops:owner": "x"}}, False),
        ({"tags": {"team/ml": "x"}}, True),
        ({"tags": {"team!": "x"}}, False),
        ({"tags": {f"k{n}": "v" for n in range(47)}}, False),
        ({"tags": {f"k{n}": "v" for n in range(46)}}, True),
        ({"data_capture_location": "s3://bucket-1/capture/"}, True),
        ({"data_capture_location": "bucket-1/cap ture"}, False),
        ({"data_capture_location": "bucket-1/cap\u00a0ture"}, False),
        ({"data_capture_location": "bucket-1/cap\x1dture"}, False),
        ({"data_capture_location": "bucket-1/a..b"}, False),
        ({"model_artifact_location": "models/../model.tar.gz"}, False),
        ({"model_artifact_location": "/models/model.tar.gz"}, False),
        ({"inference_instance": "ml.m5.large"}, True),
        ({"inference_instance": "ml.m5.\u0661"}, False),
        ({"client_token": " "}, True),  # blank is absent (the old solution's clients send "")
        ({"client_token": "\x1d"}, True),
        ({"client_token": " t "}, True),
        ({"model_name": " "}, False),
        ({"model_name": "\x1d"}, False),
    ],
)
def test_served_model_rules(changes, accepted):
    assert verdicts(realtime(**changes)) == (accepted, accepted)


@pytest.mark.parametrize(
    ("example", "changes", "accepted"),
    [
        ("model_tuner_builtin", {"job_name": "a" * 32}, True),
        ("model_tuner_builtin", {"job_name": "a" * 33}, False),
        ("model_training_builtin", {"job_name": "a" * 33}, True),
        ("model_training_builtin", {"attribute_names": ["a"]}, False),
        ("model_training_builtin", {"attribute_names": ["a"], "s3_data_type": "AugmentedManifestFile"}, True),
        ("model_tuner_builtin", {"hyperparamaters_ranges": {"eta": ["integer", [1.0, 3.0]]}}, True),
        ("model_tuner_builtin", {"hyperparamaters_ranges": {"eta": ["integer", [1.5, 3]]}}, False),
        ("model_tuner_builtin", {"hyperparamaters_ranges": {"eta": ["categorical", []]}}, False),
        ("model_tuner_builtin", {"hyperparamaters_ranges": {"eta": ["categorical", ["a", 1]]}}, True),
        ("model_tuner_builtin", {"hyperparamaters_ranges": {"eta": ["continuous", [0.1]]}}, False),
        ("model_autopilot_training", {"problem_type": "Regression", "job_objective": "MSE"}, True),
        ("model_autopilot_training", {"problem_type": "Regression", "job_objective": "AUC"}, False),
        ("model_autopilot_training", {"problem_type": None, "job_objective": "AUC"}, False),
        ("byom_model_quality_monitor", {"problem_type": "Regression", "monitor_inference_attribute": None}, False),
        ("byom_model_quality_monitor", {"problem_type": "Regression", "monitor_inference_attribute": "0"}, True),
        ("byom_image_builder", {"custom_algorithm_docker": "images/serving.ZIP"}, True),
        ("byom_image_builder", {"custom_algorithm_docker": "images/serving.tar"}, False),
        ("model_autopilot_training", {"target_attribute": "\x1d"}, False),
        ("model_autopilot_training", {"target_attribute": " churn "}, True),
        ("model_tuner_builtin", {"tuner_configs": {"objective_metric_name": " "}}, False),
    ],
)
def test_job_monitor_and_image_rules(example, changes, accepted):
    body = {key: value for key, value in {**load_example(example), **changes}.items() if value is not None}
    assert verdicts(body) == (accepted, accepted)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tuner_configs": {"objective_metric_name": "m", "max_jobs": 2, "max_parallel_jobs": 3}}, "max_parallel_jobs"),
        ({"max_runtime_per_job": 7200, "max_wait_time_spot_instances": 3600}, "max_wait_time_spot_instances"),
        ({"hyperparamaters_ranges": {"eta": ["continuous", [0.5, 0.1]]}}, "hyperparamaters_ranges"),
    ],
)
def test_rules_json_schema_cannot_state_are_published_as_x_rules(body, field):
    """Schema-valid, refused by the model, with the field and problem an x-rule announces."""
    request = {**load_example("model_tuner_builtin"), **body}
    assert VALIDATOR.is_valid(request)
    with pytest.raises(SpecError) as refused:
        parse_pipeline_request(request, mode="single")
    [error] = refused.value.errors
    assert field in error.field
    assert any(rule["field"] in error.field and rule["problem"] in error.problem for rule in _x_rules(DOCUMENT))


def _x_rules(node: Any) -> list[dict[str, str]]:
    if isinstance(node, dict):
        return list(node.get("x-rules", [])) + [rule for value in node.values() for rule in _x_rules(value)]
    if isinstance(node, list):
        return [rule for value in node for rule in _x_rules(value)]
    return []


def test_every_x_rule_names_a_property_of_its_schema():
    for name, schema in DOCUMENT["components"]["schemas"].items():
        for rule in schema.get("x-rules", []):
            assert rule["field"] in schema["properties"], (name, rule)


@pytest.mark.parametrize(
    ("body", "accepted"),
    [
        ({}, False),
        ({"status": None}, False),
        ({"status": "Approved"}, True),
        ({"intended_uses": {}}, True),
        ({"version": 2}, False),
        ({"version": 2.0, "status": "Draft"}, True),
        ({"version": 2.5, "status": "Draft"}, False),
        ({"name": "churn-card", "status": "Draft"}, False),
    ],
)
def test_a_model_card_update_body_must_change_something(body, accepted):
    schema = {**DOCUMENT, **DOCUMENT["components"]["schemas"]["UpdateModelCardBody"]}
    published = jsonschema.Draft202012Validator(schema).is_valid(body)
    try:
        UpdateModelCardBody.model_validate(body)
        UpdateModelCard.model_validate({**body, "name": "churn-card"})
        model = True
    except ValueError:
        model = False
    assert (published, model) == (accepted, accepted)


@pytest.mark.parametrize(
    ("metric", "accepted"),
    [
        ({"name": "m", "type": "number", "value": 0.5}, True),
        ({"name": "m", "type": "number", "value": True}, False),
        ({"name": "m", "type": "boolean", "value": "yes"}, False),
        ({"name": "m", "type": "linear_graph", "value": [[0, 1]]}, True),
        ({"name": "m", "type": "string", "value": 1}, False),
    ],
)
def test_a_metric_value_fits_its_type(metric, accepted):
    from mlops_spec.modelcards import Metric

    schema = {**DOCUMENT, **DOCUMENT["components"]["schemas"]["Metric"]}
    published = jsonschema.Draft202012Validator(schema).is_valid(metric)
    try:
        Metric.model_validate(metric)
        model = True
    except ValueError:
        model = False
    assert (published, model) == (accepted, accepted)


def test_path_parameters_publish_the_routes_patterns_and_lengths():
    for path, item in DOCUMENT["paths"].items():
        for parameter in item.get("parameters", []):
            name = parameter["name"]
            assert parameter["schema"]["pattern"] == f"^(?:{routes.PATH_PARAMETER_PATTERNS[name]})$", path
            assert parameter["schema"]["maxLength"] == routes.PATH_PARAMETER_MAX_LENGTHS[name], path


def test_no_pydantic_constraint_is_left_unpublished():
    """A bound pydantic cannot turn into JSON Schema comes out under its own name (`ge`), which no
    client reads: every bound must be a JSON Schema keyword."""
    text = json.dumps(DOCUMENT)
    for keyword in ("ge", "le", "gt", "lt", "min_length", "max_length"):
        assert f'"{keyword}":' not in text, keyword


@pytest.mark.parametrize(
    ("changes", "accepted"),
    [
        ({"deployment": "", "instance_count": 1}, True),  # a blank deployment is the default, all at once
        ({"deployment": {"type": "canary"}, "instance_count": ""}, False),
        ({"endpoint_name": ""}, True),
        ({"model_name": ""}, False),
    ],
)
def test_blank_values_are_absent_in_the_rules_too(changes, accepted):
    assert verdicts(realtime(**changes)) == (accepted, accepted)


@pytest.mark.parametrize(("job_name", "accepted"), [(" " * 40, True), ("a" * 33, False), ("\x1d", True)])
def test_a_blank_job_name_is_no_name_whatever_its_length(job_name, accepted):
    body = {**load_example("model_tuner_builtin"), "job_name": job_name}
    assert verdicts(body) == (accepted, accepted)


@pytest.mark.parametrize(("values", "accepted"), [(["a", 1, 2.5], True), ([False], False), ([None], False)])
def test_categorical_values_are_strings_or_numbers(values, accepted):
    body = {**load_example("model_tuner_builtin"), "hyperparamaters_ranges": {"eta": ["categorical", values]}}
    assert verdicts(body) == (accepted, accepted)


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        (0, True),
        (2.5, True),
        ("label", True),
        (" ", True),  # blank: absent
        (10**255, True),  # 256 digits
        (10**256, False),
        (-(10**255), False),
        (True, False),
    ],
    ids=["zero", "fraction", "text", "blank", "256-digits", "257-digits", "negative-257-characters", "boolean"],
)
def test_a_monitor_attribute_is_text_or_a_number_as_the_old_solution_sent(value, accepted):
    body = {**load_example("byom_model_quality_monitor"), "monitor_inference_attribute": value}
    assert verdicts(body) == (accepted, accepted)


@pytest.mark.parametrize(
    ("value", "accepted"), [(3, True), ("$.scores", True), ("3", True), ("0" * 257, False), (3.0, True)]
)
def test_model_scores_is_an_index_or_an_attribute(value, accepted):
    body = {**load_example("byom_model_explainability_monitor"), "model_scores": value}
    assert verdicts(body) == (accepted, accepted)


@pytest.mark.parametrize(
    ("changes", "accepted"),
    [
        ({"instance_count": True}, False),
        ({"instance_count": {"dev": 2, "staging": True, "prod": 2}}, False),
        ({"deployment": {"type": "canary", "canary_percentage": False}}, False),
        ({"data_capture_percentage": 50}, True),
    ],
)
def test_true_and_false_are_not_numbers(changes, accepted):
    assert verdicts(realtime(**changes)) == (accepted, accepted)


def test_numbers_written_as_text_stay_accepted_for_the_old_solutions_clients():
    assert model_accepts(realtime(instance_count="2", data_capture_percentage="50"))


def test_dict_keys_are_held_by_property_names_not_pattern_properties():
    """patternProperties would let a key that does not match through, with any value."""
    assert "patternProperties" not in json.dumps(DOCUMENT)
    assert verdicts(realtime(tags={" ": "x"})) == (False, False)
