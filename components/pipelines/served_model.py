"""The model a real-time or batch pipeline serves: its image, its artifact, what its role may read, the Model."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pulumi
import pulumi_aws as aws
from pulumi.runtime.settings import get_monitor

from components import policies
from components.pipelines import roles
from components.pipelines.base import PipelineComponent, PipelineContext
from mlops_spec import partitions
from mlops_spec.instance_types import has_instance_storage
from mlops_spec.pipelines.model_source import (
    BUILTIN_FRAMEWORKS,
    BuiltinImageSpec,
    CustomImageSpec,
    ServedModelSpec,
)

T = TypeVar("T")

# Framework containers (as opposed to first-party algorithm containers) may run user inference code
# that installs its requirements at start-up, which network isolation would break.
_FRAMEWORK_CONTAINERS = frozenset({"xgboost", "sklearn"})

_ECR_IMAGE = re.compile(
    r"(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?P<china>\.cn)?/(?P<repo>[^:@]+)([:@].*)?"
)


def resolved(value: T | Mapping[Any, T]) -> T:
    """A per-environment field after `spec.for_env(env)`: a plain value, never the {dev, staging, prod} form."""
    if isinstance(value, Mapping):
        raise ValueError("the spec must be resolved for one environment (spec.for_env(env)) before it is deployed")
    return value


def image_repository_arn(image_uri: str) -> str:
    """The ECR repository ARN of an image URI such as `123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:tag`."""
    match = _ECR_IMAGE.fullmatch(image_uri)
    if not match:
        raise ValueError(f"not an ECR image URI: {image_uri}")
    # The registry's region names the partition: GovCloud registries are `amazonaws.com` too.
    partition = partitions.partition_of(match["region"])
    return f"arn:{partition}:ecr:{match['region']}:{match['account']}:repository/{match['repo']}"


def split_location(location: str) -> tuple[str, str]:
    """`bucket/prefix` -> (bucket, prefix); the prefix may be empty."""
    bucket, _, prefix = location.partition("/")
    return bucket, prefix


def s3_uri(location: str) -> str:
    """`bucket/prefix` (the request form, no scheme) -> `s3://bucket/prefix`."""
    return f"s3://{location}"


def volume_kms_key(instance_type: str, key: T) -> T | None:
    """The storage-volume KMS key to request, or None where SageMaker refuses one (instance storage)."""
    return None if has_instance_storage(instance_type) else key


@dataclass(frozen=True)
class ModelSource:
    """What the SageMaker model runs: an image with an artifact from the assets bucket, or a model package."""

    image_uri: str | None = None
    artifact_key: str | None = None
    model_package_arn: str | None = None
    network_isolation: bool = False


BuiltinImageLookup = Callable[[str, str], str]
"""(prebuilt repository name, image tag) -> image URI; wraps aws.sagemaker.get_prebuilt_ecr_image."""


def model_source(spec: ServedModelSpec, builtin_image: BuiltinImageLookup) -> ModelSource:
    """A model package wins over image + artifact (as in the solution we replace); otherwise the request's image."""
    if spec.model_package_name:
        return ModelSource(model_package_arn=spec.model_package_name)
    if isinstance(spec, CustomImageSpec) and spec.custom_image_uri:
        return ModelSource(image_uri=spec.custom_image_uri, artifact_key=spec.model_artifact_location)
    if isinstance(spec, BuiltinImageSpec) and spec.model_framework and spec.model_framework_version:
        image = builtin_image(BUILTIN_FRAMEWORKS[spec.model_framework], spec.model_framework_version)
        # First-party algorithm containers only read their artifact: isolate them from the network.
        isolated = spec.model_framework not in _FRAMEWORK_CONTAINERS
        return ModelSource(image_uri=image, artifact_key=spec.model_artifact_location, network_isolation=isolated)
    raise ValueError(f"{type(spec).__name__} names neither a model package nor an image")


def primary_container(
    source: ModelSource, assets_bucket: pulumi.Input[str]
) -> aws.sagemaker.ModelPrimaryContainerArgsDict:
    """The Model's container: the package, or the image with `s3://<assets>/<artifact>`."""
    if source.model_package_arn:
        return {"model_package_name": source.model_package_arn}
    container: aws.sagemaker.ModelPrimaryContainerArgsDict = {"image": source.image_uri, "mode": "SingleModel"}
    if source.artifact_key:
        container["model_data_url"] = pulumi.Output.concat("s3://", assets_bucket, "/", source.artifact_key)
    return container


def vpc_config(
    subnet_ids: Sequence[str], security_group_ids: Sequence[str]
) -> aws.sagemaker.ModelVpcConfigArgsDict | None:
    if not subnet_ids:
        return None
    return {"subnets": list(subnet_ids), "security_group_ids": list(security_group_ids)}


@dataclass(frozen=True)
class RoleScope:
    """Everything the SageMaker execution role of a served model may touch, as plain values."""

    assets_bucket: str
    kms_key_arns: tuple[str, ...]
    assets_kms_key_arn: str | None = None
    reads: tuple[str, ...] = ()
    """Extra `bucket/prefix` locations the model reads (batch input)."""
    writes: tuple[str, ...] = ()
    """`bucket/prefix` locations the model writes (data capture, batch output)."""
    custom_repository_url: str | None = None
    """The orchestrator's ECR repository, where model packages' custom images live."""
    vpc: bool = False
    publishes: tuple[str, ...] = ()
    """SNS topics the model's endpoint publishes to (async inference notifications)."""
    denies: tuple[str, ...] = ()
    """`bucket/prefix` locations the model may never read nor write, whatever else allows it (a shadow
    model: the endpoint's captured production traffic, even where it lies in the assets bucket a model
    package's role reads)."""
    partition: str = "aws"


def s3_denied(locations: Sequence[str], partition: str) -> policies.Statement:
    """An explicit Deny of reading and writing objects under `locations`: it wins over any Allow of the
    policy. The calls are those a served model's policy can grant (s3_read, s3_write): no other object call
    is allowed to it (and the environment's permissions boundary allows no delete to any pipeline role)."""
    resources = []
    for location in locations:
        bucket, prefix = split_location(location)
        resources.append(f"arn:{partition}:s3:::{bucket}/{prefix.strip('/')}*")
    return policies.statement(["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"], resources, effect="Deny")


def model_access_statements(source: ModelSource, scope: RoleScope) -> list[policies.Statement]:
    """Read the model: its artifact and image, or its package."""
    if source.model_package_arn:
        repositories = [image_repository_arn(scope.custom_repository_url)] if scope.custom_repository_url else []
        return [
            policies.statement(["sagemaker:DescribeModelPackage"], [source.model_package_arn]),
            # A package's artifacts are written by the orchestrator's training pipelines, whose outputs
            # all live in the assets bucket; the exact key is only known inside the package.
            *roles.s3_read(scope.assets_bucket, partition=scope.partition),
            *(roles.ecr_pull(repositories) if repositories else []),
        ]
    statements = roles.ecr_pull([image_repository_arn(str(source.image_uri))])
    if source.artifact_key:
        statements = roles.s3_read(scope.assets_bucket, [source.artifact_key], scope.partition) + statements
    return statements


def execution_statements(context: PipelineContext, source: ModelSource, scope: RoleScope) -> list[policies.Statement]:
    """The whole policy of a served model's SageMaker execution role."""
    statements = model_access_statements(source, scope)
    for location in scope.reads:
        bucket, prefix = split_location(location)
        statements += roles.s3_read(bucket, [prefix], scope.partition)
    for location in scope.writes:
        bucket, prefix = split_location(location)
        statements += roles.s3_write(bucket, [prefix], scope.partition)
    statements.append(roles.kms_use(sorted(set(scope.kms_key_arns))))
    if scope.assets_kms_key_arn:
        # Artifacts in the orchestrator's assets bucket are encrypted with the orchestrator's key.
        statements.append(policies.statement(["kms:Decrypt"], [scope.assets_kms_key_arn]))
    statements.append(roles.sagemaker_logs(context))
    if scope.vpc:
        statements.append(roles.vpc_access())
    if scope.publishes:
        statements.append(roles.sns_publish(scope.publishes))
    if scope.denies:
        statements.append(s3_denied(scope.denies, scope.partition))
    return statements


def execution_statements_output(
    context: PipelineContext,
    source: ModelSource,
    kms_key_arns: Sequence[pulumi.Input[str]],
    reads: Sequence[str] = (),
    writes: Sequence[str] = (),
    vpc: bool = False,
    publishes: Sequence[str] = (),
    denies: Sequence[str] = (),
) -> pulumi.Output[list[policies.Statement]]:
    """`execution_statements` once the context's bucket, keys and repository are known."""

    def build(values: dict[str, Any]) -> list[policies.Statement]:
        scope = RoleScope(
            assets_bucket=values["assets_bucket"],
            kms_key_arns=tuple(values["keys"]),
            assets_kms_key_arn=values["assets_key"],
            reads=tuple(reads),
            writes=tuple(writes),
            custom_repository_url=values["repository_url"],
            vpc=vpc,
            publishes=tuple(publishes),
            denies=tuple(denies),
            partition=context.partition,
        )
        return execution_statements(context, source, scope)

    return pulumi.Output.all(
        assets_bucket=context.assets_bucket,
        assets_key=context.assets_kms_key_arn,
        repository_url=context.ecr_repository_url,
        # A list of equals (every key the model's data is encrypted with), not positions with meanings.
        keys=pulumi.Output.all(*kms_key_arns),
    ).apply(build)


def model_role(
    name: str,
    component: PipelineComponent,
    source: ModelSource,
    kms_key: pulumi.Input[str],
    reads: Sequence[str] = (),
    writes: Sequence[str] = (),
    vpc: bool = False,
    publishes: Sequence[str] = (),
    role_suffix: str = "sagemaker-role",
    denies: Sequence[str] = (),
) -> roles.ExecutionRole:
    """The SageMaker execution role of a pipeline's served model: read the model and `reads`, write `writes`,
    publish to `publishes`, use the environment's key and `kms_key` (the request's, or the environment's again),
    never touch `denies`. `role_suffix` ends its IAM name (a pipeline's second model, a shadow, has a role of
    its own)."""
    context = component.context
    return roles.ExecutionRole(
        f"{name}-sagemaker",
        role_name=component.physical_name(role_suffix, roles.IAM_ROLE_NAME_LIMIT),
        service="sagemaker.amazonaws.com",
        account_id=context.account_id,
        permissions_boundary=context.permissions_boundary,
        statements=execution_statements_output(
            context,
            source,
            [context.kms_key_arn, kms_key],
            reads=reads,
            writes=writes,
            vpc=vpc,
            publishes=publishes,
            denies=denies,
        ),
        tags=component.tags,
        opts=component.child,
    )


def prebuilt_image_lookup(component: PipelineComponent) -> BuiltinImageLookup:
    """Look built-in images up for the component's region.

    The provider answers this from its own table of SageMaker's registries (no AWS call, no account),
    so the invoke needs no parent. Answers are cached per engine: each synchronous invoke drains the
    program's pending work, and one invoke per pipeline made large programs quadratic to plan.
    """

    def lookup(repository: str, tag: str) -> str:
        return _prebuilt_image(id(get_monitor()), repository, tag, component.context.region)

    return lookup


@functools.cache
def _prebuilt_image(engine: int, repository: str, tag: str, region: str) -> str:
    """`engine` keys the cache to one Pulumi engine (one program run, or one test's mocks)."""
    return aws.sagemaker.get_prebuilt_ecr_image(repository_name=repository, image_tag=tag, region=region).registry_path


def create_model(
    name: str,
    component: PipelineComponent,
    source: ModelSource,
    role: roles.ExecutionRole,
    vpc: aws.sagemaker.ModelVpcConfigArgsDict | None = None,
) -> aws.sagemaker.Model:
    """The SageMaker Model of a pipeline. It has no fixed name: models are immutable, so a change creates a
    new model (and a new endpoint config) before the old one is deleted."""
    return aws.sagemaker.Model(
        f"{name}-model",
        execution_role_arn=role.arn,
        primary_container=primary_container(source, component.context.assets_bucket),
        enable_network_isolation=source.network_isolation,
        vpc_config=vpc,
        tags=component.tags,
        # SageMaker checks at CreateModel that the role can be assumed; its policy must be in place
        # before an endpoint or job pulls the image and the artifact.
        opts=component.child_opts(depends_on=[role]),
    )
