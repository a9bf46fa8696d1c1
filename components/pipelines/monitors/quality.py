"""The two monitors the model-monitor analyzer runs: data quality and model quality.

Changes when what the analyzer is told (its baseline settings, its job definition) changes.
"""

from __future__ import annotations

from typing import Any, cast

import pulumi
import pulumi_aws as aws

from components.pipelines.monitors.base import ModelMonitor
from components.pipelines.monitors.plan import (
    ENDPOINT_INPUT,
    PROCESSING_OUTPUT,
    PUBLISH_METRICS,
    MonitorPlan,
    definition_name,
    prediction_attributes,
)
from components.pipelines.served_model import resolved
from mlops_spec.pipelines.monitors import DataQualityMonitorSpec, ModelQualityMonitorSpec


def data_quality_outputs(plan: MonitorPlan) -> dict[str, Any]:
    """Where a data quality job writes its report, encrypted with the monitor's key."""
    return {
        "kms_key_id": plan.key_arn,
        "monitoring_outputs": {
            "s3_output": {
                "s3_uri": plan.monitoring_output_uri,
                "local_path": PROCESSING_OUTPUT,
                "s3_upload_mode": "EndOfJob",
            }
        },
    }


def data_quality_resources(plan: MonitorPlan) -> dict[str, Any]:
    """The plan's cluster, in pulumi-aws's spelling."""
    cluster = plan.cluster_config()
    return {
        "cluster_config": {
            "instance_count": cluster["InstanceCount"],
            "instance_type": cluster["InstanceType"],
            "volume_size_in_gb": cluster["VolumeSizeInGB"],
            "volume_kms_key_id": cluster.get("VolumeKmsKeyId"),
        }
    }


class DataQualityMonitor(ModelMonitor):
    """Compare the statistics of the endpoint's captured inputs with the baseline dataset's."""

    TYPE_TOKEN = "mlops:pipelines:DataQualityMonitor"
    SPEC = DataQualityMonitorSpec
    MONITORING_TYPE = "DataQuality"

    @classmethod
    def job_arguments(cls, plan: MonitorPlan, role_arn: str, image: str) -> dict[str, Any]:
        """Arguments of aws.sagemaker.DataQualityJobDefinition (pulumi-aws has this one natively)."""
        return {
            "role_arn": role_arn,
            "data_quality_app_specification": {"image_uri": image, "environment": PUBLISH_METRICS},
            "data_quality_baseline_config": {
                "constraints_resource": {"s3_uri": cls.constraints_uri(plan)},
                "statistics_resource": {"s3_uri": f"{plan.baseline_output_uri}/statistics.json"},
            },
            "data_quality_job_input": {
                "endpoint_input": {"endpoint_name": plan.endpoint_name, "local_path": ENDPOINT_INPUT}
            },
            "data_quality_job_output_config": data_quality_outputs(plan),
            "job_resources": data_quality_resources(plan),
            "network_config": {"enable_inter_container_traffic_encryption": True, "enable_network_isolation": True},
            "stopping_condition": {"max_runtime_in_seconds": resolved(plan.spec.monitor_max_runtime_seconds)},
        }

    def job_definition(
        self, name: str, plan: pulumi.Output[MonitorPlan], role_arn: pulumi.Output[str]
    ) -> pulumi.Output[str]:
        environment = self.context.environment
        image = self.image_uri
        arguments = pulumi.Output.all(plan=plan, role=role_arn).apply(
            lambda v: self.job_arguments(v["plan"], v["role"], image)
        )
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
            opts=self.child,
        )
        return definition.name


class ModelQualityMonitor(ModelMonitor):
    """Compare the endpoint's predictions with ground-truth labels (accuracy, RMSE, ...)."""

    TYPE_TOKEN = "mlops:pipelines:ModelQualityMonitor"
    SPEC = ModelQualityMonitorSpec
    MONITORING_TYPE = "ModelQuality"
    RESOURCE_TYPE = "AWS::SageMaker::ModelQualityJobDefinition"
    COMPARES_WITH_GROUND_TRUTH = True

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
    def endpoint_attributes(cls, plan: MonitorPlan) -> dict[str, Any]:
        return prediction_attributes(cast(ModelQualityMonitorSpec, plan.spec))

    @classmethod
    def app(cls, plan: MonitorPlan, image: str) -> dict[str, Any]:
        return {"ImageUri": image, "ProblemType": cast(ModelQualityMonitorSpec, plan.spec).problem_type}
