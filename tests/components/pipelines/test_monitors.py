"""Model monitors: what each monitor type deploys on an endpoint (plain decisions: test_monitor_decisions.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import botocore.session
import pytest
from botocore.validate import validate_parameters

from components.pipelines import monitors
from components.pipelines.base import PipelineContext
from mlops_cli.mocks import PlanRecorder, policy_of
from mlops_spec.request import parse_pipeline_request
from tests.components.support import ENV_KEY, build, make_context, monitor_request, only

USER_KEY = "arn:aws:kms:us-east-1:111111111111:key/22222222-2222-2222-2222-222222222222"
ASSETS_KEY = "arn:aws:kms:us-east-1:999999999999:key/99999999-9999-9999-9999-999999999999"
SCHEDULE = "aws:sagemaker/monitoringSchedule:MonitoringSchedule"
STACK = "aws:cloudformation/stack:Stack"
MACHINE = "aws:sfn/stateMachine:StateMachine"
DATA_QUALITY_DEFINITION = "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition"


# -- requests and deployment -------------------------------------------------------------------
def context(region: str = "us-east-1") -> PipelineContext:
    return make_context(region=region, orchestrator_account_id="999999999999", assets_kms_key_arn=ASSETS_KEY)


def deploy(body: dict[str, Any], region: str = "us-east-1", check: Any = None) -> None:
    """Build the monitor of `body` under the installed mock engine; `check` sees its outputs."""
    build(parse_pipeline_request(body).for_env("dev"), context(region), check=check)


@dataclass
class Deployment:
    recorder: PlanRecorder
    outputs: dict[str, Any]


@pytest.fixture(scope="module")
def deployed() -> dict[str, Deployment]:
    """Each monitor type deployed once with its default request, for the tests that only read the plan."""
    deployments: dict[str, Deployment] = {}
    for pipeline_type, _ in ALL_TYPES:
        recorder = PlanRecorder()
        recorder.install(project="mlops", stack="dev")
        outputs: dict[str, Any] = {}
        deploy(monitor_request(pipeline_type), check=outputs.update)
        deployments[pipeline_type] = Deployment(recorder, outputs)
    return deployments


def template_properties(recorder: PlanRecorder) -> tuple[str, dict[str, Any]]:
    resource = json.loads(only(recorder, STACK).inputs["templateBody"])["Resources"]["JobDefinition"]
    return resource["Type"], resource["Properties"]


def baseline_states(recorder: PlanRecorder) -> dict[str, Any]:
    return json.loads(only(recorder, MACHINE).inputs["definition"])["States"]


def monitor_policy(recorder: PlanRecorder) -> list[dict[str, Any]]:
    return policy_of(recorder.named("aws:iam/rolePolicy:RolePolicy", f"{_pipeline(recorder)}-role-policy"))["Statement"]


def _pipeline(recorder: PlanRecorder) -> str:
    return only(recorder, SCHEDULE).name.removesuffix("-schedule")


ALL_TYPES = [
    ("byom_data_quality_monitor", "DataQuality"),
    ("byom_model_quality_monitor", "ModelQuality"),
    ("byom_model_bias_monitor", "ModelBias"),
    ("byom_model_explainability_monitor", "ModelExplainability"),
]


# -- every type --------------------------------------------------------------------------------
@pytest.mark.parametrize(("pipeline_type", "monitoring_type"), ALL_TYPES)
def test_schedule_runs_the_type_on_the_endpoint_on_the_cron(
    deployed: dict[str, Deployment], pipeline_type: str, monitoring_type: str
) -> None:
    recorder, outputs = deployed[pipeline_type].recorder, deployed[pipeline_type].outputs
    pipeline_id = parse_pipeline_request(monitor_request(pipeline_type)).pipeline_id
    assert outputs["endpoint_name"] == "churn-endpoint"
    assert outputs["monitoring_schedule_name"] == f"{pipeline_id}-dev-schedule"
    assert outputs["baseline_output_location"] == f"s3://monitor-bucket/baselines/{outputs['baseline_run_name']}"
    assert len(outputs["job_definition_name"]) <= 63 and len(outputs["baseline_run_name"]) <= 60
    schedule = only(recorder, SCHEDULE).inputs
    config = schedule["monitoringScheduleConfig"]
    assert config["monitoringType"] == monitoring_type
    assert config["monitoringJobDefinitionName"] == outputs["job_definition_name"]
    assert config["scheduleConfig"] == {"scheduleExpression": "cron(0 * ? * * *)"}
    assert schedule["tags"]["mlops:pipeline-type"] == pipeline_type
    assert schedule["tags"]["mlops:environment"] == "dev"


@pytest.mark.parametrize(("pipeline_type", "monitoring_type"), ALL_TYPES)
def test_baseline_job_reads_the_baseline_data_and_encrypts_volume_and_output(
    deployed: dict[str, Deployment], pipeline_type: str, monitoring_type: str
) -> None:
    job = baseline_states(deployed[pipeline_type].recorder)["RunJob"]
    assert job["Resource"] == "arn:aws:states:::sagemaker:createProcessingJob.sync"
    parameters = job["Parameters"]
    assert parameters["ProcessingJobName.$"] == "$$.Execution.Name"
    uris = [i["S3Input"]["S3Uri"] for i in parameters["ProcessingInputs"]]
    assert "s3://mlops-assets/baselines/churn.csv" in uris
    assert parameters["ProcessingOutputConfig"]["KmsKeyId"] == ENV_KEY
    assert parameters["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == ENV_KEY
    assert parameters["NetworkConfig"]["EnableInterContainerTrafficEncryption"] is True


@pytest.mark.parametrize(("pipeline_type", "monitoring_type"), ALL_TYPES)
def test_baseline_request_is_a_valid_create_processing_job_call(
    deployed: dict[str, Deployment], pipeline_type: str, monitoring_type: str
) -> None:
    parameters = dict(baseline_states(deployed[pipeline_type].recorder)["RunJob"]["Parameters"])
    # Step Functions fills the name from the execution at run time.
    parameters["ProcessingJobName"] = parameters.pop("ProcessingJobName.$").replace("$$.Execution.Name", "run-1")
    shape = botocore.session.get_session().get_service_model("sagemaker").operation_model("CreateProcessingJob")
    validate_parameters(parameters, shape.input_shape)


@pytest.mark.parametrize(("pipeline_type", "monitoring_type"), ALL_TYPES[1:])
def test_cloudformation_job_definitions_match_the_sagemaker_api(
    deployed: dict[str, Deployment], pipeline_type: str, monitoring_type: str
) -> None:
    # CloudFormation's job-definition properties mirror the Create*JobDefinition request, so the API
    # model checks names, types and required fields offline.
    resource_type, properties = template_properties(deployed[pipeline_type].recorder)
    assert resource_type == f"AWS::SageMaker::{monitoring_type}JobDefinition"
    model = botocore.session.get_session().get_service_model("sagemaker")
    validate_parameters(properties, model.operation_model(f"Create{monitoring_type}JobDefinition").input_shape)


@pytest.mark.parametrize(("pipeline_type", "monitoring_type"), ALL_TYPES)
def test_roles_are_scoped_and_never_grant_everything(
    deployed: dict[str, Deployment], pipeline_type: str, monitoring_type: str
) -> None:
    recorder = deployed[pipeline_type].recorder
    for policy in recorder.of_type("aws:iam/rolePolicy:RolePolicy"):
        for statement in policy_of(policy)["Statement"]:
            assert statement["Action"] != "*" and "*" not in statement["Action"]
            if statement["Resource"] == "*":
                assert all(not action.endswith(":*") for action in statement["Action"])
    trust = json.loads(recorder.named("aws:iam/role:Role", f"{_pipeline(recorder)}-role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    resources = {r for s in monitor_policy(recorder) for r in _as_list(s["Resource"])}
    assert "arn:aws:s3:::capture-bucket/churn/capture*" in resources
    assert "arn:aws:s3:::mlops-assets/baselines/churn.csv*" in resources
    assert ASSETS_KEY in resources and ENV_KEY in resources


def _as_list(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


def test_the_requests_key_encrypts_the_baseline_and_the_monitoring_jobs(pulumi_mocks: PlanRecorder) -> None:
    deploy(monitor_request("byom_data_quality_monitor", kms_key_arn=USER_KEY))
    parameters = baseline_states(pulumi_mocks)["RunJob"]["Parameters"]
    assert parameters["ProcessingOutputConfig"]["KmsKeyId"] == USER_KEY
    assert parameters["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == USER_KEY
    definition = only(pulumi_mocks, DATA_QUALITY_DEFINITION).inputs
    assert definition["dataQualityJobOutputConfig"]["kmsKeyId"] == USER_KEY
    assert definition["jobResources"]["clusterConfig"]["volumeKmsKeyId"] == USER_KEY


def test_monitors_use_the_image_of_their_region(pulumi_mocks: PlanRecorder) -> None:
    deploy(monitor_request("byom_model_bias_monitor"), region="eu-west-1")
    _, properties = template_properties(pulumi_mocks)
    expected = "131013547314.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-clarify-processing:1.0"
    assert properties["ModelBiasAppSpecification"]["ImageUri"] == expected
    assert baseline_states(pulumi_mocks)["RunJob"]["Parameters"]["AppSpecification"]["ImageUri"] == expected


def test_a_monitor_in_an_unsupported_region_fails_before_anything_is_created(pulumi_mocks: PlanRecorder) -> None:
    with pytest.raises(monitors.UnsupportedRegionError):
        deploy(monitor_request("byom_data_quality_monitor"), region="il-central-1")


# -- data quality --------------------------------------------------------------------------------
def test_data_quality_uses_the_native_job_definition_against_the_baseline(deployed: dict[str, Deployment]) -> None:
    recorder = deployed["byom_data_quality_monitor"].recorder
    definition = only(recorder, DATA_QUALITY_DEFINITION).inputs
    baseline = only(recorder, SCHEDULE).inputs["monitoringScheduleConfig"]
    assert baseline["monitoringJobDefinitionName"] == definition["name"]
    run_uri = definition["dataQualityBaselineConfig"]["constraintsResource"]["s3Uri"]
    assert run_uri.startswith("s3://monitor-bucket/baselines/churn-data-quality-dev-baseline-")
    assert run_uri.endswith("/constraints.json")
    assert definition["dataQualityJobInput"]["endpointInput"]["endpointName"] == "churn-endpoint"
    assert definition["dataQualityJobOutputConfig"]["kmsKeyId"] == ENV_KEY
    assert definition["jobResources"]["clusterConfig"]["volumeKmsKeyId"] == ENV_KEY
    assert definition["networkConfig"] == {
        "enableInterContainerTrafficEncryption": True,
        "enableNetworkIsolation": True,
    }
    assert not recorder.of_type(STACK)


def test_data_quality_baseline_reads_a_csv_with_a_header(deployed: dict[str, Deployment]) -> None:
    recorder = deployed["byom_data_quality_monitor"].recorder
    environment = baseline_states(recorder)["RunJob"]["Parameters"]["Environment"]
    assert json.loads(environment["dataset_format"]) == {"csv": {"header": True, "output_columns_position": "START"}}
    assert environment["publish_cloudwatch_metrics"] == "Disabled"


def test_instance_storage_gets_no_volume_key(pulumi_mocks: PlanRecorder) -> None:
    deploy(monitor_request("byom_data_quality_monitor", instance_type="ml.g4dn.xlarge"))
    cluster = only(pulumi_mocks, DATA_QUALITY_DEFINITION).inputs["jobResources"]["clusterConfig"]
    assert "volumeKmsKeyId" not in cluster


# -- model quality, bias, explainability (CloudFormation job definitions) -----------------------
def test_model_quality_definition_compares_predictions_with_ground_truth(deployed: dict[str, Deployment]) -> None:
    recorder = deployed["byom_model_quality_monitor"].recorder
    resource_type, properties = template_properties(recorder)
    assert resource_type == "AWS::SageMaker::ModelQualityJobDefinition"
    assert properties["ModelQualityAppSpecification"]["ProblemType"] == "BinaryClassification"
    job_input = properties["ModelQualityJobInput"]
    assert job_input["GroundTruthS3Input"] == {"S3Uri": "s3://truth-bucket/churn"}
    assert job_input["EndpointInput"]["ProbabilityAttribute"] == "0"
    assert job_input["EndpointInput"]["ProbabilityThresholdAttribute"] == 0.5
    assert properties["ModelQualityJobOutputConfig"]["KmsKeyId"] == ENV_KEY
    assert properties["JobResources"]["ClusterConfig"]["VolumeKmsKeyId"] == ENV_KEY
    assert only(recorder, STACK).inputs["name"] == properties["JobDefinitionName"]


def test_model_quality_baseline_names_the_columns(deployed: dict[str, Deployment]) -> None:
    recorder = deployed["byom_model_quality_monitor"].recorder
    environment = baseline_states(recorder)["RunJob"]["Parameters"]["Environment"]
    assert environment["analysis_type"] == "MODEL_QUALITY"
    assert environment["problem_type"] == "BinaryClassification"
    assert environment["ground_truth_attribute"] == "label"
    assert environment["probability_attribute"] == "probability"
    assert environment["probability_threshold_attribute"] == "0.5"


def test_model_quality_reads_the_ground_truth(deployed: dict[str, Deployment]) -> None:
    recorder = deployed["byom_model_quality_monitor"].recorder
    reads = [s for s in monitor_policy(recorder) if s["Action"] == ["s3:GetObject"]]
    assert any("arn:aws:s3:::truth-bucket/churn*" in s["Resource"] for s in reads)


def test_bias_definition_reads_the_generated_analysis_config(deployed: dict[str, Deployment]) -> None:
    recorder = deployed["byom_model_bias_monitor"].recorder
    resource_type, properties = template_properties(recorder)
    assert resource_type == "AWS::SageMaker::ModelBiasJobDefinition"
    config_uri = properties["ModelBiasAppSpecification"]["ConfigUri"]
    assert config_uri.startswith("s3://mlops-dev-artifacts/churn-model-bias/dev/clarify/")
    assert properties["ModelBiasBaselineConfig"]["ConstraintsResource"]["S3Uri"].endswith("/analysis.json")
    assert properties["ModelBiasJobInput"]["GroundTruthS3Input"] == {"S3Uri": "s3://truth-bucket/churn"}
    # Clarify calls the endpoint, so its jobs cannot be network-isolated; traffic stays encrypted.
    assert properties["NetworkConfig"] == {
        "EnableInterContainerTrafficEncryption": True,
        "EnableNetworkIsolation": False,
    }
    states = baseline_states(recorder)
    assert states["WriteMonitorConfig"]["Arguments"]["Key"] in config_uri


def test_bias_baseline_reads_the_header_then_writes_both_configs(deployed: dict[str, Deployment]) -> None:
    recorder = deployed["byom_model_bias_monitor"].recorder
    definition = json.loads(only(recorder, MACHINE).inputs["definition"])
    assert definition["StartAt"] == "ReadHeader"
    states = definition["States"]
    assert states["ReadHeader"]["Arguments"] == {
        "Bucket": "mlops-assets",
        "Key": "baselines/churn.csv",
        "Range": "bytes=0-65535",
    }
    assert [states[s]["Next"] for s in ("ReadHeader", "WriteBaselineConfig", "WriteMonitorConfig")] == [
        "WriteBaselineConfig",
        "WriteMonitorConfig",
        "RunJob",
    ]
    body = states["WriteBaselineConfig"]["Arguments"]["Body"]
    assert '"facet": [{"name_or_index": "age", "value_or_threshold": [40]}]' in body
    assert '"endpoint_name": "churn-endpoint"' in body and '"probability_threshold": 0.8' in body


def test_clarify_may_call_only_the_monitored_endpoint(deployed: dict[str, Deployment]) -> None:
    recorder = deployed["byom_model_explainability_monitor"].recorder
    [invoke] = [s for s in monitor_policy(recorder) if "sagemaker:InvokeEndpoint" in s["Action"]]
    assert invoke["Resource"] == ["arn:aws:sagemaker:us-east-1:111111111111:endpoint/churn-endpoint"]


def test_explainability_definition_and_its_shap_baseline(pulumi_mocks: PlanRecorder) -> None:
    deploy(monitor_request("byom_model_explainability_monitor", model_scores=1))
    resource_type, properties = template_properties(pulumi_mocks)
    assert resource_type == "AWS::SageMaker::ModelExplainabilityJobDefinition"
    assert "GroundTruthS3Input" not in properties["ModelExplainabilityJobInput"]
    assert properties["ModelExplainabilityJobInput"]["EndpointInput"]["InferenceAttribute"] == "1"
    reads = [s for s in monitor_policy(pulumi_mocks) if s["Action"] == ["s3:GetObject"]]
    assert any("arn:aws:s3:::mlops-assets/baselines/shap.csv*" in s["Resource"] for s in reads)


def test_a_changed_request_gets_a_new_job_definition_and_baseline_run(pulumi_mocks: PlanRecorder) -> None:
    names: list[tuple[str, str]] = []
    for runtime in (1800, 3600):
        deploy(
            monitor_request("byom_model_quality_monitor", monitor_max_runtime_seconds=runtime),
            check=lambda o: names.append((o["job_definition_name"], o["baseline_run_name"])),
        )
    assert names[0][0] != names[1][0] and names[0][1] != names[1][1]
    schedules = {r.inputs["name"] for r in pulumi_mocks.of_type(SCHEDULE)}
    assert schedules == {"churn-model-quality-dev-schedule"}
