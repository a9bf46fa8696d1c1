"""What a monitor deploys, as plain values: where it reads and writes, its jobs' requests and its role's rights.

Changes when the shape of a monitor's baseline job, job definition or role changes for every monitor
type alike. Nothing here creates a resource; the components (base, quality, clarify) do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from components import policies
from components.pipelines import roles
from components.pipelines.base import PipelineContext
from components.pipelines.run_on_deploy import (
    EXECUTION_NAME_PATH,
    PROCESSING_SYNC_RULE,
    pass_role,
    sync_rule_access,
)
from components.pipelines.served_model import resolved, s3_uri, split_location, volume_kms_key
from mlops_spec import naming
from mlops_spec.base import PipelineSpec
from mlops_spec.pipelines.monitors import MonitorSpec, ProblemTypeMonitorSpec

Statement = policies.Statement

# -- paths inside the containers ---------------------------------------------------------------
PROCESSING_OUTPUT = "/opt/ml/processing/output"
ENDPOINT_INPUT = "/opt/ml/processing/input/endpoint"
ANALYZER_DATASET = "/opt/ml/processing/input/baseline_dataset_input"
CLARIFY_DATASET = "/opt/ml/processing/input/data"
CLARIFY_CONFIG = "/opt/ml/processing/input/config"
# The baseline (first) line of the dataset is read for Clarify's column headers; 64 KiB holds it.
HEADER_BYTES = 65535
# Baseline run names leave room for a retry suffix ("-2") inside SageMaker's 63-character job names.
BASELINE_RUN_LIMIT = naming.SAGEMAKER_NAME_LIMIT - 3
# State machine timeout when the request sets no baseline limit (SageMaker's default is 1 day).
DEFAULT_BASELINE_SECONDS = 86400
# Monitoring jobs publish their metrics to CloudWatch (the setting SageMaker's SDK writes for it).
PUBLISH_METRICS = {"publish_cloudwatch_metrics": "Enabled"}
CSV_WITH_HEADER = {"csv": {"header": True, "output_columns_position": "START"}}


@dataclass(frozen=True)
class MonitorPlan:
    """Where one monitor reads and writes, and with which key, as plain values."""

    spec: MonitorSpec
    run_name: str
    assets_bucket: str
    artifacts_bucket: str
    key_arn: str
    """The monitor's key: the request's, or the environment's."""
    environment_key_arn: str
    config_prefix: str
    """Prefix in the artifacts bucket for generated Clarify analysis configs."""
    partition: str = "aws"
    """The ARN partition of the environment's region (aws, aws-cn, aws-us-gov)."""

    @property
    def endpoint_name(self) -> str:
        return resolved(self.spec.endpoint_name)

    @property
    def instance_type(self) -> str:
        return resolved(self.spec.instance_type)

    @property
    def baseline_data_uri(self) -> str:
        return f"s3://{self.assets_bucket}/{self.spec.baseline_data}"

    @property
    def baseline_output_location(self) -> str:
        """`bucket/prefix` of this run's results: stable across retries of the run."""
        return f"{resolved(self.spec.baseline_job_output_location)}/{self.run_name}"

    @property
    def baseline_output_uri(self) -> str:
        return s3_uri(self.baseline_output_location)

    @property
    def monitoring_output_uri(self) -> str:
        return s3_uri(resolved(self.spec.monitoring_output_location))

    @property
    def baseline_config_key(self) -> str:
        return f"{self.config_prefix}/{self.run_name}/baseline_analysis_config.json"

    @property
    def monitor_config_key(self) -> str:
        return f"{self.config_prefix}/{self.run_name}/analysis_config.json"

    def cluster_config(self) -> dict[str, Any]:
        """One instance (as in the solution we replace), its volume encrypted where SageMaker allows it."""
        config: dict[str, Any] = {
            "InstanceCount": 1,
            "InstanceType": self.instance_type,
            "VolumeSizeInGB": resolved(self.spec.instance_volume_size),
        }
        volume_key = volume_kms_key(self.instance_type, self.key_arn)
        if volume_key:
            config["VolumeKmsKeyId"] = volume_key
        return config

    def output_config(self) -> dict[str, Any]:
        return {
            "KmsKeyId": self.key_arn,
            "MonitoringOutputs": [
                {
                    "S3Output": {
                        "S3Uri": self.monitoring_output_uri,
                        "LocalPath": PROCESSING_OUTPUT,
                        "S3UploadMode": "EndOfJob",
                    }
                }
            ],
        }


# -- plain pieces shared by the types ----------------------------------------------------------
def s3_input(name: str, uri: str, local_path: str) -> dict[str, Any]:
    return {
        "InputName": name,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": local_path,
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
        },
    }


def processing_job(
    plan: MonitorPlan,
    role_arn: str,
    image: str,
    inputs: list[dict[str, Any]],
    output_name: str,
    isolated: bool,
    environment: dict[str, str] | None = None,
) -> dict[str, Any]:
    """CreateProcessingJob parameters of a baseline run; the job is named after the execution."""
    request: dict[str, Any] = {
        "ProcessingJobName.$": EXECUTION_NAME_PATH,
        "RoleArn": role_arn,
        "AppSpecification": {"ImageUri": image},
        "ProcessingResources": {"ClusterConfig": plan.cluster_config()},
        "ProcessingInputs": inputs,
        "ProcessingOutputConfig": {
            "KmsKeyId": plan.key_arn,
            "Outputs": [
                {
                    "OutputName": output_name,
                    "S3Output": {
                        "S3Uri": plan.baseline_output_uri,
                        "LocalPath": PROCESSING_OUTPUT,
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ],
        },
        "NetworkConfig": {"EnableNetworkIsolation": isolated, "EnableInterContainerTrafficEncryption": True},
    }
    if environment:
        request["Environment"] = environment
    if plan.spec.baseline_max_runtime_seconds is not None:
        request["StoppingCondition"] = {"MaxRuntimeInSeconds": resolved(plan.spec.baseline_max_runtime_seconds)}
    return request


def baseline_timeout(spec: MonitorSpec) -> int:
    """The run's time limit: the job's own limit plus an hour of queueing and start-up."""
    limit = spec.baseline_max_runtime_seconds
    return (resolved(limit) if limit is not None else DEFAULT_BASELINE_SECONDS) + 3600


def endpoint_input(plan: MonitorPlan, **attributes: Any) -> dict[str, Any]:
    """The EndpointInput of a CloudFormation job definition; None attributes are left out."""
    return {
        "EndpointName": plan.endpoint_name,
        "LocalPath": ENDPOINT_INPUT,
        "S3InputMode": "File",
        "S3DataDistributionType": "FullyReplicated",
        **{key: value for key, value in attributes.items() if value is not None},
    }


def prediction_attributes(spec: ProblemTypeMonitorSpec) -> dict[str, Any]:
    """Where the prediction and its probability are in captured records, and the positive threshold."""
    return {
        "InferenceAttribute": spec.monitor_inference_attribute,
        "ProbabilityAttribute": spec.monitor_probability_attribute,
        "ProbabilityThresholdAttribute": spec.probability_threshold_attribute,
    }


def job_definition_properties(
    prefix: str,
    plan: MonitorPlan,
    role_arn: str,
    app: dict[str, Any],
    job_input: dict[str, Any],
    constraints_uri: str,
    isolated: bool,
) -> dict[str, Any]:
    """Properties of an AWS::SageMaker::<prefix>JobDefinition (without its name)."""
    return {
        "RoleArn": role_arn,
        "JobResources": {"ClusterConfig": plan.cluster_config()},
        "NetworkConfig": {"EnableInterContainerTrafficEncryption": True, "EnableNetworkIsolation": isolated},
        "StoppingCondition": {"MaxRuntimeInSeconds": resolved(plan.spec.monitor_max_runtime_seconds)},
        f"{prefix}AppSpecification": app,
        f"{prefix}BaselineConfig": {"ConstraintsResource": {"S3Uri": constraints_uri}},
        f"{prefix}JobInput": job_input,
        f"{prefix}JobOutputConfig": plan.output_config(),
    }


def definition_name(spec: PipelineSpec, environment: str, properties: dict[str, Any]) -> str:
    """Job definitions are immutable: the name follows their content, so a change creates a new one
    (and the schedule moves to it) before the old one is deleted."""
    digest = naming.short_hash(json.dumps(properties, sort_keys=True))
    return naming.resource_name(spec.pipeline_id, environment, f"monitor-{digest}")


def job_definition_template(resource_type: str, properties: dict[str, Any]) -> str:
    """A one-resource CloudFormation template; the stack's tags propagate to the job definition."""
    return json.dumps(
        {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": f"{resource_type} of one model monitor (managed by the MLOps orchestrator)",
            "Resources": {"JobDefinition": {"Type": resource_type, "Properties": properties}},
            "Outputs": {"JobDefinitionArn": {"Value": {"Ref": "JobDefinition"}}},
        },
        sort_keys=True,
    )


def role_statements(
    plan: MonitorPlan,
    context: PipelineContext,
    reads: list[str],
    assets_keys: list[str],
    assets_key: str | None,
    extra: list[Statement],
) -> list[Statement]:
    """What a monitor's SageMaker role may do: read its baseline data, the endpoint's captured data and
    `reads`; write its baseline and monitoring outputs; use the keys; log; plus the type's `extra`."""
    capture_bucket, capture_prefix = split_location(resolved(plan.spec.data_capture_location))
    partition = plan.partition
    statements = roles.s3_read(plan.assets_bucket, [plan.spec.baseline_data, *assets_keys], partition)
    statements += roles.s3_read(capture_bucket, [capture_prefix], partition)
    for location in reads:
        bucket, prefix = split_location(location)
        statements += roles.s3_read(bucket, [prefix], partition)
    for location in (plan.baseline_output_location, resolved(plan.spec.monitoring_output_location)):
        bucket, prefix = split_location(location)
        statements += roles.s3_write(bucket, [prefix], partition)
    statements.append(roles.kms_use(sorted({plan.key_arn, plan.environment_key_arn})))
    # The baseline data sits in the orchestrator's assets bucket, encrypted with its key.
    statements += roles.assets_key_decrypt(assets_key)
    statements.append(roles.sagemaker_logs(context))
    statements.append(roles.sagemaker_metrics("aws/sagemaker/Endpoints/*"))
    return statements + extra


def baseline_machine_statements(context: PipelineContext, run_name: str, role_arn: str) -> list[Statement]:
    """What the baseline state machine may do: run processing jobs of this run only, under the monitor's role."""
    jobs = context.arn("sagemaker", f"processing-job/{run_name}*")
    return [
        policies.statement(
            [
                "sagemaker:AddTags",
                "sagemaker:CreateProcessingJob",
                "sagemaker:DescribeProcessingJob",
                "sagemaker:StopProcessingJob",
            ],
            [jobs],
        ),
        pass_role(role_arn, "sagemaker.amazonaws.com"),
        sync_rule_access(context, PROCESSING_SYNC_RULE),
    ]
