"""Model monitor decisions as plain functions: images per region, Clarify configs, job inputs, role statements."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from components.pipelines import monitors
from components.pipelines.monitors.clarify import ModelBiasMonitor, ModelExplainabilityMonitor, config_writer_statements
from components.pipelines.monitors.plan import MonitorPlan, endpoint_input, prediction_attributes
from components.pipelines.monitors.quality import DataQualityMonitor, ModelQualityMonitor
from mlops_spec.pipelines.monitors import MonitorSpec, ProblemTypeMonitorSpec
from mlops_spec.request import parse_pipeline_request
from tests.components.support import monitor_request

ASSETS_KEY = "arn:aws:kms:us-east-1:999999999999:key/99999999-9999-9999-9999-999999999999"
KEY = "arn:aws:kms:us-east-1:111111111111:key/11111111-1111-1111-1111-111111111111"


def plan_of(pipeline_type: str, **overrides: object) -> MonitorPlan:
    spec = parse_pipeline_request(monitor_request(pipeline_type, **overrides)).for_env("dev")
    assert isinstance(spec, MonitorSpec)
    return MonitorPlan(
        spec=spec,
        run_name="churn-dev-baseline-ab12cd",
        assets_bucket="mlops-assets",
        artifacts_bucket="mlops-dev-artifacts",
        key_arn=KEY,
        environment_key_arn=KEY,
        config_prefix="churn/dev/clarify",
    )


# -- images per region -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("region", "account"),
    [
        ("us-east-1", "156813124566"),
        ("us-east-2", "777275614652"),
        ("us-west-2", "159807026194"),
        ("eu-west-1", "468650794304"),
        ("eu-central-1", "048819808253"),
        ("ap-southeast-2", "563025443158"),
    ],
)
def test_model_monitor_image_comes_from_the_regions_publisher(region: str, account: str) -> None:
    assert (
        monitors.model_monitor_image(region)
        == f"{account}.dkr.ecr.{region}.amazonaws.com/sagemaker-model-monitor-analyzer"
    )


@pytest.mark.parametrize(
    ("region", "account"),
    [
        ("us-east-1", "205585389593"),
        ("us-east-2", "211330385671"),
        ("us-west-2", "306415355426"),
        ("eu-west-1", "131013547314"),
        ("eu-central-1", "017069133835"),
        ("ap-southeast-2", "007051062584"),
    ],
)
def test_clarify_image_comes_from_the_regions_publisher(region: str, account: str) -> None:
    assert (
        monitors.clarify_image(region) == f"{account}.dkr.ecr.{region}.amazonaws.com/sagemaker-clarify-processing:1.0"
    )


def test_an_unknown_region_is_refused_with_the_supported_ones() -> None:
    with pytest.raises(monitors.UnsupportedRegionError, match=r"'mars-north-1'.*eu-west-1"):
        monitors.model_monitor_image("mars-north-1")


# -- Clarify configs (plain) -------------------------------------------------------------------
def test_bias_config_becomes_clarify_facets() -> None:
    analysis = monitors.bias_analysis(
        {"label_values_or_threshold": [1], "facet_name": "age", "facet_values_or_threshold": [40], "group_name": "zip"}
    )
    assert analysis == {
        "label_values_or_threshold": [1],
        "facet": [{"name_or_index": "age", "value_or_threshold": [40]}],
        "group_variable": "zip",
    }


def test_several_facets_pair_names_with_their_values() -> None:
    analysis = monitors.bias_analysis(
        {"label_values_or_threshold": [1], "facet_name": ["age", "sex"], "facet_values_or_threshold": [[40], None]}
    )
    assert analysis["facet"] == [{"name_or_index": "age", "value_or_threshold": [40]}, {"name_or_index": "sex"}]


def test_predicted_label_config_splits_into_predictor_and_threshold() -> None:
    predictor, top = monitors.predicted_label({"label": 0, "probability": 1, "probability_threshold": 0.7})
    assert predictor == {"label": 0, "probability": 1}
    assert top == {"probability_threshold": 0.7}
    assert monitors.predicted_label(None) == ({}, {})


def test_a_shap_baseline_key_points_into_the_assets_bucket() -> None:
    shap = monitors.shap_method({"baseline": "baselines/shap.csv", "num_samples": 10}, "mlops-assets")
    assert shap["baseline"] == "s3://mlops-assets/baselines/shap.csv"
    assert shap["num_samples"] == 10 and shap["use_logit"] is False


def test_config_expression_adds_the_columns_with_or_without_the_label() -> None:
    with_label = monitors.clarify_config_expression({"methods": {}}, with_label=True)
    features_only = monitors.clarify_config_expression({"methods": {}}, with_label=False)
    assert with_label.startswith("{% $string($merge([") and with_label.endswith("])) %}")
    assert '"label": $columns[0]' in with_label
    assert "label" not in features_only and "$filter($columns" in features_only


# -- job inputs and role statements ----------------------------------------------------------------
def test_prediction_attributes_leave_unset_ones_out_of_the_endpoint_input() -> None:
    plan = plan_of("byom_model_quality_monitor")
    assert isinstance(plan.spec, ProblemTypeMonitorSpec)
    attributes = prediction_attributes(plan.spec)
    assert set(attributes) == {"InferenceAttribute", "ProbabilityAttribute", "ProbabilityThresholdAttribute"}
    job_input = endpoint_input(plan, **attributes)
    assert job_input["EndpointName"] == "churn-endpoint"
    assert {key: job_input[key] for key in attributes if key in job_input} == {
        key: value for key, value in attributes.items() if value is not None
    }


@pytest.mark.parametrize(
    ("monitor", "pipeline_type", "compares"),
    [
        (DataQualityMonitor, "byom_data_quality_monitor", False),
        (ModelQualityMonitor, "byom_model_quality_monitor", True),
        (ModelBiasMonitor, "byom_model_bias_monitor", True),
        (ModelExplainabilityMonitor, "byom_model_explainability_monitor", False),
    ],
)
def test_only_quality_and_bias_monitors_read_ground_truth(
    monitor: type[monitors.ModelMonitor], pipeline_type: str, compares: bool
) -> None:
    plan = plan_of(pipeline_type)
    ground_truth = monitor.ground_truth(plan)
    assert (ground_truth is not None) is compares
    assert (ground_truth in monitor.reads(plan)) is compares


def test_clarify_monitors_read_the_configs_of_their_run_first() -> None:
    reads = ModelBiasMonitor.reads(plan_of("byom_model_bias_monitor"))
    assert reads[0] == "mlops-dev-artifacts/churn/dev/clarify/churn-dev-baseline-ab12cd/"


def test_the_config_writer_may_read_the_baseline_and_write_only_its_runs_configs() -> None:
    plan = plan_of("byom_model_bias_monitor")
    statements = config_writer_statements(plan, ASSETS_KEY)
    by_action = {action: s["Resource"] for s in statements for action in s["Action"]}
    assert by_action == {
        "s3:GetObject": [f"arn:aws:s3:::mlops-assets/{plan.spec.baseline_data}"],
        "s3:PutObject": ["arn:aws:s3:::mlops-dev-artifacts/churn/dev/clarify/churn-dev-baseline-ab12cd/*"],
        "kms:Decrypt": [ASSETS_KEY],
    }
    assert "kms:Decrypt" not in {a for s in config_writer_statements(plan, None) for a in s["Action"]}


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (
            lambda: monitors.model_monitor_image("cn-north-1"),
            "453000072557.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-model-monitor-analyzer",
        ),
        (
            lambda: monitors.clarify_image("us-gov-west-1"),
            "598674086554.dkr.ecr.us-gov-west-1.amazonaws.com/sagemaker-clarify-processing:1.0",
        ),
    ],
)
def test_china_and_govcloud_images_come_from_their_publishers(image: Callable[[], str], expected: str) -> None:
    assert image() == expected


def test_govcloud_has_no_model_monitor_analyzer_and_says_so() -> None:
    with pytest.raises(monitors.UnsupportedRegionError, match="us-gov-west-1"):
        monitors.model_monitor_image("us-gov-west-1")
