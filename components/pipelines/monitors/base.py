"""The shape every model monitor deploys: a role, a baseline run, a job definition and a schedule.

Changes when what all four monitor types create (or how they create it) changes. Every monitor has
the same shape: a SageMaker role scoped to its data, a baseline processing job run once per request
(see run_on_deploy), a monitoring job definition and a schedule on the endpoint. The types differ
only in small pieces, the class attributes and class methods below that quality.py and clarify.py
override.

Job definitions: pulumi-aws has a DataQualityJobDefinition resource but none for model quality, bias
or explainability. Those three are CloudFormation resources (AWS::SageMaker::Model*JobDefinition)
deployed through `aws.cloudformation.Stack` with an inline template: the program keeps needing only
the aws provider plugin (baked into the provisioner image), where pulumi-aws-native would add a
second plugin and a second set of credentials to every deployment.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Protocol, cast

import pulumi
import pulumi_aws as aws

from components import policies
from components.pipelines import roles
from components.pipelines.base import PipelineComponent, PipelineContext
from components.pipelines.monitors.images import model_monitor_image
from components.pipelines.monitors.plan import (
    ANALYZER_DATASET,
    BASELINE_RUN_LIMIT,
    CSV_WITH_HEADER,
    PROCESSING_OUTPUT,
    PUBLISH_METRICS,
    MonitorPlan,
    baseline_machine_statements,
    baseline_timeout,
    definition_name,
    endpoint_input,
    job_definition_properties,
    job_definition_template,
    processing_job,
    role_statements,
    s3_input,
)
from components.pipelines.monitors.violations import violation_rule
from components.pipelines.run_on_deploy import RunOnDeploy, task_definition
from components.pipelines.served_model import resolved, s3_uri
from mlops_spec import naming, partitions
from mlops_spec.base import PipelineSpec
from mlops_spec.common import Environment
from mlops_spec.pipelines.monitors import MonitorSpec

Statement = policies.Statement


class GroundTruthSpec(Protocol):
    """The spec of a monitor type that compares predictions with ground-truth labels."""

    monitor_ground_truth_input: Any


# Step Functions' run-a-processing-job-and-wait integration (its ARN names the partition).
PROCESSING_SYNC = "sagemaker:createProcessingJob.sync"


class ModelMonitor(PipelineComponent):
    """Base of the four monitors. Subclasses set the type's pieces; none branches on the type."""

    SPEC: ClassVar[type[MonitorSpec]]
    MONITORING_TYPE: ClassVar[str]
    """SageMaker's MonitoringType of the schedule; also the prefix of the job definition's properties."""
    RESOURCE_TYPE: ClassVar[str]
    """The CloudFormation type of the job definition (AWS::SageMaker::<Type>JobDefinition)."""
    CONSTRAINTS_FILE: ClassVar[str] = "constraints.json"
    COMPARES_WITH_GROUND_TRUTH: ClassVar[bool] = False
    """Whether the type compares predictions with ground-truth labels (its spec's monitor_ground_truth_input)."""
    # The analyzer only reads its channels and writes its output (metrics go through the platform):
    # it runs without network access. Clarify must call the endpoint, so it cannot.
    ISOLATED: ClassVar[bool] = True

    def __init__(
        self, name: str, spec: PipelineSpec, context: PipelineContext, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__(name, spec, context, opts)
        spec = self.monitor_spec = self.expect_spec(spec, self.SPEC)
        self.image_uri = self.image(context.region)
        run_name = spec.run_name(cast(Environment, context.environment), "baseline", BASELINE_RUN_LIMIT)
        plan = self._plan(run_name)
        role = self._role(name, plan)
        baseline = self._baseline(name, plan, role, run_name)
        definition = self.job_definition(name, plan, role.arn)
        schedule = self._schedule(name, definition, baseline)
        # Runs with violations set off an alarm and reach the orchestrator, which does what `on_violation` says.
        violations = violation_rule(self, name, context, schedule, self.tags)
        self.finish(
            {
                "endpoint_name": pulumi.Output.from_input(resolved(spec.endpoint_name)),
                "monitoring_schedule_name": schedule.name,
                "job_definition_name": definition,
                "baseline_run_name": pulumi.Output.from_input(run_name),
                "baseline_output_location": plan.apply(lambda p: p.baseline_output_uri),
                "baseline_state_machine_arn": baseline.state_machine_arn,
                "on_violation": pulumi.Output.from_input(spec.violation_action),
                "violations_rule_name": violations.name,
            }
        )

    # -- the children ----------------------------------------------------------------------------
    def _plan(self, run_name: str) -> pulumi.Output[MonitorPlan]:
        spec, context = self.monitor_spec, self.context
        key = resolved(spec.kms_key_arn) if spec.kms_key_arn else context.kms_key_arn
        return pulumi.Output.all(
            assets=context.assets_bucket, artifacts=context.artifacts_bucket, key=key, env_key=context.kms_key_arn
        ).apply(
            lambda v: MonitorPlan(
                spec=spec,
                run_name=run_name,
                assets_bucket=v["assets"],
                artifacts_bucket=v["artifacts"],
                key_arn=v["key"],
                environment_key_arn=v["env_key"],
                config_prefix=f"{spec.pipeline_id}/{context.environment}/clarify",
                partition=context.partition,
            )
        )

    def _role(self, name: str, plan: pulumi.Output[MonitorPlan]) -> roles.ExecutionRole:
        """The SageMaker role the baseline and monitoring jobs run under."""
        context = self.context

        def statements(plan: MonitorPlan, assets_key: str | None) -> list[Statement]:
            reads, assets_keys = self.reads(plan), self.assets_keys(plan)
            return role_statements(plan, context, reads, assets_keys, assets_key, self.extra_statements(plan, context))

        return roles.ExecutionRole(
            f"{name}-role",
            role_name=self.physical_name("sagemaker-role", roles.IAM_ROLE_NAME_LIMIT),
            service="sagemaker.amazonaws.com",
            account_id=context.account_id,
            permissions_boundary=context.permissions_boundary,
            statements=pulumi.Output.all(plan=plan, assets_key=context.assets_kms_key_arn).apply(
                lambda v: statements(v["plan"], v["assets_key"])
            ),
            tags=self.tags,
            opts=self.child,
        )

    def _baseline(
        self, name: str, plan: pulumi.Output[MonitorPlan], role: roles.ExecutionRole, run_name: str
    ) -> RunOnDeploy:
        context, image = self.context, self.image_uri
        return RunOnDeploy(
            f"{name}-baseline",
            context=context,
            machine_name=self.physical_name("baseline"),
            definition=pulumi.Output.all(plan=plan, role=role.arn).apply(
                lambda v: json.dumps(self.baseline_definition(v["plan"], v["role"], image))
            ),
            job_statements=pulumi.Output.all(plan=plan, role=role.arn, assets_key=context.assets_kms_key_arn).apply(
                lambda v: self.baseline_statements(v["plan"], context, v["role"], v["assets_key"])
            ),
            run_name=run_name,
            name_limit=naming.SAGEMAKER_NAME_LIMIT,
            # Waiting makes the deploy fail when the baseline fails, and lets the schedule start after it.
            wait=True,
            tags=self.tags,
            opts=self.child_opts(depends_on=[role]),
        )

    def _schedule(
        self, name: str, definition: pulumi.Output[str], baseline: RunOnDeploy
    ) -> aws.sagemaker.MonitoringSchedule:
        spec = self.monitor_spec
        return aws.sagemaker.MonitoringSchedule(
            f"{name}-schedule",
            name=spec.monitoring_schedule_name(cast(Environment, self.context.environment)),
            monitoring_schedule_config={
                "monitoring_type": self.MONITORING_TYPE,
                "monitoring_job_definition_name": definition,
                "schedule_config": {"schedule_expression": resolved(spec.schedule_expression)},
            },
            tags=self.tags,
            # The baseline run has written the constraints the schedule's jobs compare against.
            opts=self.child_opts(depends_on=[baseline]),
        )

    def job_definition(
        self, name: str, plan: pulumi.Output[MonitorPlan], role_arn: pulumi.Output[str]
    ) -> pulumi.Output[str]:
        """Create the job definition; return its name (carrying the dependency on it).

        By default a job definition pulumi-aws lacks: a one-resource CloudFormation stack named after
        it. A new name (new content) replaces the stack; Pulumi creates the new one, moves the
        schedule, then deletes the old one.
        """
        image, resource_type, environment = self.image_uri, self.RESOURCE_TYPE, self.context.environment
        properties = pulumi.Output.all(plan=plan, role=role_arn).apply(
            lambda v: self.job_properties(v["plan"], v["role"], image)
        )
        named = properties.apply(
            lambda props: {**props, "JobDefinitionName": definition_name(self.spec, environment, props)}
        )
        stack = aws.cloudformation.Stack(
            f"{name}-job-definition",
            name=named.apply(lambda props: props["JobDefinitionName"]),
            template_body=named.apply(lambda props: job_definition_template(resource_type, props)),
            on_failure="DELETE",
            tags=self.tags,
            opts=self.child,
        )
        return pulumi.Output.all(created=stack.outputs, named=named).apply(lambda v: v["named"]["JobDefinitionName"])

    # -- the type's pieces (plain, overridden per type) ------------------------------------------
    @staticmethod
    def image(region: str) -> str:
        return model_monitor_image(region)

    @classmethod
    def ground_truth(cls, plan: MonitorPlan) -> str | None:
        """The `bucket/prefix` of ground-truth labels the monitoring jobs compare predictions with, if any."""
        if not cls.COMPARES_WITH_GROUND_TRUTH:
            return None
        return resolved(cast(GroundTruthSpec, plan.spec).monitor_ground_truth_input)

    @classmethod
    def reads(cls, plan: MonitorPlan) -> list[str]:
        """Extra `bucket/prefix` locations the monitoring jobs read (ground truth)."""
        ground_truth = cls.ground_truth(plan)
        return [ground_truth] if ground_truth is not None else []

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
    def baseline_job(cls, plan: MonitorPlan, role_arn: str, image: str) -> dict[str, Any]:
        """The baseline's CreateProcessingJob parameters: the analyzer reads the baseline dataset."""
        inputs = [s3_input("baseline_dataset_input", plan.baseline_data_uri, ANALYZER_DATASET)]
        return processing_job(
            plan, role_arn, image, inputs, "monitoring_output", cls.ISOLATED, cls.baseline_environment(plan)
        )

    @classmethod
    def baseline_definition(cls, plan: MonitorPlan, role_arn: str, image: str) -> dict[str, Any]:
        """The baseline state machine: run the baseline job and wait for it."""
        return task_definition(
            f"{cls.MONITORING_TYPE} baseline of {plan.endpoint_name}",
            partitions.arn(plan.partition, "states", PROCESSING_SYNC),
            cls.baseline_job(plan, role_arn, image),
            baseline_timeout(plan.spec),
        )

    @classmethod
    def baseline_statements(
        cls, plan: MonitorPlan, context: PipelineContext, role_arn: str, assets_key: str | None
    ) -> list[Statement]:
        return baseline_machine_statements(context, plan.run_name, role_arn)

    @classmethod
    def endpoint_attributes(cls, plan: MonitorPlan) -> dict[str, Any]:
        """The EndpointInput's type-specific attributes (None values are left out)."""
        return {}

    @classmethod
    def app(cls, plan: MonitorPlan, image: str) -> dict[str, Any]:
        """The job definition's app specification."""
        return {"ImageUri": image}

    @classmethod
    def job_properties(cls, plan: MonitorPlan, role_arn: str, image: str) -> dict[str, Any]:
        """Properties of the type's CloudFormation job definition (RESOURCE_TYPE): the endpoint's captured
        data, with the ground truth where the type compares against it."""
        job_input: dict[str, Any] = {"EndpointInput": endpoint_input(plan, **cls.endpoint_attributes(plan))}
        ground_truth = cls.ground_truth(plan)
        if ground_truth is not None:
            job_input["GroundTruthS3Input"] = {"S3Uri": s3_uri(ground_truth)}
        return job_definition_properties(
            cls.MONITORING_TYPE,
            plan,
            role_arn,
            # Every monitor publishes its metrics to CloudWatch (what its status and alarms read).
            {**cls.app(plan, image), "Environment": PUBLISH_METRICS},
            job_input,
            cls.constraints_uri(plan),
            cls.ISOLATED,
        )
