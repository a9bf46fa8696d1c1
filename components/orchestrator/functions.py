"""The orchestrator's functions: the light API, trigger and status functions and the provisioner.

Changes when a function's packaging, sizing or settings change. The variables they read are named
once in mlops_spec/env_vars.py; `function_environment` and `provisioner_environment` are plain
functions, so the CLI's planner gives the provisioner's builds the same settings.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pulumi
import pulumi_aws as aws

from components import policies
from components.base import MlopsComponent
from components.lambda_package import code_archive, powertools_layer_arn
from components.orchestrator.access import (
    api_statements,
    provisioner_statements,
    status_statements,
    trigger_statements,
)
from components.orchestrator.args import EXTERNAL_ID_PARAMETER, OrchestratorArgs, topic_arn
from components.orchestrator.storage import Storage
from components.orchestrator.teardown import provisioner_trust
from mlops_spec.env_vars import EnvVar

# The small functions ship our code only; the Powertools layer brings powertools + pydantic.
# tests/components/test_orchestrator_decisions.py checks this covers every module their handlers import.
LIGHT_FUNCTION_CODE = [
    "mlops_spec",
    "lambda_src/__init__.py",
    "lambda_src/common",
    "lambda_src/api",
    "lambda_src/registry",
    "lambda_src/trigger",
    "lambda_src/status_events",
]

LightStatements = Callable[[OrchestratorArgs, str, str], list[policies.Statement]]


def _plain(variables: Mapping[EnvVar, str]) -> dict[str, str]:
    """Plain `str` keys for Pulumi and Lambda (an EnvVar is a str, but of a subclass)."""
    return {key.value: value for key, value in variables.items()}


def function_environment(args: OrchestratorArgs, provisioner_function: str | None = None) -> dict[str, str]:
    """Environment variables the orchestrator's functions read their settings from."""
    names = args.names
    env = {
        EnvVar.MODE: args.mode,
        EnvVar.REGISTRY_TABLE: names.registry_table,
        EnvVar.ASSETS_BUCKET: args.assets_bucket_name,
        EnvVar.USE_MODEL_REGISTRY: "true" if args.use_model_registry else "false",
        EnvVar.ORCHESTRATOR_ENVIRONMENT: args.environment,
        EnvVar.ACCOUNTS: json.dumps(args.environment_accounts, sort_keys=True),
        EnvVar.STATE_BACKEND_URL: names.backend_url(),
        EnvVar.SECRETS_PROVIDER: names.secrets_provider(),
        EnvVar.TOPIC_ARN: topic_arn(args),
        EnvVar.POWERTOOLS_SERVICE_NAME: "mlops-orchestrator",
        EnvVar.POWERTOOLS_LOG_LEVEL: "INFO",
    }
    if provisioner_function:
        env[EnvVar.PROVISIONER_FUNCTION] = provisioner_function
    return _plain(env)


def light_function_environment(args: OrchestratorArgs, data_key: str) -> dict[str, str]:
    """The API, trigger and status functions' settings (lambda_src/common/settings.py). The approval rules
    are written even when they are the defaults, so what the API applies is visible in the function."""
    return {
        **function_environment(args, provisioner_function=args.provisioner_name),
        **_plain(
            {
                EnvVar.ASSETS_KMS_KEY_ARN: data_key,
                EnvVar.APPROVAL_RULES: args.approval_rules.to_json(),
                EnvVar.STRICT_REQUESTS: "true" if args.strict_requests else "false",
                # Empty: no limit (written anyway, so every light function has the same variables).
                EnvVar.MAX_MONTHLY_COST_PER_PIPELINE: _usd(args.max_monthly_cost_per_pipeline),
                EnvVar.COST_LIMIT_UNKNOWN_PRICES: args.cost_limit_unknown_prices,
            }
        ),
    }


def _usd(limit: float | None) -> str:
    """500.0 -> "500", 99.5 -> "99.5"; None -> "" (the settings read both back: settings._cost_limit)."""
    if limit is None:
        return ""
    return str(int(limit)) if float(limit).is_integer() else repr(float(limit))


def provisioner_environment(args: OrchestratorArgs, data_key: str, secrets_key: str, image_uri: str) -> dict[str, str]:
    """The provisioner's settings (lambda_src/provisioner/settings.py); it hands them on to CodeBuild."""
    env = {
        EnvVar.ASSETS_KMS_KEY_ARN: data_key,
        EnvVar.STATE_KEY_ARN: secrets_key,
        EnvVar.PROVISIONER_IMAGE_URI: image_uri,
        EnvVar.ECR_REPOSITORY: args.ecr_repository_name,
        EnvVar.TAGS: json.dumps(args.tags, sort_keys=True),
    }
    if args.deploy_role_external_id:
        # Only the parameter's name: the secret itself never sits in function or build settings.
        env[EnvVar.DEPLOY_ROLE_EXTERNAL_ID_PARAMETER] = EXTERNAL_ID_PARAMETER
    return {**function_environment(args), **_plain(env)}


class Functions:
    """The orchestrator's four functions, children of `owner`, each with its own role and log group."""

    def __init__(self, owner: MlopsComponent, name: str, args: OrchestratorArgs, storage: Storage):
        self._owner, self._name, self._args, self._storage = owner, name, args, storage
        self.provisioner_image_uri: pulumi.Output[str] | None = None
        self.provisioner_settings: pulumi.Output[dict[str, str]] | None = None
        self.provisioner = self._provisioner()
        self.api = self._light("api", "lambda_src.api.handler.handler", api_statements)
        self.trigger = self._light("trigger", "lambda_src.trigger.handler.handler", trigger_statements)
        self.status = self._light("status", "lambda_src.status_events.handler.handler", status_statements)
        if self.provisioner is not None:
            self._provisioner_crashes_reach_status(self.provisioner)

    def _function(
        self,
        purpose: str,
        policy: pulumi.Input[str],
        variables: pulumi.Input[dict[str, str]],
        trust: str | None = None,
        **code: Any,
    ) -> aws.lambda_.Function:
        """A function traced by X-Ray, encrypted with the data key, with its own least-privilege role
        (named with the orchestrator prefix the deploy roles trust) and its own log group."""
        args, data_key = self._args, self._storage.data_key
        function_name = args.function_name(purpose)
        role, _ = self._owner.role_with_policy(
            f"{self._name}-{purpose}",
            name=function_name,
            trust_policy=trust or policies.service_trust("lambda.amazonaws.com", source_account=args.account_id),
            policy=policy,
            tags=args.tags,
        )
        log_group = self._owner.log_group(
            f"{self._name}-{function_name}-logs",
            name=f"/aws/lambda/{function_name}",
            kms_key_id=data_key.arn,
            tags=args.tags,
        )
        return aws.lambda_.Function(
            f"{self._name}-{purpose}",
            name=function_name,
            role=role.arn,
            kms_key_arn=data_key.arn,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=variables),
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
            tags=args.tags,
            opts=self._owner.child_opts(depends_on=[log_group]),
            **code,
        )

    def _light(self, purpose: str, handler: str, statements_for: LightStatements) -> aws.lambda_.Function:
        """A small zip function: our code and the Powertools layer."""
        args, data_key = self._args, self._storage.data_key.arn
        return self._function(
            purpose,
            data_key.apply(lambda key: policies.document(*statements_for(args, key, topic_arn(args)))),
            data_key.apply(lambda key: light_function_environment(args, key)),
            runtime="python3.11",
            architectures=["arm64"],
            handler=handler,
            code=code_archive(LIGHT_FUNCTION_CODE),
            layers=[powertools_layer_arn(args.region)],
            memory_size=512,
            timeout=30,
        )

    def _provisioner(self) -> aws.lambda_.Function | None:
        """The provisioner runs `pulumi up` through the Automation API, so it is a container image
        carrying the pulumi CLI and the aws plugin (pulumi-aws alone exceeds the 250 MB zip limit).

        A Lambda function cannot be created before its image exists, so a first install (no
        `mlops:provisionerImageTag` yet) creates everything else; requests are then refused with
        503 until the image is pushed and the tag set."""
        args, storage, tag = self._args, self._storage, self._args.provisioner_image_tag
        if tag is None:
            pulumi.log.warn(
                "no provisioner yet: push the provisioner image (docs/provisioner-image.md), then "
                "`pulumi config set mlops:provisionerImageTag <tag>` and `pulumi up` again",
                resource=self._owner,
            )
            return None
        image_uri = storage.provisioner_repository_url.apply(lambda url: f"{url}:{tag}")
        self.provisioner_image_uri = image_uri
        keys = pulumi.Output.all(data_key=storage.data_key.arn, secrets_key=storage.secrets_key.arn)
        policy = keys.apply(
            lambda k: policies.document(*provisioner_statements(args, k["data_key"], k["secrets_key"], topic_arn(args)))
        )
        settings = pulumi.Output.all(
            data_key=storage.data_key.arn, secrets_key=storage.secrets_key.arn, image_uri=image_uri
        ).apply(lambda v: provisioner_environment(args, v["data_key"], v["secrets_key"], v["image_uri"]))
        self.provisioner_settings = settings
        return self._function(
            "provisioner",
            policy,
            settings,
            # Its teardown builds run as the provisioner too (components/orchestrator/teardown.py).
            trust=provisioner_trust(args),
            package_type="Image",
            image_uri=image_uri,
            # A pipeline stack up takes minutes; 15 minutes is Lambda's maximum, longer runs go to CodeBuild.
            timeout=900,
            memory_size=3008,
            ephemeral_storage=aws.lambda_.FunctionEphemeralStorageArgs(size=4096),
            # Optional: reserving concurrency fails on accounts whose quota leaves too little unreserved.
            reserved_concurrent_executions=args.provisioner_concurrency,
        )

    def _provisioner_crashes_reach_status(self, provisioner: aws.lambda_.Function) -> None:
        """A provisioner run killed by a timeout or out of memory is not retried (a second `up` on a
        half-applied stack must be a deliberate retry); the event goes to the status function,
        which records the pipeline as FAILED and retryable instead of PROVISIONING forever."""
        aws.lambda_.FunctionEventInvokeConfig(
            f"{self._name}-provisioner-async",
            function_name=provisioner.name,
            maximum_retry_attempts=0,
            maximum_event_age_in_seconds=3600,
            destination_config=aws.lambda_.FunctionEventInvokeConfigDestinationConfigArgs(
                on_failure=aws.lambda_.FunctionEventInvokeConfigDestinationConfigOnFailureArgs(
                    destination=self.status.arn
                )
            ),
            opts=self._owner.child,
        )
