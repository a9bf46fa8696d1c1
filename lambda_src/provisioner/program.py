"""The inline Pulumi programs the provisioner runs: one environment's target stack, and a pipeline's delivery stack."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import pulumi
import pulumi_aws as aws

from components.aws_packages import load_on_use
from lambda_src.common import aws as aws_clients
from lambda_src.provisioner.errors import ExternalIdUnavailable
from lambda_src.provisioner.settings import EnvironmentTarget, ProvisionerSettings

if TYPE_CHECKING:
    from components.delivery import DeliveryPipelineArgs
from mlops_spec import naming
from mlops_spec.base import PipelineSpec
from mlops_spec.common import Environment

PulumiProgram = Callable[[], None]
# STS limits role session names to 64 characters.
SESSION_NAME_LIMIT = 64
# SSM answers worth retrying; any other failure to read the external id needs an operator.
TRANSIENT_SSM_ERRORS = frozenset(
    {"ThrottlingException", "TooManyRequestsException", "InternalServerError", "ServiceUnavailable"}
)


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


def deploy_role_external_id(settings: ProvisionerSettings, ssm: Any = None) -> str | None:
    """The sts:ExternalId the deploy roles require: given directly, or read from the orchestrator's
    SSM SecureString parameter (once per run). None when the deploy roles require none."""
    if settings.deploy_role_external_id:
        return settings.deploy_role_external_id
    parameter = settings.deploy_role_external_id_parameter
    if not parameter:
        return None
    return settings.once(parameter, lambda name: read_secure_parameter(name, settings.region, ssm))


def read_secure_parameter(name: str, region: str, ssm: Any = None) -> str:
    """A SecureString parameter's decrypted value; ExternalIdUnavailable when it cannot be read."""
    client = ssm or _ssm_client(region)
    try:
        value = client.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    except Exception as exc:
        code = aws_clients.error_code(exc)
        retryable = code is None or code in TRANSIENT_SSM_ERRORS
        hint = (
            ""
            if retryable
            else " The orchestrator stack writes it from its mlops:deployRoleExternalId secret: check that the"
            " parameter exists and that this role may read it and decrypt it with its KMS key."
        )
        raise ExternalIdUnavailable(
            f"the deploy roles' external id could not be read from SSM parameter {name}:"
            f" {code or type(exc).__name__}: {_error_message(exc)}.{hint}",
            retryable=retryable,
        ) from exc
    return str(value)


def _ssm_client(region: str) -> Any:
    import boto3

    return boto3.client("ssm", region_name=region)


def _error_message(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Message", ""))
    return str(exc)


def target_provider(
    name: str,
    target: EnvironmentTarget,
    spec: PipelineSpec,
    settings: ProvisionerSettings,
    external_id: str | None = None,
) -> aws.Provider:
    """An AWS provider acting in the environment's account through its deploy role, and nowhere else."""
    external_id = external_id or deploy_role_external_id(settings)
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
    """The program of stack `<pipeline>-<env>`: the pipeline's component in that environment's account.

    The external id is resolved here, before Pulumi runs: an error raised inside the program would
    reach the caller only as a failed `pulumi up`, not as the domain error it is.
    """
    external_id = deploy_role_external_id(settings)

    def program() -> None:
        load_on_use()  # before the components' imports: only the pulumi_aws modules they use are loaded
        from components.pipelines.base import PipelineContext
        from components.pipelines.registry import build_pipeline

        target = settings.target(env)
        provider = target_provider(f"{env}-deploy", target, spec, settings, external_id)
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
        load_on_use()  # before the components' imports: only the pulumi_aws modules they use are loaded
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
        environment_accounts={env: target.account_id for env, target in targets.items()},
        assets_bucket=settings.assets_bucket,
        assets_kms_key_arn=settings.required("assets_kms_key_arn"),
        notification_topic_arn=settings.notification_topic_arn,
        provisioner_image_uri=settings.required("provisioner_image_uri"),
        build_environment=build_environment(settings),
        orchestrator_environment=settings.orchestrator_environment,
        tags=stack_tags(spec, "delivery", settings),
    )


def build_environment(settings: ProvisionerSettings) -> dict[str, str]:
    """The settings `mlops deploy` needs inside CodeBuild; CodeBuild sets AWS_REGION itself.

    Plain text in the project and the delivery stack's state, so never the external id itself: the
    builds read it from its parameter (MLOPS_DEPLOY_ROLE_EXTERNAL_ID_PARAMETER) when they run.
    """
    env = settings.as_env()
    env.pop("AWS_REGION", None)
    return env


def export_all(outputs: dict[str, Any]) -> None:
    for key, value in outputs.items():
        pulumi.export(key, value)
