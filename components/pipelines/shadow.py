"""The shadow variant of a shadow-tested real-time endpoint: its model, its role and its variant.

Plain functions from the resolved request (one environment) to pulumi-aws inputs, so each decision is
testable without the engine; `create_shadow_model` creates the shadow's role and Model for
components.pipelines.realtime, which puts the variant into the endpoint config.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.pipelines.base import PipelineComponent
from components.pipelines.served_model import (
    BuiltinImageLookup,
    ModelSource,
    create_model,
    model_role,
    model_source,
    resolved,
    vpc_config,
)
from mlops_spec.instance_types import has_instance_storage
from mlops_spec.pipelines.realtime import RealtimeFields
from mlops_spec.pipelines.shadow import ShadowModel
from mlops_spec.pipelines.shadow_variants import SHADOW_VARIANT

# The production variant's weight in a shadow-tested endpoint config: the shadow's weight is its share of it.
PRODUCTION_WEIGHT = 1.0


def shadow_of(spec: RealtimeFields) -> ShadowModel | None:
    return spec.deployment.shadow


def shadow_source(spec: RealtimeFields, shadow: ShadowModel, builtin_image: BuiltinImageLookup) -> ModelSource:
    """What the shadow's Model runs: its package, or its artifact in the request's own image (with the
    request's network isolation)."""
    if shadow.model_package_name:
        return ModelSource(model_package_arn=shadow.model_package_name)
    as_production = spec.model_copy(
        update={"model_package_name": None, "model_artifact_location": shadow.model_artifact_location}
    )
    return model_source(as_production, builtin_image)


def sampling_weight(percentage: int) -> float:
    """The shadow's InitialVariantWeight: SageMaker copies to it the share of production requests its
    weight is of the production variant's."""
    return PRODUCTION_WEIGHT * percentage / 100


def shadow_variant(
    model_name: pulumi.Input[str], shadow: ShadowModel
) -> aws.sagemaker.EndpointConfigurationShadowProductionVariantArgsDict:
    """The one shadow production variant: the shadow's model on its own instances, sampled by weight."""
    return {
        "variant_name": SHADOW_VARIANT,
        "model_name": model_name,
        "instance_type": resolved(shadow.instance_type),
        "initial_instance_count": resolved(shadow.instance_count),
        "initial_variant_weight": sampling_weight(resolved(shadow.sampling_percentage)),
    }


def takes_volume_key(spec: RealtimeFields) -> bool:
    """False when a variant's instances have local storage: the endpoint config's one volume key is for
    every variant, and SageMaker refuses it for instance storage."""
    shadow = shadow_of(spec)
    return shadow is None or not has_instance_storage(resolved(shadow.instance_type))


def production_capture(spec: RealtimeFields) -> list[str]:
    """The endpoint's capture location (`bucket/prefix`), which the shadow's role is denied outright."""
    return [resolved(spec.data_capture_location)] if spec.data_capture_location is not None else []


def create_shadow_model(
    name: str,
    component: PipelineComponent,
    spec: RealtimeFields,
    kms_key: pulumi.Input[str],
    builtin_image: BuiltinImageLookup,
) -> aws.sagemaker.Model | None:
    """The shadow's Model, with a role of its own, or None without a shadow.

    The role is the Model's execution role (CreateModel's ExecutionRoleArn): SageMaker assumes it to pull
    the shadow's image and read its artifact or package onto the shadow's instances, and to write their
    logs (and, in a VPC, to attach their network interfaces). It writes nowhere in S3, and the capture
    location is denied to it outright (a model package's role reads the whole assets bucket, where a
    capture location may lie): the endpoint config's data capture (both variants' requests and responses)
    is written by SageMaker for the endpoint, and it holds production's traffic, which a model under test
    has no business reading or rewriting (a shadow-tested endpoint takes no async writes)."""
    shadow = shadow_of(spec)
    if shadow is None:
        return None
    source = shadow_source(spec, shadow, builtin_image)
    role = model_role(
        f"{name}-shadow",
        component,
        source,
        kms_key,
        vpc=bool(spec.subnet_ids),
        role_suffix="shadow-sagemaker-role",
        denies=production_capture(spec),
    )
    return create_model(f"{name}-shadow", component, source, role, vpc_config(spec.subnet_ids, spec.security_group_ids))
