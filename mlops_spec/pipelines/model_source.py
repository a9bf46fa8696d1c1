"""Where a served model comes from: a built-in algorithm image, a custom image, or the model registry.

Shared by the real-time and batch requests, which take the same model fields.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import Field, StringConstraints, ValidationInfo, model_validator

from mlops_spec.base import PipelineSpec
from mlops_spec.common import (
    AssetKey,
    EcrImageUri,
    HostingInstanceType,
    KmsKeyArn,
    ModelName,
    ModelPackageArn,
    Staged,
    field_problem,
)
from mlops_spec.model_packages import SHARED_MODEL_PACKAGE_GROUP, package_version
from mlops_spec.pipelines import frameworks
from mlops_spec.published import BLANK, Rule, all_given, given, rule, value_in, when

# model_framework -> SageMaker prebuilt ECR repository (aws.sagemaker.get_prebuilt_ecr_image).
BUILTIN_FRAMEWORKS: dict[str, str] = {
    "xgboost": "sagemaker-xgboost",
    "sklearn": "sagemaker-scikit-learn",
    "linear-learner": "linear-learner",
    "knn": "knn",
    "kmeans": "kmeans",
    "factorization-machines": "factorization-machines",
    "randomcutforest": "randomcutforest",
    "blazingtext": "blazingtext",
    "image-classification": "image-classification",
    "object-detection": "object-detection",
}
BuiltinFramework = Literal[
    "xgboost",
    "sklearn",
    "linear-learner",
    "knn",
    "kmeans",
    "factorization-machines",
    "randomcutforest",
    "blazingtext",
    "image-classification",
    "object-detection",
]
FrameworkVersion = Annotated[str, StringConstraints(pattern=r"^\d+(\.\d+)*(-\d+)?$", max_length=32)]


def check_builtin_image(
    framework: str | None, version: str | None, scope: frameworks.Scope, info: ValidationInfo
) -> None:
    """An image of `framework` `version` exists for `scope` (and in the orchestrator's region, when the
    validation context names it); otherwise the error names model_framework_version."""
    if not (framework and version):
        return
    repository = BUILTIN_FRAMEWORKS[framework]
    problem = frameworks.version_problem(framework, version, scope, repository)
    region = (info.context or {}).get("region")
    if problem is None and isinstance(region, str):
        problem = frameworks.region_problem(framework, version, scope, repository, region)
    if problem:
        raise field_problem("model_framework_version", problem, version)


def published_versions(scope: frameworks.Scope) -> Rule:
    """JSON Schema of check_builtin_image's version check: per framework, its versions (or blank, absent)."""

    def rule(cls: type) -> dict[str, Any]:
        published = {
            name: versions
            for name, repository in BUILTIN_FRAMEWORKS.items()
            if (versions := frameworks.framework_versions(name, scope, repository))
        }
        # One anyOf (a branch per framework, and one for none of them), not an if/then per framework:
        # schema-driven generators (the contract test's) expand every combination of if/then branches,
        # which left no room for another rule or field in the built-in requests.
        framework_branches = [
            {
                **value_in("model_framework", [name]),
                "properties": {
                    "model_framework": {"enum": [name]},
                    "model_framework_version": {"anyOf": [{"enum": versions}, BLANK]},
                },
            }
            for name, versions in published.items()
        ]
        return {"anyOf": [*framework_branches, {"not": value_in("model_framework", list(published))}]}

    return rule


class ServedModelSpec(PipelineSpec):
    """Fields of every request that creates a SageMaker model and serves it."""

    model_name: ModelName = Field(description="Name of the model; with the pipeline type it forms the pipeline id.")
    inference_instance: Staged[HostingInstanceType] = Field(
        description="Instance type, e.g. ml.m5.large; per environment in multi-account mode."
    )
    model_artifact_location: AssetKey | None = Field(
        default=None, description="Key of model.tar.gz inside the assets bucket."
    )
    model_package_name: ModelPackageArn | None = Field(
        default=None, description="Model package version ARN; when set, the package is deployed instead."
    )
    kms_key_arn: Staged[KmsKeyArn] | None = Field(
        default=None, description="Customer KMS key; the environment's key is used when absent."
    )
    deploy_on_approval: bool = Field(
        default=False,
        description="Deploy each newer version of model_package_name's group once it is Approved in the model "
        "registry (through the normal update path, approvals included).",
    )
    rollback_on_reject: bool = Field(
        default=False,
        description="When the deployed version is Rejected in the registry, deploy the newest Approved version "
        "before it (with deploy_on_approval).",
    )

    def _require_follow_source(self) -> None:
        """Following the registry needs a package to follow; a rollback needs the following."""
        if self.deploy_on_approval and not self.model_package_name:
            raise field_problem("deploy_on_approval", "needs model_package_name (the version deployed first)")
        if self.rollback_on_reject and not self.deploy_on_approval:
            raise field_problem("rollback_on_reject", "needs deploy_on_approval")
        followed = package_version(self.model_package_name) if self.deploy_on_approval else None
        if followed is not None and followed.group.lower() == SHARED_MODEL_PACKAGE_GROUP:
            # Every training pipeline registers there: approving one team's model would deploy it here.
            raise field_problem(
                "deploy_on_approval",
                f"cannot follow the shared group {SHARED_MODEL_PACKAGE_GROUP}, which holds every pipeline's models: "
                "register this model's versions in a group of its own",
            )

    def _require_source(self, info: ValidationInfo, image_fields: tuple[str, ...]) -> None:
        """Either a model package, or an image plus an artifact; name the first missing key."""
        self._require_follow_source()
        if (info.context or {}).get("use_model_registry") and not self.model_package_name:
            raise field_problem("model_package_name", "is required when the model registry is enabled")
        if self.model_package_name:
            return
        for name in (*image_fields, "model_artifact_location"):
            if not getattr(self, name):
                raise field_problem(name, "is required (or give model_package_name)")


def _source(image_fields: tuple[str, ...]) -> dict[str, Any]:
    """JSON Schema of `_require_source`: a model package, or the image fields and the artifact; following
    the registry needs a package, a rollback the following."""
    return {
        "allOf": [
            {"anyOf": [given("model_package_name"), all_given((*image_fields, "model_artifact_location"))]},
            when(value_in("deploy_on_approval", [True]), given("model_package_name")),
            when(value_in("rollback_on_reject", [True]), value_in("deploy_on_approval", [True])),
            rule("deploy_on_approval", "cannot follow the shared group"),
        ]
    }


class BuiltinImageSpec(ServedModelSpec):
    """A model served by a SageMaker built-in algorithm image."""

    SCHEMA_RULES: ClassVar[tuple[Rule, ...]] = (
        _source(("model_framework", "model_framework_version")),
        published_versions("inference"),
    )

    model_framework: BuiltinFramework | None = Field(default=None, description="Built-in algorithm, e.g. xgboost.")
    model_framework_version: FrameworkVersion | None = Field(default=None, description="e.g. 1.7-1")

    @model_validator(mode="after")
    def _model_source(self, info: ValidationInfo) -> Self:
        self._require_source(info, ("model_framework", "model_framework_version"))
        check_builtin_image(self.model_framework, self.model_framework_version, "inference", info)
        return self


class CustomImageSpec(ServedModelSpec):
    """A model served by the user's own image in ECR."""

    SCHEMA_RULES: ClassVar[tuple[Rule, ...]] = (_source(("custom_image_uri",)),)

    custom_image_uri: EcrImageUri | None = Field(default=None, description="ECR image URI of the serving image.")

    @model_validator(mode="after")
    def _model_source(self, info: ValidationInfo) -> Self:
        self._require_source(info, ("custom_image_uri",))
        return self
