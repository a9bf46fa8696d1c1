"""Batch transform: the model, a state machine running its transform job once per deployment, and a schedule.

pulumi-aws has no transform-job resource (a job is a run, not a resource), so the job is one task of
a Step Functions state machine (SageMaker's `createTransformJob.sync` integration: start the job, wait
for it). It runs the way every one-off job of a pipeline runs (see run_on_deploy): once per request
as resolved for the environment, started during `pulumi up`, never again for an unchanged request,
and retried on the next deploy if it failed. A `schedule_expression` adds an EventBridge rule that
starts the same state machine periodically.
"""

from __future__ import annotations

import json
from typing import Any, cast

import pulumi
import pulumi_aws as aws

from components import policies
from components.pipelines.base import PipelineComponent, PipelineContext
from components.pipelines.roles import IAM_ROLE_NAME_LIMIT, ExecutionRole
from components.pipelines.run_on_deploy import (
    EXECUTION_NAME_PATH,
    TRANSFORM_SYNC_RULE,
    RunOnDeploy,
    pass_role,
    sync_rule_access,
    task_definition,
)
from components.pipelines.served_model import (
    create_model,
    model_role,
    model_source,
    prebuilt_image_lookup,
    resolved,
    s3_uri,
    volume_kms_key,
)
from mlops_spec import naming, partitions
from mlops_spec.common import Environment
from mlops_spec.pipelines.batch import BatchFields

# The Step Functions integration that creates a transform job and waits for it to end (its ARN is
# arn:<partition>:states:::<this>).
TRANSFORM_SYNC = "sagemaker:createTransformJob.sync"
# Job names are <prefix>-<MD5 of the execution name> (32 hex), within SageMaker's 63 characters:
# every execution (deploy run, retry, scheduled run) gets its own name, and all share the prefix
# the state machine's role is scoped to.
JOB_PREFIX_LIMIT = naming.SAGEMAKER_NAME_LIMIT - 33
# A run that has not finished after two days is stuck, not busy.
RUN_TIMEOUT_SECONDS = 2 * 24 * 3600


def intrinsic_escape(text: str) -> str:
    """`text` made safe inside a quoted string of a Step Functions intrinsic function."""
    return "".join("\\" + c if c in "\\'{}" else c for c in text)


def job_name_expression(job_prefix: str) -> str:
    """A transform job name per execution: job names can never be reused, and re-runs must not collide."""
    return f"States.Format('{intrinsic_escape(job_prefix)}-{{}}', States.Hash({EXECUTION_NAME_PATH}, 'MD5'))"


def output_path_expression(output_location: str) -> str:
    """Each run writes under `<output location>/<execution name>/`, so a run never overwrites another's."""
    return f"States.Format('{intrinsic_escape(s3_uri(output_location))}/{{}}', {EXECUTION_NAME_PATH})"


def transform_parameters(
    spec: BatchFields, job_prefix: str, model_name: str, kms_key: str, tags: dict[str, str]
) -> dict[str, Any]:
    """The CreateTransformJob request the state machine sends, for a spec resolved for one environment."""
    instance_type = resolved(spec.inference_instance)
    resources: dict[str, Any] = {"InstanceType": instance_type, "InstanceCount": resolved(spec.instance_count)}
    volume_key = volume_kms_key(instance_type, kms_key)
    if volume_key:
        resources["VolumeKmsKeyId"] = volume_key
    return {
        "TransformJobName.$": job_name_expression(job_prefix),
        "ModelName": model_name,
        "TransformInput": {
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": s3_uri(resolved(spec.batch_inference_data))}
            },
            "ContentType": spec.content_type,
            "SplitType": spec.split_type,
        },
        "TransformOutput": {
            "S3OutputPath.$": output_path_expression(resolved(spec.batch_job_output_location)),
            "KmsKeyId": kms_key,
            # One prediction per line when records are lines; otherwise the container's output as is.
            "AssembleWith": "Line" if spec.split_type == "Line" else "None",
        },
        "TransformResources": resources,
        # SageMaker's defaults, spelled out: the whole record in, the whole prediction out, no join.
        "DataProcessing": {"InputFilter": "$", "OutputFilter": "$", "JoinSource": "None"},
        "Tags": [{"Key": key, "Value": value} for key, value in sorted(tags.items())],
    }


def transform_statements(
    context: PipelineContext, job_prefix: str, sagemaker_role_arn: str
) -> list[policies.Statement]:
    """What the state machine needs for the job: this pipeline's transform jobs, its role, the `.sync` rule."""
    return [
        policies.statement(
            [
                "sagemaker:CreateTransformJob",
                "sagemaker:DescribeTransformJob",
                "sagemaker:StopTransformJob",
                "sagemaker:AddTags",
                "sagemaker:ListTags",
            ],
            [context.arn("sagemaker", f"transform-job/{job_prefix}-*")],
        ),
        pass_role(sagemaker_role_arn, "sagemaker.amazonaws.com"),
        sync_rule_access(context, TRANSFORM_SYNC_RULE),
    ]


def schedule_statements(state_machine_arn: str, kms_key_arn: str) -> list[policies.Statement]:
    """What the schedule's role may do: start this state machine, whose executions are KMS-encrypted."""
    return [
        policies.statement(["states:StartExecution"], [state_machine_arn]),
        policies.statement(["kms:Decrypt", "kms:GenerateDataKey"], [kms_key_arn]),
    ]


class BatchTransform(PipelineComponent):
    """Run a batch transform job with a model once per deployment, and on a schedule if one is given."""

    TYPE_TOKEN = "mlops:pipelines:BatchTransform"

    def __init__(
        self, name: str, spec: BatchFields, context: PipelineContext, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__(name, spec, context, opts)
        self.env = cast(Environment, context.environment)
        self.batch_spec = spec.for_env(self.env)  # a no-op when the caller already resolved it
        kms_key: pulumi.Input[str] = resolved(self.batch_spec.kms_key_arn) or context.kms_key_arn
        output_location = resolved(self.batch_spec.batch_job_output_location)
        source = model_source(self.batch_spec, prebuilt_image_lookup(self))
        reads = [resolved(self.batch_spec.batch_inference_data)]
        self.role = model_role(name, self, source, kms_key, reads=reads, writes=[output_location])
        self.model = create_model(name, self, source, self.role)
        self.run = self._transform(name, kms_key)
        schedule = resolved(self.batch_spec.schedule_expression)
        if schedule:
            self._schedule(name, schedule, kms_key)

        self.finish(
            {
                "model_name": self.model.name,
                "state_machine_arn": self.run.state_machine_arn,
                "output_location": pulumi.Output.from_input(s3_uri(output_location)),
                "role_arn": self.role.arn,
            }
        )

    def _transform(self, name: str, kms_key: pulumi.Input[str]) -> RunOnDeploy:
        """The state machine running the transform job, started once per request."""
        spec, context, tags = self.batch_spec, self.context, self.tags
        # Transform jobs are named <pipeline>-<env>-<hash>; the role may touch only jobs with this prefix.
        job_prefix = naming.bounded(f"{spec.pipeline_id}-{self.env}", JOB_PREFIX_LIMIT)
        transform_task = partitions.arn(context.partition, "states", TRANSFORM_SYNC)

        def definition(model_name: str, key: str) -> str:
            parameters = transform_parameters(spec, job_prefix, model_name, key, tags)
            machine = task_definition(
                f"Batch transform with model {model_name}", transform_task, parameters, RUN_TIMEOUT_SECONDS
            )
            return json.dumps(machine, sort_keys=True)

        return RunOnDeploy(
            f"{name}-transform",
            context=context,
            machine_name=self.physical_name("transform", 80),
            definition=pulumi.Output.all(model=self.model.name, key=kms_key).apply(
                lambda v: definition(v["model"], v["key"])
            ),
            job_statements=self.role.arn.apply(lambda arn: transform_statements(context, job_prefix, arn)),
            run_name=spec.run_name(self.env, "transform"),
            tags=tags,
            opts=self.child_opts(depends_on=[self.role]),
        )

    def _schedule(self, name: str, expression: str, kms_key: pulumi.Input[str]) -> None:
        """An EventBridge rule starting the state machine on the request's cron expression."""
        machine_arn = self.run.state_machine_arn
        role = ExecutionRole(
            f"{name}-scheduler",
            role_name=self.physical_name("schedule-role", IAM_ROLE_NAME_LIMIT),
            service="events.amazonaws.com",
            account_id=self.context.account_id,
            permissions_boundary=self.context.permissions_boundary,
            statements=pulumi.Output.all(machine=machine_arn, key=kms_key).apply(
                lambda v: schedule_statements(v["machine"], v["key"])
            ),
            tags=self.tags,
            opts=self.child,
        )
        rule = aws.cloudwatch.EventRule(
            f"{name}-schedule",
            name=self.physical_name("schedule", 64),
            description=f"Run the batch transform of {self.spec.pipeline_id} ({self.context.environment})",
            schedule_expression=expression,
            state="ENABLED",
            tags=self.tags,
            opts=self.child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-schedule-target",
            rule=rule.name,
            arn=machine_arn,
            role_arn=role.arn,
            input="{}",
            opts=self.child_opts(depends_on=[role]),
        )
