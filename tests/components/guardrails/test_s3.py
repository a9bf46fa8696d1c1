"""S3 rules: each catches a deliberately bad bucket and passes the secure one."""

from __future__ import annotations

from typing import Any

import pytest

from components import policies
from components.guardrails import (
    PUBLIC_ACCESS_FLAGS,
    UNKNOWN,
    GuardedResource,
    check_all,
    s3_kms_encryption,
    s3_no_public_access,
    s3_public_access_block,
    s3_tls_only,
)
from tests.components.guardrails.support import (
    BLOCK,
    BUCKET,
    BUCKET_POLICY,
    ORCHESTRATOR,
    SSE,
    bucket_policy,
    named,
    res,
    secure_bucket,
    sse_rules,
)


def test_a_secure_bucket_passes_every_rule() -> None:
    assert check_all(secure_bucket(), ORCHESTRATOR) == []


# -- which companions belong to a bucket --------------------------------------------------------
def test_companions_of_another_bucket_do_not_count() -> None:
    resources = secure_bucket("logs") + secure_bucket("data", target="logs-id")
    for rule in (s3_kms_encryption, s3_public_access_block, s3_tls_only):
        assert [v.resource_name for v in rule(resources)] == ["data"]


def test_companions_naming_the_bucket_by_its_aws_id_count() -> None:
    # In AWS a bucket's id is its name: what a preview of an existing bucket shows.
    assert check_all(secure_bucket(target="data-physical"), ORCHESTRATOR) == []


def test_companions_with_unknown_bucket_match_through_property_dependencies() -> None:
    bucket = GuardedResource(BUCKET, "data", {"bucket": "data-physical"}, urn="urn:bucket")
    depends = {"bucket": ("urn:bucket",)}
    companions = [
        GuardedResource(SSE, "enc", {"bucket": UNKNOWN, "rules": sse_rules()}, "urn:enc", depends),
        GuardedResource(
            BLOCK, "pab", {"bucket": UNKNOWN, **dict.fromkeys(PUBLIC_ACCESS_FLAGS, True)}, "urn:pab", depends
        ),
        GuardedResource(BUCKET_POLICY, "pol", {"bucket": UNKNOWN, "policy": UNKNOWN}, "urn:pol", depends),
    ]
    assert check_all([bucket, *companions], ORCHESTRATOR) == []
    # Without the dependencies nothing says which bucket they configure: the rules fail closed.
    orphans = [GuardedResource(c.type, c.name, c.inputs, c.urn) for c in companions]
    assert {v.rule for v in check_all([bucket, *orphans], ORCHESTRATOR)} == {
        "s3-kms-encryption",
        "s3-public-access-block",
        "s3-tls-only",
    }


# -- s3-kms-encryption --------------------------------------------------------------------------
def test_bucket_without_encryption_configuration_is_caught() -> None:
    assert named(s3_kms_encryption(secure_bucket(encryption=None))) == [("s3-kms-encryption", "data")]


def test_bucket_encrypted_with_s3_managed_keys_is_caught() -> None:
    aes = res(SSE, "data-encryption", bucket="data-id", rules=sse_rules("AES256"))
    assert named(s3_kms_encryption(secure_bucket(encryption=aes))) == [("s3-kms-encryption", "data")]


# -- s3-public-access-block ---------------------------------------------------------------------
def test_bucket_without_public_access_block_is_caught() -> None:
    assert named(s3_public_access_block(secure_bucket(block=None))) == [("s3-public-access-block", "data")]


@pytest.mark.parametrize("flag", PUBLIC_ACCESS_FLAGS)
def test_public_access_block_with_one_flag_off_is_caught(flag: str) -> None:
    flags = {**dict.fromkeys(PUBLIC_ACCESS_FLAGS, True), flag: False}
    block = res(BLOCK, "data-public-access", bucket="data-id", **flags)
    assert named(s3_public_access_block(secure_bucket(block=block))) == [("s3-public-access-block", "data")]


# -- s3-tls-only --------------------------------------------------------------------------------
def test_bucket_without_policy_is_not_tls_only() -> None:
    assert named(s3_tls_only(secure_bucket(policy=None))) == [("s3-tls-only", "data")]


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject"},
        # The deny must be conditioned on plain HTTP ("false"), not on TLS.
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
    ],
)
def test_policy_without_a_tls_deny_is_caught(statement: dict[str, Any]) -> None:
    document = policies.document({**statement, "Resource": ["arn:aws:s3:::d", "arn:aws:s3:::d/*"]})
    policy = res(BUCKET_POLICY, "data-policy", bucket="data-id", policy=document)
    assert named(s3_tls_only(secure_bucket(policy=policy))) == [("s3-tls-only", "data")]


def test_tls_deny_that_leaves_the_objects_out_is_caught() -> None:
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": "arn:aws:s3:::data-physical",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    policy = res(BUCKET_POLICY, "data-policy", bucket="data-id", policy=policies.document(deny))
    assert named(s3_tls_only(secure_bucket(policy=policy))) == [("s3-tls-only", "data")]


# -- s3-no-public-access ------------------------------------------------------------------------
@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": ["arn:aws:iam::111111111111:root", "*"]}])
def test_bucket_policy_allowing_everyone_is_caught(principal: Any) -> None:
    grant = {"Sid": "Everyone", "Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": "*"}
    violations = s3_no_public_access(secure_bucket(policy=bucket_policy(grant)))
    assert [(v.rule, v.resource_name, v.message) for v in violations] == [
        ("s3-no-public-access", "data-policy", 'statement Everyone allows Principal "*"')
    ]


def test_bucket_policy_granting_a_named_account_is_not_public() -> None:
    grant = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"}, "Action": "s3:GetObject"}
    assert s3_no_public_access(secure_bucket(policy=bucket_policy(grant))) == []


def test_public_canned_acl_is_caught() -> None:
    resources = [*secure_bucket(), res("aws:s3/bucketAcl:BucketAcl", "data-acl", bucket="data-id", acl="public-read")]
    assert named(s3_no_public_access(resources)) == [("s3-no-public-access", "data-acl")]
