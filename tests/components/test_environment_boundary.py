"""The pipeline boundary and the deploy role, judged on every planned stack and example pipeline.

Every role a pipeline creates carries its environment's boundary; the boundary allows everything those
roles are granted and nothing in IAM but passing pipeline roles to SageMaker; the deploy role allows the
calls that create every resource the example pipelines plan, and none on the orchestrator's functions.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from components import policies
from components.environment import EnvironmentBaselineArgs, pipeline_boundary_statements
from mlops_cli.mocks import PlannedResource, policy_of
from mlops_cli.planner import StackPlan
from mlops_spec.naming import EnvironmentNames, OrchestratorNames
from tests.components.iam_eval import allowed
from tests.components.iam_plans import (
    EXAMPLE_PLANS,
    MANAGED_POLICY,
    PLANS,
    ROLE,
    ROLE_POLICY,
    pipeline_roles,
    plan,
    role_of,
    statements_of,
    under,
)

ORCHESTRATOR = "111111111111"
SAGEMAKER_NAMED = {
    "aws:sagemaker/endpoint:Endpoint": ("CreateEndpoint", "endpoint", "name"),
    "aws:sagemaker/trainingJob:TrainingJob": ("CreateTrainingJob", "training-job", "trainingJobName"),
    "aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob": (
        "CreateHyperParameterTuningJob",
        "hyper-parameter-tuning-job",
        "name",
    ),
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": ("CreateMonitoringSchedule", "monitoring-schedule", "name"),
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": (
        "CreateDataQualityJobDefinition",
        "data-quality-job-definition",
        "name",
    ),
    # No name: Pulumi names them `<logical name>-<random>`.
    "aws:sagemaker/model:Model": ("CreateModel", "model", None),
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": ("CreateEndpointConfig", "endpoint-config", None),
}
# resource type -> (create action, ARN resource part with {name})
NAMED = {
    "aws:sfn/stateMachine:StateMachine": ("states:CreateStateMachine", "stateMachine:{name}"),
    "aws:lambda/function:Function": ("lambda:CreateFunction", "function:{name}"),
    "aws:cloudwatch/eventRule:EventRule": ("events:PutRule", "rule/{name}"),
    "aws:codebuild/project:Project": ("codebuild:CreateProject", "project/{name}"),
    "aws:cloudwatch/logGroup:LogGroup": ("logs:CreateLogGroup", "log-group:{name}"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("cloudwatch:PutMetricAlarm", "alarm:{name}"),
    "aws:cloudformation/stack:Stack": ("cloudformation:CreateStack", "stack/{name}/4f1e2d3c"),
    "aws:appautoscaling/target:Target": ("application-autoscaling:RegisterScalableTarget", "scalable-target/0a1b2c"),
}
# Resources without tags of their own: the call that makes them, on the tagged resource they belong to.
ATTACHED = {
    "aws:lambda/invocation:Invocation": ("lambda:InvokeFunction", "functionName", "aws:lambda/function:Function"),
    "aws:cloudwatch/eventTarget:EventTarget": ("events:PutTargets", "rule", "aws:cloudwatch/eventRule:EventRule"),
}


@pytest.fixture(scope="module", params=list(PLANS))
def planned(request: pytest.FixtureRequest) -> StackPlan:
    return plan(request.param)


@pytest.fixture(scope="module", params=EXAMPLE_PLANS)
def example(request: pytest.FixtureRequest) -> StackPlan:
    return plan(request.param)


def environment_of(stack_plan: StackPlan) -> EnvironmentNames:
    [boundary] = stack_plan.recorder.of_type(MANAGED_POLICY)
    env = boundary.inputs["name"].removeprefix("mlops-").removesuffix("-pipeline-boundary")
    return EnvironmentNames(env, stack_plan.recorder.account_id, stack_plan.recorder.region)


def boundary_of(stack_plan: StackPlan) -> list[dict[str, Any]]:
    [boundary] = stack_plan.recorder.of_type(MANAGED_POLICY)
    return list(policy_of(boundary)["Statement"])


# -- every pipeline role is bounded -------------------------------------------------------------
def test_every_pipeline_role_and_the_baseline_role_carry_the_environments_boundary(planned: StackPlan) -> None:
    names = environment_of(planned)
    bounded = [*pipeline_roles(planned), planned.recorder.named(ROLE, f"mlops-{names.environment}-sagemaker-role")]
    assert {r.inputs.get("permissionsBoundary") for r in bounded} == {names.pipeline_boundary_arn()}
    assert all(r.inputs["path"] == "/mlops/" for r in bounded)


def test_example_plans_have_pipeline_roles_to_judge(example: StackPlan) -> None:
    assert len(pipeline_roles(example)) >= 4


def real_arn(arn: str) -> str:
    """The mock engine's ARNs of outputs in the form AWS gives them (state machines, log groups, roles)."""
    arn = re.sub(r":sfn:([^:]*):(\d*):statemachine/", r":states:\1:\2:stateMachine:", arn)
    arn = re.sub(r":logs:([^:]*):(\d*):loggroup/", r":logs:\1:\2:log-group:", arn)
    return re.sub(r"(:iam::\d+:role/)(?!mlops/)", r"\1mlops/", arn)


def test_the_boundary_allows_everything_each_pipeline_role_is_granted(planned: StackPlan) -> None:
    """A grant outside the boundary would fail at run time: the boundary must cover every role's policy."""
    boundary = boundary_of(planned)
    roles = {r.name for r in pipeline_roles(planned)} | {f"mlops-{environment_of(planned).environment}-sagemaker-role"}
    for role_policy in planned.recorder.of_type(ROLE_POLICY):
        if role_of(planned, role_policy).name not in roles:
            continue
        for statement in policy_of(role_policy)["Statement"]:
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for action in statement["Action"]:
                outside = [r for r in resources if not allowed(boundary, action, real_arn(r), None)]
                assert outside == [], f"{role_policy.name}: {action} on {outside} is outside the boundary"


def test_the_boundary_grants_nothing_in_iam_or_sts_but_passing_pipeline_roles_to_sagemaker(
    planned: StackPlan,
) -> None:
    granted = [(s, a) for s in boundary_of(planned) if s["Effect"] == "Allow" for a in s["Action"]]
    assert {a for _, a in granted if a.split(":")[0] in ("iam", "sts")} == {"iam:PassRole"}
    [pass_role] = [s for s, a in granted if a == "iam:PassRole"]
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    assert pass_role["Resource"] == [f"arn:aws:iam::{planned.recorder.account_id}:role/mlops/*"]
    assert [a for _, a in granted if a.endswith(":*")] == []


@pytest.mark.parametrize("env, account", [("dev", ORCHESTRATOR), ("prod", "333333333333")])
def test_the_boundary_keeps_out_the_pulumi_state_its_key_and_the_provisioner_image(env: str, account: str) -> None:
    boundary = pipeline_boundary_statements(EnvironmentBaselineArgs(env, account, "us-east-1", ORCHESTRATOR))
    orchestrator = OrchestratorNames(ORCHESTRATOR, "us-east-1")
    home = {"aws:ResourceAccount": ORCHESTRATOR}
    state = f"arn:aws:s3:::{orchestrator.state_bucket}/.pulumi/stacks/x.json"
    assert not allowed(boundary, "s3:GetObject", state, home)
    assert allowed(boundary, "s3:GetObject", f"arn:aws:s3:::{orchestrator.assets_bucket}/models/m.tar.gz", home)
    assert not allowed(boundary, "s3:GetObject", "arn:aws:s3:::elsewhere/x", {"aws:ResourceAccount": "999999999999"})
    secrets = {"kms:ResourceAliases": [orchestrator.state_key_alias]}
    assert not allowed(boundary, "kms:Decrypt", f"arn:aws:kms:us-east-1:{ORCHESTRATOR}:key/abc", secrets)
    provisioner = f"arn:aws:ecr:us-east-1:{ORCHESTRATOR}:repository/{orchestrator.provisioner_repository}"
    assert not allowed(boundary, "ecr:PutImage", provisioner, {})
    deploy_project = f"arn:aws:codebuild:us-east-1:{ORCHESTRATOR}:project/mlops-deploy-churn-{env}"
    assert not allowed(boundary, "codebuild:StartBuild", deploy_project, {})
    size = len(re.sub(r"\s", "", policies.document(*boundary)))
    assert size <= 6_144  # IAM's limit for a managed policy


# -- the deploy role allows what the examples create ---------------------------------------------
def tag_context(prefix: str, tags: dict[str, str] | None) -> dict[str, str]:
    return {f"aws:{prefix}Tag/{key}": value for key, value in (tags or {}).items()}


def create_call(resource: PlannedResource, account: str, region: str) -> tuple[str, str, dict[str, Any]] | None:
    """(action, ARN, request context) of the call that creates `resource`; None for types judged apart."""
    context: dict[str, Any] = tag_context("Request", resource.inputs.get("tags"))
    if resource.type in SAGEMAKER_NAMED:
        action, kind, key = SAGEMAKER_NAMED[resource.type]
        name = resource.inputs[key] if key else f"{resource.name}-a1b2c3d"
        return f"sagemaker:{action}", f"arn:aws:sagemaker:{region}:{account}:{kind}/{name.lower()}", context
    if resource.type in NAMED:
        action, part = NAMED[resource.type]
        service = action.split(":")[0]
        return action, f"arn:aws:{service}:{region}:{account}:{part.format(name=resource.inputs.get('name'))}", context
    if resource.type == ROLE:
        context["iam:PermissionsBoundary"] = resource.inputs.get("permissionsBoundary")
        return (
            "iam:CreateRole",
            f"arn:aws:iam::{account}:role{resource.inputs['path']}{resource.inputs['name']}",
            context,
        )
    return None


def attached_call(stack_plan: StackPlan, resource: PlannedResource) -> tuple[str, str, dict[str, Any]] | None:
    """The call that makes a resource without tags, on the tagged resource it belongs to."""
    account, region = stack_plan.recorder.account_id, stack_plan.recorder.region
    if resource.type == ROLE_POLICY:
        role = role_of(stack_plan, resource)
        _, arn, _ = create_call(role, account, region) or ("", "", {})
        context = {"iam:PermissionsBoundary": role.inputs.get("permissionsBoundary")}
        return "iam:PutRolePolicy", arn, {**context, **tag_context("Resource", role.inputs.get("tags"))}
    if resource.type in ATTACHED:
        action, key, owner_type = ATTACHED[resource.type]
        [owner] = [r for r in stack_plan.recorder.of_type(owner_type) if r.inputs["name"] == resource.inputs[key]]
        _, arn, _ = create_call(owner, account, region) or ("", "", {})
        return action, arn, tag_context("Resource", owner.inputs.get("tags"))
    return None


def pipeline_resources(stack_plan: StackPlan) -> list[PlannedResource]:
    return [r for r in stack_plan.recorder.resources if r.custom and under(stack_plan, r, "mlops:pipelines:")]


def test_the_deploy_role_allows_creating_every_resource_of_every_example(example: StackPlan) -> None:
    env = environment_of(example).environment
    deploy = statements_of(example, ROLE_POLICY, f"mlops-{env}-deploy-policy")
    account, region = example.recorder.account_id, example.recorder.region
    judged = 0
    for resource in pipeline_resources(example):
        call = create_call(resource, account, region) or attached_call(example, resource)
        if call is None:
            assert resource.type == "aws:appautoscaling/policy:Policy", f"no call known for {resource.type}"
            continue
        action, arn, context = call
        assert allowed(deploy, action, arn, context), f"{resource.type} {resource.name}: {action} on {arn}"
        untagged = {k: v for k, v in context.items() if "mlops:pipeline-id" not in k}
        if resource.type != ROLE_POLICY:
            assert not allowed(deploy, action, arn, untagged), f"{resource.name}: allowed without its pipeline's tag"
        judged += 1
    assert judged >= 20


@pytest.mark.parametrize("name", ["stack:dev", "examples:single"])
def test_no_deploy_role_may_touch_the_orchestrators_functions(name: str) -> None:
    """In the orchestrator's account (single-account mode included), with their real names and tags."""
    stack_plan = plan(name)
    deploy = statements_of(stack_plan, ROLE_POLICY, "mlops-dev-deploy-policy")
    functions = [
        r
        for r in stack_plan.recorder.of_type("aws:lambda/function:Function")
        if under(stack_plan, r, "mlops:orchestrator:")
    ]
    assert len(functions) >= 4
    where = f"{stack_plan.recorder.region}:{stack_plan.recorder.account_id}"
    for function in functions:
        arn = f"arn:aws:lambda:{where}:function:{function.inputs['name']}"
        context = tag_context("Resource", function.inputs.get("tags"))
        for action in ("lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:InvokeFunction"):
            assert not allowed(deploy, action, arn, context), f"{action} on {function.inputs['name']}"
    assert [a for s in deploy for a in s["Action"] if a.startswith("ecr:")] == []
