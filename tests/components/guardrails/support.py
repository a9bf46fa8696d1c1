"""Resources as the mock engine records them, secure by default, for the guardrail tests to break one at a time."""

from __future__ import annotations

import json
from typing import Any

from components import policies
from components.guardrails import BUCKET_TYPES, PUBLIC_ACCESS_FLAGS, Violation
from mlops_cli.mocks import PlannedResource

ORCHESTRATOR = "111111111111"
KEY = "arn:aws:kms:us-east-1:111111111111:key/00000000-0000-0000-0000-000000000001"
BUCKET = BUCKET_TYPES[0]
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"


def res(typ: str, name: str, /, **inputs: Any) -> PlannedResource:
    """A resource as the mock engine records it (camelCase inputs)."""
    return PlannedResource(typ, name, None, inputs, True, urn=f"urn:pulumi:dev::mlops::{typ}::{name}")


def named(violations: list[Violation]) -> list[tuple[str, str]]:
    return [(v.rule, v.resource_name) for v in violations]


# -- S3 -----------------------------------------------------------------------------------------
def sse_rules(algorithm: str = "aws:kms") -> list[dict[str, Any]]:
    return [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": algorithm, "kmsMasterKeyId": KEY}}]


def secure_bucket(name: str = "data", target: str | None = None, **replace: PlannedResource | None) -> list[Any]:
    """A bucket with its three companions, as components/secure_bucket.py makes them. `replace` swaps
    (or with None, drops) one companion: encryption, block or policy."""
    target = target or f"{name}-id"  # the mock engine's id of the bucket
    arn = f"arn:aws:s3:::{name}-physical"
    parts: dict[str, PlannedResource | None] = {
        "encryption": res(SSE, f"{name}-encryption", bucket=target, rules=sse_rules()),
        "block": res(BLOCK, f"{name}-public-access", bucket=target, **dict.fromkeys(PUBLIC_ACCESS_FLAGS, True)),
        "policy": res(BUCKET_POLICY, f"{name}-policy", bucket=target, policy=policies.tls_only_bucket_policy(arn)),
    }
    parts.update(replace)
    return [res(BUCKET, name, bucket=f"{name}-physical"), *(p for p in parts.values() if p is not None)]


def bucket_policy(*statements: dict[str, Any], name: str = "data") -> PlannedResource:
    """The bucket's TLS-only policy with `statements` added."""
    arn = f"arn:aws:s3:::{name}-physical"
    return res(
        BUCKET_POLICY,
        f"{name}-policy",
        bucket=f"{name}-id",
        policy=policies.tls_only_bucket_policy(arn, list(statements)),
    )


# -- SageMaker ----------------------------------------------------------------------------------
def training_job(**overrides: Any) -> PlannedResource:
    inputs = {
        "outputDataConfig": {"s3OutputPath": "s3://b/out", "kmsKeyId": KEY},
        "resourceConfig": {"instanceType": "ml.m5.xlarge", "instanceCount": 1, "volumeKmsKeyId": KEY},
        **overrides,
    }
    return res("aws:sagemaker/trainingJob:TrainingJob", "train", **inputs)


def state_machine(
    parameters: dict[str, Any], resource: str = "arn:aws:states:::sagemaker:createTransformJob.sync"
) -> PlannedResource:
    """A state machine of one task calling `resource` with `parameters`."""
    definition = {
        "StartAt": "Run",
        "States": {"Run": {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True}},
    }
    return res(STATE_MACHINE, "machine", definition=json.dumps(definition))


def endpoint_config(name: str, **inputs: Any) -> PlannedResource:
    """An endpoint config with a KMS key and one variant without instance storage, plus `inputs`."""
    return res(ENDPOINT_CONFIG, name, kmsKeyArn=KEY, productionVariants=[{"instanceType": "ml.m5.large"}], **inputs)


# -- IAM ----------------------------------------------------------------------------------------
def role_policy(*statements: dict[str, Any], typ: str = ROLE_POLICY) -> PlannedResource:
    return res(typ, "policy", policy=policies.document(*statements))


def trusting(principal: Any, effect: str = "Allow") -> PlannedResource:
    """A role whose trust policy lets `principal` assume it."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": effect, "Principal": principal, "Action": "sts:AssumeRole"}],
    }
    return res(ROLE, "deploy", assumeRolePolicy=json.dumps(trust))
