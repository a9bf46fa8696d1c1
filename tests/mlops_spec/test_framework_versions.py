"""Built-in framework versions: the committed table (from the SageMaker SDK's image-URI config), and
requests held to it with the valid versions in the error."""

from __future__ import annotations

import json

import pytest

from mlops_spec.errors import SpecError
from mlops_spec.pipelines import frameworks
from mlops_spec.pipelines.model_source import BUILTIN_FRAMEWORKS
from mlops_spec.request import read_pipeline_request
from tests.support.scripts import load_script

GENERATOR = load_script("generate_framework_versions")
XGBOOST_SERVING = "0.90-1, 0.90-2, 1.0-1, 1.2-1, 1.2-2, 1.3-1, 1.5-1, 1.7-1, 3.0-5"


@pytest.mark.parametrize(
    ("pipeline_type", "update", "problem"),
    [
        ("byom_realtime_builtin", {"model_framework_version": "1.7-1"}, None),
        ("byom_batch_builtin", {"model_framework": "sklearn", "model_framework_version": "1.2-1"}, None),
        ("model_training_builtin", {"model_framework_version": "3.0-5"}, None),
        ("model_tuner_builtin", {"model_framework": "kmeans", "model_framework_version": "1"}, None),
        (
            "byom_realtime_builtin",
            {"model_framework_version": "99.9-9"},
            f"xgboost has no serving image '99.9-9'; valid versions: {XGBOOST_SERVING}",
        ),
        (
            "byom_realtime_builtin",
            {"model_framework_version": "1.7.1"},
            f"xgboost has no serving image '1.7.1' (did you mean 1.7-1?); valid versions: {XGBOOST_SERVING}",
        ),
        (
            "byom_batch_builtin",
            {"model_framework_version": "1"},
            "xgboost has no serving image '1' in sagemaker-xgboost ('1' is the legacy xgboost:1 image, not deployed); "
            f"valid versions: {XGBOOST_SERVING}",
        ),
        (
            # sklearn 1.4-2 trains but has no serving image.
            "byom_realtime_builtin",
            {"model_framework": "sklearn", "model_framework_version": "1.4-2"},
            "sklearn has no serving image '1.4-2'; valid versions: 0.20.0, 0.23-1, 1.0-1, 1.2-1",
        ),
        (
            "model_training_builtin",
            {"model_framework": "knn", "model_framework_version": "2"},
            "knn has no training image '2'; valid versions: 1",
        ),
    ],
)
def test_framework_versions_are_checked_against_the_sdk_table(example, reject, pipeline_type, update, problem):
    body = {**example(pipeline_type), **update}
    if problem is None:
        assert read_pipeline_request(body).spec.model_framework_version == update["model_framework_version"]
    else:
        error = reject(body)
        assert (error.field, error.problem) == ("model_framework_version", problem)


def test_the_orchestrator_region_must_have_the_image(example):
    body = {**example("byom_realtime_builtin"), "model_framework_version": "1.7-1"}
    assert read_pipeline_request(body, region="eu-west-1").spec
    with pytest.raises(SpecError, match=r"xgboost 1\.7-1 images are not published in xx-nowhere-1"):
        read_pipeline_request(body, region="xx-nowhere-1")


def test_every_framework_a_request_may_name_has_images_in_its_repository():
    for framework, repository in BUILTIN_FRAMEWORKS.items():
        for scope in frameworks.SCOPES:
            assert frameworks.framework_versions(framework, scope, repository), (framework, scope)


def test_the_table_names_the_sdk_version_of_its_script():
    source = json.loads(frameworks.DATA_FILE.read_text())["source"]
    assert source == f"sagemaker {GENERATOR.SDK_VERSION} (sagemaker/image_uri_config)"


def test_the_generator_reads_both_config_layouts():
    registries = {"us-east-1": "111", "eu-west-1": "222"}
    configs = {
        "knn": {"scope": ["inference", "training"], "versions": {"1": {"registries": registries, "repository": "knn"}}},
        "xgboost": {
            "inference": {"versions": {"1.7-1": {"registries": registries, "repository": "sagemaker-xgboost"}}},
            "training": {"versions": {"1": {"registries": {"us-east-1": "333"}, "repository": "xgboost"}}},
            "inference_graviton": {"versions": {"1.5-1": {"registries": registries, "repository": "x"}}},
        },
    }
    assert GENERATOR.table_from_configs(configs, "sdk") == {
        "source": "sdk",
        "region_sets": [["eu-west-1", "us-east-1"], ["us-east-1"]],
        "frameworks": {
            "knn": {
                "inference": {"1": {"repository": "knn", "regions": 0}},
                "training": {"1": {"repository": "knn", "regions": 0}},
            },
            "xgboost": {
                "inference": {"1.7-1": {"repository": "sagemaker-xgboost", "regions": 0}},
                "training": {"1": {"repository": "xgboost", "regions": 1}},
            },
        },
    }


# The committed table against the SDK wheel itself (a download): `python scripts/generate_framework_versions.py
# --check`, run when the pinned SDK version changes; the tests here check the table's reading and shape.
