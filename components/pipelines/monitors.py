"""Model monitors of an existing endpoint: a baseline run, a job definition and a schedule, per monitoring type.

Every monitor has the same shape: a SageMaker role scoped to its data, a baseline processing job run
once per request (see run_on_deploy), a monitoring job definition and a schedule on the endpoint.
The four types differ only in small pieces: the container image, the baseline's environment or
Clarify analysis config, and the job definition's type-specific properties.

Job definitions: pulumi-aws has a DataQualityJobDefinition resource but none for model quality, bias
or explainability. Those three are CloudFormation resources (AWS::SageMaker::Model*JobDefinition)
deployed through `aws.cloudformation.Stack` with an inline template: the program keeps needing only
the aws provider plugin (baked into the provisioner image), where pulumi-aws-native would add a
second plugin and a second set of credentials to every deployment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar, cast

import pulumi
import pulumi_aws as aws

from components import policies
from components.pipelines import roles
from components.pipelines.base import PipelineComponent, PipelineContext
from components.pipelines.run_on_deploy import (
    EXECUTION_NAME_PATH,
    PROCESSING_SYNC_RULE,
    RunOnDeploy,
    pass_role,
    sync_rule_access,
    task_definition,
)
from components.pipelines.served_model import resolved, s3_uri, split_location, volume_kms_key
from mlops_spec import naming
from mlops_spec.base import PipelineSpec
from mlops_spec.common import Environment
from mlops_spec.pipelines.monitors import (
    DataQualityMonitorSpec,
    ModelBiasMonitorSpec,
    ModelExplainabilityMonitorSpec,
    ModelQualityMonitorSpec,
    MonitorSpec,
)

Statement = policies.Statement

# -- images ------------------------------------------------------------------------------------
# AWS accounts publishing the model-monitor analyzer and the Clarify processing image, per region
# (as listed by the SageMaker Python SDK's image_uri_config/model-monitor.json and clarify.json).
MODEL_MONITOR_REGISTRIES = {
    "us-east-1": "156813124566",
    "us-east-2": "777275614652",
    "us-west-1": "890145073186",
    "us-west-2": "159807026194",
    "ca-central-1": "536280801234",
    "eu-west-1": "468650794304",
    "eu-west-2": "749857270468",
    "eu-west-3": "680080141114",
    "eu-central-1": "048819808253",
    "eu-north-1": "895015795356",
    "ap-northeast-1": "574779866223",
    "ap-northeast-2": "709848358524",
    "ap-south-1": "126357580389",
    "ap-southeast-1": "245545462676",
    "ap-southeast-2": "563025443158",
    "sa-east-1": "539772159869",
}
CLARIFY_REGISTRIES = {
    "us-east-1": "205585389593",
    "us-east-2": "211330385671",
    "us-west-1": "740489534195",
    "us-west-2": "306415355426",
    "ca-central-1": "675030665977",
    "eu-west-1": "131013547314",
    "eu-west-2": "440796970383",
    "eu-west-3": "341593696636",
    "eu-central-1": "017069133835",
    "eu-north-1": "763603941244",
    "ap-northeast-1": "377024640650",
    "ap-northeast-2": "263625296855",
    "ap-south-1": "452307495513",
    "ap-southeast-1": "834264404009",
    "ap-southeast-2": "007051062584",
    "sa-east-1": "520018980103",
}


class UnsupportedRegionError(ValueError):
    """The monitor's container image is not published in (or not known for) the region."""


def _image(registries: dict[str, str], repository: str, region: str) -> str:
    account = registries.get(region)
    if account is None:
        known = ", ".join(sorted(registries))
        raise UnsupportedRegionError(f"no {repository} image is known for region {region!r}; supported: {known}")
    return f"{account}.dkr.ecr.{region}.amazonaws.com/{repository}"


def model_monitor_image(region: str) -> str:
    """The model-monitor analyzer (data and model quality) of a region."""
    return _image(MODEL_MONITOR_REGISTRIES, "sagemaker-model-monitor-analyzer", region)


def clarify_image(region: str) -> str:
    """The SageMaker Clarify processing image (bias and explainability) of a region."""
    return _image(CLARIFY_REGISTRIES, "sagemaker-clarify-processing", region) + ":1.0"


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
    statements = roles.s3_read(plan.assets_bucket, [plan.spec.baseline_data, *assets_keys])
    statements += roles.s3_read(capture_bucket, [capture_prefix])
    for location in reads:
        bucket, prefix = split_location(location)
        statements += roles.s3_read(bucket, [prefix])
    for location in (plan.baseline_output_location, resolved(plan.spec.monitoring_output_location)):
        bucket, prefix = split_location(location)
        statements += roles.s3_write(bucket, [prefix])
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


# -- the component -----------------------------------------------------------------------------
class ModelMonitor(PipelineComponent):
    """Base of the four monitors. Subclasses set the type's pieces; none branches on the type."""

    SPEC: ClassVar[type[MonitorSpec]]
    MONITORING_TYPE: ClassVar[str]
    """SageMaker's MonitoringType of the schedule."""
    RESOURCE_TYPE: ClassVar[str]
    """The CloudFormation type of the job definition (AWS::SageMaker::<Type>JobDefinition)."""
    CONSTRAINTS_FILE: ClassVar[str] = "constraints.json"
    # The analyzer only reads its channels and writes its output (metrics go through the platform):
    # it runs without network access. Clarify must call the endpoint, so it cannot.
    ISOLATED: ClassVar[bool] = True

    def __init__(
        self, name: str, spec: PipelineSpec, context: PipelineContext, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__(name, spec, context, opts)
        if not isinstance(spec, self.SPEC):
            raise TypeError(f"{type(self).__name__} expects a {self.SPEC.__name__}, got {type(spec).__name__}")
        self.monitor_spec = spec
        self.image_uri = self.image(context.region)
        environment = cast(Environment, context.environment)
        run_name = spec.run_name(environment, "baseline", BASELINE_RUN_LIMIT)
        plan = self._plan(run_name)
        role = roles.ExecutionRole(
            f"{name}-role",
            role_name=self.physical_name("sagemaker-role", roles.IAM_ROLE_NAME_LIMIT),
            service="sagemaker.amazonaws.com",
            account_id=context.account_id,
            statements=pulumi.Output.all(plan, context.assets_kms_key_arn).apply(
                lambda v: role_statements(
                    v[0], context, self.reads(v[0]), self.assets_keys(v[0]), v[1], self.extra_statements(v[0], context)
                )
            ),
            tags=self.tags,
            opts=self.child_opts(),
        )
        baseline = self._baseline(name, plan, role, run_name)
        definition = self.job_definition(name, plan, role.arn)
        schedule = aws.sagemaker.MonitoringSchedule(
            f"{name}-schedule",
            name=spec.monitoring_schedule_name(environment),
            monitoring_schedule_config={
                "monitoring_type": self.MONITORING_TYPE,
                "monitoring_job_definition_name": definition,
                "schedule_config": {"schedule_expression": resolved(spec.schedule_expression)},
            },
            tags=self.tags,
            # The baseline run has written the constraints the schedule's jobs compare against.
            opts=self.child_opts(depends_on=[baseline]),
        )
        self.finish(
            {
                "endpoint_name": pulumi.Output.from_input(resolved(spec.endpoint_name)),
                "monitoring_schedule_name": schedule.name,
                "job_definition_name": definition,
                "baseline_run_name": pulumi.Output.from_input(run_name),
                "baseline_output_location": plan.apply(lambda p: p.baseline_output_uri),
                "baseline_state_machine_arn": baseline.state_machine_arn,
            }
        )

    def _plan(self, run_name: str) -> pulumi.Output[MonitorPlan]:
        spec, context = self.monitor_spec, self.context
        key = resolved(spec.kms_key_arn) if spec.kms_key_arn else context.kms_key_arn
        return pulumi.Output.all(context.assets_bucket, context.artifacts_bucket, key, context.kms_key_arn).apply(
            lambda values: MonitorPlan(
                spec=spec,
                run_name=run_name,
                assets_bucket=values[0],
                artifacts_bucket=values[1],
                key_arn=values[2],
                environment_key_arn=values[3],
                config_prefix=f"{spec.pipeline_id}/{context.environment}/clarify",
            )
        )

    def _baseline(
        self, name: str, plan: pulumi.Output[MonitorPlan], role: roles.ExecutionRole, run_name: str
    ) -> RunOnDeploy:
        context, image = self.context, self.image_uri
        return RunOnDeploy(
            f"{name}-baseline",
            context=context,
            machine_name=self.physical_name("baseline"),
            definition=pulumi.Output.all(plan, role.arn).apply(
                lambda v: json.dumps(self.baseline_definition(v[0], v[1], image))
            ),
            job_statements=pulumi.Output.all(plan, role.arn, context.assets_kms_key_arn).apply(
                lambda v: self.baseline_statements(v[0], context, v[1], v[2])
            ),
            run_name=run_name,
            name_limit=naming.SAGEMAKER_NAME_LIMIT,
            # Waiting makes the deploy fail when the baseline fails, and lets the schedule start after it.
            wait=True,
            tags=self.tags,
            opts=self.child_opts(depends_on=[role]),
        )

    # -- the type's pieces (plain, overridden per type) ------------------------------------------
    @staticmethod
    def image(region: str) -> str:
        return model_monitor_image(region)

    @classmethod
    def reads(cls, plan: MonitorPlan) -> list[str]:
        """Extra `bucket/prefix` locations the monitoring jobs read (ground truth)."""
        return []

    @classmethod
    def assets_keys(cls, plan: MonitorPlan) -> list[str]:
        """Extra keys of the assets bucket the jobs read (a SHAP baseline)."""
        return []

    @classmethod
    def extra_statements(cls, plan: MonitorPlan, context: PipelineContext) -> list[Statement]:
        """Further calls the type's jobs make (Clarify calls the endpoint)."""
        return []

    @classmethod
    def constraints_uri(cls, plan: MonitorPlan) -> str:
        return f"{plan.baseline_output_uri}/{cls.CONSTRAINTS_FILE}"

    @classmethod
    def baseline_environment(cls, plan: MonitorPlan) -> dict[str, str]:
        """The analyzer's settings for a baseline of a CSV dataset with a header row."""
        return {
            "dataset_format": json.dumps(CSV_WITH_HEADER),
            "dataset_source": ANALYZER_DATASET,
            "output_path": PROCESSING_OUTPUT,
            "publish_cloudwatch_metrics": "Disabled",
        }

    @classmethod
    def baseline_definition(cls, plan: MonitorPlan, role_arn: str, image: str) -> dict[str, Any]:
        inputs = [s3_input("baseline_dataset_input", plan.baseline_data_uri, ANALYZER_DATASET)]
        job = processing_job(
            plan, role_arn, image, inputs, "monitoring_output", cls.ISOLATED, cls.baseline_environment(plan)
        )
        return task_definition(
            f"{cls.MONITORING_TYPE} baseline of {plan.endpoint_name}",
            "arn:aws:states:::sagemaker:createProcessingJob.sync",
            job,
            baseline_timeout(plan.spec),
        )

    @classmethod
    def baseline_statements(
        cls, plan: MonitorPlan, context: PipelineContext, role_arn: str, assets_key: str | None
    ) -> list[Statement]:
        return baseline_machine_statements(context, plan.run_name, role_arn)

    @classmethod
    def job_properties(cls, plan: MonitorPlan, role_arn: str, image: str) -> dict[str, Any]:
        """Properties of the type's CloudFormation job definition (RESOURCE_TYPE)."""
        raise NotImplementedError

    def job_definition(
        self, name: str, plan: pulumi.Output[MonitorPlan], role_arn: pulumi.Output[str]
    ) -> pulumi.Output[str]:
        """Create the job definition; return its name (carrying the dependency on it).

        By default a job definition pulumi-aws lacks: a one-resource CloudFormation stack named after
        it. A new name (new content) replaces the stack; Pulumi creates the new one, moves the
        schedule, then deletes the old one.
        """
        image, resource_type, environment = self.image_uri, self.RESOURCE_TYPE, self.context.environment
        properties = pulumi.Output.all(plan, role_arn).apply(lambda v: self.job_properties(v[0], v[1], image))
        named = properties.apply(
            lambda props: {**props, "JobDefinitionName": definition_name(self.spec, environment, props)}
        )
        stack = aws.cloudformation.Stack(
            f"{name}-job-definition",
            name=named.apply(lambda props: props["JobDefinitionName"]),
            template_body=named.apply(lambda props: job_definition_template(resource_type, props)),
            on_failure="DELETE",
            tags=self.tags,
            opts=self.child_opts(),
        )
        return pulumi.Output.all(stack.outputs, named).apply(lambda v: v[1]["JobDefinitionName"])


class DataQualityMonitor(ModelMonitor):
    """Compare the statistics of the endpoint's captured inputs with the baseline dataset's."""

    TYPE_TOKEN = "mlops:pipelines:DataQualityMonitor"
    SPEC = DataQualityMonitorSpec
    MONITORING_TYPE = "DataQuality"

    @classmethod
    def job_arguments(cls, plan: MonitorPlan, role_arn: str, image: str) -> dict[str, Any]:
        """Arguments of aws.sagemaker.DataQualityJobDefinition (pulumi-aws has this one natively)."""
        cluster = plan.cluster_config()
        return {
            "role_arn": role_arn,
            "data_quality_app_specification": {"image_uri": image},
            "data_quality_baseline_config": {
                "constraints_resource": {"s3_uri": cls.constraints_uri(plan)},
                "statistics_resource": {"s3_uri": f"{plan.baseline_output_uri}/statistics.json"},
            },
            "data_quality_job_input": {
                "endpoint_input": {"endpoint_name": plan.endpoint_name, "local_path": ENDPOINT_INPUT}
            },
            "data_quality_job_output_config": {
                "kms_key_id": plan.key_arn,
                "monitoring_outputs": {
                    "s3_output": {
                        "s3_uri": plan.monitoring_output_uri,
                        "local_path": PROCESSING_OUTPUT,
                        "s3_upload_mode": "EndOfJob",
                    }
                },
            },
            "job_resources": {
                "cluster_config": {
                    "instance_count": cluster["InstanceCount"],
                    "instance_type": cluster["InstanceType"],
                    "volume_size_in_gb": cluster["VolumeSizeInGB"],
                    "volume_kms_key_id": cluster.get("VolumeKmsKeyId"),
                }
            },
            "network_config": {"enable_inter_container_traffic_encryption": True, "enable_network_isolation": True},
            "stopping_condition": {"max_runtime_in_seconds": resolved(plan.spec.monitor_max_runtime_seconds)},
        }

    def job_definition(
        self, name: str, plan: pulumi.Output[MonitorPlan], role_arn: pulumi.Output[str]
    ) -> pulumi.Output[str]:
        environment = self.context.environment
        image = self.image_uri
        arguments = pulumi.Output.all(plan, role_arn).apply(lambda v: self.job_arguments(v[0], v[1], image))
        definition = aws.sagemaker.DataQualityJobDefinition(
            f"{name}-job-definition",
            name=arguments.apply(lambda args: definition_name(self.spec, environment, args)),
            role_arn=arguments["role_arn"],
            data_quality_app_specification=arguments["data_quality_app_specification"],
            data_quality_baseline_config=arguments["data_quality_baseline_config"],
            data_quality_job_input=arguments["data_quality_job_input"],
            data_quality_job_output_config=arguments["data_quality_job_output_config"],
            job_resources=arguments["job_resources"],
            network_config=arguments["network_config"],
            stopping_condition=arguments["stopping_condition"],
            tags=self.tags,
            opts=self.child_opts(),
        )
        return definition.name


class ModelQualityMonitor(ModelMonitor):
    """Compare the endpoint's predictions with ground-truth labels (accuracy, RMSE, ...)."""

    TYPE_TOKEN = "mlops:pipelines:ModelQualityMonitor"
    SPEC = ModelQualityMonitorSpec
    MONITORING_TYPE = "ModelQuality"
    RESOURCE_TYPE = "AWS::SageMaker::ModelQualityJobDefinition"

    @classmethod
    def reads(cls, plan: MonitorPlan) -> list[str]:
        return [resolved(cast(ModelQualityMonitorSpec, plan.spec).monitor_ground_truth_input)]

    @classmethod
    def baseline_environment(cls, plan: MonitorPlan) -> dict[str, str]:
        spec = cast(ModelQualityMonitorSpec, plan.spec)
        settings = {
            "analysis_type": "MODEL_QUALITY",
            "problem_type": spec.problem_type,
            "inference_attribute": spec.baseline_inference_attribute,
            "probability_attribute": spec.baseline_probability_attribute,
            "ground_truth_attribute": spec.baseline_ground_truth_attribute,
            "probability_threshold_attribute": spec.probability_threshold_attribute,
        }
        present = {key: str(value) for key, value in settings.items() if value is not None}
        return {**super().baseline_environment(plan), **present}

    @classmethod
    def job_properties(cls, plan: MonitorPlan, role_arn: str, image: str) -> dict[str, Any]:
        spec = cast(ModelQualityMonitorSpec, plan.spec)
        job_input = {
            "EndpointInput": endpoint_input(
                plan,
                InferenceAttribute=spec.monitor_inference_attribute,
                ProbabilityAttribute=spec.monitor_probability_attribute,
                ProbabilityThresholdAttribute=spec.probability_threshold_attribute,
            ),
            "GroundTruthS3Input": {"S3Uri": s3_uri(resolved(spec.monitor_ground_truth_input))},
        }
        app = {"ImageUri": image, "ProblemType": spec.problem_type}
        return job_definition_properties(
            "ModelQuality", plan, role_arn, app, job_input, cls.constraints_uri(plan), cls.ISOLATED
        )


# -- Clarify (bias and explainability) ---------------------------------------------------------
# The first line of the baseline CSV, split into column names (quotes and blanks trimmed).
HEADER_COLUMNS = (
    "{% $map($split($split($states.result.Body, /\\r?\\n/)[0], ','), function($c) { $trim($replace($c, '\"', '')) }) %}"
)


def clarify_config_expression(static: dict[str, Any], with_label: bool) -> str:
    """A JSONata expression completing a Clarify analysis config with the dataset's columns.

    The label is the first column (as in the solution we replace); without it, the headers are
    the feature columns only (what a monitoring job sees in captured requests).
    """
    if with_label:
        columns = '{"headers": $columns, "label": $columns[0]}'
    else:
        columns = '{"headers": $filter($columns, function($v, $i) { $i > 0 })}'
    return "{% $string($merge([" + json.dumps(static, sort_keys=True) + ", " + columns + "])) %}"


def bias_analysis(bias_config: dict[str, Any]) -> dict[str, Any]:
    """sagemaker.clarify.BiasConfig arguments -> the analysis-config keys they stand for."""
    names = bias_config["facet_name"]
    values = bias_config.get("facet_values_or_threshold")
    if isinstance(names, list):
        pairs = list(zip(names, values or [None] * len(names), strict=False))
    else:
        pairs = [(names, values)]
    facets = [{"name_or_index": n, **({"value_or_threshold": v} if v is not None else {})} for n, v in pairs]
    analysis: dict[str, Any] = {
        "label_values_or_threshold": bias_config["label_values_or_threshold"],
        "facet": facets,
    }
    if bias_config.get("group_name") is not None:
        analysis["group_variable"] = bias_config["group_name"]
    return analysis


def predicted_label(label_config: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """sagemaker.clarify.ModelPredictedLabelConfig arguments -> (predictor keys, top-level keys)."""
    config = label_config or {}
    predictor = {key: config[key] for key in ("label", "probability", "label_headers") if config.get(key) is not None}
    top = (
        {"probability_threshold": config["probability_threshold"]}
        if config.get("probability_threshold") is not None
        else {}
    )
    return predictor, top


def shap_method(shap_config: dict[str, Any], assets_bucket: str) -> dict[str, Any]:
    """sagemaker.clarify.SHAPConfig arguments -> the `shap` method; a baseline given as a key is a file
    in the assets bucket (as in the solution we replace)."""
    shap = {"use_logit": False, "save_local_shap_values": True, **shap_config}
    if isinstance(shap.get("baseline"), str):
        shap["baseline"] = f"s3://{assets_bucket}/{shap['baseline']}"
    return shap


def endpoint_predictor(endpoint_name: str) -> dict[str, Any]:
    """Clarify asks the monitored endpoint for predictions (its requests are CSV, like the dataset)."""
    return {"endpoint_name": endpoint_name, "content_type": "text/csv", "accept_type": "text/csv"}


class ClarifyMonitor(ModelMonitor):
    """A monitor whose jobs run SageMaker Clarify with a generated analysis config.

    Clarify needs the dataset's column names, which only the data holds: the baseline state machine
    first reads the header line of the baseline CSV, writes the baseline and monitoring analysis
    configs to the environment's artifacts bucket, then runs the Clarify baseline job.
    """

    CONSTRAINTS_FILE = "analysis.json"
    ISOLATED = False

    @staticmethod
    def image(region: str) -> str:
        return clarify_image(region)

    @classmethod
    def baseline_analysis(cls, plan: MonitorPlan) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def monitor_analysis(cls, plan: MonitorPlan) -> tuple[dict[str, Any], bool]:
        """The monitoring analysis config without columns, and whether it names the label."""
        raise NotImplementedError

    @classmethod
    def baseline_definition(cls, plan: MonitorPlan, role_arn: str, image: str) -> dict[str, Any]:
        inputs = [
            s3_input("dataset", plan.baseline_data_uri, CLARIFY_DATASET),
            s3_input("analysis_config", f"s3://{plan.artifacts_bucket}/{plan.baseline_config_key}", CLARIFY_CONFIG),
        ]
        job = processing_job(plan, role_arn, image, inputs, "analysis_result", cls.ISOLATED)
        machine = task_definition(
            f"{cls.MONITORING_TYPE} baseline of {plan.endpoint_name}",
            "arn:aws:states:::sagemaker:createProcessingJob.sync",
            job,
            baseline_timeout(plan.spec),
        )
        monitor_static, monitor_label = cls.monitor_analysis(plan)
        machine["StartAt"] = "ReadHeader"
        machine["States"] = {
            "ReadHeader": {
                "Type": "Task",
                "QueryLanguage": "JSONata",
                "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                "Arguments": {
                    "Bucket": plan.assets_bucket,
                    "Key": plan.spec.baseline_data,
                    "Range": f"bytes=0-{HEADER_BYTES}",
                },
                "Assign": {"columns": HEADER_COLUMNS},
                "Next": "WriteBaselineConfig",
            },
            # The artifacts bucket encrypts new objects with the environment key by default.
            "WriteBaselineConfig": _put_config(
                plan, plan.baseline_config_key, clarify_config_expression(cls.baseline_analysis(plan), True)
            )
            | {"Next": "WriteMonitorConfig"},
            "WriteMonitorConfig": _put_config(
                plan, plan.monitor_config_key, clarify_config_expression(monitor_static, monitor_label)
            )
            | {"Next": "RunJob"},
            **machine["States"],
        }
        return machine

    @classmethod
    def baseline_statements(
        cls, plan: MonitorPlan, context: PipelineContext, role_arn: str, assets_key: str | None
    ) -> list[Statement]:
        statements = baseline_machine_statements(context, plan.run_name, role_arn)
        statements.append(
            policies.statement(["s3:GetObject"], [f"arn:aws:s3:::{plan.assets_bucket}/{plan.spec.baseline_data}"])
        )
        statements.append(
            policies.statement(
                ["s3:PutObject"], [f"arn:aws:s3:::{plan.artifacts_bucket}/{plan.config_prefix}/{plan.run_name}/*"]
            )
        )
        if assets_key:
            statements.append(policies.statement(["kms:Decrypt"], [assets_key]))
        return statements

    @classmethod
    def reads(cls, plan: MonitorPlan) -> list[str]:
        # The analysis configs this run generated.
        return [f"{plan.artifacts_bucket}/{plan.config_prefix}/{plan.run_name}/"]

    @classmethod
    def extra_statements(cls, plan: MonitorPlan, context: PipelineContext) -> list[Statement]:
        # Clarify asks the monitored endpoint (and only it) for predictions.
        endpoint = context.arn("sagemaker", f"endpoint/{plan.endpoint_name.lower()}")
        return [policies.statement(["sagemaker:DescribeEndpoint", "sagemaker:InvokeEndpoint"], [endpoint])]

    @classmethod
    def app(cls, plan: MonitorPlan, image: str) -> dict[str, Any]:
        return {"ImageUri": image, "ConfigUri": f"s3://{plan.artifacts_bucket}/{plan.monitor_config_key}"}


def _put_config(plan: MonitorPlan, key: str, body_expression: str) -> dict[str, Any]:
    return {
        "Type": "Task",
        "QueryLanguage": "JSONata",
        "Resource": "arn:aws:states:::aws-sdk:s3:putObject",
        "Arguments": {
            "Bucket": plan.artifacts_bucket,
            "Key": key,
            "Body": body_expression,
            "ContentType": "application/json",
        },
    }


class ModelBiasMonitor(ClarifyMonitor):
    """Watch post-training bias metrics of the endpoint's predictions across facets."""

    TYPE_TOKEN = "mlops:pipelines:ModelBiasMonitor"
    SPEC = ModelBiasMonitorSpec
    MONITORING_TYPE = "ModelBias"
    RESOURCE_TYPE = "AWS::SageMaker::ModelBiasJobDefinition"

    @classmethod
    def reads(cls, plan: MonitorPlan) -> list[str]:
        spec = cast(ModelBiasMonitorSpec, plan.spec)
        return [*super().reads(plan), resolved(spec.monitor_ground_truth_input)]

    @classmethod
    def baseline_analysis(cls, plan: MonitorPlan) -> dict[str, Any]:
        spec = cast(ModelBiasMonitorSpec, plan.spec)
        predictor, top = predicted_label(spec.model_predicted_label_config)
        return {
            "dataset_type": "text/csv",
            **bias_analysis(spec.bias_config),
            "methods": {"post_training_bias": {"methods": "all"}, "report": {"name": "report", "title": "Bias report"}},
            "predictor": {**endpoint_predictor(plan.endpoint_name), **predictor},
            **top,
        }

    @classmethod
    def monitor_analysis(cls, plan: MonitorPlan) -> tuple[dict[str, Any], bool]:
        spec = cast(ModelBiasMonitorSpec, plan.spec)
        return {**bias_analysis(spec.bias_config), "methods": {"post_training_bias": {"methods": "all"}}}, True

    @classmethod
    def job_properties(cls, plan: MonitorPlan, role_arn: str, image: str) -> dict[str, Any]:
        spec = cast(ModelBiasMonitorSpec, plan.spec)
        job_input = {
            "EndpointInput": endpoint_input(
                plan,
                FeaturesAttribute=spec.features_attribute,
                InferenceAttribute=spec.monitor_inference_attribute,
                ProbabilityAttribute=spec.monitor_probability_attribute,
                ProbabilityThresholdAttribute=spec.probability_threshold_attribute,
            ),
            "GroundTruthS3Input": {"S3Uri": s3_uri(resolved(spec.monitor_ground_truth_input))},
        }
        return job_definition_properties(
            "ModelBias", plan, role_arn, cls.app(plan, image), job_input, cls.constraints_uri(plan), cls.ISOLATED
        )


class ModelExplainabilityMonitor(ClarifyMonitor):
    """Watch the feature attributions (SHAP values) of the endpoint's predictions."""

    TYPE_TOKEN = "mlops:pipelines:ModelExplainabilityMonitor"
    SPEC = ModelExplainabilityMonitorSpec
    MONITORING_TYPE = "ModelExplainability"
    RESOURCE_TYPE = "AWS::SageMaker::ModelExplainabilityJobDefinition"

    @classmethod
    def assets_keys(cls, plan: MonitorPlan) -> list[str]:
        baseline = cast(ModelExplainabilityMonitorSpec, plan.spec).shap_config.get("baseline")
        return [baseline] if isinstance(baseline, str) else []

    @classmethod
    def predictor(cls, plan: MonitorPlan) -> dict[str, Any]:
        spec = cast(ModelExplainabilityMonitorSpec, plan.spec)
        scores = {"label": spec.model_scores} if spec.model_scores is not None else {}
        return {**endpoint_predictor(plan.endpoint_name), **scores}

    @classmethod
    def baseline_analysis(cls, plan: MonitorPlan) -> dict[str, Any]:
        spec = cast(ModelExplainabilityMonitorSpec, plan.spec)
        return {
            "dataset_type": "text/csv",
            "methods": {
                "shap": shap_method(spec.shap_config, plan.assets_bucket),
                "report": {"name": "report", "title": "Explainability report"},
            },
            "predictor": cls.predictor(plan),
        }

    @classmethod
    def monitor_analysis(cls, plan: MonitorPlan) -> tuple[dict[str, Any], bool]:
        spec = cast(ModelExplainabilityMonitorSpec, plan.spec)
        static = {
            "methods": {"shap": shap_method(spec.shap_config, plan.assets_bucket)},
            "predictor": cls.predictor(plan),
        }
        return static, False

    @classmethod
    def job_properties(cls, plan: MonitorPlan, role_arn: str, image: str) -> dict[str, Any]:
        spec = cast(ModelExplainabilityMonitorSpec, plan.spec)
        inference = spec.monitor_inference_attribute or (None if spec.model_scores is None else str(spec.model_scores))
        job_input = {
            "EndpointInput": endpoint_input(
                plan,
                FeaturesAttribute=spec.features_attribute,
                InferenceAttribute=inference,
                ProbabilityAttribute=spec.monitor_probability_attribute,
            )
        }
        return job_definition_properties(
            "ModelExplainability",
            plan,
            role_arn,
            cls.app(plan, image),
            job_input,
            cls.constraints_uri(plan),
            cls.ISOLATED,
        )
