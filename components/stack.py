"""How one stack is assembled from its config: baseline, orchestrator (where hosted), declared pipelines."""

from __future__ import annotations

from typing import Any

import pulumi

from components.environment import EnvironmentBaseline, EnvironmentBaselineArgs
from components.orchestrator import Orchestrator, OrchestratorArgs
from components.pipelines.base import PipelineContext
from mlops_spec.account_guard import check_allowed_accounts, missing_guard_warning
from mlops_spec.errors import SpecError
from mlops_spec.naming import OrchestratorNames
from mlops_spec.stack_config import StackConfig, config_keys, load_stack_config


def read_stack_config() -> StackConfig:
    """The running stack's config as a typed object; a bad value stops the program with one line."""
    values: dict[str, Any] = {}
    for key in config_keys():
        namespace, _, name = key.partition(":")
        value = pulumi.Config(namespace).get(name)
        if value is not None:
            values[key] = value
    guard = pulumi.Config("aws").get("allowedAccountIds")
    try:
        config = load_stack_config(values, pulumi.get_stack())
        check_allowed_accounts(guard, config.account_id, config.environment)
    except SpecError as exc:
        # RunError ends the program with this message only, not a traceback.
        raise pulumi.RunError(f"invalid stack config: {exc}") from None
    if warning := missing_guard_warning(guard, config.account_id):
        pulumi.log.warn(warning)
    return config


def deploy_role_external_id() -> pulumi.Output[str] | None:
    """Optional secret; set it with `pulumi config set --secret mlops:deployRoleExternalId ...`."""
    return pulumi.Config("mlops").get_secret("deployRoleExternalId")


def stack_tags(config: StackConfig) -> dict[str, str]:
    return {**config.tags, "mlops:environment": config.environment, "mlops:managed-by": "pulumi"}


def orchestrator_args(config: StackConfig, external_id: pulumi.Input[str] | None = None) -> OrchestratorArgs:
    """The orchestrator's arguments from the stack config of the account hosting it."""
    return OrchestratorArgs(
        account_id=config.account_id,
        region=config.region,
        mode=config.mode,
        environment=config.environment,
        environment_accounts={str(env): account for env, account in config.accounts.items()},
        notification_email=config.notification_email,
        use_model_registry=config.use_model_registry,
        existing_assets_bucket=config.existing_assets_bucket,
        existing_ecr_repository=config.existing_ecr_repository,
        provisioner_image_tag=config.provisioner_image_tag,
        provisioner_concurrency=config.provisioner_concurrency,
        deploy_role_external_id=external_id,
        tags=stack_tags(config),
        approvers=dict(config.approvers),
        allow_requester_approval=config.allow_requester_approval,
        drift_schedule=config.drift_schedule,
        strict_requests=config.strict_requests,
        max_monthly_cost_per_pipeline=config.max_monthly_cost_per_pipeline,
        cost_limit_unknown_prices=config.cost_limit_unknown_prices,
    )


def build_stack(config: StackConfig, external_id: pulumi.Input[str] | None = None) -> dict[str, Any]:
    """Create this stack's components and return what it exports."""
    baseline = environment_baseline(config, external_id)
    exports: dict[str, Any] = {
        "environment": config.environment,
        "kmsKeyArn": baseline.kms_key_arn,
        "artifactsBucket": baseline.artifacts_bucket,
        "sagemakerRoleArn": baseline.sagemaker_role_arn,
        "deployRoleArn": baseline.deploy_role_arn,
    }
    orchestrator = None
    if config.hosts_orchestrator:
        orchestrator = Orchestrator("mlops-orchestrator", orchestrator_args(config, external_id))
        exports.update(orchestrator_exports(orchestrator))
    pipelines = deploy_declared_pipelines(config, pipeline_context(config, baseline, orchestrator))
    if pipelines:
        exports["pipelines"] = pipelines
    return exports


def environment_baseline(config: StackConfig, external_id: pulumi.Input[str] | None = None) -> EnvironmentBaseline:
    return EnvironmentBaseline(
        f"mlops-{config.environment}",
        EnvironmentBaselineArgs(
            environment=config.environment,
            account_id=config.account_id,
            region=config.region,
            orchestrator_account_id=config.orchestrator_account_id,
            use_model_registry=config.use_model_registry,
            deploy_role_external_id=external_id,
            tags=stack_tags(config),
        ),
    )


def orchestrator_exports(orchestrator: Orchestrator) -> dict[str, Any]:
    exports: dict[str, Any] = {
        "apiUrl": orchestrator.api_url,
        "assetsBucket": orchestrator.assets_bucket_name,
        "stateBucket": orchestrator.state_bucket.name,
        "stateBackendUrl": orchestrator.state_backend_url,
        "secretsProvider": orchestrator.args.names.secrets_provider(),
        "topicArn": orchestrator.topic.arn,
        "registryTable": orchestrator.table.name,
        "ecrRepositoryUrl": orchestrator.ecr_repository_url,
        "provisionerRepositoryUrl": orchestrator.provisioner_repository_url,
        **orchestrator.assets_bucket_requirements(),
    }
    if orchestrator.provisioner_image_uri is not None:
        exports["provisionerImageUri"] = orchestrator.provisioner_image_uri
    return exports


def pipeline_context(
    config: StackConfig, baseline: EnvironmentBaseline, orchestrator: Orchestrator | None
) -> PipelineContext:
    """What this stack's pipelines know of the orchestrator: its resources where this stack hosts it,
    otherwise the names derivable from its account and region."""
    # Another account's key id cannot be derived, so stacks without the orchestrator name the
    # orchestrator account's keys; its key policy only lets them decrypt through S3.
    any_key = f"arn:{config.partition}:kms:{config.region}:{config.orchestrator_account_id}:key/*"
    if orchestrator is None:
        names = OrchestratorNames(config.orchestrator_account_id, config.region)
        return baseline.pipeline_context(
            config.existing_assets_bucket or names.assets_bucket, assets_kms_key_arn=any_key
        )
    return baseline.pipeline_context(
        orchestrator.assets_bucket_name,
        orchestrator.ecr_repository_url,
        orchestrator.model_package_group_name,
        orchestrator.topic.arn,
        # A user's existing assets bucket is encrypted with a key we do not know.
        any_key if config.existing_assets_bucket else orchestrator.data_key.arn,
    )


def deploy_declared_pipelines(config: StackConfig, context: PipelineContext) -> dict[str, Any]:
    """GitOps path: pipelines listed under `mlops:pipelines` that land in this environment."""
    specs = config.pipelines_for_this_environment()
    if not specs:
        return {}
    # Imported only when needed: the pipeline components pull in most of pulumi-aws's SageMaker types.
    from components.pipelines.registry import build_pipeline

    return {spec.pipeline_id: build_pipeline(spec, context).outputs for spec in specs}
