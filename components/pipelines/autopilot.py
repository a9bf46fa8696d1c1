"""SageMaker Autopilot (AutoML V2) training: a state machine that runs the job, started once per request.

pulumi-aws has no AutoML resource, and Step Functions has no `.sync` integration for it: the state
machine creates the job through the AWS SDK integration, then polls DescribeAutoMLJobV2 until the
job ends, so the run's status (and its failure notification) is the job's.
"""

from __future__ import annotations

import json
from typing import Any, cast

import pulumi

from components import policies
from components.pipelines import roles
from components.pipelines.base import PipelineComponent, PipelineContext
from components.pipelines.run_on_deploy import EXECUTION_NAME_PATH, RunOnDeploy, pass_role
from mlops_spec import naming, partitions
from mlops_spec.base import PipelineSpec
from mlops_spec.common import Environment
from mlops_spec.pipelines.autopilot import AutopilotSpec

Statement = policies.Statement

POLL_SECONDS = 300
# Autopilot names its processing, training, tuning and transform jobs and models after the AutoML job.
SUB_JOB_RESOURCES = ("processing-job", "training-job", "transform-job", "hyper-parameter-tuning-job", "model")
SUB_JOB_ACTIONS = [
    "sagemaker:AddTags",
    "sagemaker:CreateHyperParameterTuningJob",
    "sagemaker:CreateModel",
    "sagemaker:CreateProcessingJob",
    "sagemaker:CreateTrainingJob",
    "sagemaker:CreateTransformJob",
    "sagemaker:DescribeHyperParameterTuningJob",
    "sagemaker:DescribeModel",
    "sagemaker:DescribeProcessingJob",
    "sagemaker:DescribeTrainingJob",
    "sagemaker:DescribeTransformJob",
    "sagemaker:StopHyperParameterTuningJob",
    "sagemaker:StopProcessingJob",
    "sagemaker:StopTrainingJob",
    "sagemaker:StopTransformJob",
]


def output_path(assets_bucket: str, spec: AutopilotSpec) -> str:
    return f"s3://{assets_bucket}/{spec.job_output_location.strip('/')}"


def tabular_config(spec: AutopilotSpec) -> dict[str, Any]:
    """The AutoML V2 tabular problem: target, optional problem type, and when to stop."""
    config: dict[str, Any] = {
        "TargetAttributeName": spec.target_attribute,
        "CompletionCriteria": {
            "MaxCandidates": spec.job_max_candidates,
            "MaxRuntimePerTrainingJobInSeconds": spec.max_runtime_per_job,
            "MaxAutoMLJobRuntimeInSeconds": spec.total_max_runtime,
        },
        "GenerateCandidateDefinitionsOnly": spec.generate_definition_only,
    }
    if spec.problem_type:
        config["ProblemType"] = spec.problem_type
    return config


def create_job_parameters(
    spec: AutopilotSpec, assets_bucket: str, role_arn: str, key_arn: str, output_key_arn: str, tags: dict[str, str]
) -> dict[str, Any]:
    """CreateAutoMLJobV2 parameters; the job is named after the execution (a new name per attempt).

    `key_arn` encrypts the job's volumes; `output_key_arn` the output in the assets bucket (the bucket's
    key when known, see PipelineContext.assets_output_key_arn), which other environments must read.
    """
    data_source: dict[str, Any] = {
        "ChannelType": "training",
        "ContentType": "text/csv;header=present",
        "DataSource": {
            "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{assets_bucket}/{spec.training_data}"}
        },
    }
    if spec.compression_type:
        data_source["CompressionType"] = spec.compression_type
    parameters: dict[str, Any] = {
        "AutoMLJobName.$": EXECUTION_NAME_PATH,
        "AutoMLJobInputDataConfig": [data_source],
        "OutputDataConfig": {"S3OutputPath": output_path(assets_bucket, spec), "KmsKeyId": output_key_arn},
        "AutoMLProblemTypeConfig": {"TabularJobConfig": tabular_config(spec)},
        "RoleArn": role_arn,
        "SecurityConfig": {
            "VolumeKmsKeyId": key_arn,
            "EnableInterContainerTrafficEncryption": spec.encrypt_inner_traffic,
        },
        "Tags": [{"Key": key, "Value": value} for key, value in sorted(tags.items())],
    }
    if spec.job_objective:
        parameters["AutoMLJobObjective"] = {"MetricName": spec.job_objective}
    return parameters


def automl_definition(parameters: dict[str, Any], timeout_seconds: int, partition: str = "aws") -> dict[str, Any]:
    """Create the job, then poll it until it completes (success) or fails or stops (failure)."""
    describe = partitions.arn(partition, "states", "aws-sdk:sagemaker:describeAutoMLJobV2")
    return {
        "Comment": "Run one SageMaker Autopilot job and wait for it",
        "StartAt": "CreateJob",
        "TimeoutSeconds": timeout_seconds,
        "States": {
            "CreateJob": {
                "Type": "Task",
                "Resource": partitions.arn(partition, "states", "aws-sdk:sagemaker:createAutoMLJobV2"),
                "Parameters": parameters,
                "ResultPath": None,
                "Next": "WaitForJob",
            },
            "WaitForJob": {"Type": "Wait", "Seconds": POLL_SECONDS, "Next": "DescribeJob"},
            "DescribeJob": {
                "Type": "Task",
                "Resource": describe,
                "Parameters": {"AutoMLJobName.$": EXECUTION_NAME_PATH},
                "ResultSelector": {"status.$": "$.AutoMLJobStatus"},
                "ResultPath": "$.job",
                # Transient API errors (throttling) must not fail a days-long job's run.
                "Retry": [
                    {"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 30, "MaxAttempts": 5, "BackoffRate": 2}
                ],
                "Next": "JobDone",
            },
            "JobDone": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.job.status", "StringEquals": "Completed", "Next": "Succeeded"},
                    {"Variable": "$.job.status", "StringEquals": "Failed", "Next": "Failed"},
                    {"Variable": "$.job.status", "StringEquals": "Stopped", "Next": "Failed"},
                ],
                "Default": "WaitForJob",
            },
            "Succeeded": {"Type": "Succeed"},
            "Failed": {
                "Type": "Fail",
                "Error": "AutoMLJobFailed",
                "Cause": "The Autopilot job failed or was stopped; see its FailureReason in SageMaker.",
            },
        },
    }


def machine_statements(context: PipelineContext, job_name: str, role_arn: str) -> list[Statement]:
    """Create and watch AutoML jobs of this run only, under the pipeline's role."""
    jobs = context.arn("sagemaker", f"automl-job/{job_name.lower()}*")
    return [
        policies.statement(
            ["sagemaker:AddTags", "sagemaker:CreateAutoMLJobV2", "sagemaker:DescribeAutoMLJobV2"], [jobs]
        ),
        pass_role(role_arn, "sagemaker.amazonaws.com"),
    ]


def role_statements(
    context: PipelineContext,
    spec: AutopilotSpec,
    job_name: str,
    own_role_arn: str,
    assets_bucket: str,
    key_arns: list[str],
    output_key: str,
) -> list[Statement]:
    """Read the training data, write the output, run Autopilot's sub-jobs (named after the job), use the keys.

    `key_arns` encrypt volumes; `output_key` (the assets bucket's key when known) decrypts the training
    data and encrypts the output written next to it.
    """
    sub_jobs = [context.arn("sagemaker", f"{kind}/{job_name.lower()}*") for kind in SUB_JOB_RESOURCES]
    statements = roles.s3_read(assets_bucket, [spec.training_data], context.partition)
    statements += roles.s3_write(assets_bucket, [spec.job_output_location], context.partition)
    statements.append(policies.statement(SUB_JOB_ACTIONS, sub_jobs))
    # Autopilot runs its sub-jobs under this same role.
    statements.append(pass_role(own_role_arn, "sagemaker.amazonaws.com"))
    statements.append(roles.kms_use(sorted({*key_arns, output_key})))
    statements.append(roles.sagemaker_logs(context))
    statements.append(roles.sagemaker_metrics())
    return statements


class AutopilotTraining(PipelineComponent):
    """Let Autopilot find the best model for a tabular dataset; the job starts on the first deploy of a request."""

    TYPE_TOKEN = "mlops:pipelines:AutopilotTraining"

    def __init__(
        self, name: str, spec: PipelineSpec, context: PipelineContext, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__(name, spec, context, opts)
        self.autopilot_spec = self.expect_spec(spec, AutopilotSpec)
        self.job_name = self.autopilot_spec.resolved_job_name(cast(Environment, context.environment))
        self.key_arn: pulumi.Input[str] = self.autopilot_spec.kms_key_arn or context.kms_key_arn
        # The output lands in the orchestrator's assets bucket, read by every environment.
        self.output_key_arn = context.assets_output_key_arn
        role = self._role(name)
        run = self._run(name, role)
        autopilot_spec = self.autopilot_spec
        self.finish(
            {
                "job_name": pulumi.Output.from_input(self.job_name),
                "output_location": pulumi.Output.from_input(context.assets_bucket).apply(
                    lambda bucket: output_path(bucket, autopilot_spec)
                ),
                "state_machine_arn": run.state_machine_arn,
            }
        )

    def _role(self, name: str) -> roles.ExecutionRole:
        """The role the AutoML job (and every sub-job it starts) runs under."""
        context, spec, job_name = self.context, self.autopilot_spec, self.job_name
        role_name = self.physical_name("sagemaker-role", roles.IAM_ROLE_NAME_LIMIT)
        # The role's own ARN (known before the role exists: its name and path are fixed).
        own_arn = f"arn:{context.partition}:iam::{context.account_id}:role{naming.PIPELINE_ROLE_PATH}{role_name}"
        statements = pulumi.Output.all(
            bucket=context.assets_bucket, output_key=self.output_key_arn, key=self.key_arn, env_key=context.kms_key_arn
        ).apply(
            lambda v: role_statements(
                context, spec, job_name, own_arn, v["bucket"], [v["key"], v["env_key"]], v["output_key"]
            )
        )
        return roles.ExecutionRole(
            f"{name}-role",
            role_name=role_name,
            service="sagemaker.amazonaws.com",
            account_id=context.account_id,
            permissions_boundary=context.permissions_boundary,
            statements=statements,
            tags=self.tags,
            opts=self.child,
        )

    def _run(self, name: str, role: roles.ExecutionRole) -> RunOnDeploy:
        """The state machine that creates the AutoML job and polls it, started once per request."""
        context, spec, job_name, tags = self.context, self.autopilot_spec, self.job_name, self.tags

        def definition(bucket: str, role_arn: str, key: str, output_key: str) -> str:
            parameters = create_job_parameters(spec, bucket, role_arn, key, output_key, tags)
            return json.dumps(automl_definition(parameters, spec.total_max_runtime + 3600, context.partition))

        return RunOnDeploy(
            f"{name}-run",
            context=context,
            machine_name=self.physical_name("autopilot"),
            definition=pulumi.Output.all(
                bucket=context.assets_bucket, role=role.arn, key=self.key_arn, output_key=self.output_key_arn
            ).apply(lambda v: definition(v["bucket"], v["role"], v["key"], v["output_key"])),
            job_statements=role.arn.apply(lambda arn: machine_statements(context, job_name, arn)),
            run_name=job_name,
            name_limit=AutopilotSpec.JOB_NAME_LIMIT,
            tags=tags,
            opts=self.child_opts(depends_on=[role]),
        )
