"""Orchestrator: the API, its functions, the pipeline registry, buckets, topic and Pulumi state backend."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components import policies
from components.lambda_package import code_archive, powertools_layer_arn
from components.orchestrator_access import (
    CONFIG_FILE_SUFFIX,
    EXTERNAL_ID_PARAMETER,
    api_statements,
    assets_cross_account_statements,
    data_key_policy,
    ecr_pull_policy,
    model_group_policy,
    provisioner_statements,
    status_statements,
    topic_policy,
    trigger_statements,
)
from components.secure_bucket import SecureBucket, SecureBucketArgs, access_log_bucket
from mlops_spec.naming import EnvironmentNames, OrchestratorNames

# (method, path) of every API route; all of them go to the API function (Lambda proxy).
API_ROUTES: tuple[tuple[str, str], ...] = (
    ("POST", "/provisionpipeline"),
    ("POST", "/pipelinestatus"),
    ("GET", "/pipelines"),
    ("GET", "/pipelines/{pipeline_id}"),
    ("DELETE", "/pipelines/{pipeline_id}"),
    ("POST", "/pipelines/{pipeline_id}/approval"),
    ("GET", "/modelcards"),
    ("POST", "/modelcards"),
    ("GET", "/modelcards/{name}"),
    ("PUT", "/modelcards/{name}"),
    ("DELETE", "/modelcards/{name}"),
    ("POST", "/modelcards/{name}/export"),
)
API_STAGE = "v1"
LOG_RETENTION_DAYS = 365
# The small functions ship our code only; the Powertools layer brings powertools + pydantic.
LIGHT_FUNCTION_CODE = [
    "mlops_spec",
    "lambda_src/__init__.py",
    "lambda_src/common",
    "lambda_src/api",
    "lambda_src/registry.py",
    "lambda_src/trigger",
    "lambda_src/status_events",
]


@dataclass
class OrchestratorArgs:
    account_id: str
    region: str
    mode: str
    environment: str
    environment_accounts: Mapping[str, str]
    notification_email: str | None = None
    use_model_registry: bool = False
    existing_assets_bucket: str | None = None
    existing_ecr_repository: str | None = None
    provisioner_image_tag: str | None = None
    """Tag of the pushed provisioner image; None on a first install (no provisioner function yet)."""
    provisioner_concurrency: int | None = None
    """Reserved concurrency of the provisioner; None leaves it in the account's shared pool."""
    deploy_role_external_id: pulumi.Input[str] | None = None
    """Secret the environments' deploy roles require; stored as an SSM SecureString for the provisioner."""
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def names(self) -> OrchestratorNames:
        return OrchestratorNames(self.account_id, self.region)

    @property
    def assets_bucket_name(self) -> str:
        return self.existing_assets_bucket or self.names.assets_bucket

    @property
    def other_accounts(self) -> list[str]:
        """Target accounts other than the orchestrator's own (multi-account mode)."""
        return sorted({acct for acct in self.environment_accounts.values() if acct != self.account_id})

    def deploy_role_arns(self) -> list[str]:
        return sorted(
            EnvironmentNames(env, acct, self.region).deploy_role_arn()
            for env, acct in self.environment_accounts.items()
        )


# -- plain decisions ------------------------------------------------------------------------------


def api_resource_paths(routes: tuple[tuple[str, str], ...] = API_ROUTES) -> list[str]:
    """Every API Gateway resource path the routes need, parents before children."""
    paths: set[str] = set()
    for _, path in routes:
        parts = path.strip("/").split("/")
        for depth in range(1, len(parts) + 1):
            paths.add("/" + "/".join(parts[:depth]))
    return sorted(paths, key=lambda p: (p.count("/"), p))


def function_environment(args: OrchestratorArgs, provisioner_function: str | None = None) -> dict[str, str]:
    """Environment variables the orchestrator's functions read their settings from."""
    names = args.names
    env = {
        "MLOPS_MODE": args.mode,
        "MLOPS_REGISTRY_TABLE": names.registry_table,
        "MLOPS_ASSETS_BUCKET": args.assets_bucket_name,
        "MLOPS_USE_MODEL_REGISTRY": "true" if args.use_model_registry else "false",
        "MLOPS_ORCHESTRATOR_ENVIRONMENT": args.environment,
        "MLOPS_ACCOUNTS": json.dumps(args.environment_accounts, sort_keys=True),
        "MLOPS_STATE_BACKEND_URL": names.backend_url(),
        "MLOPS_SECRETS_PROVIDER": names.secrets_provider(),
        "MLOPS_TOPIC_ARN": topic_arn(args),
        "POWERTOOLS_SERVICE_NAME": "mlops-orchestrator",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
    if provisioner_function:
        env["MLOPS_PROVISIONER_FUNCTION"] = provisioner_function
    return env


def provisioner_environment(args: OrchestratorArgs, data_key: str, secrets_key: str, image_uri: str) -> dict[str, str]:
    """The provisioner's settings (lambda_src/provisioner/settings.py); it hands them on to CodeBuild."""
    return {
        **function_environment(args),
        "MLOPS_ASSETS_KMS_KEY_ARN": data_key,
        "MLOPS_STATE_KEY_ARN": secrets_key,
        "MLOPS_PROVISIONER_IMAGE_URI": image_uri,
        "MLOPS_ECR_REPOSITORY": args.existing_ecr_repository or args.names.ecr_repository,
        "MLOPS_TAGS": json.dumps(args.tags, sort_keys=True),
        # Only the parameter's name: the secret itself never sits in function or build settings.
        **({"MLOPS_DEPLOY_ROLE_EXTERNAL_ID_PARAMETER": EXTERNAL_ID_PARAMETER} if args.deploy_role_external_id else {}),
    }


def topic_arn(args: OrchestratorArgs) -> str:
    return f"arn:aws:sns:{args.region}:{args.account_id}:{args.names.topic}"


class Orchestrator(pulumi.ComponentResource):
    """Everything the orchestrator account runs: request API, registry, provisioner, state backend."""

    def __init__(self, name: str, args: OrchestratorArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:orchestrator:Orchestrator", name, None, opts)
        self.args = args
        self._name = name
        names = args.names
        child = pulumi.ResourceOptions(parent=self)

        self.data_key = self._key("data", "MLOps orchestrator data", data_key_policy(args))
        self.secrets_key = self._key(
            "secrets", "Pulumi secrets provider of the pipeline stacks", policies.kms_key_policy(args.account_id, [])
        )
        aws.kms.Alias(
            f"{name}-data-key-alias", name="alias/mlops-orchestrator", target_key_id=self.data_key.key_id, opts=child
        )
        aws.kms.Alias(
            f"{name}-secrets-key-alias", name=names.state_key_alias, target_key_id=self.secrets_key.key_id, opts=child
        )

        self.access_logs = access_log_bucket(
            f"{name}-access-logs", self.data_key.arn, names.access_log_bucket, args.account_id, args.tags, child
        )
        self.assets_bucket_name = self._assets_bucket()
        self.state_bucket = SecureBucket(
            f"{name}-state",
            SecureBucketArgs(
                kms_key_arn=self.secrets_key.arn,
                bucket_name=names.state_bucket,
                access_log_bucket=self.access_logs.name,
                tags=args.tags,
            ),
            opts=child,
        )
        self.table = self._registry_table()
        self.topic = self._topic()
        self.ecr_repository_url = self._repository()
        self.model_package_group_name = self._model_package_group()

        self._external_id_parameter()
        self.provisioner_repository_url = self._provisioner_repository()
        self.provisioner = self._provisioner_function()
        self.api_function = self._light_function("api", "lambda_src.api.handler.handler", api_statements)
        self.trigger_function = self._light_function(
            "trigger", "lambda_src.trigger.handler.handler", trigger_statements
        )
        self.status_function = self._light_function(
            "status", "lambda_src.status_events.handler.handler", status_statements
        )
        if self.provisioner is not None:
            self._provisioner_crashes_reach_status(self.provisioner)
        self._config_trigger()
        self._status_events()
        self._lost_run_sweep()
        self.api_url = self._rest_api()

        self.state_backend_url = pulumi.Output.from_input(names.backend_url())
        self.register_outputs(
            {
                "apiUrl": self.api_url,
                "assetsBucket": self.assets_bucket_name,
                "stateBucket": self.state_bucket.name,
                "stateBackendUrl": self.state_backend_url,
                "secretsProvider": names.secrets_provider(),
                "topicArn": self.topic.arn,
                "registryTable": self.table.name,
                "ecrRepositoryUrl": self.ecr_repository_url,
            }
        )

    # -- storage and messaging --------------------------------------------------------------------
    def _key(self, purpose: str, description: str, policy: str) -> aws.kms.Key:
        return aws.kms.Key(
            f"{self._name}-{purpose}-key",
            description=description,
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=policy,
            tags=self.args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _assets_bucket(self) -> pulumi.Output[str]:
        """The assets bucket: ours, or the user's existing one (whose settings stay the user's)."""
        if self.args.existing_assets_bucket:
            return pulumi.Output.from_input(self.args.existing_assets_bucket)
        bucket = SecureBucket(
            f"{self._name}-assets",
            SecureBucketArgs(
                kms_key_arn=self.data_key.arn,
                bucket_name=self.args.names.assets_bucket,
                access_log_bucket=self.access_logs.name,
                extra_policy_statements=assets_cross_account_statements(self.args),
                tags=self.args.tags,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return bucket.name

    def _registry_table(self) -> aws.dynamodb.Table:
        return aws.dynamodb.Table(
            f"{self._name}-registry",
            name=self.args.names.registry_table,
            billing_mode="PAY_PER_REQUEST",
            hash_key="pipeline_id",
            attributes=[
                aws.dynamodb.TableAttributeArgs(name="pipeline_id", type="S"),
                aws.dynamodb.TableAttributeArgs(name="client_token", type="S"),
            ],
            global_secondary_indexes=[
                aws.dynamodb.TableGlobalSecondaryIndexArgs(
                    name="client_token",
                    key_schemas=[
                        aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                            attribute_name="client_token", key_type="HASH"
                        )
                    ],
                    projection_type="ALL",
                )
            ],
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(
                enabled=True, kms_key_arn=self.data_key.arn
            ),
            deletion_protection_enabled=True,
            tags=self.args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _topic(self) -> aws.sns.Topic:
        topic = aws.sns.Topic(
            f"{self._name}-notifications",
            name=self.args.names.topic,
            kms_master_key_id=self.data_key.arn,
            tags=self.args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.sns.TopicPolicy(
            f"{self._name}-notifications-policy",
            arn=topic.arn,
            policy=topic.arn.apply(lambda arn: topic_policy(self.args, arn)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        if self.args.notification_email:
            aws.sns.TopicSubscription(
                f"{self._name}-email",
                topic=topic.arn,
                protocol="email",
                endpoint=self.args.notification_email,
                opts=pulumi.ResourceOptions(parent=self),
            )
        return topic

    def _repository(self) -> pulumi.Output[str]:
        """ECR repository for custom algorithm images (or the user's existing one)."""
        if self.args.existing_ecr_repository:
            return pulumi.Output.from_input(
                f"{self.args.account_id}.dkr.ecr.{self.args.region}.amazonaws.com/{self.args.existing_ecr_repository}"
            )
        repo = self._ecr_repository("custom-algorithms", self.args.names.ecr_repository, "IMMUTABLE")
        if self.args.other_accounts:
            aws.ecr.RepositoryPolicy(
                f"{self._name}-custom-algorithms-policy",
                repository=repo.name,
                policy=ecr_pull_policy(self.args),
                opts=pulumi.ResourceOptions(parent=self),
            )
        return repo.repository_url

    def _model_package_group(self) -> pulumi.Output[str] | None:
        if not self.args.use_model_registry:
            return None
        group = aws.sagemaker.ModelPackageGroup(
            f"{self._name}-model-registry",
            model_package_group_name=self.args.names.model_package_group,
            model_package_group_description="Models served by MLOps pipelines",
            tags=self.args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        if self.args.other_accounts:
            aws.sagemaker.ModelPackageGroupPolicy(
                f"{self._name}-model-registry-policy",
                model_package_group_name=group.model_package_group_name,
                resource_policy=group.arn.apply(lambda arn: model_group_policy(self.args, arn)),
                opts=pulumi.ResourceOptions(parent=self),
            )
        return group.model_package_group_name

    # -- functions --------------------------------------------------------------------------------
    def _function_role(self, purpose: str, statements: pulumi.Input[str]) -> aws.iam.Role:
        """One role per function, named with the orchestrator prefix the deploy roles trust."""
        role = aws.iam.Role(
            f"{self._name}-{purpose}-role",
            name=self.args.names.role(purpose),
            assume_role_policy=policies.service_trust("lambda.amazonaws.com", source_account=self.args.account_id),
            tags=self.args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.iam.RolePolicy(
            f"{self._name}-{purpose}-policy", role=role.id, policy=statements, opts=pulumi.ResourceOptions(parent=self)
        )
        return role

    def _log_group(self, function_name: str) -> aws.cloudwatch.LogGroup:
        return aws.cloudwatch.LogGroup(
            f"{self._name}-{function_name}-logs",
            name=f"/aws/lambda/{function_name}",
            retention_in_days=LOG_RETENTION_DAYS,
            kms_key_id=self.data_key.arn,
            tags=self.args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _light_function(self, purpose: str, handler: str, statements_for) -> aws.lambda_.Function:  # type: ignore[no-untyped-def]
        """A small zip function (our code + the Powertools layer) with its own least-privilege role."""
        function_name = self.args.names.role(purpose)
        policy = self.data_key.arn.apply(
            lambda key: policies.document(*statements_for(self.args, key, topic_arn(self.args)))
        )
        role = self._function_role(purpose, policy)
        log_group = self._log_group(function_name)
        return aws.lambda_.Function(
            f"{self._name}-{purpose}",
            name=function_name,
            runtime="python3.11",
            architectures=["arm64"],
            handler=handler,
            code=code_archive(LIGHT_FUNCTION_CODE),
            layers=[powertools_layer_arn(self.args.region)],
            role=role.arn,
            memory_size=512,
            timeout=30,
            kms_key_arn=self.data_key.arn,
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables=self.data_key.arn.apply(
                    lambda key: {
                        **function_environment(self.args, provisioner_function=self._provisioner_name()),
                        "MLOPS_ASSETS_KMS_KEY_ARN": key,
                    }
                )
            ),
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
            tags=self.args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group]),
        )

    def _external_id_parameter(self) -> None:
        """The deploy roles' external id, encrypted with the data key, read by the provisioner and its builds."""
        if not self.args.deploy_role_external_id:
            return
        aws.ssm.Parameter(
            f"{self._name}-deploy-role-external-id",
            name=EXTERNAL_ID_PARAMETER,
            type="SecureString",
            key_id=self.data_key.arn,
            value=self.args.deploy_role_external_id,
            tags=self.args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _provisioner_repository(self) -> pulumi.Output[str]:
        """Where the provisioner image is pushed (docs/provisioner-image.md); it exists before the image."""
        return self._ecr_repository(
            "provisioner-image", self.args.names.provisioner_repository, "MUTABLE"
        ).repository_url

    def _ecr_repository(self, purpose: str, name: str, tag_mutability: str) -> aws.ecr.Repository:
        """An ECR repository encrypted with the data key and scanned on push."""
        return aws.ecr.Repository(
            f"{self._name}-{purpose}",
            name=name,
            image_tag_mutability=tag_mutability,
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
            encryption_configurations=[
                aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS", kms_key=self.data_key.arn)
            ],
            tags=self.args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _provisioner_function(self) -> aws.lambda_.Function | None:
        """The provisioner runs `pulumi up` through the Automation API, so it is a container image
        carrying the pulumi CLI and the aws plugin (pulumi-aws alone exceeds the 250 MB zip limit).

        A Lambda function cannot be created before its image exists, so a first install (no
        `mlops:provisionerImageTag` yet) creates everything else; requests are then refused with
        503 until the image is pushed and the tag set."""
        tag = self.args.provisioner_image_tag
        if tag is None:
            pulumi.log.warn(
                "no provisioner yet: push the provisioner image (docs/provisioner-image.md), then "
                "`pulumi config set mlops:provisionerImageTag <tag>` and `pulumi up` again",
                resource=self,
            )
            self.provisioner_image_uri: pulumi.Output[str] | None = None
            return None
        names = self.args.names
        function_name = names.role("provisioner")
        policy = pulumi.Output.all(self.data_key.arn, self.secrets_key.arn).apply(
            lambda keys: policies.document(*provisioner_statements(self.args, keys[0], keys[1], topic_arn(self.args)))
        )
        role = self._function_role("provisioner", policy)
        log_group = self._log_group(function_name)
        image_uri = self.provisioner_repository_url.apply(lambda url: f"{url}:{tag}")
        self.provisioner_image_uri = image_uri
        return aws.lambda_.Function(
            f"{self._name}-provisioner",
            name=function_name,
            package_type="Image",
            image_uri=image_uri,
            role=role.arn,
            # A pipeline stack up takes minutes; 15 minutes is Lambda's maximum, longer runs go to CodeBuild.
            timeout=900,
            memory_size=3008,
            ephemeral_storage=aws.lambda_.FunctionEphemeralStorageArgs(size=4096),
            # Optional: reserving concurrency fails on accounts whose quota leaves too little unreserved.
            reserved_concurrent_executions=self.args.provisioner_concurrency,
            kms_key_arn=self.data_key.arn,
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables=pulumi.Output.all(self.data_key.arn, self.secrets_key.arn, image_uri).apply(
                    lambda values: provisioner_environment(self.args, *values)
                )
            ),
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
            tags=self.args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group]),
        )

    def _provisioner_name(self) -> str | None:
        return self.args.names.role("provisioner") if self.args.provisioner_image_tag else None

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
                    destination=self.status_function.arn
                )
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    # -- event sources ----------------------------------------------------------------------------
    def _config_trigger(self) -> None:
        """`mlops-config.json` uploaded anywhere in the assets bucket -> trigger function."""
        permission = aws.lambda_.Permission(
            f"{self._name}-trigger-from-s3",
            action="lambda:InvokeFunction",
            function=self.trigger_function.name,
            principal="s3.amazonaws.com",
            source_arn=self.assets_bucket_name.apply(lambda bucket: f"arn:aws:s3:::{bucket}"),
            source_account=self.args.account_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.s3.BucketNotification(
            f"{self._name}-config-upload",
            bucket=self.assets_bucket_name,
            lambda_functions=[
                aws.s3.BucketNotificationLambdaFunctionArgs(
                    lambda_function_arn=self.trigger_function.arn,
                    events=["s3:ObjectCreated:*"],
                    filter_suffix=CONFIG_FILE_SUFFIX,
                )
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[permission]),
        )

    def _lost_run_sweep(self) -> None:
        """Every few minutes the status function re-starts runs recorded but never started."""
        self._rule_to_status_function("sweep", "mlops-sweep-lost-runs", schedule_expression=SWEEP_SCHEDULE)

    def _status_events(self) -> None:
        """CodePipeline state changes of delivery pipelines (named `mlops-*`) -> status function."""
        self._rule_to_status_function(
            "delivery-events",
            "mlops-delivery-state-changes",
            event_pattern=json.dumps(delivery_event_pattern(), sort_keys=True),
        )

    def _rule_to_status_function(
        self, purpose: str, rule_name: str, schedule_expression: str | None = None, event_pattern: str | None = None
    ) -> None:
        """An EventBridge rule whose events invoke the status function (and only this rule may)."""
        opts = pulumi.ResourceOptions(parent=self)
        rule = aws.cloudwatch.EventRule(
            f"{self._name}-{purpose}",
            name=rule_name,
            schedule_expression=schedule_expression,
            event_pattern=event_pattern,
            tags=self.args.tags,
            opts=opts,
        )
        aws.lambda_.Permission(
            f"{self._name}-status-from-{purpose}",
            action="lambda:InvokeFunction",
            function=self.status_function.name,
            principal="events.amazonaws.com",
            source_arn=rule.arn,
            opts=opts,
        )
        aws.cloudwatch.EventTarget(
            f"{self._name}-{purpose}-target", rule=rule.name, arn=self.status_function.arn, opts=opts
        )

    # -- REST API ---------------------------------------------------------------------------------
    def _rest_api(self) -> pulumi.Output[str]:
        """REST API with IAM (SigV4) auth on every method, access logs and throttling."""
        opts = pulumi.ResourceOptions(parent=self)
        api = aws.apigateway.RestApi(
            f"{self._name}-api",
            name="mlops-orchestrator",
            description="MLOps pipeline orchestrator",
            endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(types="REGIONAL"),
            tags=self.args.tags,
            opts=opts,
        )
        resources: dict[str, aws.apigateway.Resource] = {}
        for path in api_resource_paths():
            parent_path, _, part = path.rpartition("/")
            parent_id = resources[parent_path].id if parent_path else api.root_resource_id
            resources[path] = aws.apigateway.Resource(
                f"{self._name}-api{_resource_suffix(path)}",
                rest_api=api.id,
                parent_id=parent_id,
                path_part=part,
                opts=opts,
            )
        integrations = []
        for method, path in API_ROUTES:
            suffix = f"{_resource_suffix(path)}-{method.lower()}"
            api_method = aws.apigateway.Method(
                f"{self._name}-api{suffix}",
                rest_api=api.id,
                resource_id=resources[path].id,
                http_method=method,
                authorization="AWS_IAM",
                opts=opts,
            )
            integrations.append(
                aws.apigateway.Integration(
                    f"{self._name}-api{suffix}-integration",
                    rest_api=api.id,
                    resource_id=resources[path].id,
                    http_method=api_method.http_method,
                    integration_http_method="POST",
                    type="AWS_PROXY",
                    uri=self.api_function.invoke_arn,
                    opts=opts,
                )
            )
        aws.lambda_.Permission(
            f"{self._name}-api-invoke",
            action="lambda:InvokeFunction",
            function=self.api_function.name,
            principal="apigateway.amazonaws.com",
            source_arn=api.execution_arn.apply(lambda arn: f"{arn}/*/*"),
            opts=opts,
        )
        deployment = aws.apigateway.Deployment(
            f"{self._name}-api-deployment",
            rest_api=api.id,
            # A new deployment whenever the routes change, so the stage never serves stale routes.
            triggers={"routes": hashlib.sha256(json.dumps(API_ROUTES).encode()).hexdigest()},
            opts=pulumi.ResourceOptions(parent=self, depends_on=integrations),
        )
        access_logs = aws.cloudwatch.LogGroup(
            f"{self._name}-api-access-logs",
            name="/aws/apigateway/mlops-orchestrator",
            retention_in_days=LOG_RETENTION_DAYS,
            kms_key_id=self.data_key.arn,
            tags=self.args.tags,
            opts=opts,
        )
        logging_account = self._api_gateway_logging_role()
        stage = aws.apigateway.Stage(
            f"{self._name}-api-stage",
            rest_api=api.id,
            deployment=deployment.id,
            stage_name=API_STAGE,
            xray_tracing_enabled=True,
            access_log_settings=aws.apigateway.StageAccessLogSettingsArgs(
                destination_arn=access_logs.arn, format=json.dumps(ACCESS_LOG_FORMAT, sort_keys=True)
            ),
            tags=self.args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[logging_account]),
        )
        aws.apigateway.MethodSettings(
            f"{self._name}-api-throttling",
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
            opts=opts,
        )
        return stage.invoke_url

    def _api_gateway_logging_role(self) -> aws.apigateway.Account:
        """API Gateway writes access logs only once the account names a CloudWatch role (a
        region-wide setting; an account that already has one keeps working with ours)."""
        role = aws.iam.Role(
            f"{self._name}-apigateway-logs-role",
            name=self.args.names.role("apigateway-logs"),
            assume_role_policy=policies.service_trust("apigateway.amazonaws.com", source_account=self.args.account_id),
            tags=self.args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{self._name}-apigateway-logs-policy",
            role=role.name,
            policy_arn="arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
            opts=pulumi.ResourceOptions(parent=self),
        )
        return aws.apigateway.Account(
            f"{self._name}-apigateway-account",
            cloudwatch_role_arn=role.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[attachment]),
        )


SWEEP_SCHEDULE = "rate(5 minutes)"
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


def delivery_event_pattern() -> dict[str, object]:
    return {
        "source": ["aws.codepipeline"],
        "detail-type": [
            "CodePipeline Pipeline Execution State Change",
            "CodePipeline Stage Execution State Change",
            "CodePipeline Action Execution State Change",
        ],
        "detail": {"pipeline": [{"prefix": "mlops-"}]},
    }


def _resource_suffix(path: str) -> str:
    """`/pipelines/{pipeline_id}` -> `-pipelines-pipeline_id`: a stable, readable resource name part."""
    return "-" + "-".join(part.strip("{}") for part in path.strip("/").split("/"))
