"""What each route takes and answers (parameters, bodies, status codes), and the paths built from the routes.

Methods, paths, operation ids and summaries come from mlops_spec/routes.py; this module adds only
what OpenAPI needs beyond them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, get_args

from mlops_spec import routes
from mlops_spec.modelcards import ModelCardStatus
from mlops_spec.openapi.schemas import ref
from mlops_spec.request import SPEC_TYPES
from mlops_spec.status import STATUS_NAMES

_ERRORS = {
    400: "Invalid request; `errors` names each offending field.",
    404: "Not found.",
    409: "Conflicts with the current state (e.g. the pipeline is still provisioning, or is being deleted).",
    413: "The request is too large.",
}


def _answer(description: str, *schema_names: str) -> dict[str, Any]:
    schemas = [ref(name) for name in schema_names]
    schema = schemas[0] if len(schemas) == 1 else {"oneOf": schemas}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): _answer(_ERRORS[code], "ErrorBody") for code in codes}


def _body(schema_name: str, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": ref(schema_name)}}}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _path_parameter(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _page_parameters(default_limit: int) -> list[dict[str, Any]]:
    return [
        _query("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": default_limit}, "Page size."),
        _query("next_token", {"type": "string"}, "next_token of the previous page."),
    ]


# -- pipelines ------------------------------------------------------------------------------------
def _provision_pipeline() -> dict[str, Any]:
    dry_run = _query("dry_run", {"type": "boolean", "default": False}, "Validate and plan only; change nothing.")
    replayed = "An identical earlier request answered again, a dry run, or a model-card operation's result."
    card_answers = ("ModelCard", "ModelCardList", "ModelCardDeleted", "ModelCardExport")
    return {
        "parameters": [dry_run],
        "requestBody": _body("ProvisionRequest"),
        "responses": {
            "202": _answer("Recorded; provisioning has started.", "ProvisionAccepted"),
            "200": _answer(replayed, "ProvisionAccepted", "DryRunResult", *card_answers),
            **_errors(400, 404, 409, 413),
            "503": _answer("Recorded but provisioning could not start; send the request again.", "NotStarted"),
        },
    }


def _pipeline_status() -> dict[str, Any]:
    return {
        "requestBody": _body("PipelineStatusRequest"),
        "responses": {"200": _answer("Normalised status.", "PipelineStatus"), **_errors(400, 404)},
    }


def _list_pipelines() -> dict[str, Any]:
    return {
        "parameters": [
            *_page_parameters(25),
            _query("pipeline_type", {"type": "string", "enum": sorted(SPEC_TYPES)}, "Only this type."),
            _query("status", {"type": "string", "enum": list(STATUS_NAMES)}, "Only pipelines in this status."),
        ],
        "responses": {"200": _answer("One page of pipelines.", "PipelineList"), **_errors(400)},
    }


def _get_pipeline() -> dict[str, Any]:
    return {"responses": {"200": _answer("Normalised status.", "PipelineStatus"), **_errors(404)}}


def _delete_pipeline() -> dict[str, Any]:
    return {"responses": {"202": _answer("Deletion started.", "DeletionAccepted"), **_errors(404, 409)}}


def _answer_approval() -> dict[str, Any]:
    nothing_pending = (
        "No approval is pending (or not at the given stage; the message names what is), or it was answered meanwhile."
    )
    return {
        "requestBody": _body("ApprovalRequest"),
        "responses": {
            "200": _answer("The approval was answered.", "ApprovalAnswered"),
            **_errors(400, 404),
            "409": _answer(nothing_pending, "ErrorBody"),
        },
    }


# -- model cards ----------------------------------------------------------------------------------
_CARD_ERRORS = (400, 404, 409, 413)


def _list_model_cards() -> dict[str, Any]:
    statuses = {"type": "string", "enum": list(get_args(ModelCardStatus))}
    return {
        "parameters": [
            *_page_parameters(100),
            _query("name_contains", {"type": "string"}, "Only cards whose name contains this."),
            _query("status", statuses, "Only this status."),
        ],
        "responses": {"200": _answer("One page of model cards.", "ModelCardList"), **_errors(400)},
    }


def _create_model_card() -> dict[str, Any]:
    return {
        "requestBody": _body("CreateModelCard"),
        "responses": {"201": _answer("Created.", "ModelCard"), **_errors(*_CARD_ERRORS)},
    }


def _describe_model_card() -> dict[str, Any]:
    return {
        "parameters": [_query("version", {"type": "integer", "minimum": 1}, "Card version.")],
        "responses": {"200": _answer("The card.", "ModelCard"), **_errors(400, 404)},
    }


def _update_model_card() -> dict[str, Any]:
    return {
        "requestBody": _body("UpdateModelCardBody"),
        "responses": {"200": _answer("Updated.", "ModelCard"), **_errors(*_CARD_ERRORS)},
    }


def _delete_model_card() -> dict[str, Any]:
    return {"responses": {"200": _answer("Deleted.", "ModelCardDeleted"), **_errors(404, 409)}}


def _export_model_card() -> dict[str, Any]:
    return {
        "requestBody": _body("ExportModelCardBody", required=False),
        "responses": {"202": _answer("Export started.", "ModelCardExport"), **_errors(*_CARD_ERRORS)},
    }


OPERATIONS: dict[routes.Route, Callable[[], dict[str, Any]]] = {
    routes.PROVISION_PIPELINE: _provision_pipeline,
    routes.PIPELINE_STATUS: _pipeline_status,
    routes.LIST_PIPELINES: _list_pipelines,
    routes.GET_PIPELINE: _get_pipeline,
    routes.DELETE_PIPELINE: _delete_pipeline,
    routes.ANSWER_APPROVAL: _answer_approval,
    routes.LIST_MODEL_CARDS: _list_model_cards,
    routes.CREATE_MODEL_CARD: _create_model_card,
    routes.DESCRIBE_MODEL_CARD: _describe_model_card,
    routes.UPDATE_MODEL_CARD: _update_model_card,
    routes.DELETE_MODEL_CARD: _delete_model_card,
    routes.EXPORT_MODEL_CARD: _export_model_card,
}


def paths() -> dict[str, Any]:
    """The document's `paths`: one operation per route, path parameters declared once per path."""
    result: dict[str, Any] = {}
    for route in routes.ROUTES:
        item = result.setdefault(route.path, {})
        if route.parameters:
            item["parameters"] = [_path_parameter(name) for name in route.parameters]
        operation = {"operationId": route.operation_id, "summary": route.summary, **OPERATIONS[route]()}
        item[route.method.lower()] = operation
    return result
