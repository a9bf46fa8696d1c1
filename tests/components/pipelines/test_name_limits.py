"""Every pipeline type, planned for the longest pipeline id, names each resource within its AWS limit.

Resources without an explicit name are autonamed by pulumi-aws: the logical name plus "-" and 7 random
characters, which `pulumi up` refuses (or AWS rejects) beyond the limit. Explicit names must fit as they are.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.pipelines.base import PipelineContext
from components.pipelines.registry import REGISTRY, build_pipeline
from mlops_cli.mocks import PlannedResource, PlanRecorder
from mlops_spec import naming
from mlops_spec.request import parse_pipeline_request

EXAMPLES = Path(__file__).parents[3] / "examples"
# What pulumi-aws appends to a logical name when it autonames a resource.
AUTONAME_SUFFIX = len("-") + 7
# The longest environment name: physical names carry it.
ENVIRONMENT = "staging"

# type -> (the input holding its name, AWS's limit on that name)
NAME_LIMITS: dict[str, tuple[str, int]] = {
    "aws:iam/role:Role": ("name", 64),
    "aws:iam/rolePolicy:RolePolicy": ("name", 128),
    "aws:cloudwatch/eventRule:EventRule": ("name", 64),
    "aws:lambda/function:Function": ("name", 64),
    "aws:sfn/stateMachine:StateMachine": ("name", 80),
    "aws:cloudwatch/logGroup:LogGroup": ("name", 512),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("name", 255),
    "aws:codebuild/project:Project": ("name", 255),
    "aws:ecr/repository:Repository": ("name", 256),
    "aws:cloudformation/stack:Stack": ("name", 128),
    "aws:appautoscaling/policy:Policy": ("name", 255),
    "aws:sagemaker/model:Model": ("name", 63),
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": ("name", 63),
    "aws:sagemaker/endpoint:Endpoint": ("name", 63),
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": ("name", 63),
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": ("name", 63),
    "aws:sagemaker/trainingJob:TrainingJob": ("trainingJobName", 63),
    "aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob": ("name", 32),
}
# Types that have no name of their own (nothing to autoname).
UNNAMED = {
    "aws:lambda/invocation:Invocation",
    "aws:cloudwatch/eventTarget:EventTarget",
    "aws:appautoscaling/target:Target",
}
# Types whose physical name may never be fixed: a change must create the new one before deleting the old.
REPLACED_BEFORE_DELETED = {"aws:sagemaker/model:Model", "aws:sagemaker/endpointConfiguration:EndpointConfiguration"}

LONGEST_MODEL_NAME = "m" * 63
LONGEST_ENDPOINT_NAME = "e" * 63


def longest_request(pipeline_type: str) -> dict[str, Any]:
    """The example request of a type with the longest names a request can have."""
    body: dict[str, Any] = json.loads((EXAMPLES / f"{pipeline_type}.json").read_text())
    body.pop("job_name", None)  # the generated job name is the bounded one
    if pipeline_type == "byom_image_builder":
        body["ecr_repo_name"] = "r" * 200
        body["image_tag"] = "t" * 128
    else:
        body["model_name"] = LONGEST_MODEL_NAME
    if "endpoint_name" in body:
        body["endpoint_name"] = LONGEST_ENDPOINT_NAME
    return body


def context() -> PipelineContext:
    return PipelineContext(
        environment=ENVIRONMENT,
        account_id="111111111111",
        region="us-east-1",
        # The orchestrator's account: every optional resource (the run-finished rule) is planned.
        orchestrator_account_id="111111111111",
        kms_key_arn="arn:aws:kms:us-east-1:111111111111:key/11111111-1111-1111-1111-111111111111",
        artifacts_bucket="mlops-staging-artifacts",
        assets_bucket="mlops-assets",
        ecr_repository_url="111111111111.dkr.ecr.us-east-1.amazonaws.com/mlops-custom-algorithms",
        model_package_group_name="mlops-models",
        notification_topic_arn="arn:aws:sns:us-east-1:111111111111:mlops-notifications",
        assets_kms_key_arn="arn:aws:kms:us-east-1:111111111111:key/99999999-9999-9999-9999-999999999999",
    )


def plan(recorder: PlanRecorder, pipeline_type: str) -> str:
    spec = parse_pipeline_request(longest_request(pipeline_type)).for_env(ENVIRONMENT)

    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        return pulumi.Output.all(**build_pipeline(spec, context()).outputs)

    program()
    return spec.pipeline_id


def name_problem(resource: PlannedResource) -> str | None:
    """Why this resource's name would be refused, or None."""
    field, limit = NAME_LIMITS[resource.type]
    name = resource.inputs.get(field)
    if name is None:
        longest = len(resource.name) + AUTONAME_SUFFIX
        if longest > limit:
            return f"{resource.type} {resource.name}: autonamed up to {longest} characters, limit {limit}"
        return None
    if len(name) > limit:
        return f"{resource.type} {resource.name}: {field} {name!r} has {len(name)} characters, limit {limit}"
    return None


@pytest.mark.parametrize("pipeline_type", sorted(REGISTRY))
def test_every_name_fits_for_the_longest_pipeline_id(pulumi_mocks: PlanRecorder, pipeline_type: str) -> None:
    pipeline_id = plan(pulumi_mocks, pipeline_type)
    assert len(pipeline_id) == naming.PIPELINE_ID_LIMIT

    custom = [r for r in pulumi_mocks.resources if r.custom]
    unknown = {r.type for r in custom} - set(NAME_LIMITS) - UNNAMED
    assert not unknown, f"add the name limit of {sorted(unknown)} to NAME_LIMITS (or to UNNAMED)"
    problems = [problem for r in custom if r.type in NAME_LIMITS and (problem := name_problem(r))]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("pipeline_type", sorted(REGISTRY))
def test_roles_are_named_under_the_pipeline_path_and_models_stay_replaceable(
    pulumi_mocks: PlanRecorder, pipeline_type: str
) -> None:
    plan(pulumi_mocks, pipeline_type)
    roles = pulumi_mocks.of_type("aws:iam/role:Role")
    assert roles
    assert all(role.inputs["path"] == naming.PIPELINE_ROLE_PATH for role in roles)
    # Role names are unique in an account: at least distinct within a pipeline.
    assert len({role.inputs["name"] for role in roles}) == len(roles)
    for resource in pulumi_mocks.resources:
        if resource.type in REPLACED_BEFORE_DELETED:
            assert "name" not in resource.inputs, f"{resource.name} must stay autonamed"
