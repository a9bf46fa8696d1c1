"""The orchestrator's REST API in API Gateway: its routes, IAM auth, access logs and throttling.

Changes when how the API is served changes; which routes it serves is mlops_spec/routes.py's
business (every route goes to the API function, as a Lambda proxy).
"""

from __future__ import annotations

import hashlib
import json

import pulumi
import pulumi_aws as aws

from components import policies
from components.base import MlopsComponent
from components.orchestrator.args import OrchestratorArgs
from mlops_spec.routes import API_STAGE, ROUTES, Route, resource_paths

THROTTLE_RATE = 20
THROTTLE_BURST = 40
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "caller": "$context.identity.caller",
    "user": "$context.identity.userArn",
    "ip": "$context.identity.sourceIp",
    "method": "$context.httpMethod",
    "path": "$context.resourcePath",
    "status": "$context.status",
    "latencyMs": "$context.responseLatency",
}


def routes_fingerprint(routes: tuple[Route, ...] = ROUTES) -> str:
    """Changes whenever a route is added, removed or moved (summaries and operation ids do not count)."""
    return hashlib.sha256(json.dumps([[route.method, route.path] for route in routes]).encode()).hexdigest()


def resource_suffix(path: str) -> str:
    """`/pipelines/{pipeline_id}` -> `-pipelines-pipeline_id`: a stable, readable resource name part."""
    return "-" + "-".join(part.strip("{}") for part in path.strip("/").split("/"))


def rest_api(
    owner: MlopsComponent,
    name: str,
    args: OrchestratorArgs,
    data_key: aws.kms.Key,
    function: aws.lambda_.Function,
) -> pulumi.Output[str]:
    """REST API with IAM (SigV4) auth on every method, access logs and throttling; returns its URL."""
    api = aws.apigateway.RestApi(
        f"{name}-api",
        name="mlops-orchestrator",
        description="MLOps pipeline orchestrator",
        endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(types="REGIONAL"),
        tags=args.tags,
        opts=owner.child,
    )
    integrations = _routes(owner, name, api, function)
    aws.lambda_.Permission(
        f"{name}-api-invoke",
        action="lambda:InvokeFunction",
        function=function.name,
        principal="apigateway.amazonaws.com",
        source_arn=api.execution_arn.apply(lambda arn: f"{arn}/*/*"),
        opts=owner.child,
    )
    deployment = aws.apigateway.Deployment(
        f"{name}-api-deployment",
        rest_api=api.id,
        # A new deployment whenever the routes change, so the stage never serves stale routes.
        triggers={"routes": routes_fingerprint()},
        opts=owner.child_opts(depends_on=integrations),
    )
    return _stage(owner, name, args, data_key, api, deployment).invoke_url


def _routes(
    owner: MlopsComponent, name: str, api: aws.apigateway.RestApi, function: aws.lambda_.Function
) -> list[aws.apigateway.Integration]:
    """A resource per path and a method per route, each integrated with the API function."""
    resources: dict[str, aws.apigateway.Resource] = {}
    for path in resource_paths():
        parent_path, _, part = path.rpartition("/")
        resources[path] = aws.apigateway.Resource(
            f"{name}-api{resource_suffix(path)}",
            rest_api=api.id,
            parent_id=resources[parent_path].id if parent_path else api.root_resource_id,
            path_part=part,
            opts=owner.child,
        )
    integrations = []
    for route in ROUTES:
        suffix = f"{resource_suffix(route.path)}-{route.method.lower()}"
        resource_id = resources[route.path].id
        method = aws.apigateway.Method(
            f"{name}-api{suffix}",
            rest_api=api.id,
            resource_id=resource_id,
            http_method=route.method,
            authorization="AWS_IAM",
            opts=owner.child,
        )
        integrations.append(
            aws.apigateway.Integration(
                f"{name}-api{suffix}-integration",
                rest_api=api.id,
                resource_id=resource_id,
                http_method=method.http_method,
                integration_http_method="POST",
                type="AWS_PROXY",
                uri=function.invoke_arn,
                opts=owner.child,
            )
        )
    return integrations


def _stage(
    owner: MlopsComponent,
    name: str,
    args: OrchestratorArgs,
    data_key: aws.kms.Key,
    api: aws.apigateway.RestApi,
    deployment: aws.apigateway.Deployment,
) -> aws.apigateway.Stage:
    """The served stage: traced, access-logged, throttled."""
    access_logs = owner.log_group(
        f"{name}-api-access-logs", name="/aws/apigateway/mlops-orchestrator", kms_key_id=data_key.arn, tags=args.tags
    )
    stage = aws.apigateway.Stage(
        f"{name}-api-stage",
        rest_api=api.id,
        deployment=deployment.id,
        stage_name=API_STAGE,
        xray_tracing_enabled=True,
        access_log_settings=aws.apigateway.StageAccessLogSettingsArgs(
            destination_arn=access_logs.arn, format=json.dumps(ACCESS_LOG_FORMAT, sort_keys=True)
        ),
        tags=args.tags,
        opts=owner.child_opts(depends_on=[_logging_role(owner, name, args)]),
    )
    aws.apigateway.MethodSettings(
        f"{name}-api-throttling",
        rest_api=api.id,
        stage_name=stage.stage_name,
        method_path="*/*",
        settings=aws.apigateway.MethodSettingsSettingsArgs(
            throttling_rate_limit=THROTTLE_RATE,
            throttling_burst_limit=THROTTLE_BURST,
            metrics_enabled=True,
            logging_level="ERROR",
            data_trace_enabled=False,
        ),
        opts=owner.child,
    )
    return stage


def _logging_role(owner: MlopsComponent, name: str, args: OrchestratorArgs) -> aws.apigateway.Account:
    """API Gateway writes access logs only once the account names a CloudWatch role (a
    region-wide setting; an account that already has one keeps working with ours)."""
    role = aws.iam.Role(
        f"{name}-apigateway-logs-role",
        name=args.names.role("apigateway-logs"),
        assume_role_policy=policies.service_trust("apigateway.amazonaws.com", source_account=args.account_id),
        tags=args.tags,
        opts=owner.child,
    )
    attachment = aws.iam.RolePolicyAttachment(
        f"{name}-apigateway-logs-policy",
        role=role.name,
        policy_arn=f"arn:{args.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
        opts=owner.child,
    )
    return aws.apigateway.Account(
        f"{name}-apigateway-account",
        cloudwatch_role_arn=role.arn,
        opts=owner.child_opts(depends_on=[attachment]),
    )
