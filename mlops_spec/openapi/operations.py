"""What each route takes and answers (parameters, bodies, status codes), and the paths built from the routes.

Methods, paths, operation ids, summaries and path-parameter patterns come from mlops_spec/routes.py;
query parameters of the model-card routes come from their request models. This module adds only
what OpenAPI needs beyond them. Every status code the handler can answer is listed; the contract
test (tests/contract/) checks the handler against this document.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from mlops_spec import routes
from mlops_spec.modelcards import DescribeModelCard, ListModelCards
from mlops_spec.openapi.schemas import ref
from mlops_spec.spec_union import SPEC_TYPES
from mlops_spec.status import STATUS_NAMES

_ERRORS = {
    400: "Invalid request; `errors` names each offending field.",
    404: "Not found.",
    409: "Conflicts with the current state (e.g. the pipeline is still provisioning, or is being deleted).",
    413: "The request is too large.",
    429: "AWS throttled a call made for this request; send it again later.",
    503: "An AWS service failed or could not be reached; send the request again later.",
}
# The cost limit (mlops:maxMonthlyCostPerPipeline) refuses before anything is written.
_REFUSED_BY_THE_COST_LIMIT = (
    _ERRORS[400] + " Also: the estimate is above mlops:maxMonthlyCostPerPipeline, or, unless "
    "mlops:costLimitUnknownPrices is allow, the AWS Price List holds no price for the instance type (the limit "
    "cannot be checked); `errors` names the instance field. Nothing was written."
)
_PRICE_LIST_UNREAD = (
    "the cost limit could not be checked because the AWS Price List could not be read (throttled, too slow; "
    "unless mlops:costLimitUnknownPrices is allow): nothing was written, send the request again."
)
# Any route may meet AWS throttling or an AWS outage (lambda_src.common.errors.from_aws).
_AWS_TROUBLE = (429, 503)


def _answer(description: str, *schema_names: str) -> dict[str, Any]:
    schemas = [ref(name) for name in schema_names]
    # anyOf, not oneOf: answers may overlap (a field they share is enough), and one of them is sent.
    schema = schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): _answer(_ERRORS[code], "ErrorBody") for code in (*codes, *_AWS_TROUBLE)}


def _body(schema_name: str, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": ref(schema_name)}}}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _model_query(model: type[BaseModel], name: str, description: str) -> dict[str, Any]:
    """A query parameter with the schema of the request model's field (never null in a query string)."""
    schema = dict(model.model_json_schema(ref_template="#/components/schemas/{model}")["properties"][name])
    for option in schema.pop("anyOf", []):
        if option.get("type") != "null":
            schema.update(option)
    schema.pop("title", None)
    if schema.get("default", 0) is None:
        del schema["default"]  # absent, not null
    return _query(name, schema, description)


def _path_parameter(name: str) -> dict[str, Any]:
    schema = {
        "type": "string",
        "pattern": f"^(?:{routes.PATH_PARAMETER_PATTERNS[name]})$",
        "maxLength": routes.PATH_PARAMETER_MAX_LENGTHS[name],
    }
    return {"name": name, "in": "path", "required": True, "schema": schema}


# -- pipelines ------------------------------------------------------------------------------------
def _provision_pipeline() -> dict[str, Any]:
    dry_run = _query(
        "dry_run",
        {"type": "boolean", "default": False},
        "Validate (and plan, for a pipeline) only; change nothing.",
    )
    checks = _query(
        "checks",
        {"type": "boolean", "default": True},
        "For a pipeline request's dry run: ask AWS for the quota preflight (through the provisioner) and the "
        "Price List's prices. false: validation alone, calling nothing (preflight not checked, cost at the "
        "committed table's prices), as fast as a cold start allows; false without dry_run=true is a 400 (a "
        "request itself is always checked). A model-card operation's dry run reads its metric files from S3 "
        "either way: they are part of the card it validates.",
    )
    # The rule between two parameters that a schema cannot state, published as the bodies' rules are.
    checks["x-rules"] = [{"field": "checks", "problem": "false applies only to a dry run"}]
    strict = _query(
        "strict",
        {"type": "boolean", "default": False},
        "Refuse unknown keys of a pipeline request or a model-card operation (400) instead of ignoring them "
        "with a warning.",
    )
    replayed = "An identical earlier request answered again, a dry run, or a model-card operation's result."
    answers = ("ProvisionAccepted", "DryRunResult", "ModelCardDryRun")
    card_answers = ("ModelCard", "ModelCardList", "ModelCardDeleted", "ModelCardExport")
    return {
        "parameters": [dry_run, checks, strict],
        "requestBody": _body("ProvisionRequest"),
        "responses": {
            "202": _answer("Recorded; provisioning has started.", "ProvisionAccepted"),
            "200": _answer(replayed, *answers, *card_answers),
            **_errors(404, 409, 413),
            "400": _answer(_REFUSED_BY_THE_COST_LIMIT, "ErrorBody"),
            "503": _answer(
                "Recorded but provisioning could not start (send the request again), or an AWS service failed, "
                f"or {_PRICE_LIST_UNREAD}",
                "NotStarted",
                "ErrorBody",
            ),
        },
    }


def _pipeline_status() -> dict[str, Any]:
    return {
        "requestBody": _body("PipelineStatusRequest"),
        "responses": {"200": _answer("Normalised status.", "PipelineStatus"), **_errors(400, 404, 413)},
    }


def _list_pipelines() -> dict[str, Any]:
    limit = {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}
    token = {"type": "string", "maxLength": 512}
    return {
        "parameters": [
            _query("limit", limit, "Page size."),
            _query("next_token", token, "next_token of the previous page; any other value is a 400."),
            _query("pipeline_type", {"type": "string", "enum": sorted(SPEC_TYPES)}, "Only this type."),
            _query("status", {"type": "string", "enum": list(STATUS_NAMES)}, "Only pipelines in this status."),
        ],
        "responses": {"200": _answer("One page of pipelines.", "PipelineList"), **_errors(400)},
    }


def _get_pipeline() -> dict[str, Any]:
    return {"responses": {"200": _answer("Normalised status.", "PipelineStatus"), **_errors(404)}}


def _delete_pipeline() -> dict[str, Any]:
    return {
        "responses": {
            "202": _answer("Deletion started (or already done).", "DeletionAccepted"),
            **_errors(404, 409),
            "503": _answer(
                "The pipeline is marked DELETING but its deletion could not be started (send DELETE again), "
                "or an AWS service failed.",
                "ErrorBody",
            ),
        }
    }


def _answer_approval() -> dict[str, Any]:
    nothing_pending = (
        "No approval is pending (or not at the given stage; the message names what is), it was answered meanwhile, "
        "or `approve` of one that waits in the run of an earlier version than the pipeline's current one (such an "
        "approval may only be rejected), or `approve` while a monitor's block holds (the message names the "
        "monitor and how to lift the block; rejecting stays possible)."
    )
    return {
        "requestBody": _body("ApprovalRequest"),
        "responses": {
            "200": _answer("The approval was answered.", "ApprovalAnswered"),
            **_errors(400, 404, 413),
            "403": _answer(
                "The caller may not give this answer (separation of duties): not an approver of the environment "
                "(mlops:approvers); the requester of this version approving its promotion to prod; any caller "
                "approving the promotion to prod of a version whose requester is not recorded (send the same "
                "request again through the API to record one); or an approval at a stage that promotes into no "
                "known environment; for a version a monitor's rollback sent, also the requester of the version it "
                "sends again approving it into prod. `errors` names each reason; nothing was sent to CodePipeline.",
                "ErrorBody",
            ),
            "409": _answer(nothing_pending, "ErrorBody"),
        },
    }


def _pipeline_drift() -> dict[str, Any]:
    return {
        "responses": {
            "200": _answer("The last drift check (`checked: false` when there was none yet).", "PipelineDrift"),
            **_errors(404),
        }
    }


def _reconcile_pipeline() -> dict[str, Any]:
    refused = (
        "The pipeline is not DEPLOYED: work still runs, an approval waits, or it has no deployed version to "
        "restore (a FAILED one holds the version that did not deploy); the message says which and what to do."
    )
    return {
        "responses": {
            "202": _answer(
                "Its current spec was queued again as a new version; provisioning has started.", "ReconcileAccepted"
            ),
            **_errors(404),
            "409": _answer(refused, "ErrorBody"),
            "503": _answer(
                "Queued but provisioning could not start (the pipeline is marked FAILED: send its request "
                "again), or an AWS service failed.",
                "NotStarted",
                "ErrorBody",
            ),
        }
    }


def _promote_pipeline() -> dict[str, Any]:
    refused = (
        "No shadow to promote: the pipeline is not DEPLOYED (work still runs, an approval waits, it is being "
        "deleted) or runs no shadow test, or it moved to another version since it was read (nothing was "
        "written: read its status and promote again); the message says which."
    )
    return {
        "responses": {
            "202": _answer(
                "The request with its shadow as the production model was queued as a new version; provisioning "
                "has started.",
                "PromoteAccepted",
            ),
            **_errors(404, 413),
            "400": _answer(_REFUSED_BY_THE_COST_LIMIT, "ErrorBody"),
            "409": _answer(refused, "ErrorBody"),
            "503": _answer(
                "Queued but provisioning could not start (the pipeline is marked FAILED with the promoted request: "
                f"send that request again), or an AWS service failed, or {_PRICE_LIST_UNREAD}",
                "NotStarted",
                "ErrorBody",
            ),
        }
    }


# -- model cards ----------------------------------------------------------------------------------
def _card_strict() -> dict[str, Any]:
    return _query(
        "strict",
        {"type": "boolean", "default": False},
        "Refuse unknown keys of the card, at any depth (400), instead of ignoring them with a warning.",
    )


def _list_model_cards() -> dict[str, Any]:
    return {
        "parameters": [
            _model_query(ListModelCards, "limit", "Page size."),
            _model_query(ListModelCards, "next_token", "next_token of the previous page; any other value is a 400."),
            _model_query(ListModelCards, "name_contains", "Only cards whose name contains this."),
            _model_query(ListModelCards, "status", "Only this status."),
        ],
        "responses": {"200": _answer("One page of model cards.", "ModelCardList"), **_errors(400)},
    }


def _create_model_card() -> dict[str, Any]:
    return {
        "parameters": [_card_strict()],
        "requestBody": _body("CreateModelCard"),
        "responses": {"201": _answer("Created.", "ModelCard"), **_errors(400, 409, 413)},
    }


def _describe_model_card() -> dict[str, Any]:
    return {
        "parameters": [_model_query(DescribeModelCard, "version", "Card version.")],
        "responses": {"200": _answer("The card.", "ModelCard"), **_errors(400, 404)},
    }


def _update_model_card() -> dict[str, Any]:
    return {
        "parameters": [_card_strict()],
        "requestBody": _body("UpdateModelCardBody"),
        "responses": {"200": _answer("Updated.", "ModelCard"), **_errors(400, 404, 409, 413)},
    }


def _delete_model_card() -> dict[str, Any]:
    return {"responses": {"200": _answer("Deleted.", "ModelCardDeleted"), **_errors(400, 404, 409)}}


def _export_model_card() -> dict[str, Any]:
    return {
        "parameters": [_card_strict()],
        "requestBody": _body("ExportModelCardBody", required=False),
        "responses": {"202": _answer("Export started.", "ModelCardExport"), **_errors(400, 404, 409, 413)},
    }


OPERATIONS: dict[routes.Route, Callable[[], dict[str, Any]]] = {
    routes.PROVISION_PIPELINE: _provision_pipeline,
    routes.PIPELINE_STATUS: _pipeline_status,
    routes.LIST_PIPELINES: _list_pipelines,
    routes.GET_PIPELINE: _get_pipeline,
    routes.DELETE_PIPELINE: _delete_pipeline,
    routes.ANSWER_APPROVAL: _answer_approval,
    routes.PIPELINE_DRIFT: _pipeline_drift,
    routes.RECONCILE_PIPELINE: _reconcile_pipeline,
    routes.PROMOTE_PIPELINE: _promote_pipeline,
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
