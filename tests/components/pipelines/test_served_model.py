"""The served model's decisions as plain functions: image, source, instance storage, role statements."""

from __future__ import annotations

from typing import Any, cast

import pytest

from components.pipelines.base import PipelineContext
from components.pipelines.served_model import (
    ModelSource,
    RoleScope,
    execution_statements,
    has_instance_storage,
    image_repository_arn,
    model_source,
    resolved,
    split_location,
    volume_kms_key,
    vpc_config,
)
from mlops_spec.pipelines.model_source import ServedModelSpec
from mlops_spec.request import parse_pipeline_request

PACKAGE = "arn:aws:sagemaker:us-east-1:999999999999:model-package/churn-models/3"
CONTEXT = PipelineContext(
    environment="dev",
    account_id="111111111111",
    region="us-east-1",
    orchestrator_account_id="999999999999",
    kms_key_arn="env-key",
    artifacts_bucket="artifacts",
    assets_bucket="assets",
)


def spec(**overrides: Any) -> ServedModelSpec:
    body = {
        "pipeline_type": "byom_realtime_builtin",
        "model_name": "churn",
        "inference_instance": "ml.m5.large",
        "model_framework": "kmeans",
        "model_framework_version": "1",
        "model_artifact_location": "models/model.tar.gz",
        "data_capture_location": "capture-bucket/churn",
        **overrides,
    }
    parsed = parse_pipeline_request(body)
    assert isinstance(parsed, ServedModelSpec)
    return parsed


def fake_lookup(repository: str, tag: str) -> str:
    return f"000000000000.dkr.ecr.us-east-1.amazonaws.com/{repository}:{tag}"


# -- images ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("uri", "arn"),
    [
        (
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/serve:1.0",
            "arn:aws:ecr:eu-west-1:123456789012:repository/serve",
        ),
        (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/serve@sha256:" + "a" * 64,
            "arn:aws:ecr:us-east-1:123456789012:repository/team/serve",
        ),
        (
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/serve:1",
            "arn:aws-cn:ecr:cn-north-1:123456789012:repository/serve",
        ),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/serve", "arn:aws:ecr:us-east-1:123456789012:repository/serve"),
    ],
)
def test_repository_arn_is_derived_from_the_image_uri(uri: str, arn: str) -> None:
    assert image_repository_arn(uri) == arn


def test_a_non_ecr_image_is_refused() -> None:
    with pytest.raises(ValueError, match="not an ECR image URI"):
        image_repository_arn("docker.io/library/python:3.12")


# -- model source -----------------------------------------------------------------------------------
def test_builtin_source_looks_the_framework_image_up() -> None:
    source = model_source(spec(), fake_lookup)
    assert source.image_uri == "000000000000.dkr.ecr.us-east-1.amazonaws.com/kmeans:1"
    assert source.artifact_key == "models/model.tar.gz"
    assert source.network_isolation is True


def test_framework_containers_keep_network_access() -> None:
    source = model_source(spec(model_framework="sklearn", model_framework_version="1.2-1"), fake_lookup)
    assert source.image_uri.endswith("/sagemaker-scikit-learn:1.2-1")  # type: ignore[union-attr]
    assert source.network_isolation is False


def test_a_model_package_wins_over_image_and_artifact() -> None:
    assert model_source(spec(model_package_name=PACKAGE), fake_lookup) == ModelSource(model_package_arn=PACKAGE)


# -- instance storage -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "instance", ["ml.g4dn.xlarge", "ml.m5d.large", "ml.p4d.24xlarge", "ml.g5.2xlarge", "ml.c6id.xlarge"]
)
def test_instance_store_types_take_no_volume_key(instance: str) -> None:
    assert has_instance_storage(instance)
    assert volume_kms_key(instance, "key") is None


@pytest.mark.parametrize("instance", ["ml.m5.large", "ml.c5.2xlarge", "ml.inf1.xlarge", "ml.t2.medium", "ml.m6g.large"])
def test_ebs_types_get_the_volume_key(instance: str) -> None:
    assert volume_kms_key(instance, "key") == "key"


# -- small helpers --------------------------------------------------------------------------------------
def test_a_location_splits_into_bucket_and_prefix() -> None:
    assert split_location("bucket/a/b") == ("bucket", "a/b")
    assert split_location("bucket") == ("bucket", "")


def test_vpc_config_only_with_subnets() -> None:
    assert vpc_config([], []) is None
    assert vpc_config(["subnet-1"], ["sg-1"]) == {"subnets": ["subnet-1"], "security_group_ids": ["sg-1"]}


def test_an_unresolved_per_environment_value_is_refused() -> None:
    with pytest.raises(ValueError, match="for_env"):
        resolved(cast(Any, {"dev": "a", "staging": "b", "prod": "c"}))
    assert resolved("a") == "a"


# -- role statements ----------------------------------------------------------------------------------
def actions_on(statements: list[dict[str, Any]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for statement in statements:
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for action in statement["Action"]:
            found.setdefault(action, []).extend(resources)
    return found


def test_image_model_reads_its_artifact_only() -> None:
    source = ModelSource(image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/serve:1", artifact_key="m/a.tar.gz")
    access = actions_on(execution_statements(CONTEXT, source, RoleScope("assets", ("env-key",))))
    assert access["s3:GetObject"] == ["arn:aws:s3:::assets/m/a.tar.gz*"]
    assert access["ecr:BatchGetImage"] == ["arn:aws:ecr:us-east-1:123456789012:repository/serve"]
    assert access["ecr:GetAuthorizationToken"] == ["*"]
    assert access["logs:PutLogEvents"] == ["arn:aws:logs:us-east-1:111111111111:log-group:/aws/sagemaker/*"]


def test_package_model_may_describe_its_package_and_read_the_assets_bucket() -> None:
    scope = RoleScope(
        "assets", ("env-key",), custom_repository_url="999999999999.dkr.ecr.us-east-1.amazonaws.com/algos"
    )
    access = actions_on(execution_statements(CONTEXT, ModelSource(model_package_arn=PACKAGE), scope))
    assert access["sagemaker:DescribeModelPackage"] == [PACKAGE]
    assert access["s3:GetObject"] == ["arn:aws:s3:::assets/*"]
    assert access["ecr:BatchGetImage"] == ["arn:aws:ecr:us-east-1:999999999999:repository/algos"]


def test_reads_writes_keys_and_vpc_are_granted_as_asked() -> None:
    source = ModelSource(image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/serve:1")
    scope = RoleScope(
        "assets",
        ("env-key", "user-key", "env-key"),
        assets_kms_key_arn="assets-key",
        reads=("input-bucket/in/data.csv",),
        writes=("output-bucket/out",),
        vpc=True,
    )
    access = actions_on(execution_statements(CONTEXT, source, scope))
    assert access["s3:GetObject"] == ["arn:aws:s3:::input-bucket/in/data.csv*", "arn:aws:s3:::output-bucket/out*"]
    assert access["s3:PutObject"] == ["arn:aws:s3:::output-bucket/out*"]
    assert access["kms:GenerateDataKey*"] == ["env-key", "user-key"]
    assert access["kms:Decrypt"] == ["env-key", "user-key", "assets-key"]
    assert access["ec2:CreateNetworkInterface"] == ["*"]
