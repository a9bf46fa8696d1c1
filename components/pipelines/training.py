"""Training and hyperparameter-tuning jobs with SageMaker built-in algorithms, and model registration.

pulumi-aws has native TrainingJob and HyperParameterTuningJob resources, so these need no
run-on-deploy machinery: the job is (re)created when its deterministic name changes, i.e. when the
request changes. pulumi-aws has no model-package resource; the trained model is registered in the
orchestrator's model package group (when the context names one) through a one-resource
CloudFormation stack (AWS::SageMaker::ModelPackage), which keeps the program on the aws provider alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar, cast

import pulumi
import pulumi_aws as aws

from components import policies
from components.pipelines import roles
from components.pipelines.base import PipelineComponent, PipelineContext
from components.pipelines.served_model import image_repository_arn, prebuilt_image_lookup, volume_kms_key
from mlops_spec import naming
from mlops_spec.base import PipelineSpec
from mlops_spec.common import Environment
from mlops_spec.pipelines.model_source import BUILTIN_FRAMEWORKS
from mlops_spec.pipelines.training import BuiltinTrainingFields, TrainingSpec, TunerConfig, TunerSpec

Statement = policies.Statement
# Resource arguments built here feed both aws.sagemaker.TrainingJob and the tuning job's training
# definition, whose generated TypedDicts describe the same shapes under different names.
Args = Any

# Content types the registered model accepts and answers with, as the built-in algorithms serve CSV.
SERVED_CONTENT_TYPES = ["text/csv"]
CLOUDFORMATION_STACK_NAME_LIMIT = 128


# -- plain decisions -------------------------------------------------------------------------
def hyperparameter_value(value: Any) -> str:
    """SageMaker takes hyperparameters as strings: numbers as written, booleans as the algorithms
    spell them (true/false), lists and objects as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value)


def hyperparameters(values: dict[str, Any], tuned: frozenset[str] = frozenset()) -> dict[str, str]:
    """The static hyperparameters of a job, stringified; tuned ones are left to the tuner."""
    return {name: hyperparameter_value(value) for name, value in sorted(values.items()) if name not in tuned}


def parameter_ranges(ranges: Mapping[str, tuple[str, list[Any]]]) -> Args:
    """`{"eta": ["continuous", [0.1, 0.5]]}` -> the tuning job's ParameterRanges (values as strings)."""
    translated: dict[str, list[dict[str, Any]]] = {
        "continuous_parameter_ranges": [],
        "integer_parameter_ranges": [],
        "categorical_parameter_ranges": [],
    }
    for name, (kind, values) in sorted(ranges.items()):
        if kind == "categorical":
            translated["categorical_parameter_ranges"].append(
                {"name": name, "values": [hyperparameter_value(v) for v in values]}
            )
        else:
            low, high = (hyperparameter_value(v) for v in values)
            translated[f"{kind}_parameter_ranges"].append(
                {"name": name, "min_value": low, "max_value": high, "scaling_type": "Auto"}
            )
    return {key: value for key, value in translated.items() if value}


def resource_limits(tuner: TunerConfig) -> Args:
    """How many jobs the tuner runs (each bounded by the job's stopping condition). Grid search tries
    every combination: SageMaker rejects a job count for it."""
    limits: dict[str, Any] = {"max_parallel_training_jobs": tuner.max_parallel_jobs}
    if tuner.strategy != "Grid":
        limits["max_number_of_training_jobs"] = tuner.max_jobs
    return limits


def output_path(assets_bucket: str, spec: BuiltinTrainingFields) -> str:
    return f"s3://{assets_bucket}/{spec.job_output_location.strip('/')}"


def model_artifact_uri(output: str, job_name: str) -> str:
    """Where SageMaker writes a training job's model: `<output path>/<job name>/output/model.tar.gz`."""
    return f"{output}/{job_name}/output/model.tar.gz"


def channel(name: str, assets_bucket: str, key: str, spec: BuiltinTrainingFields) -> Args:
    """One input channel reading `key` of the assets bucket, with the request's data options."""
    source: dict[str, Any] = {
        "s3_data_type": spec.s3_data_type,
        "s3_uri": f"s3://{assets_bucket}/{key}",
        "s3_data_distribution_type": spec.data_distribution,
    }
    if spec.attribute_names:
        source["attribute_names"] = list(spec.attribute_names)
    config: dict[str, Any] = {
        "channel_name": name,
        "content_type": spec.content_type,
        "data_source": {"s3_data_source": source},
    }
    if spec.compression_type:
        config["compression_type"] = spec.compression_type
    if spec.data_record_wrapping:
        config["record_wrapper_type"] = spec.data_record_wrapping
    return config


def channels(assets_bucket: str, spec: BuiltinTrainingFields) -> list[Args]:
    """The `train` channel, and `validation` when the request has validation data."""
    configured = [channel("train", assets_bucket, spec.training_data, spec)]
    if spec.validation_data:
        configured.append(channel("validation", assets_bucket, spec.validation_data, spec))
    return configured


def resources(spec: BuiltinTrainingFields, key_arn: str) -> Args:
    config: dict[str, Any] = {
        "instance_type": spec.instance_type,
        "instance_count": spec.instance_count,
        "volume_size_in_gb": spec.instance_volume_size,
    }
    volume_key = volume_kms_key(spec.instance_type, key_arn)
    if volume_key:
        config["volume_kms_key_id"] = volume_key
    return config


def stopping_condition(spec: BuiltinTrainingFields) -> Args:
    """The runtime limit, and with spot capacity the limit including waits for it."""
    condition = {"max_runtime_in_seconds": spec.max_runtime_per_job}
    if spec.use_spot_instances:
        condition["max_wait_time_in_seconds"] = spec.max_wait_time_spot_instances
    return condition


def training_role_statements(
    context: PipelineContext,
    spec: BuiltinTrainingFields,
    assets_bucket: str,
    key_arns: list[str],
    output_key: str,
    image_uri: str,
) -> list[Statement]:
    """Read the training data, write under the output location, pull the algorithm image, use the keys.

    `key_arns` encrypt the job's volumes; `output_key` (the assets bucket's key when known, see
    PipelineContext.assets_output_key_arn) decrypts the data and encrypts the model written next to it.
    """
    reads = [spec.training_data, *([spec.validation_data] if spec.validation_data else [])]
    statements = roles.s3_read(assets_bucket, reads, context.partition)
    statements += roles.s3_write(assets_bucket, [spec.job_output_location], context.partition)
    statements += roles.ecr_pull([image_repository_arn(image_uri)])
    statements.append(roles.kms_use(sorted({*key_arns, output_key})))
    statements.append(roles.sagemaker_logs(context))
    statements.append(roles.sagemaker_metrics())
    return statements


def model_package_template(
    group_name: str, image_uri: str, model_data_url: str, job_name: str, description: str
) -> str:
    """A CloudFormation template registering one trained model as a new version of a package group.

    Retain policies keep the version in the registry when a newer training replaces the stack.
    """
    package = {
        "Type": "AWS::SageMaker::ModelPackage",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "ModelPackageGroupName": group_name,
            "ModelPackageDescription": description,
            "ModelApprovalStatus": "PendingManualApproval",
            "CustomerMetadataProperties": {"training_job_name": job_name},
            "InferenceSpecification": {
                "Containers": [{"Image": image_uri, "ModelDataUrl": model_data_url}],
                "SupportedContentTypes": SERVED_CONTENT_TYPES,
                "SupportedResponseMIMETypes": SERVED_CONTENT_TYPES,
            },
        },
    }
    return json.dumps(
        {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": f"Model package of training job {job_name} (managed by the MLOps orchestrator)",
            "Resources": {"ModelPackage": package},
            "Outputs": {"ModelPackageArn": {"Value": {"Ref": "ModelPackage"}}},
        },
        sort_keys=True,
    )


# -- components ------------------------------------------------------------------------------
class BuiltinAlgorithmJob(PipelineComponent):
    """What a training and a tuning job share: the algorithm image, the role, keys and locations."""

    SPEC: ClassVar[type[BuiltinTrainingFields]]
    job_spec: BuiltinTrainingFields

    def __init__(
        self, name: str, spec: PipelineSpec, context: PipelineContext, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__(name, spec, context, opts)
        spec = self.job_spec = self.expect_spec(spec, self.SPEC)
        self.job_name = spec.resolved_job_name(cast(Environment, context.environment))
        lookup = prebuilt_image_lookup(self)
        self.image_uri = lookup(BUILTIN_FRAMEWORKS[spec.model_framework], spec.model_framework_version)
        self.key_arn: pulumi.Input[str] = spec.kms_key_arn or context.kms_key_arn
        # The model lands in the orchestrator's assets bucket, where every environment (other accounts
        # in multi-account mode) reads it: it is encrypted with the bucket's key, not this environment's.
        self.output_key_arn = context.assets_output_key_arn
        self.output_path = pulumi.Output.from_input(context.assets_bucket).apply(lambda b: output_path(b, spec))
        image = self.image_uri
        self.role = roles.ExecutionRole(
            f"{name}-role",
            role_name=self.physical_name("sagemaker-role", roles.IAM_ROLE_NAME_LIMIT),
            service="sagemaker.amazonaws.com",
            account_id=context.account_id,
            permissions_boundary=context.permissions_boundary,
            statements=pulumi.Output.all(
                bucket=context.assets_bucket,
                output_key=self.output_key_arn,
                key=self.key_arn,
                env_key=context.kms_key_arn,
            ).apply(
                lambda v: training_role_statements(
                    context, spec, v["bucket"], [v["key"], v["env_key"]], v["output_key"], image
                )
            ),
            tags=self.tags,
            opts=self.child,
        )

    def algorithm(self) -> Args:
        return {"training_image": self.image_uri, "training_input_mode": self.job_spec.data_input_mode}

    def channels(self) -> pulumi.Output[Args]:
        spec = self.job_spec
        return pulumi.Output.from_input(self.context.assets_bucket).apply(lambda bucket: channels(bucket, spec))

    def resources(self) -> pulumi.Output[Args]:
        spec = self.job_spec
        return pulumi.Output.from_input(self.key_arn).apply(lambda key: resources(spec, key))

    def checkpoints(self) -> pulumi.Output[Args] | None:
        """Spot jobs can be interrupted; checkpoints under the output location let them resume."""
        if not self.job_spec.use_spot_instances:
            return None
        job_name = self.job_name
        return self.output_path.apply(lambda path: {"s3_uri": f"{path}/{job_name}/checkpoints"})


class ModelTraining(BuiltinAlgorithmJob):
    """Train a model with a built-in algorithm; optionally register it in the model package group."""

    TYPE_TOKEN = "mlops:pipelines:ModelTraining"
    SPEC = TrainingSpec

    def __init__(
        self, name: str, spec: PipelineSpec, context: PipelineContext, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__(name, spec, context, opts)
        job_spec = self.job_spec
        job = aws.sagemaker.TrainingJob(
            f"{name}-job",
            training_job_name=self.job_name,
            role_arn=self.role.arn,
            algorithm_specification=self.algorithm(),
            hyper_parameters=hyperparameters(job_spec.algo_hyperparamaters),
            input_data_configs=self.channels(),
            output_data_config={"s3_output_path": self.output_path, "kms_key_id": self.output_key_arn},
            resource_config=self.resources(),
            stopping_condition=stopping_condition(job_spec),
            enable_managed_spot_training=job_spec.use_spot_instances,
            checkpoint_config=self.checkpoints(),
            enable_inter_container_traffic_encryption=job_spec.encrypt_inner_traffic,
            # A built-in algorithm runs no user code and needs nothing beyond its channels.
            enable_network_isolation=True,
            tags=self.tags,
            opts=self.child_opts(depends_on=[self.role]),
        )
        job_name = self.job_name
        artifact = self.output_path.apply(lambda path: model_artifact_uri(path, job_name))
        outputs: dict[str, pulumi.Output[Any]] = {
            "training_job_name": job.training_job_name,
            "model_artifact_location": artifact,
        }
        if context.model_package_group_name is not None:
            outputs["model_package_arn"] = self._register(name, context.model_package_group_name, artifact, job)
        self.finish(outputs)

    def _register(
        self,
        name: str,
        group_name: pulumi.Input[str],
        artifact: pulumi.Output[str],
        job: aws.sagemaker.TrainingJob,
    ) -> pulumi.Output[Any]:
        """Register the trained model as a new (pending-approval) version of the package group."""
        image, job_name = self.image_uri, self.job_name
        description = f"{self.job_spec.model_framework} {self.job_spec.model_framework_version} model of {job_name}"
        stack = aws.cloudformation.Stack(
            f"{name}-model-package",
            name=naming.bounded(f"{job_name}-model-package", CLOUDFORMATION_STACK_NAME_LIMIT),
            template_body=pulumi.Output.all(group=group_name, artifact=artifact).apply(
                lambda v: model_package_template(v["group"], image, v["artifact"], job_name, description)
            ),
            tags=self.tags,
            # The model must exist before it is registered.
            opts=self.child_opts(depends_on=[job]),
        )
        return stack.outputs.apply(lambda outputs: (outputs or {}).get("ModelPackageArn"))


class HyperparameterTuning(BuiltinAlgorithmJob):
    """Search a built-in algorithm's hyperparameters with a SageMaker tuning job."""

    TYPE_TOKEN = "mlops:pipelines:HyperparameterTuning"
    SPEC = TunerSpec

    def __init__(
        self, name: str, spec: PipelineSpec, context: PipelineContext, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__(name, spec, context, opts)
        tuner_spec = cast(TunerSpec, self.job_spec)
        tuner = tuner_spec.tuner_configs
        tuned = frozenset(tuner_spec.hyperparamaters_ranges)
        algorithm = self.algorithm()
        if tuner.metric_definitions:
            algorithm["metric_definitions"] = [{"name": m.Name, "regex": m.Regex} for m in tuner.metric_definitions]
        job = aws.sagemaker.HyperParameterTuningJob(
            f"{name}-job",
            name=self.job_name,
            config={
                "strategy": tuner.strategy,
                "objective": {"metric_name": tuner.objective_metric_name, "type": tuner.objective_type},
                "resource_limits": resource_limits(tuner),
                "parameter_ranges": parameter_ranges(tuner_spec.hyperparamaters_ranges),
                "training_job_early_stopping_type": tuner.early_stopping_type,
            },
            training_job_definition={
                "role_arn": self.role.arn,
                "algorithm_specification": algorithm,
                "static_hyper_parameters": hyperparameters(tuner_spec.algo_hyperparamaters, tuned),
                "input_data_configs": self.channels(),
                "output_data_config": {"s3_output_path": self.output_path, "kms_key_id": self.output_key_arn},
                "resource_config": self.resources(),
                "stopping_condition": stopping_condition(tuner_spec),
                "enable_managed_spot_training": tuner_spec.use_spot_instances,
                "checkpoint_config": self.checkpoints(),
                "enable_inter_container_traffic_encryption": tuner_spec.encrypt_inner_traffic,
                "enable_network_isolation": True,
            },
            tags=self.tags,
            opts=self.child_opts(depends_on=[self.role]),
        )
        self.finish({"tuning_job_name": job.name, "output_location": self.output_path})
