"""Serverless and asynchronous inference, the real-time endpoint options that are not instance-backed
request/response: what SageMaker accepts of them (its API model's ProductionVariantServerlessConfig and
AsyncInferenceConfig), and which other endpoint options they exclude.

Each value may differ per environment in multi-account mode (`Staged`); whether an endpoint is serverless
or asynchronous does not: the endpoint's kind is the same in every environment it is promoted through.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar, Self, TypeVar

from pydantic import Field, model_validator

from mlops_spec.common import ENVIRONMENTS, Environment, S3Location, Staged, StrictModel, field_problem
from mlops_spec.published import Rule, rule

T = TypeVar("T")

# SageMaker's limits (botocore's sagemaker service model: ServerlessMemorySizeInMB 1024-6144 in 1 GB
# steps, ServerlessMaxConcurrency and ServerlessProvisionedConcurrency 1-200,
# MaxConcurrentInvocationsPerInstance 1-1000, SnsTopicArn's pattern).
MemorySizeInMb = Annotated[int, Field(ge=1024, le=6144, multiple_of=1024)]
Concurrency = Annotated[int, Field(ge=1, le=200)]
InvocationsPerInstance = Annotated[int, Field(ge=1, le=1000)]
SnsTopicArn = Annotated[
    str, Field(pattern=r"^arn:aws[a-z\-]*:sns:[a-z0-9\-]*:[0-9]{12}:[a-zA-Z0-9_.-]{1,256}$", max_length=2048)
]

# Endpoint fields a serverless endpoint refuses -> the problem the API answers with. SageMaker's Serverless
# Inference has no instances (so no type, count or instance autoscaling), no data capture (so no model
# monitor either) and cannot run in a VPC.
SERVERLESS_EXCLUSIONS: dict[str, str] = {
    "inference_instance": "is not allowed with serverless (size it with serverless.memory_size_in_mb); remove it",
    "instance_count": "is not allowed with serverless (bound it with serverless.max_concurrency); remove it",
    "autoscaling": "is not allowed with serverless (SageMaker scales it up to serverless.max_concurrency); remove it",
    "data_capture_location": "is not allowed with serverless: SageMaker captures no data of serverless endpoints "
    "(and so no monitor can watch one); remove it, or serve on instances",
    "data_capture_percentage": "is not allowed with serverless: SageMaker captures no data of serverless endpoints; "
    "remove it",
    "subnet_ids": "is not allowed with serverless: serverless endpoints cannot run in a VPC; remove it, "
    "or serve on instances",
    "security_group_ids": "is not allowed with serverless: serverless endpoints cannot run in a VPC; remove it, "
    "or serve on instances",
}


def at_env(value: T | Mapping[Environment, T], env: Environment) -> T:
    """A per-environment value for `env` (the value itself when it is one for all)."""
    if isinstance(value, Mapping):
        return value[env]
    return value


class Serverless(StrictModel):
    """SageMaker Serverless Inference: compute per request, from zero, up to `max_concurrency` at a time."""

    SCHEMA_RULES: ClassVar[tuple[Rule, ...]] = (rule("provisioned_concurrency", "must be at most max_concurrency"),)

    memory_size_in_mb: Staged[MemorySizeInMb] = Field(description="1024, 2048, 3072, 4096, 5120 or 6144.")
    max_concurrency: Staged[Concurrency] = Field(description="Concurrent invocations at most (1-200).")
    provisioned_concurrency: Staged[Concurrency] | None = Field(
        default=None, description="Invocations kept warm (no cold start); at most max_concurrency."
    )

    @model_validator(mode="after")
    def _provisioned_within_max(self) -> Self:
        if self.provisioned_concurrency is None:
            return self
        for env in ENVIRONMENTS:
            provisioned = at_env(self.provisioned_concurrency, env)
            if provisioned > at_env(self.max_concurrency, env):
                where = f"{env}: " if isinstance(self.provisioned_concurrency, Mapping) else ""
                raise field_problem(
                    "provisioned_concurrency", f"{where}must be at most max_concurrency; lower it", provisioned
                )
        return self


class AsyncInference(StrictModel):
    """SageMaker Asynchronous Inference: requests are queued, responses written to S3 (and announced on SNS)."""

    output_path: Staged[S3Location] = Field(description="bucket/prefix receiving the responses.")
    failure_path: Staged[S3Location] | None = Field(
        default=None, description="bucket/prefix receiving the failed requests' errors."
    )
    success_topic: Staged[SnsTopicArn] | None = Field(default=None, description="SNS topic told of each response.")
    error_topic: Staged[SnsTopicArn] | None = Field(default=None, description="SNS topic told of each failure.")
    max_concurrent_invocations_per_instance: Staged[InvocationsPerInstance] | None = Field(
        default=None, description="Requests each instance works on at once (1-1000); SageMaker chooses when absent."
    )


def endpoint_kind_rules() -> tuple[Rule, ...]:
    """RealtimeFields._endpoint_kind, published as `x-rules` (the field and the problem the API answers
    with). JSON Schema can state these rules, but every branch they add multiplies what schema-driven
    generators must expand, and the request schema (a oneOf of every type, the built-in real-time one
    the largest) is at the limit of the one the contract test runs (jsonschema_rs's canonical form)."""
    excluded = [rule(name, "is not allowed with serverless") for name in SERVERLESS_EXCLUSIONS]
    return (
        rule("inference_instance", "is required"),
        rule("data_capture_location", "is required"),
        *excluded,
        rule("async_inference", "cannot be combined with serverless"),
        rule("deployment", "must be all_at_once on a serverless endpoint"),
    )
