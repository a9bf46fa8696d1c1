"""Requests that build a custom serving or training image from a Dockerfile zip and push it to ECR."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field

from mlops_spec.base import PipelineSpec
from mlops_spec.common import AssetKey
from mlops_spec.published import published_pattern


def _check_zip(value: str) -> str:
    if not value.lower().endswith(".zip"):
        raise ValueError("must be the key of a .zip file (with a Dockerfile at its root)")
    return value


# ECR repository names: lower-case path components separated by '/', each joined by '.', '_' or '-'.
EcrRepositoryName = Annotated[
    str,
    Field(min_length=2, max_length=256, pattern=r"^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$"),
]
# Docker tag grammar.
ImageTag = Annotated[str, Field(pattern=r"^[\w][\w.-]{0,127}$")]


class ImageBuilderSpec(PipelineSpec):
    """Build an image with CodeBuild and push it to an ECR repository of the orchestrator account."""

    TYPE_SLUG: ClassVar[str] = "image-builder"
    MULTI_ACCOUNT: ClassVar[bool] = False
    NAME_FIELD: ClassVar[str] = "image_tag and ecr_repo_name"
    pipeline_type: Literal["byom_image_builder"]
    custom_algorithm_docker: Annotated[AssetKey, AfterValidator(_check_zip), published_pattern(r".*\.[zZ][iI][pP]")] = (
        Field(description="Key of a zip inside the assets bucket holding the Dockerfile and its context.")
    )
    ecr_repo_name: EcrRepositoryName = Field(description="ECR repository receiving the image, e.g. churn-serving.")
    image_tag: ImageTag = Field(description="Tag of the built image, e.g. v1.")

    @property
    def name_infix(self) -> str:
        # The old solution keyed builds by tag only, so the same tag for two repositories collided.
        return f"{self.image_tag}-{self.ecr_repo_name}"

    @property
    def identity_name(self) -> str:
        # "v1" + "team-a/serving" and "v1-team" + "a/serving" give the same name_infix (and pipeline
        # id): ':' appears in neither a tag nor a repository name, so the pair stays distinct here.
        return f"{self.image_tag}:{self.ecr_repo_name}"
