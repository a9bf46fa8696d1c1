"""KMS encryption at rest of topics, queues, logs, tables and the rest; it changes when a resource type joins.

One table maps each resource type to the function that says what is wrong with its encryption, if
anything. Buckets have their own rules (s3.py), SageMaker job requests theirs (sagemaker.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from components.guardrails.core import UNKNOWN, Finding, Resource, guardrail
from components.guardrails.instance_storage import ENDPOINT_CONFIG_TYPE, endpoint_volume_key_refused
from components.guardrails.values import as_list, is_true, present

Problem = Callable[[Mapping[str, Any]], str | None]
"""Inputs of a resource -> what is wrong with its encryption at rest, or None."""


def _missing(key: str, what: str) -> Problem:
    return lambda inputs: None if present(inputs.get(key)) else f"{key} is not set: {what}"


def _dynamodb_problem(inputs: Mapping[str, Any]) -> str | None:
    sse = inputs.get("serverSideEncryption")
    if sse is UNKNOWN:
        return None
    sse = sse if isinstance(sse, Mapping) else {}
    if is_true(sse.get("enabled")) and present(sse.get("kmsKeyArn")):
        return None
    return "serverSideEncryption must be enabled with a kmsKeyArn (a customer managed key)"


def _endpoint_config_problem(inputs: Mapping[str, Any]) -> str | None:
    if present(inputs.get("kmsKeyArn")) or endpoint_volume_key_refused(inputs):
        return None
    return "kmsKeyArn is not set: the ML storage volumes of the endpoint are not encrypted with KMS"


def _ecr_problem(inputs: Mapping[str, Any]) -> str | None:
    configurations = inputs.get("encryptionConfigurations")
    if configurations is UNKNOWN or any(
        isinstance(c, Mapping) and c.get("encryptionType") in ("KMS", "KMS_DSSE", UNKNOWN)
        for c in as_list(configurations)
    ):
        return None
    return "encryptionConfigurations must use encryptionType KMS (images are AES256 by default)"


def _artifact_store_encrypted(store: Any) -> bool:
    key = store.get("encryptionKey") if isinstance(store, Mapping) else UNKNOWN
    return key is UNKNOWN or (isinstance(key, Mapping) and present(key.get("id")))


def _codepipeline_problem(inputs: Mapping[str, Any]) -> str | None:
    stores = inputs.get("artifactStores")
    if stores is UNKNOWN or all(_artifact_store_encrypted(s) for s in as_list(stores)):
        return None
    return "every artifact store needs an encryptionKey (a KMS key)"


_PROBLEM_BY_TYPE: Mapping[str, Problem] = {
    "aws:sns/topic:Topic": _missing("kmsMasterKeyId", "messages are stored unencrypted"),
    "aws:sqs/queue:Queue": _missing("kmsMasterKeyId", "messages are not encrypted with KMS"),
    "aws:cloudwatch/logGroup:LogGroup": _missing("kmsKeyId", "log events are not encrypted with KMS"),
    "aws:codebuild/project:Project": _missing("encryptionKey", "build artifacts use the AWS managed S3 key"),
    "aws:dynamodb/table:Table": _dynamodb_problem,
    ENDPOINT_CONFIG_TYPE: _endpoint_config_problem,
    "aws:ecr/repository:Repository": _ecr_problem,
    "aws:codepipeline/pipeline:Pipeline": _codepipeline_problem,
}


@guardrail(
    "kms-encryption-at-rest",
    "Topics, queues, log groups, tables, endpoint configs, ECR, CodeBuild and CodePipeline use KMS.",
    scope="resource",
)
def kms_encryption_at_rest(resources: Sequence[Resource]) -> Iterator[Finding]:
    """Topics, queues, log groups, tables, endpoint configs, repositories, builds and pipelines use KMS."""
    for resource in resources:
        problem_of = _PROBLEM_BY_TYPE.get(resource.type)
        problem = problem_of(resource.inputs) if problem_of else None
        if problem:
            yield resource, problem
