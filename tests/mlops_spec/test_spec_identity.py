"""Identity of a request: deterministic pipeline ids, bounded job and schedule names, and the spec hash."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops_spec.request import parse_pipeline_request
from mlops_spec.spec_union import SPEC_TYPES
from tests.support.pipeline_types import every_type

SAGEMAKER_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
MONITORS = sorted(name for name in SPEC_TYPES if name.endswith("_monitor"))
model_names = st.from_regex(r"[a-zA-Z0-9](-?[a-zA-Z0-9]){0,62}", fullmatch=True)
environments = st.sampled_from(["dev", "staging", "prod"])
# `example` only hands out a loading function, so sharing it across generated inputs is safe.
names_settings = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

EXPECTED_IDS = {
    "byom_realtime_builtin": "churn-xgb-realtime-builtin",
    "byom_realtime_custom": "fraud-detector-realtime-custom",
    "byom_batch_builtin": "churn-xgb-batch-builtin",
    "byom_batch_custom": "fraud-detector-batch-custom",
    "byom_data_quality_monitor": "churn-xgb-data-quality",
    "byom_model_quality_monitor": "churn-xgb-model-quality",
    "byom_model_bias_monitor": "churn-xgb-model-bias",
    "byom_model_explainability_monitor": "house-price-xgb-explainability",
    "model_training_builtin": "churn-xgb-training",
    "model_tuner_builtin": "churn-xgb-tuner",
    "model_autopilot_training": "churn-automl-autopilot",
    "byom_image_builder": "v3-fraud-detector-image-builder",
}


@pytest.mark.parametrize("pipeline_type", every_type(EXPECTED_IDS))
def test_pipeline_id_is_the_name_and_the_type(example, pipeline_type):
    assert parse_pipeline_request(example(pipeline_type)).pipeline_id == EXPECTED_IDS[pipeline_type]


def test_pipeline_id_ignores_case_and_mode(example):
    single = parse_pipeline_request({**example("byom_realtime_builtin"), "model_name": "Churn-XGB"})
    multi = parse_pipeline_request(example("byom_realtime_builtin", "multi"), mode="multi")
    assert single.pipeline_id == multi.pipeline_id == "churn-xgb-realtime-builtin"


def test_every_type_has_its_own_slug():
    slugs = [spec.TYPE_SLUG for spec in SPEC_TYPES.values()]
    assert len(set(slugs)) == len(slugs)


@pytest.mark.parametrize("pipeline_type", MONITORS)
@names_settings
@given(model_name=model_names, env=environments)
def test_monitor_job_and_schedule_names_fit_sagemaker(example, pipeline_type, model_name, env):
    spec = parse_pipeline_request({**example(pipeline_type), "model_name": model_name})
    assert len(spec.pipeline_id) <= 40
    for name in (spec.baseline_job_name(env), spec.monitoring_schedule_name(env)):
        assert len(name) <= 63
        assert SAGEMAKER_NAME.fullmatch(name), name


@pytest.mark.parametrize(
    ("pipeline_type", "limit"),
    [("model_training_builtin", 63), ("model_tuner_builtin", 32), ("model_autopilot_training", 32)],
)
@names_settings
@given(model_name=model_names)
def test_derived_job_names_fit_the_job_types_limit(example, pipeline_type, limit, model_name):
    body = {key: value for key, value in example(pipeline_type).items() if key != "job_name"}
    name = parse_pipeline_request({**body, "model_name": model_name}).resolved_job_name("dev")
    assert len(name) <= limit
    assert SAGEMAKER_NAME.fullmatch(name), name


def test_derived_names_read_as_pipeline_environment_and_purpose(example):
    spec = parse_pipeline_request(example("byom_data_quality_monitor"))
    assert spec.monitoring_schedule_name("prod") == "churn-xgb-data-quality-prod-schedule"
    assert re.fullmatch(r"churn-xgb-data-quality-staging-baseline-[0-9a-f]{6}", spec.baseline_job_name("staging"))


def test_a_given_job_name_is_used_as_is(example):
    assert parse_pipeline_request(example("model_tuner_builtin")).resolved_job_name("dev") == "churn-xgb-tuning"


def test_job_names_are_stable_for_an_unchanged_request_and_new_for_a_changed_one(example):
    # SageMaker never reuses a job name: a re-sent request must keep its job, a changed one needs a new one.
    body = example("byom_model_quality_monitor")
    first = parse_pipeline_request(body).baseline_job_name("dev")
    assert parse_pipeline_request(body).baseline_job_name("dev") == first
    retagged = {**body, "tags": {"team": "platform"}, "client_token": "retry-2"}
    assert parse_pipeline_request(retagged).baseline_job_name("dev") == first
    changed = {**body, "baseline_data": "baselines/churn-xgb/validation-2024-06.csv"}
    assert parse_pipeline_request(changed).baseline_job_name("dev") != first


def test_training_job_name_changes_with_the_hyperparameters(example):
    body = {key: value for key, value in example("model_training_builtin").items() if key != "job_name"}
    first = parse_pipeline_request(body).resolved_job_name("dev")
    tuned = {**body, "algo_hyperparamaters": {**body["algo_hyperparamaters"], "eta": 0.1}}
    assert re.fullmatch(r"churn-xgb-training-dev-job-[0-9a-f]{6}", first)
    assert parse_pipeline_request(tuned).resolved_job_name("dev") != first


def test_baseline_name_differs_per_environment_only_through_the_environment(example):
    spec = parse_pipeline_request(example("byom_data_quality_monitor", "multi"), mode="multi")
    names = {env: spec.baseline_job_name(env) for env in ("dev", "staging", "prod")}
    assert len(set(names.values())) == 3
    assert all(f"-{env}-baseline-" in name for env, name in names.items())


# -- spec hash ------------------------------------------------------------------------------------
def test_equal_requests_written_differently_have_the_same_hash(example):
    body = example("model_training_builtin")
    variant = dict(reversed(list(body.items())))
    variant.update(
        {
            "use_spot_instances": True,
            "encrypt_inner_traffic": "true",
            "instance_volume_size": "30",
            "max_runtime_per_job": "7200",
            "validation_data": "training/churn-xgb/validation.csv ",
            "compression_type": "",
            "client_token": "deploy-42",
        }
    )
    assert parse_pipeline_request(variant).spec_hash() == parse_pipeline_request(body).spec_hash()


def test_s3_locations_hash_the_same_with_or_without_the_scheme(example):
    body = example("byom_batch_builtin")
    variant = {**body, "batch_job_output_location": "s3://" + body["batch_job_output_location"] + "/"}
    assert parse_pipeline_request(variant).spec_hash() == parse_pipeline_request(body).spec_hash()


def test_different_requests_have_different_hashes(example):
    body = example("byom_batch_builtin")
    assert parse_pipeline_request({**body, "instance_count": 2}).spec_hash() != parse_pipeline_request(body).spec_hash()
