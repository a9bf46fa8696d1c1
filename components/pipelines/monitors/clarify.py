"""The two monitors SageMaker Clarify runs: bias and explainability, with their generated analysis configs.

Changes when what Clarify is told changes: its analysis config, how the config is generated from the
baseline dataset's header, or the job definitions of the bias and explainability monitors.
"""

from __future__ import annotations

import json
from typing import Any, cast

from components import policies
from components.pipelines.base import PipelineContext
from components.pipelines.monitors.base import ModelMonitor
from components.pipelines.monitors.images import clarify_image
from components.pipelines.monitors.plan import (
    CLARIFY_CONFIG,
    CLARIFY_DATASET,
    HEADER_BYTES,
    MonitorPlan,
    baseline_machine_statements,
    prediction_attributes,
    processing_job,
    s3_input,
)
from mlops_spec import partitions
from mlops_spec.pipelines.monitors import ModelBiasMonitorSpec, ModelExplainabilityMonitorSpec

Statement = policies.Statement

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


def put_config_state(plan: MonitorPlan, key: str, body_expression: str, next_state: str) -> dict[str, Any]:
    """A state writing one generated analysis config to the artifacts bucket."""
    return {
        "Type": "Task",
        "QueryLanguage": "JSONata",
        "Resource": partitions.arn(plan.partition, "states", "aws-sdk:s3:putObject"),
        "Arguments": {
            "Bucket": plan.artifacts_bucket,
            "Key": key,
            "Body": body_expression,
            "ContentType": "application/json",
        },
        "Next": next_state,
    }


def config_states(
    plan: MonitorPlan, baseline_analysis: dict[str, Any], monitor_analysis: dict[str, Any], monitor_label: bool
) -> dict[str, Any]:
    """The states before the baseline job: read the dataset's header, write both analysis configs."""
    return {
        "ReadHeader": {
            "Type": "Task",
            "QueryLanguage": "JSONata",
            "Resource": partitions.arn(plan.partition, "states", "aws-sdk:s3:getObject"),
            "Arguments": {
                "Bucket": plan.assets_bucket,
                "Key": plan.spec.baseline_data,
                "Range": f"bytes=0-{HEADER_BYTES}",
            },
            "Assign": {"columns": HEADER_COLUMNS},
            "Next": "WriteBaselineConfig",
        },
        # The artifacts bucket encrypts new objects with the environment key by default.
        "WriteBaselineConfig": put_config_state(
            plan,
            plan.baseline_config_key,
            clarify_config_expression(baseline_analysis, True),
            "WriteMonitorConfig",
        ),
        "WriteMonitorConfig": put_config_state(
            plan, plan.monitor_config_key, clarify_config_expression(monitor_analysis, monitor_label), "RunJob"
        ),
    }


def config_writer_statements(plan: MonitorPlan, assets_key: str | None) -> list[Statement]:
    """What the baseline state machine needs beyond running the job: read the header, write the configs."""

    def s3(bucket: str, key: str) -> str:
        return partitions.arn(plan.partition, "s3", f"{bucket}/{key}")

    statements = [
        policies.statement(["s3:GetObject"], [s3(plan.assets_bucket, plan.spec.baseline_data)]),
        policies.statement(["s3:PutObject"], [s3(plan.artifacts_bucket, f"{plan.config_prefix}/{plan.run_name}/*")]),
    ]
    if assets_key:
        statements.append(policies.statement(["kms:Decrypt"], [assets_key]))
    return statements


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
    def baseline_job(cls, plan: MonitorPlan, role_arn: str, image: str) -> dict[str, Any]:
        """Clarify reads the baseline dataset and the baseline analysis config this run generated."""
        inputs = [
            s3_input("dataset", plan.baseline_data_uri, CLARIFY_DATASET),
            s3_input("analysis_config", f"s3://{plan.artifacts_bucket}/{plan.baseline_config_key}", CLARIFY_CONFIG),
        ]
        return processing_job(plan, role_arn, image, inputs, "analysis_result", cls.ISOLATED)

    @classmethod
    def baseline_definition(cls, plan: MonitorPlan, role_arn: str, image: str) -> dict[str, Any]:
        """Generate the analysis configs from the dataset's header, then run the baseline job."""
        machine = super().baseline_definition(plan, role_arn, image)
        monitor_static, monitor_label = cls.monitor_analysis(plan)
        machine["StartAt"] = "ReadHeader"
        machine["States"] = {
            **config_states(plan, cls.baseline_analysis(plan), monitor_static, monitor_label),
            **machine["States"],
        }
        return machine

    @classmethod
    def baseline_statements(
        cls, plan: MonitorPlan, context: PipelineContext, role_arn: str, assets_key: str | None
    ) -> list[Statement]:
        return baseline_machine_statements(context, plan.run_name, role_arn) + config_writer_statements(
            plan, assets_key
        )

    @classmethod
    def reads(cls, plan: MonitorPlan) -> list[str]:
        # The analysis configs this run generated, then the ground truth where the type has one.
        return [f"{plan.artifacts_bucket}/{plan.config_prefix}/{plan.run_name}/", *super().reads(plan)]

    @classmethod
    def extra_statements(cls, plan: MonitorPlan, context: PipelineContext) -> list[Statement]:
        # Clarify asks the monitored endpoint (and only it) for predictions.
        endpoint = context.arn("sagemaker", f"endpoint/{plan.endpoint_name.lower()}")
        return [policies.statement(["sagemaker:DescribeEndpoint", "sagemaker:InvokeEndpoint"], [endpoint])]

    @classmethod
    def app(cls, plan: MonitorPlan, image: str) -> dict[str, Any]:
        return {"ImageUri": image, "ConfigUri": f"s3://{plan.artifacts_bucket}/{plan.monitor_config_key}"}


class ModelBiasMonitor(ClarifyMonitor):
    """Watch post-training bias metrics of the endpoint's predictions across facets."""

    TYPE_TOKEN = "mlops:pipelines:ModelBiasMonitor"
    SPEC = ModelBiasMonitorSpec
    MONITORING_TYPE = "ModelBias"
    RESOURCE_TYPE = "AWS::SageMaker::ModelBiasJobDefinition"
    COMPARES_WITH_GROUND_TRUTH = True

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
    def endpoint_attributes(cls, plan: MonitorPlan) -> dict[str, Any]:
        spec = cast(ModelBiasMonitorSpec, plan.spec)
        return {"FeaturesAttribute": spec.features_attribute, **prediction_attributes(spec)}


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
    def endpoint_attributes(cls, plan: MonitorPlan) -> dict[str, Any]:
        spec = cast(ModelExplainabilityMonitorSpec, plan.spec)
        inference = spec.monitor_inference_attribute or (None if spec.model_scores is None else str(spec.model_scores))
        return {
            "FeaturesAttribute": spec.features_attribute,
            "InferenceAttribute": inference,
            "ProbabilityAttribute": spec.monitor_probability_attribute,
        }
