"""SageMaker rules: job storage and endpoint data capture name a KMS key; it changes when a SageMaker API shape does.

Job requests (training, tuning, transform, processing, monitoring, autopilot) are found wherever they
live: SageMaker resources' inputs, SageMaker pipeline definitions, the SageMaker tasks of Step
Functions state machines, and the SageMaker resources of CloudFormation templates.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from components.guardrails.core import Finding, Resource, guardrail, of_type
from components.guardrails.instance_storage import ENDPOINT_CONFIG_TYPE, has_instance_storage
from components.guardrails.values import as_list, document, present

# API shapes (PascalCase in JSON documents, camelCase in pulumi-aws inputs) -> the KMS key they need.
_OUTPUT_SHAPES = (
    "OutputDataConfig",
    "OutputConfig",
    "TransformOutput",
    "ProcessingOutputConfig",
    "MonitoringOutputConfig",
    "DataQualityJobOutputConfig",
    "ModelQualityJobOutputConfig",
    "ModelBiasJobOutputConfig",
    "ModelExplainabilityJobOutputConfig",
)
_VOLUME_SHAPES = ("ResourceConfig", "HyperParameterTuningResourceConfig", "ClusterConfig", "TransformResources")


def _camel(name: str) -> str:
    return name[0].lower() + name[1:]


def _both_cases(names: Sequence[str]) -> frozenset[str]:
    return frozenset(n for name in names for n in (name, _camel(name)))


_KEY_FIELD_BY_SHAPE: Mapping[str, str] = {
    **dict.fromkeys(_both_cases(_OUTPUT_SHAPES), "KmsKeyId"),
    **dict.fromkeys(_both_cases(_VOLUME_SHAPES), "VolumeKmsKeyId"),
    # AutoML's SecurityConfig; PascalCase only (a feature group's `securityConfig` is something else).
    "SecurityConfig": "VolumeKmsKeyId",
}


# -- finding the job requests -----------------------------------------------------------------
def _keyed_configs(value: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every (key, mapping) pair at any depth: where the job shapes are found."""
    if isinstance(value, Mapping):
        for key, child in value.items():
            if isinstance(child, Mapping):
                yield str(key), child
            yield from _keyed_configs(child)
    elif isinstance(value, list):
        for child in value:
            yield from _keyed_configs(child)


def _sagemaker_tasks(definition: Any) -> Iterator[Any]:
    """The request parameters of each Step Functions task that calls SageMaker, nested states included."""
    for _, state in _keyed_configs({"root": definition}):
        resource = state.get("Resource")
        if isinstance(resource, str) and ":sagemaker:" in resource:
            yield state.get("Parameters") or state.get("Arguments")


def _cloudformation_sagemaker_properties(template_body: Any) -> Iterator[Any]:
    template = document(template_body)
    parts = template.get("Resources") if isinstance(template, Mapping) else None
    for part in (parts or {}).values():
        if isinstance(part, Mapping) and str(part.get("Type", "")).startswith("AWS::SageMaker::"):
            yield part.get("Properties")


def _job_documents(resource: Resource) -> Iterator[Any]:
    """Where a resource carries job requests (see the module docstring)."""
    if resource.type.startswith("aws:sagemaker/"):
        yield resource.inputs
        yield document(resource.inputs.get("pipelineDefinition"))
    elif resource.type == "aws:sfn/stateMachine:StateMachine":
        yield from _sagemaker_tasks(document(resource.inputs.get("definition")))
    elif resource.type == "aws:cloudformation/stack:Stack":
        yield from _cloudformation_sagemaker_properties(resource.inputs.get("templateBody"))


# -- judging them -----------------------------------------------------------------------------
def _has_key_field(config: Mapping[str, Any], key_field: str) -> bool:
    """PascalCase or camelCase, or a Step Functions path (`KmsKeyId.$`) that fills it at run time."""
    return any(present(config.get(name)) for name in (key_field, _camel(key_field), f"{key_field}.$"))


def _instance_types(config: Mapping[str, Any]) -> list[Any]:
    groups = as_list(config.get("InstanceGroups") or config.get("instanceGroups"))
    groups += as_list(config.get("InstanceConfigs") or config.get("instanceConfigs"))
    singles = [config.get("InstanceType"), config.get("instanceType")]
    return singles + [g.get("InstanceType") or g.get("instanceType") for g in groups if isinstance(g, Mapping)]


def _job_storage_problems(job: Any) -> Iterator[str]:
    for shape, config in _keyed_configs({"root": job}):
        key_field = _KEY_FIELD_BY_SHAPE.get(shape)
        if key_field is None or _has_key_field(config, key_field):
            continue
        if key_field == "VolumeKmsKeyId" and any(has_instance_storage(t) for t in _instance_types(config)):
            continue  # SageMaker refuses the key; the instance's NVMe storage is encrypted in hardware.
        yield f"{shape} has no {key_field}"


@guardrail(
    "sagemaker-job-storage-kms",
    "SageMaker job outputs and ML storage volumes are encrypted with a KMS key.",
    scope="resource",
)
def sagemaker_job_storage_kms(resources: Sequence[Resource]) -> Iterator[Finding]:
    """Job outputs and ML storage volumes name a KMS key wherever the job request has that part."""
    for resource in resources:
        problems = {problem for job in _job_documents(resource) for problem in _job_storage_problems(job)}
        yield from ((resource, problem) for problem in sorted(problems))


@guardrail("sagemaker-data-capture-kms", "Endpoint data capture is encrypted with a KMS key.", scope="resource")
def sagemaker_data_capture_kms(resources: Sequence[Resource]) -> Iterator[Finding]:
    """Captured requests and responses (personal data, often) are encrypted with a customer key."""
    for config in of_type(resources, (ENDPOINT_CONFIG_TYPE,)):
        capture = config.inputs.get("dataCaptureConfig")
        if isinstance(capture, Mapping) and not present(capture.get("kmsKeyId")):
            yield config, "dataCaptureConfig has no kmsKeyId"
