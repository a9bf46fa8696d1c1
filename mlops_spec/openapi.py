"""The HTTP API's OpenAPI 3.1 document: routes, the request models, and the shapes of the API's answers.

Regenerate the committed copy with `python -m mlops_spec.openapi > openapi.json`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, Union, get_args

from pydantic import BaseModel, Field, TypeAdapter, create_model

from mlops_spec.approvals import COMMENT_LIMIT
from mlops_spec.common import Environment, StrictModel
from mlops_spec.modelcards import (
    MODEL_CARD_OPERATIONS,
    CreateModelCard,
    ExportModelCard,
    ModelCardName,
    ModelCardStatus,
    UpdateModelCard,
)
from mlops_spec.request import SPEC_TYPES, PipelineRequest

API_VERSION = "1.0.0"
_REF = "#/components/schemas/{model}"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF.format(model=name)}


# The registry's status vocabulary (lambda_src.registry.Status; a test keeps the two equal).
PipelineState = Literal[
    "QUEUED", "PROVISIONING", "AWAITING_APPROVAL", "DEPLOYED", "FAILED", "REJECTED", "DELETING", "DELETED"
]


# -- response bodies (what lambda_src/api answers) -------------------------------------------------
class FieldProblem(BaseModel):
    field: str = Field(description="Path of the offending field, e.g. inference_instance or tuner_configs.max_jobs.")
    problem: str = Field(description="What is wrong with it.")


class ErrorBody(BaseModel):
    message: str = Field(description="What went wrong, in one sentence.")
    errors: list[FieldProblem] = Field(default_factory=list, description="One entry per offending field.")


class ProvisionAccepted(BaseModel):
    pipeline_id: str = Field(description="Deterministic id: the model (or image) name and the pipeline type.")
    status: PipelineState
    pipeline_type: str
    version: int = Field(description="Version of the pipeline's spec in the registry.")
    environments: list[Environment] = Field(description="Environments it deploys to, in promotion order.")
    stacks: list[str] = Field(description="Its delivery stack, then one target stack per environment.")
    idempotent_replay: bool = Field(description="True when an identical earlier request was answered again.")


class DryRunResult(BaseModel):
    dry_run: Literal[True]
    pipeline_id: str
    pipeline_type: str
    environments: list[Environment]
    stacks: list[str] = Field(description="Pulumi stacks an actual request would create or update.")
    spec: dict[str, Any] = Field(description="The request as validated and normalised (defaults filled in).")


class NotStarted(BaseModel):
    message: str
    pipeline_id: str


class PipelineStatusRequest(BaseModel):
    pipeline_id: str


class ApprovalRequest(StrictModel):
    """The answer to a delivery pipeline's pending manual approval (mlops_spec.approvals; a test keeps them equal)."""

    decision: Literal["approve", "reject"]
    comment: str | None = Field(
        default=None,
        max_length=COMMENT_LIMIT,
        description="Why. Recorded in CodePipeline after the caller's identity (the whole summary is cut to "
        f"{COMMENT_LIMIT} characters); blank means none.",
    )
    stage: Literal["ApproveStaging", "ApproveProd"] | None = Field(
        default=None,
        description="The approval stage to answer; it must be the pending one. Default: the one pending.",
    )


class ActionStatus(BaseModel):
    name: str
    status: str = Field(description="NOT_STARTED, IN_PROGRESS, SUCCEEDED, FAILED, STOPPED, ...")
    last_error: str | None = None


class StageStatus(BaseModel):
    name: str
    status: str = Field(description="NOT_STARTED, IN_PROGRESS, SUCCEEDED, FAILED, STOPPED, ...")
    actions: list[ActionStatus]


class PendingApproval(BaseModel):
    stage: str
    action: str
    token: str = Field(description="Token to approve or reject the manual approval with.")


class PipelineSummary(BaseModel):
    pipeline_id: str
    pipeline_type: str
    status: PipelineState
    version: int
    created_at: str = Field(description="ISO-8601 time.")
    updated_at: str = Field(description="ISO-8601 time.")
    last_error: str | None = None


class PipelineStatus(PipelineSummary):
    environments: list[Environment]
    stacks: list[str]
    source: str | None = Field(default=None, description="Where the request came from (api, s3, ...).")
    outputs: dict[str, Any] = Field(description="e.g. the endpoint name or image URI, once deployed.")
    errors: list[FieldProblem] = Field(description="Why the pipeline was rejected, if it was.")
    codepipeline_name: str | None = None
    spec: dict[str, Any] | None = Field(default=None, description="The normalised request.")
    stages: list[StageStatus] = Field(description="The delivery pipeline's stages, once it exists.")
    pending_approvals: list[PendingApproval]
    delivery_pipeline_state: str | None = Field(default=None, description="Why stages are missing, if they are.")


class ApprovalAnswered(BaseModel):
    pipeline_id: str
    stage: str = Field(description="The approval stage that was answered, e.g. ApproveStaging.")
    action: str = Field(description="Its manual approval action.")
    decision: Literal["approve", "reject"]


class PipelineList(BaseModel):
    pipelines: list[PipelineSummary]
    next_token: str | None = Field(default=None, description="Pass as next_token to get the next page.")


class DeletionAccepted(BaseModel):
    pipeline_id: str
    status: PipelineState
    version: int


class ModelCard(BaseModel):
    name: str
    arn: str | None = None
    version: int | None = None
    status: ModelCardStatus | None = None
    content: dict[str, Any] = Field(description="The card's content (SageMaker model card schema).")
    created_at: str | None = None
    last_modified_at: str | None = None
    processing_status: str | None = None


class ModelCardSummary(BaseModel):
    name: str
    arn: str | None = None
    status: ModelCardStatus | None = None
    created_at: str | None = None
    last_modified_at: str | None = None


class ModelCardList(BaseModel):
    model_cards: list[ModelCardSummary]
    next_token: str | None = None


class ModelCardDeleted(BaseModel):
    message: str
    name: str


class ModelCardExport(BaseModel):
    name: str
    export_job_name: str
    export_job_arn: str
    output_location: str = Field(description="S3 prefix receiving the PDF.")


# -- request bodies that exist only for documentation ---------------------------------------------
def _on_provisionpipeline(operation: str, model: type[BaseModel]) -> type[BaseModel]:
    """The old solution's form of a model-card operation: its fields plus `pipeline_type: <operation>`."""
    kind: Any = Literal[operation]
    return create_model(f"{model.__name__}Operation", __base__=model, pipeline_type=(kind, ...))


def _named_by_path(model: type[BaseModel]) -> type[BaseModel]:
    """A REST body whose card name comes from the path: `name` may be left out (if given it must match)."""
    optional_name: Any = ModelCardName | None
    return create_model(f"{model.__name__}Body", __base__=model, name=(optional_name, None))


ModelCardOperation = Annotated[  # type: ignore[valid-type]
    Union[tuple(_on_provisionpipeline(op, model) for op, model in MODEL_CARD_OPERATIONS.items())],  # noqa: UP007
    Field(discriminator="pipeline_type"),
]

# components/schemas name -> (mode, type). Requests are read ("validation"), answers written ("serialization").
_SCHEMAS: dict[str, tuple[str, Any]] = {
    "PipelineRequest": ("validation", PipelineRequest),
    "ModelCardOperation": ("validation", ModelCardOperation),
    "PipelineStatusRequest": ("validation", PipelineStatusRequest),
    "ApprovalRequest": ("validation", ApprovalRequest),
    "CreateModelCard": ("validation", CreateModelCard),
    "UpdateModelCardBody": ("validation", _named_by_path(UpdateModelCard)),
    "ExportModelCardBody": ("validation", _named_by_path(ExportModelCard)),
    **{
        model.__name__: ("serialization", model)
        for model in (
            ErrorBody,
            ProvisionAccepted,
            DryRunResult,
            NotStarted,
            PipelineStatus,
            PipelineList,
            DeletionAccepted,
            ApprovalAnswered,
            ModelCard,
            ModelCardList,
            ModelCardDeleted,
            ModelCardExport,
        )
    },
}


def json_schema() -> dict[str, Any]:
    """JSON Schema (2020-12) of a pipeline request body: the union of every pipeline type."""
    return TypeAdapter(PipelineRequest).json_schema()  # type: ignore[arg-type]


def _component_schemas() -> dict[str, Any]:
    inputs = [(name, mode, TypeAdapter(kind)) for name, (mode, kind) in _SCHEMAS.items()]
    top, defs = TypeAdapter.json_schemas(inputs, ref_template=_REF)  # type: ignore[arg-type]
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    for (name, _mode), schema in top.items():
        # Models come back as a $ref to their own definition; unions come back inline.
        if schema != _ref(name):
            schemas[name] = schema
    # What POST /provisionpipeline takes: a pipeline request or (as in the old solution) a model-card operation.
    schemas["ProvisionRequest"] = {"oneOf": [_ref("PipelineRequest"), _ref("ModelCardOperation")]}
    return schemas


# -- paths --------------------------------------------------------------------------------------
def _answer(description: str, *schema_names: str) -> dict[str, Any]:
    schemas = [_ref(name) for name in schema_names]
    schema = schemas[0] if len(schemas) == 1 else {"oneOf": schemas}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    400: "Invalid request; `errors` names each offending field.",
    404: "Not found.",
    409: "Conflicts with the current state (e.g. the pipeline is still provisioning, or is being deleted).",
    413: "The request is too large.",
}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): _answer(_ERRORS[code], "ErrorBody") for code in codes}


def _body(schema_name: str, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": _ref(schema_name)}}}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _states() -> list[str]:
    return list(get_args(PipelineState))


def _pipeline_paths() -> dict[str, Any]:
    return {
        "/provisionpipeline": {
            "post": {
                "operationId": "provisionPipeline",
                "summary": "Ask for a pipeline (validated now, deployed later), or run a model-card operation.",
                "parameters": [
                    _query("dry_run", {"type": "boolean", "default": False}, "Validate and plan only; change nothing.")
                ],
                "requestBody": _body("ProvisionRequest"),
                "responses": {
                    "202": _answer("Recorded; provisioning has started.", "ProvisionAccepted"),
                    "200": _answer(
                        "An identical earlier request answered again, a dry run, or a model-card operation's result.",
                        "ProvisionAccepted",
                        "DryRunResult",
                        "ModelCard",
                        "ModelCardList",
                        "ModelCardDeleted",
                        "ModelCardExport",
                    ),
                    **_errors(400, 404, 409, 413),
                    "503": _answer("Recorded but provisioning could not start; send the request again.", "NotStarted"),
                },
            }
        },
        "/pipelinestatus": {
            "post": {
                "operationId": "pipelineStatus",
                "summary": "Status of a pipeline (the old solution's route).",
                "requestBody": _body("PipelineStatusRequest"),
                "responses": {"200": _answer("Normalised status.", "PipelineStatus"), **_errors(400, 404)},
            }
        },
        "/pipelines": {
            "get": {
                "operationId": "listPipelines",
                "summary": "List pipelines.",
                "parameters": [
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}, "Page size."),
                    _query("next_token", {"type": "string"}, "next_token of the previous page."),
                    _query("pipeline_type", {"type": "string", "enum": sorted(SPEC_TYPES)}, "Only this type."),
                    _query("status", {"type": "string", "enum": _states()}, "Only pipelines in this status."),
                ],
                "responses": {"200": _answer("One page of pipelines.", "PipelineList"), **_errors(400)},
            }
        },
        "/pipelines/{pipeline_id}": {
            "parameters": [_path("pipeline_id")],
            "get": {
                "operationId": "getPipeline",
                "summary": "Status of a pipeline.",
                "responses": {"200": _answer("Normalised status.", "PipelineStatus"), **_errors(404)},
            },
            "delete": {
                "operationId": "deletePipeline",
                "summary": "Destroy the pipeline's target stacks, then its delivery stack.",
                "responses": {"202": _answer("Deletion started.", "DeletionAccepted"), **_errors(404, 409)},
            },
        },
        "/pipelines/{pipeline_id}/approval": {
            "parameters": [_path("pipeline_id")],
            "post": {
                "operationId": "answerApproval",
                "summary": "Approve or reject the pending manual approval of the pipeline's delivery pipeline "
                "(multi-account mode); the caller's identity is recorded with the decision.",
                "requestBody": _body("ApprovalRequest"),
                "responses": {
                    "200": _answer("The approval was answered.", "ApprovalAnswered"),
                    **_errors(400, 404),
                    "409": _answer(
                        "No approval is pending (or not at the given stage; the message names what is), or it was "
                        "answered meanwhile.",
                        "ErrorBody",
                    ),
                },
            },
        },
    }


def _model_card_paths() -> dict[str, Any]:
    card_errors = _errors(400, 404, 409, 413)
    return {
        "/modelcards": {
            "get": {
                "operationId": "listModelCards",
                "summary": "List model cards.",
                "parameters": [
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 100}, "Page size."),
                    _query("next_token", {"type": "string"}, "next_token of the previous page."),
                    _query("name_contains", {"type": "string"}, "Only cards whose name contains this."),
                    _query("status", {"type": "string", "enum": list(get_args(ModelCardStatus))}, "Only this status."),
                ],
                "responses": {"200": _answer("One page of model cards.", "ModelCardList"), **_errors(400)},
            },
            "post": {
                "operationId": "createModelCard",
                "summary": "Create a model card.",
                "requestBody": _body("CreateModelCard"),
                "responses": {"201": _answer("Created.", "ModelCard"), **card_errors},
            },
        },
        "/modelcards/{name}": {
            "parameters": [_path("name")],
            "get": {
                "operationId": "describeModelCard",
                "summary": "A model card (its latest version unless `version` is given).",
                "parameters": [_query("version", {"type": "integer", "minimum": 1}, "Card version.")],
                "responses": {"200": _answer("The card.", "ModelCard"), **_errors(400, 404)},
            },
            "put": {
                "operationId": "updateModelCard",
                "summary": "Replace the given sections and/or the status; the rest of the card is kept.",
                "requestBody": _body("UpdateModelCardBody"),
                "responses": {"200": _answer("Updated.", "ModelCard"), **card_errors},
            },
            "delete": {
                "operationId": "deleteModelCard",
                "summary": "Delete a model card.",
                "responses": {"200": _answer("Deleted.", "ModelCardDeleted"), **_errors(404, 409)},
            },
        },
        "/modelcards/{name}/export": {
            "parameters": [_path("name")],
            "post": {
                "operationId": "exportModelCard",
                "summary": "Export a model card to PDF in the assets bucket.",
                "requestBody": _body("ExportModelCardBody", required=False),
                "responses": {"202": _answer("Export started.", "ModelCardExport"), **card_errors},
            },
        },
    }


def _security_schemes() -> dict[str, Any]:
    # API Gateway's IAM authorization: every request is signed with AWS Signature Version 4.
    return {
        "sigv4": {
            "type": "apiKey",
            "name": "Authorization",
            "in": "header",
            "x-amazon-apigateway-authtype": "awsSigv4",
        }
    }


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 description of every route of the orchestrator's API."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "MLOps pipeline orchestrator API",
            "version": API_VERSION,
            "description": "Ask for SageMaker pipelines (serving, batch, monitoring, training, image builds), "
            "follow them through dev, staging and prod, and manage model cards. Request fields keep the names "
            "of the AWS MLOps Workload Orchestrator.",
        },
        "security": [{"sigv4": []}],
        "paths": {**_pipeline_paths(), **_model_card_paths()},
        "components": {"schemas": _component_schemas(), "securitySchemes": _security_schemes()},
    }


def render() -> str:
    """The committed text of openapi.json."""
    return json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
