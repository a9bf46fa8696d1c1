"""The inline Pulumi programs the provisioner runs: one environment's target stack, and a pipeline's delivery stack."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import pulumi
import pulumi_aws as aws

from lambda_src.provisioner.settings import EnvironmentTarget, ProvisionerSettings

if TYPE_CHECKING:
    from components.delivery import DeliveryPipelineArgs
from mlops_spec import naming
from mlops_spec.base import PipelineSpec
from mlops_spec.common import Environment

PulumiProgram = Callable[[], None]
# STS limits role session names to 64 characters.
SESSION_NAME_LIMIT = 64


def session_name(pipeline_id: str, env: str) -> str:
    """Shows up in the target account's CloudTrail: which pipeline deployed what."""
    return naming.bounded(f"mlops-{pipeline_id}-{env}", SESSION_NAME_LIMIT)


def stack_config(spec: PipelineSpec, env: str, settings: ProvisionerSettings) -> dict[str, str]:
    """Config recorded with each stack: the region for stray default-provider lookups, and what it deploys."""
    return {
        "aws:region": settings.region,
        "mlops:pipelineId": spec.pipeline_id,
        "mlops:pipelineType": spec.pipeline_type,
        "mlops:environment": env,
        "mlops:mode": settings.mode,
        "mlops:specHash": spec.spec_hash(),
    }


def stack_tags(spec: PipelineSpec, env: str, settings: ProvisionerSettings) -> dict[str, str]:
    return {**settings.tags, **spec.tags_for(env)}


def target_provider(
    name: str, target: EnvironmentTarget, spec: PipelineSpec, settings: ProvisionerSettings
) -> aws.Provider:
    """An AWS provider acting in the environment's account through its deploy role, and nowhere else."""
    external_id = settings.deploy_role_external_id
    return aws.Provider(
        name,
        region=settings.region,
        assume_roles=[
            aws.ProviderAssumeRoleArgs(
                role_arn=target.deploy_role_arn,
                session_name=session_name(spec.pipeline_id, target.environment),
                external_id=pulumi.Output.secret(external_id) if external_id else None,
            )
        ],
        # A mis-set role ARN must fail the deployment, not land resources in another account.
        allowed_account_ids=[target.account_id],
        default_tags=aws.ProviderDefaultTagsArgs(tags=stack_tags(spec, target.environment, settings)),
    )


def target_program(spec: PipelineSpec, env: str, settings: ProvisionerSettings) -> PulumiProgram:
    """The program of stack `<pipeline>-<env>`: the pipeline's component in that environment's account."""

    def program() -> None:
        from components.pipelines.base import PipelineContext
        from components.pipelines.registry import build_pipeline

        target = settings.target(env)
        provider = target_provider(f"{env}-deploy", target, spec, settings)
        # The baseline key is addressed by its alias; IAM statements need the key's own ARN.
        key = aws.kms.get_key_output(key_id=target.kms_alias_arn, opts=pulumi.InvokeOutputOptions(provider=provider))
        context = PipelineContext(
            environment=env,
            account_id=target.account_id,
            region=settings.region,
            orchestrator_account_id=settings.orchestrator_account_id,
            kms_key_arn=key.arn,
            artifacts_bucket=target.artifacts_bucket,
            assets_bucket=settings.assets_bucket,
            ecr_repository_url=settings.ecr_repository_url,
            model_package_group_name=settings.model_package_group_name,
            notification_topic_arn=settings.notification_topic_arn,
            assets_kms_key_arn=settings.assets_kms_key_arn,
            tags=settings.tags,
            partition=settings.partition,
        )
        component = build_pipeline(
            spec.for_env(cast(Environment, env)), context, opts=pulumi.ResourceOptions(providers=[provider])
        )
        export_all(component.outputs)

    return program


def delivery_program(spec: PipelineSpec, settings: ProvisionerSettings) -> PulumiProgram:
    """The program of stack `<pipeline>-delivery`: the pipeline's CodePipeline in the orchestrator account."""

    def program() -> None:
        from components.delivery import DeliveryPipeline

        provider = aws.Provider(
            "orchestrator",
            region=settings.region,
            allowed_account_ids=[settings.orchestrator_account_id],
            default_tags=aws.ProviderDefaultTagsArgs(tags=stack_tags(spec, "delivery", settings)),
        )
        args = delivery_args(spec, settings)
        delivery = DeliveryPipeline(spec.pipeline_id, args, opts=pulumi.ResourceOptions(providers=[provider]))
        export_all(delivery.outputs)

    return program


def delivery_args(spec: PipelineSpec, settings: ProvisionerSettings) -> DeliveryPipelineArgs:
    """The delivery component's arguments, from the provisioner's settings."""
    from components.delivery import DeliveryPipelineArgs, delivery_stages, deploy_environments

    environments = deploy_environments(delivery_stages(spec, settings.mode, home=settings.orchestrator_environment))
    targets = {env: settings.target(env) for env in environments}
    return DeliveryPipelineArgs(
        spec=spec,
        mode=settings.mode,
        region=settings.region,
        account_id=settings.orchestrator_account_id,
        deploy_role_arns={env: target.deploy_role_arn for env, target in targets.items()},
        environment_accounts={env: target.account_id for env, target in targets.items()},
        assets_bucket=settings.assets_bucket,
        assets_kms_key_arn=settings.required("assets_kms_key_arn"),
        state_bucket=settings.state_bucket,
        state_kms_key_arn=settings.required("state_key_arn"),
        notification_topic_arn=settings.notification_topic_arn,
        provisioner_image_uri=settings.required("provisioner_image_uri"),
        build_environment=build_environment(settings),
        registry_table_arn=settings.registry_table_arn,
        orchestrator_environment=settings.orchestrator_environment,
        tags=stack_tags(spec, "delivery", settings),
        partition=settings.partition,
    )


def build_environment(settings: ProvisionerSettings) -> dict[str, str]:
    """The settings `mlops deploy` needs inside CodeBuild; CodeBuild sets AWS_REGION itself."""
    env = settings.as_env()
    env.pop("AWS_REGION", None)
    return env


def export_all(outputs: dict[str, Any]) -> None:
    for key, value in outputs.items():
        pulumi.export(key, value)
