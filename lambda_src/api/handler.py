"""The API function: routes -> services, and every error -> its HTTP response, in one place."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambda_src.api import approvals, drift, http, modelcards, pipelines, promote
from lambda_src.common import submission
from lambda_src.common.errors import ApiError, ServiceUnavailable, TooManyRequests, from_aws
from lambda_src.common.settings import settings
from mlops_spec import routes

logger = Logger()
app = APIGatewayRestResolver()


def on(route: routes.Route) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Register a view for one route of mlops_spec/routes.py (the API Gateway resources come from there too)."""
    return app.route(route.resolver_rule, method=route.method)


def respond(status_code: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status_code, content_type=content_types.APPLICATION_JSON, body=body, headers=headers)


# -- pipelines -------------------------------------------------------------------------------------


@on(routes.PROVISION_PIPELINE)
def provision_pipeline() -> Response:
    config = settings()
    params = http.query(app.current_event, {"dry_run", "strict", "checks"})
    dry_run, strict = http.flag(params, "dry_run"), http.flag(params, "strict")
    checks = http.dry_run_checks(params, dry_run)
    body = http.json_body(app.current_event)
    if isinstance(body, dict) and modelcards.is_operation(body.get("pipeline_type")):
        if dry_run:
            return respond(200, modelcards.check_operation(body, strict))
        return respond(200, modelcards.run_operation(body, config, strict))
    request = submission.plan(body, config, strict)
    if dry_run:
        return respond(200, request.dry_run_body(checks=checks))
    requester = pipelines.caller(app.current_event.raw_event)
    outcome = submission.submit(request, config, source=_caller(), requested_by=requester)
    # 202: a new spec version was queued; 200: an idempotent replay of an earlier request.
    return respond(
        202 if outcome.queued else 200,
        {**outcome.body(), "warnings": list(request.warnings)},
        {"Location": routes.GET_PIPELINE.url_path(pipeline_id=outcome.record.pipeline_id)},
    )


@on(routes.PIPELINE_STATUS)
def pipeline_status_by_body() -> Response:
    return respond(200, pipelines.status_request(http.json_body(app.current_event), settings()))


@on(routes.LIST_PIPELINES)
def list_pipelines() -> Response:
    params = http.query(app.current_event, pipelines.ListQuery.PARAMETERS)
    return respond(200, pipelines.list_pipelines(pipelines.ListQuery.parse(params), settings()))


@on(routes.GET_PIPELINE)
def get_pipeline(pipeline_id: str) -> Response:
    return respond(200, pipelines.status(pipeline_id, settings()))


@on(routes.DELETE_PIPELINE)
def delete_pipeline(pipeline_id: str) -> Response:
    return respond(202, pipelines.delete(pipeline_id, settings()))


@on(routes.ANSWER_APPROVAL)
def answer_approval(pipeline_id: str) -> Response:
    request = approvals.ApprovalRequest.parse(http.json_body(app.current_event))
    return respond(
        200, approvals.answer(pipeline_id, request, pipelines.caller(app.current_event.raw_event), settings())
    )


@on(routes.PIPELINE_DRIFT)
def pipeline_drift(pipeline_id: str) -> Response:
    return respond(200, drift.drift(pipeline_id, settings()))


@on(routes.RECONCILE_PIPELINE)
def reconcile_pipeline(pipeline_id: str) -> Response:
    answer = drift.reconcile(pipeline_id, pipelines.caller(app.current_event.raw_event), settings())
    return respond(202, answer, {"Location": routes.GET_PIPELINE.url_path(pipeline_id=answer["pipeline_id"])})


@on(routes.PROMOTE_PIPELINE)
def promote_pipeline(pipeline_id: str) -> Response:
    answer = promote.promote(pipeline_id, pipelines.caller(app.current_event.raw_event), settings())
    return respond(202, answer, {"Location": routes.GET_PIPELINE.url_path(pipeline_id=answer["pipeline_id"])})


# -- model cards -----------------------------------------------------------------------------------


@on(routes.LIST_MODEL_CARDS)
def list_model_cards() -> Response:
    params = http.query(app.current_event, {"limit", "next_token", "name_contains", "status"})
    data = {**params, **http.integer(params, "limit")}
    return respond(200, modelcards.run("list_model_cards", data, settings()))


def _strict() -> bool:
    """?strict=true on a model-card route with a body: its unknown keys are errors, not warnings."""
    return http.flag(http.query(app.current_event, {"strict"}), "strict")


@on(routes.CREATE_MODEL_CARD)
def create_model_card() -> Response:
    strict = _strict()
    card = modelcards.run("create_model_card", http.json_body(app.current_event), settings(), strict)
    return respond(201, card, {"Location": routes.DESCRIBE_MODEL_CARD.url_path(name=card["name"])})


@on(routes.DESCRIBE_MODEL_CARD)
def describe_model_card(name: str) -> Response:
    params = http.query(app.current_event, {"version"})
    return respond(
        200, modelcards.run("describe_model_card", {"name": name, **http.integer(params, "version")}, settings())
    )


@on(routes.UPDATE_MODEL_CARD)
def update_model_card(name: str) -> Response:
    strict = _strict()
    data = http.with_path_name(http.json_body(app.current_event), name)
    return respond(200, modelcards.run("update_model_card", data, settings(), strict))


@on(routes.DELETE_MODEL_CARD)
def delete_model_card(name: str) -> Response:
    return respond(200, modelcards.run("delete_model_card", {"name": name}, settings()))


@on(routes.EXPORT_MODEL_CARD)
def export_model_card(name: str) -> Response:
    strict = _strict()
    data = http.with_path_name(http.json_body(app.current_event, optional=True), name)
    return respond(202, modelcards.run("export_model_card", data, settings(), strict))


# -- errors: the only place that turns exceptions into responses ------------------------------------


@app.exception_handler(ApiError)
def client_error(exc: ApiError) -> Response:
    logger.info("request rejected", status_code=exc.status_code, reason=exc.message, errors=exc.errors[:10])
    return respond(exc.status_code, exc.body())


@app.not_found
def no_route(exc: NotFoundError) -> Response:
    event = app.current_event
    return respond(404, {"message": f"no route for {event.http_method} {event.path}"})


@app.exception_handler(submission.ProvisioningNotStarted)
def not_started(exc: submission.ProvisioningNotStarted) -> Response:
    return respond(
        503,
        {
            "message": f"pipeline {exc}: the provisioner could not be started; "
            "the pipeline is marked FAILED, send the same request again",
            "pipeline_id": str(exc),
        },
    )


@app.exception_handler(Exception)
def internal_error(exc: Exception) -> Response:
    # AWS throttling or unavailable (DynamoDB, CodePipeline, ...) is told as 429 / 503, to retry;
    # any other failure is ours: 500, logged with its traceback.
    aws_error = from_aws(exc, "AWS")
    if isinstance(aws_error, TooManyRequests | ServiceUnavailable):
        logger.exception("AWS call failed", status_code=aws_error.status_code)
        return respond(aws_error.status_code, aws_error.body())
    logger.exception("unhandled error")
    request_id = getattr(app.lambda_context, "aws_request_id", None)
    return respond(500, {"message": "internal error", "request_id": request_id})


def _caller_arn() -> str | None:
    """The ARN of whoever signed the request (API Gateway IAM auth puts it in the identity)."""
    context = app.current_event.raw_event.get("requestContext") or {}
    user_arn = (context.get("identity") or {}).get("userArn")
    return user_arn if isinstance(user_arn, str) and user_arn else None


def _caller() -> str:
    """Who sent the request, as recorded in the registry's `source`."""
    user_arn = _caller_arn()
    return f"api:{user_arn}" if user_arn else "api"


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
