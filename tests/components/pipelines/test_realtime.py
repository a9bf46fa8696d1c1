"""RealtimeEndpoint under the mock engine: what a deployment of a real-time request would create."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.pipelines.base import PipelineContext
from components.pipelines.realtime import RealtimeEndpoint
from components.pipelines.registry import build_pipeline
from mlops_cli.mocks import PlanRecorder, policy_of
from mlops_spec.base import PipelineSpec
from mlops_spec.request import parse_pipeline_request
from tests.components.support import ENV_KEY, build, make_context, only

ACCOUNTS = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}
USER_KEY = "arn:aws:kms:us-east-1:111111111111:key/22222222-2222-2222-2222-222222222222"
CUSTOM_IMAGE = "444455556666.dkr.ecr.us-east-1.amazonaws.com/team/churn-serve:2.1"
PACKAGE = "arn:aws:sagemaker:us-east-1:999999999999:model-package/churn-models/3"

MODEL = "aws:sagemaker/model:Model"
CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
SCALING_TARGET = "aws:appautoscaling/target:Target"
SCALING_POLICY = "aws:appautoscaling/policy:Policy"


def builtin_request(**overrides: Any) -> dict[str, Any]:
    return {
        "pipeline_type": "byom_realtime_builtin",
        "model_name": "churn-xgb",
        "inference_instance": "ml.m5.large",
        "model_framework": "xgboost",
        "model_framework_version": "1.7-1",
        "model_artifact_location": "models/churn/model.tar.gz",
        "data_capture_location": "capture-bucket/churn",
        **overrides,
    }


def custom_request(**overrides: Any) -> dict[str, Any]:
    body = builtin_request(pipeline_type="byom_realtime_custom", custom_image_uri=CUSTOM_IMAGE, **overrides)
    del body["model_framework"], body["model_framework_version"]
    return body


def context(env: str = "dev") -> PipelineContext:
    return make_context(
        environment=env,
        account_id=ACCOUNTS[env],
        orchestrator_account_id="999999999999",
        artifacts_bucket=f"mlops-{env}-artifacts",
        tags={"cost-center": "ml"},
    )


def deploy(body: dict[str, Any], env: str = "dev", mode: str = "single") -> dict[str, Any]:
    """Build the pipeline of `body` in `env` under the installed mock engine; return its outputs."""
    spec: PipelineSpec = parse_pipeline_request(body, mode=mode)  # type: ignore[arg-type]
    return build(spec.for_env(env), context(env), expect=RealtimeEndpoint)


def role_policy(recorder: PlanRecorder) -> dict[str, Any]:
    return policy_of(recorder.named(ROLE_POLICY, "churn-xgb-realtime-builtin-sagemaker-policy"))


# -- the model -----------------------------------------------------------------------------------
def test_builtin_model_runs_the_prebuilt_image_of_the_framework_version(pulumi_mocks: PlanRecorder) -> None:
    deploy(builtin_request())
    container = only(pulumi_mocks, MODEL).inputs["primaryContainer"]
    assert container["image"] == "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    assert container["modelDataUrl"] == "s3://mlops-assets/models/churn/model.tar.gz"


def test_first_party_algorithm_model_is_isolated_from_the_network(pulumi_mocks: PlanRecorder) -> None:
    deploy(builtin_request(model_framework="linear-learner", model_framework_version="1"))
    assert only(pulumi_mocks, MODEL).inputs["enableNetworkIsolation"] is True


def test_custom_model_runs_the_given_image_verbatim(pulumi_mocks: PlanRecorder) -> None:
    deploy(custom_request())
    model = only(pulumi_mocks, MODEL).inputs
    assert model["primaryContainer"]["image"] == CUSTOM_IMAGE
    assert model["enableNetworkIsolation"] is False


def test_model_package_replaces_image_and_artifact(pulumi_mocks: PlanRecorder) -> None:
    deploy(builtin_request(model_package_name=PACKAGE))
    assert only(pulumi_mocks, MODEL).inputs["primaryContainer"] == {"modelPackageName": PACKAGE}


def test_model_has_no_fixed_name_so_a_change_creates_before_deleting(pulumi_mocks: PlanRecorder) -> None:
    deploy(builtin_request())
    assert "name" not in only(pulumi_mocks, MODEL).inputs


def test_vpc_subnets_put_the_model_in_the_vpc(pulumi_mocks: PlanRecorder) -> None:
    deploy(builtin_request(subnet_ids=["subnet-0123456789abcdef0"], security_group_ids=["sg-0123456789abcdef0"]))
    assert only(pulumi_mocks, MODEL).inputs["vpcConfig"] == {
        "subnets": ["subnet-0123456789abcdef0"],
        "securityGroupIds": ["sg-0123456789abcdef0"],
    }
    network = [s for s in role_policy(pulumi_mocks)["Statement"] if "ec2:CreateNetworkInterface" in s["Action"]]
    assert len(network) == 1


def test_model_outside_a_vpc_has_no_vpc_config(pulumi_mocks: PlanRecorder) -> None:
    deploy(builtin_request())
    assert "vpcConfig" not in only(pulumi_mocks, MODEL).inputs


# -- the endpoint config -----------------------------------------------------------------------------
def test_endpoint_config_has_no_fixed_name(pulumi_mocks: PlanRecorder) -> None:
    deploy(builtin_request())
    inputs = only(pulumi_mocks, CONFIG).inputs
    assert "name" not in inputs and "namePrefix" not in inputs


def test_data_capture_records_inputs_and_outputs_encrypted(pulumi_mocks: PlanRecorder) -> None:
    deploy(builtin_request(data_capture_percentage=25))
    capture = only(pulumi_mocks, CONFIG).inputs["dataCaptureConfig"]
    assert capture["enableCapture"] is True
    assert capture["initialSamplingPercentage"] == 25
    assert capture["destinationS3Uri"] == "s3://capture-bucket/churn"
    assert capture["kmsKeyId"] == ENV_KEY
    assert sorted(o["captureMode"] for o in capture["captureOptions"]) == ["Input", "Output"]


def test_request_key_encrypts_volume_and_capture(pulumi_mocks: PlanRecorder) -> None:
    deploy(builtin_request(kms_key_arn=USER_KEY))
    config = only(pulumi_mocks, CONFIG).inputs
    assert config["kmsKeyArn"] == USER_KEY
    assert config["dataCaptureConfig"]["kmsKeyId"] == USER_KEY


def test_instance_storage_types_get_no_volume_key(pulumi_mocks: PlanRecorder) -> None:
    deploy(builtin_request(inference_instance="ml.g4dn.xlarge"))
    config = only(pulumi_mocks, CONFIG).inputs
    assert "kmsKeyArn" not in config
    assert config["dataCaptureConfig"]["kmsKeyId"] == ENV_KEY


def test_production_variant_has_the_requested_instances(pulumi_mocks: PlanRecorder) -> None:
    deploy(builtin_request(instance_count=3))
    [variant] = only(pulumi_mocks, CONFIG).inputs["productionVariants"]
    assert variant["instanceType"] == "ml.m5.large"
    assert variant["initialInstanceCount"] == 3
    assert variant["variantName"] == "AllTraffic"
    assert variant["modelName"] == "churn-xgb-realtime-builtin-model-0000000"


@pytest.mark.parametrize(("env", "instance"), [("dev", "ml.m5.large"), ("prod", "ml.c5.2xlarge")])
def test_multi_account_request_gets_each_environments_instance_type(
    pulumi_mocks: PlanRecorder, env: str, instance: str
) -> None:
    body = builtin_request(
        inference_instance={"dev": "ml.m5.large", "staging": "ml.m5.xlarge", "prod": "ml.c5.2xlarge"},
        data_capture_location={"dev": "dev-capture/churn", "staging": "stg-capture/churn", "prod": "prd-capture/churn"},
    )
    deploy(body, env=env, mode="multi")
    config = only(pulumi_mocks, CONFIG).inputs
    assert config["productionVariants"][0]["instanceType"] == instance
    capture = {"dev": "s3://dev-capture/churn", "prod": "s3://prd-capture/churn"}[env]
    assert config["dataCaptureConfig"]["destinationS3Uri"] == capture
    assert only(pulumi_mocks, ENDPOINT).inputs["name"] == f"churn-xgb-realtime-builtin-{env}-endpoint"


# -- the endpoint and its rollout ------------------------------------------------------------------
def test_endpoint_name_is_deterministic_and_fits_sagemaker(pulumi_mocks: PlanRecorder) -> None:
    outputs = deploy(builtin_request(model_name="a-very-long-model-name-for-the-churn-prediction-team-v2"))
    name = only(pulumi_mocks, ENDPOINT).inputs["name"]
    assert len(name) <= 63
    assert outputs["endpoint_name"] == name


def test_requested_endpoint_name_is_used(pulumi_mocks: PlanRecorder) -> None:
    deploy(builtin_request(endpoint_name="churn-live"))
    assert only(pulumi_mocks, ENDPOINT).inputs["name"] == "churn-live"


def test_endpoint_uses_the_generated_config(pulumi_mocks: PlanRecorder) -> None:
    deploy(builtin_request())
    assert only(pulumi_mocks, ENDPOINT).inputs["endpointConfigName"] == "churn-xgb-realtime-builtin-config-0000000"


def test_all_at_once_update_is_blue_green_in_one_step(pulumi_mocks: PlanRecorder) -> None:
    deploy(builtin_request())
    policy = only(pulumi_mocks, ENDPOINT).inputs["deploymentConfig"]["blueGreenUpdatePolicy"]
    assert policy["trafficRoutingConfiguration"] == {"type": "ALL_AT_ONCE", "waitIntervalInSeconds": 300}
    assert policy["terminationWaitInSeconds"] == 300


def test_canary_update_shifts_the_canary_share_first(pulumi_mocks: PlanRecorder) -> None:
    deploy(builtin_request(instance_count=2, deployment={"type": "canary", "canary_percentage": 25}))
    routing = only(pulumi_mocks, ENDPOINT).inputs["deploymentConfig"]["blueGreenUpdatePolicy"][
        "trafficRoutingConfiguration"
    ]
    assert routing["type"] == "CANARY"
    assert routing["canarySize"] == {"type": "CAPACITY_PERCENT", "value": 25}


def test_linear_update_shifts_in_steps(pulumi_mocks: PlanRecorder) -> None:
    deploy(
        builtin_request(
            instance_count=4, deployment={"type": "linear", "linear_step_percentage": 25, "wait_interval_seconds": 60}
        )
    )
    routing = only(pulumi_mocks, ENDPOINT).inputs["deploymentConfig"]["blueGreenUpdatePolicy"][
        "trafficRoutingConfiguration"
    ]
    assert routing == {
        "type": "LINEAR",
        "linearStepSize": {"type": "CAPACITY_PERCENT", "value": 25},
        "waitIntervalInSeconds": 60,
    }


def test_rollback_watches_the_built_in_alarms_and_the_requested_ones(pulumi_mocks: PlanRecorder) -> None:
    deploy(builtin_request(instance_count=2, deployment={"type": "canary", "alarm_names": ["churn-business-kpi"]}))
    created = {a.inputs["name"] for a in pulumi_mocks.of_type(ALARM)}
    rollback = only(pulumi_mocks, ENDPOINT).inputs["deploymentConfig"]["autoRollbackConfiguration"]
    assert {a["alarmName"] for a in rollback["alarms"]} == created | {"churn-business-kpi"}
    assert len(created) == 2


def test_rollback_alarms_watch_the_endpoints_errors_and_p99_latency(pulumi_mocks: PlanRecorder) -> None:
    deploy(builtin_request(deployment={"max_latency_ms": 250, "max_5xx_errors": 3}))
    alarms = {a.inputs["metricName"]: a.inputs for a in pulumi_mocks.of_type(ALARM)}
    dimensions = {"EndpointName": "churn-xgb-realtime-builtin-dev-endpoint", "VariantName": "AllTraffic"}
    assert alarms["Invocation5XXErrors"]["dimensions"] == dimensions
    assert alarms["Invocation5XXErrors"]["threshold"] == 3
    assert alarms["ModelLatency"]["dimensions"] == dimensions
    assert alarms["ModelLatency"]["extendedStatistic"] == "p99"
    assert alarms["ModelLatency"]["threshold"] == 250_000  # microseconds


def test_without_auto_rollback_there_are_no_alarms(pulumi_mocks: PlanRecorder) -> None:
    deploy(builtin_request(deployment={"auto_rollback": False, "alarm_names": ["ignored"]}))
    assert pulumi_mocks.of_type(ALARM) == []
    assert "autoRollbackConfiguration" not in only(pulumi_mocks, ENDPOINT).inputs["deploymentConfig"]


# -- autoscaling ------------------------------------------------------------------------------------
def test_autoscaling_tracks_invocations_per_instance_of_the_variant(pulumi_mocks: PlanRecorder) -> None:
    deploy(builtin_request(autoscaling={"min_capacity": 2, "max_capacity": 6, "target_invocations_per_instance": 500}))
    target = only(pulumi_mocks, SCALING_TARGET).inputs
    policy = only(pulumi_mocks, SCALING_POLICY).inputs
    resource_id = "endpoint/churn-xgb-realtime-builtin-dev-endpoint/variant/AllTraffic"
    assert target["resourceId"] == resource_id == policy["resourceId"]
    assert target["serviceNamespace"] == "sagemaker"
    assert target["scalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    assert (target["minCapacity"], target["maxCapacity"]) == (2, 6)
    tracking = policy["targetTrackingScalingPolicyConfiguration"]
    assert policy["policyType"] == "TargetTrackingScaling"
    assert tracking["targetValue"] == 500
    assert tracking["predefinedMetricSpecification"]["predefinedMetricType"] == "SageMakerVariantInvocationsPerInstance"


def test_no_autoscaling_unless_asked(pulumi_mocks: PlanRecorder) -> None:
    deploy(builtin_request())
    assert pulumi_mocks.of_type(SCALING_TARGET) == [] and pulumi_mocks.of_type(SCALING_POLICY) == []


# -- the role -----------------------------------------------------------------------------------------
def test_role_is_assumed_by_sagemaker_of_this_account_only(pulumi_mocks: PlanRecorder) -> None:
    deploy(builtin_request())
    [statement] = policy_of(only(pulumi_mocks, ROLE), "assumeRolePolicy")["Statement"]
    assert statement["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNTS["dev"]}}


def test_role_has_no_wildcards_but_the_ecr_token(pulumi_mocks: PlanRecorder) -> None:
    deploy(builtin_request())
    statements = role_policy(pulumi_mocks)["Statement"]
    assert all("*" not in s["Action"] for s in statements)
    wildcard = [s["Action"] for s in statements if s["Resource"] == "*" or "*" in s["Resource"]]
    assert wildcard == [["ecr:GetAuthorizationToken"]]


def test_role_reads_the_artifact_writes_capture_and_pulls_the_image(pulumi_mocks: PlanRecorder) -> None:
    deploy(custom_request())
    policy = policy_of(pulumi_mocks.named(ROLE_POLICY, "churn-xgb-realtime-custom-sagemaker-policy"))
    by_action: dict[str, list[str]] = {}
    for statement in policy["Statement"]:
        for action in statement["Action"]:
            by_action.setdefault(action, []).extend(statement["Resource"])
    assert by_action["s3:PutObject"] == ["arn:aws:s3:::capture-bucket/churn*"]
    assert "arn:aws:s3:::mlops-assets/models/churn/model.tar.gz*" in by_action["s3:GetObject"]
    assert by_action["ecr:BatchGetImage"] == ["arn:aws:ecr:us-east-1:444455556666:repository/team/churn-serve"]
    assert by_action["kms:GenerateDataKey*"] == [ENV_KEY]


# -- tags and outputs ----------------------------------------------------------------------------------
def test_every_taggable_resource_carries_the_pipeline_tags(pulumi_mocks: PlanRecorder) -> None:
    deploy(builtin_request(autoscaling={}, tags={"team": "churn"}))
    tagged = [r for r in pulumi_mocks.resources if r.custom and r.type not in (ROLE_POLICY, SCALING_POLICY)]
    assert {r.type for r in tagged} >= {MODEL, CONFIG, ENDPOINT, ALARM, ROLE, SCALING_TARGET}
    for resource in tagged:
        tags = resource.inputs["tags"]
        assert tags["mlops:pipeline-id"] == "churn-xgb-realtime-builtin", resource.name
        assert tags["mlops:environment"] == "dev", resource.name
        assert tags["team"] == "churn" and tags["cost-center"] == "ml", resource.name


def test_outputs_name_the_endpoint_model_config_and_role(pulumi_mocks: PlanRecorder) -> None:
    spec = parse_pipeline_request(builtin_request())

    def check(outputs: dict[str, Any]) -> None:
        assert outputs["endpoint_name"] == "churn-xgb-realtime-builtin-dev-endpoint"
        assert outputs["endpoint_arn"].endswith(":endpoint/churn-xgb-realtime-builtin-dev-endpoint")
        assert outputs["model_name"] == "churn-xgb-realtime-builtin-model-0000000"
        assert outputs["endpoint_config_name"] == "churn-xgb-realtime-builtin-config-0000000"
        assert outputs["role_arn"].startswith("arn:aws:iam::111111111111:role/")

    @pulumi.runtime.test
    def program() -> pulumi.Output[None]:
        component = build_pipeline(spec, context())
        return pulumi.Output.all(**component.outputs).apply(check)

    program()


def test_plan_has_no_duplicate_resource_names(pulumi_mocks: PlanRecorder) -> None:
    deploy(builtin_request(autoscaling={}, deployment={"alarm_names": ["x"]}))
    assert pulumi_mocks.duplicates == []
