"""Image-build requests: a Dockerfile zip, a lower-case ECR repository, a Docker tag, and ids keyed by both."""

from __future__ import annotations

import pytest

from mlops_spec import naming
from mlops_spec.request import parse_pipeline_request


def test_image_build_is_identified_by_tag_and_repository(example):
    spec = parse_pipeline_request(example("byom_image_builder"))
    assert spec.name_infix == "v3-fraud-detector"
    assert spec.pipeline_id == "v3-fraud-detector-image-builder"


def test_the_same_tag_in_two_repositories_gives_two_pipelines(example):
    # The old solution keyed builds by tag only, so the second request updated the first build.
    first = parse_pipeline_request(example("byom_image_builder"))
    second = parse_pipeline_request({**example("byom_image_builder"), "ecr_repo_name": "churn-serving"})
    assert first.image_tag == second.image_tag
    assert first.pipeline_id != second.pipeline_id
    assert second.pipeline_id == "v3-churn-serving-image-builder"


def test_image_builds_deploy_in_the_orchestrator_account_only(example):
    spec = parse_pipeline_request(example("byom_image_builder"), mode="multi")
    assert spec.environments("multi", home="staging") == ("staging",)


@pytest.mark.parametrize(
    ("update", "field", "problem"),
    [
        (
            {"custom_algorithm_docker": "custom_algorithm/Dockerfile"},
            "custom_algorithm_docker",
            "must be the key of a .zip",
        ),
        ({"custom_algorithm_docker": "s3://bucket/image.zip"}, "custom_algorithm_docker", "inside the assets bucket"),
        ({"ecr_repo_name": "Fraud-Detector"}, "ecr_repo_name", "should match pattern"),
        ({"ecr_repo_name": "fraud--detector/"}, "ecr_repo_name", "should match pattern"),
        ({"image_tag": "v 3"}, "image_tag", "should match pattern"),
        ({"image_tag": ".v3"}, "image_tag", "should match pattern"),
        ({"image_tag": None}, "image_tag", "is required"),
        ({"model_name": "fraud-detector"}, "model_name", "is not a known field"),
    ],
)
def test_bad_image_build_request_names_the_field(example, reject, update, field, problem):
    body = {key: value for key, value in {**example("byom_image_builder"), **update}.items() if value is not None}
    error = reject(body)
    assert error.field == field
    assert problem in error.problem


def test_namespaced_repository_and_dotted_tag_are_valid(example):
    body = {**example("byom_image_builder"), "ecr_repo_name": "ml/fraud-detector", "image_tag": "1.4.0_rc1"}
    spec = parse_pipeline_request(body)
    # 41 characters as a slug, so the id is cut to 40 and keeps a hash of the full name.
    digest = naming.short_hash("1-4-0-rc1-ml-fraud-detector-image-builder")
    assert spec.pipeline_id == f"1-4-0-rc1-ml-fraud-detector-image-{digest}"
