"""The published API description: committed and current, valid OpenAPI 3.1, and in step with the request models."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from openapi_spec_validator import validate

from mlops_spec.errors import SpecError
from mlops_spec.openapi import ErrorBody, json_schema, openapi_document, render
from mlops_spec.request import parse_pipeline_request
from mlops_spec.spec_union import SPEC_TYPES

COMMITTED = Path(__file__).resolve().parents[2] / "openapi.json"
PIPELINE_TYPES = sorted(SPEC_TYPES)


@pytest.fixture(scope="module")
def document():
    return openapi_document()


def test_committed_openapi_json_is_current():
    assert COMMITTED.read_text() == render(), (
        "openapi.json is out of date; regenerate it with: python -m mlops_spec.openapi > openapi.json"
    )


def test_document_is_valid_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_route_and_method_is_described(document):
    routes = {
        path: sorted(method for method in item if method != "parameters") for path, item in document["paths"].items()
    }
    assert routes == {
        "/provisionpipeline": ["post"],
        "/pipelinestatus": ["post"],
        "/pipelines": ["get"],
        "/pipelines/{pipeline_id}": ["delete", "get"],
        "/pipelines/{pipeline_id}/approval": ["post"],
        "/pipelines/{pipeline_id}/drift": ["get"],
        "/pipelines/{pipeline_id}/reconcile": ["post"],
        "/pipelines/{pipeline_id}/promote": ["post"],
        "/modelcards": ["get", "post"],
        "/modelcards/{name}": ["delete", "get", "put"],
        "/modelcards/{name}/export": ["post"],
    }


def test_every_operation_is_signed_with_sigv4(document):
    assert document["security"] == [{"sigv4": []}]
    assert document["components"]["securitySchemes"]["sigv4"]["x-amazon-apigateway-authtype"] == "awsSigv4"


def test_provision_route_takes_pipeline_requests_and_model_card_operations(document):
    post = document["paths"]["/provisionpipeline"]["post"]
    schemas = document["components"]["schemas"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ProvisionRequest"
    }
    assert schemas["ProvisionRequest"]["oneOf"] == [
        {"$ref": "#/components/schemas/PipelineRequest"},
        {"$ref": "#/components/schemas/ModelCardOperation"},
    ]
    assert sorted(schemas["PipelineRequest"]["discriminator"]["mapping"]) == PIPELINE_TYPES
    assert sorted(schemas["ModelCardOperation"]["discriminator"]["mapping"]) == [
        "create_model_card",
        "delete_model_card",
        "describe_model_card",
        "export_model_card",
        "list_model_cards",
        "update_model_card",
    ]
    assert [p["name"] for p in post["parameters"]] == ["dry_run", "checks", "strict"]
    assert sorted(post["responses"]) == ["200", "202", "400", "404", "409", "413", "429", "503"]


def test_errors_answer_with_message_and_field_problems(document):
    for item in document["paths"].values():
        for method, operation in item.items():
            if method == "parameters":
                continue
            for code in ("400", "404", "409"):
                if code in operation["responses"]:
                    schema = operation["responses"][code]["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}
    error_body = document["components"]["schemas"]["ErrorBody"]
    assert set(error_body["properties"]) == {"message", "errors", "warnings"}


def test_a_spec_error_fits_the_documented_error_body():
    with pytest.raises(SpecError) as caught:
        parse_pipeline_request({"pipeline_type": "byom_image_builder", "image_tag": "v1"})
    body = {"message": caught.value.message, "errors": [e.as_dict() for e in caught.value.errors]}
    assert ErrorBody.model_validate(body).errors[0].field == "custom_algorithm_docker"


def test_pipeline_states_match_the_registry(document):
    from lambda_src.registry import Status

    parameters = document["paths"]["/pipelines"]["get"]["parameters"]
    status = next(p for p in parameters if p["name"] == "status")
    assert status["schema"]["enum"] == [state.value for state in Status]


@pytest.mark.parametrize("folder", ["", "multi", "registry"])
def test_every_example_satisfies_the_published_json_schema(examples_dir, folder):
    validator = jsonschema.Draft202012Validator(json_schema())
    for path in sorted((examples_dir / folder).glob("*.json")):
        errors = [error.message for error in validator.iter_errors(json.loads(path.read_text()))]
        assert errors == [], path.name


def test_published_json_schema_takes_unknown_top_level_keys_and_rejects_an_unknown_type(example):
    # Unknown top-level keys are ignored with a warning (compatibility mode); nested ones are errors.
    validator = jsonschema.Draft202012Validator(json_schema())
    assert validator.is_valid({**example("byom_batch_builtin"), "batch_size": 10})
    assert not validator.is_valid({**example("byom_realtime_builtin"), "deployment": {"typ": "canary"}})
    assert not validator.is_valid({**example("byom_batch_builtin"), "pipeline_type": "byom_batch"})


def test_published_json_schema_lists_each_frameworks_versions(example):
    validator = jsonschema.Draft202012Validator(json_schema())
    assert validator.is_valid({**example("byom_batch_builtin"), "model_framework_version": "1.5-1"})
    assert not validator.is_valid({**example("byom_batch_builtin"), "model_framework_version": "1"})
    assert not validator.is_valid({**example("model_training_builtin"), "model_framework_version": "99.9-9"})


# What each operation can answer, read from the handler and lambda_src/api: 429 and 503 come from AWS
# throttling and outages on any route (lambda_src.common.errors.from_aws); 413 wherever a body is read.
ANSWERS = {
    ("post", "/provisionpipeline"): ["200", "202", "400", "404", "409", "413", "429", "503"],
    ("post", "/pipelinestatus"): ["200", "400", "404", "413", "429", "503"],
    ("get", "/pipelines"): ["200", "400", "429", "503"],
    ("get", "/pipelines/{pipeline_id}"): ["200", "404", "429", "503"],
    ("delete", "/pipelines/{pipeline_id}"): ["202", "404", "409", "429", "503"],
    ("post", "/pipelines/{pipeline_id}/approval"): ["200", "400", "403", "404", "409", "413", "429", "503"],
    ("get", "/pipelines/{pipeline_id}/drift"): ["200", "404", "429", "503"],
    ("post", "/pipelines/{pipeline_id}/reconcile"): ["202", "404", "409", "429", "503"],
    # 400 and 413: the promoted request is validated and measured as any request.
    ("post", "/pipelines/{pipeline_id}/promote"): ["202", "400", "404", "409", "413", "429", "503"],
    ("get", "/modelcards"): ["200", "400", "429", "503"],
    ("post", "/modelcards"): ["201", "400", "409", "413", "429", "503"],
    ("get", "/modelcards/{name}"): ["200", "400", "404", "429", "503"],
    ("put", "/modelcards/{name}"): ["200", "400", "404", "409", "413", "429", "503"],
    ("delete", "/modelcards/{name}"): ["200", "400", "404", "409", "429", "503"],
    ("post", "/modelcards/{name}/export"): ["202", "400", "404", "409", "413", "429", "503"],
}


def test_every_status_an_operation_can_answer_is_documented(document):
    documented = {
        (method, path): sorted(operation["responses"])
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method != "parameters"
    }
    assert documented == ANSWERS


def test_a_delete_that_cannot_start_is_a_documented_503(document):
    answer = document["paths"]["/pipelines/{pipeline_id}"]["delete"]["responses"]["503"]
    assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
