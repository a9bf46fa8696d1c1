"""kms-encryption-at-rest: each resource type it covers is caught unencrypted and passes with a key."""

from __future__ import annotations

from typing import Any

import pytest

from components.guardrails import UNKNOWN, GuardedResource, kms_encryption_at_rest
from tests.components.guardrails.support import ENDPOINT_CONFIG, KEY, named, res

ENCRYPTION_CASES = [
    ("aws:sns/topic:Topic", {"name": "t"}, {"name": "t", "kmsMasterKeyId": KEY}),
    ("aws:sqs/queue:Queue", {"name": "q"}, {"name": "q", "kmsMasterKeyId": KEY}),
    ("aws:cloudwatch/logGroup:LogGroup", {"name": "/l"}, {"name": "/l", "kmsKeyId": KEY}),
    ("aws:codebuild/project:Project", {"name": "b"}, {"name": "b", "encryptionKey": KEY}),
    (
        "aws:dynamodb/table:Table",
        {"serverSideEncryption": {"enabled": True}},  # the AWS owned key, not ours
        {"serverSideEncryption": {"enabled": True, "kmsKeyArn": KEY}},
    ),
    ("aws:dynamodb/table:Table", {"hashKey": "id"}, {"serverSideEncryption": {"enabled": True, "kmsKeyArn": KEY}}),
    (
        "aws:ecr/repository:Repository",
        {"encryptionConfigurations": [{"encryptionType": "AES256"}]},
        {"encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": KEY}]},
    ),
    (
        "aws:codepipeline/pipeline:Pipeline",
        {"artifactStores": [{"location": "b", "type": "S3"}]},
        {"artifactStores": [{"location": "b", "type": "S3", "encryptionKey": {"id": KEY, "type": "KMS"}}]},
    ),
    (
        ENDPOINT_CONFIG,
        {"productionVariants": [{"instanceType": "ml.m5.large"}]},
        {"productionVariants": [{"instanceType": "ml.m5.large"}], "kmsKeyArn": KEY},
    ),
]


@pytest.mark.parametrize(("typ", "bad", "good"), ENCRYPTION_CASES, ids=[c[0].split(":")[-1] for c in ENCRYPTION_CASES])
def test_unencrypted_resource_is_caught_and_encrypted_one_passes(
    typ: str, bad: dict[str, Any], good: dict[str, Any]
) -> None:
    assert named(kms_encryption_at_rest([res(typ, "bad", **bad)])) == [("kms-encryption-at-rest", "bad")]
    assert kms_encryption_at_rest([res(typ, "good", **good)]) == []


@pytest.mark.parametrize(
    "variant",
    [
        {"instanceType": "ml.g4dn.xlarge"},
        {"instanceType": "ml.m5d.large"},
        {"serverlessConfig": {"memorySizeInMb": 2048}},
    ],
)
def test_endpoint_config_may_omit_the_key_where_sagemaker_refuses_it(variant: dict[str, Any]) -> None:
    assert kms_encryption_at_rest([res(ENDPOINT_CONFIG, "config", productionVariants=[variant])]) == []


def test_key_that_is_unknown_during_preview_counts_as_set() -> None:
    topic = GuardedResource("aws:sns/topic:Topic", "t", {"kmsMasterKeyId": UNKNOWN})
    assert kms_encryption_at_rest([topic]) == []
