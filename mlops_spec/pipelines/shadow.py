"""Shadow tests of real-time endpoints: the model SageMaker sends a copy of production requests to
(ShadowProductionVariants), what SageMaker accepts of it, and what promoting it makes of the request.

SageMaker's limits (botocore's sagemaker model, CreateEndpointConfig): with shadow variants an endpoint
config holds exactly one production variant and one shadow variant, both on instances (no serverless
variant, no asynchronous endpoint). The share of requests copied to the shadow is the ratio of the
shadow's InitialVariantWeight to the production variant's.

The shadow's model is another version of the same model: another model package version, or another
artifact run in the request's own image. Promoting it (POST /pipelines/{id}/promote) makes it the
production model through a normal update (shadow_variants.promoted_request).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Self

from pydantic import Field, model_validator

from mlops_spec.common import (
    AssetKey,
    HostingInstanceType,
    ModelPackageArn,
    PositiveInt,
    Staged,
    StrictModel,
    field_problem,
)
from mlops_spec.pipelines.shadow_variants import MODEL_SOURCES, SHADOW
from mlops_spec.published import Rule, rule

# The share of production requests SageMaker copies to the shadow (ShadowModelVariantConfig's 1-100).
SamplingPercentage = Annotated[int, Field(ge=1, le=100)]
_SOURCES = MODEL_SOURCES
ONE_SOURCE = "give exactly one of model_package_name and model_artifact_location"


class ShadowModel(StrictModel):
    """The model under test: SageMaker sends it a copy of `sampling_percentage` % of production requests
    and discards its answers (its metrics and logs are its own)."""

    # The error names the first source missing, or the second one given.
    SCHEMA_RULES: ClassVar[tuple[Rule, ...]] = tuple(rule(name, ONE_SOURCE) for name in MODEL_SOURCES)

    model_package_name: ModelPackageArn | None = Field(
        default=None, description="Model package version to test (or model_artifact_location)."
    )
    model_artifact_location: AssetKey | None = Field(
        default=None, description="Key of model.tar.gz in the assets bucket, run in the request's own image."
    )
    instance_type: Staged[HostingInstanceType] = Field(description="Instance type of the shadow, e.g. ml.m5.large.")
    instance_count: Staged[PositiveInt] = Field(default=1, description="Instances of the shadow.")
    sampling_percentage: Staged[SamplingPercentage] = Field(
        default=100, description="Share of production requests copied to the shadow (1-100)."
    )

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        given = [name for name in _SOURCES if getattr(self, name) is not None]
        if len(given) != 1:
            raise field_problem(given[1] if given else _SOURCES[0], ONE_SOURCE)
        return self

    def at(self, env: str) -> Self:
        """This shadow with its per-environment values resolved for `env`."""
        names = ("instance_type", "instance_count", "sampling_percentage")
        return self.model_copy(update={name: _at(getattr(self, name), env) for name in names})


def _at(value: Any, env: str) -> Any:
    return value[env] if isinstance(value, Mapping) else value


def shadow_rules() -> tuple[Rule, ...]:
    """RealtimeFields._shadow_fits, published as `x-rules` (JSON Schema branches would grow the request
    schema past what the contract test's generator can expand; see realtime.py)."""
    return (
        rule("deployment", "is required with deployment type shadow"),
        rule("deployment", "is only allowed with deployment type shadow"),
        rule("deployment", "is not allowed with serverless"),
        rule("deployment", "is not allowed with async_inference"),
        rule("deployment", "is not allowed with deploy_on_approval"),
        rule("deployment", "serves the production model itself"),
        rule("model_artifact_location", "runs in the request's image"),
        rule("model_package_name", "is required when the model registry is enabled"),
    )


def shadow_problem(spec: Any, image_fields: tuple[str, ...], use_model_registry: bool) -> tuple[str, str] | None:
    """(field, problem) of a real-time request whose shadow SageMaker (or the orchestrator) refuses; None
    when it has none or it fits. `spec` is a RealtimeFields; `image_fields` its image's fields."""
    deployment = spec.deployment
    if (deployment.type == SHADOW) != (deployment.shadow is not None):
        if deployment.shadow is None:
            return "deployment.shadow", "is required with deployment type shadow"
        return "deployment.shadow", "is only allowed with deployment type shadow; set deployment.type to shadow"
    shadow: ShadowModel | None = deployment.shadow
    if shadow is None:
        return None
    if spec.serverless is not None:
        return "deployment.shadow", "is not allowed with serverless: SageMaker's shadow variants run on instances"
    if spec.async_inference is not None:
        return "deployment.shadow", "is not allowed with async_inference: shadow variants test real-time requests"
    if spec.deploy_on_approval:
        # Each approved version would replace the production model under the running test (and the
        # candidate itself, once approved, would be production and shadow at once).
        return (
            "deployment.shadow",
            "is not allowed with deploy_on_approval: promote the shadow with mlops promote, or follow the "
            "registry without a shadow test",
        )
    if shadow.model_package_name is None and use_model_registry:
        return "deployment.shadow.model_package_name", "is required when the model registry is enabled"
    return _source_problem(spec, shadow, image_fields)


def _source_problem(spec: Any, shadow: ShadowModel, image_fields: tuple[str, ...]) -> tuple[str, str] | None:
    if shadow.model_artifact_location is not None and not all(getattr(spec, name) for name in image_fields):
        return (
            "deployment.shadow.model_artifact_location",
            f"runs in the request's image: give {' and '.join(image_fields)}, or test a model_package_name",
        )
    production = spec.model_package_name or spec.model_artifact_location
    if (shadow.model_package_name or shadow.model_artifact_location) == production:
        return "deployment.shadow", "serves the production model itself; name the model version to test"
    return None
