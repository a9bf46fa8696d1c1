"""Training and tuning requests: MWO's defaults and enums, the spot rule, job names and hyperparameter ranges."""

from __future__ import annotations

import pytest

from mlops_spec.pipelines.training import TrainingSpec, TunerSpec
from mlops_spec.request import parse_pipeline_request

MINIMAL_TRAINING = {
    "pipeline_type": "model_training_builtin",
    "model_name": "churn-xgb",
    "training_data": "training/churn-xgb/train.csv",
    "job_output_location": "training/churn-xgb/output",
    "model_framework": "xgboost",
    "model_framework_version": "1.7-1",
    "algo_hyperparamaters": {"num_round": 100},
}


def test_training_defaults_are_the_old_solutions():
    spec = parse_pipeline_request(MINIMAL_TRAINING)
    assert isinstance(spec, TrainingSpec)
    assert spec.model_dump(include=set(TrainingSpec.model_fields) - set(MINIMAL_TRAINING) - {"tags"}) == {
        "client_token": None,
        "owner": None,
        "auto_remediate": False,
        "job_name": None,
        "validation_data": None,
        "instance_type": "ml.m4.xlarge",
        "instance_count": 1,
        "instance_volume_size": 20,
        "encrypt_inner_traffic": True,
        "max_runtime_per_job": 86400,
        "use_spot_instances": True,
        "max_wait_time_spot_instances": 172800,
        "content_type": "csv",
        "s3_data_type": "S3Prefix",
        "data_distribution": "FullyReplicated",
        "compression_type": None,
        "data_input_mode": "File",
        "data_record_wrapping": None,
        "attribute_names": None,
        "kms_key_arn": None,
    }


def test_string_booleans_and_numbers_are_normalised(example):
    body = {**example("model_training_builtin"), "use_spot_instances": "False", "instance_count": "2"}
    spec = parse_pipeline_request(body)
    assert spec.use_spot_instances is False
    assert spec.encrypt_inner_traffic is True  # the example sends "True"
    assert spec.instance_count == 2


def test_the_correct_spelling_of_hyperparameters_is_accepted_and_stored_under_mwos_name():
    body = {key: value for key, value in MINIMAL_TRAINING.items() if key != "algo_hyperparamaters"}
    spec = parse_pipeline_request({**body, "algo_hyperparameters": {"num_round": 50}})
    assert spec.model_dump()["algo_hyperparamaters"] == {"num_round": 50}


@pytest.mark.parametrize(
    ("update", "field", "problem"),
    [
        ({"max_runtime_per_job": 599}, "max_runtime_per_job", "greater than or equal to 600"),
        ({"max_runtime_per_job": 259201}, "max_runtime_per_job", "less than or equal to 259200"),
        ({"max_wait_time_spot_instances": 0}, "max_wait_time_spot_instances", "greater than or equal to 1"),
        ({"use_spot_instances": "yes"}, "use_spot_instances", "valid boolean"),
        ({"encrypt_inner_traffic": 1}, "encrypt_inner_traffic", "valid boolean"),
        ({"job_name": "churn_xgb_training"}, "job_name", "letters, digits or hyphens"),
        ({"job_name": "j" * 64}, "job_name", "1-63"),
        ({"algo_hyperparamaters": {}}, "algo_hyperparamaters", "at least 1 item"),
        ({"algo_hyperparamaters": None}, "algo_hyperparamaters", "is required"),
        ({"model_framework_version": None}, "model_framework_version", "is required"),
        ({"training_data": "/training/train.csv"}, "training_data", "inside the assets bucket"),
        ({"s3_data_type": "S3Object"}, "s3_data_type", "'S3Prefix', 'ManifestFile' or 'AugmentedManifestFile'"),
        ({"data_distribution": "Sharded"}, "data_distribution", "'FullyReplicated' or 'ShardedByS3Key'"),
        ({"data_input_mode": "Stream"}, "data_input_mode", "'File', 'Pipe' or 'FastFile'"),
        ({"compression_type": "Zip"}, "compression_type", "'Gzip'"),
        ({"data_record_wrapping": "JSON"}, "data_record_wrapping", "'RecordIO'"),
        ({"instance_count": 0}, "instance_count", "greater than 0"),
        ({"attribute_names": ["source-ref"]}, "attribute_names", "needs s3_data_type AugmentedManifestFile"),
        ({"attribute_names": "source-ref,class"}, "attribute_names", "JSON array"),
    ],
)
def test_bad_training_request_names_the_field(example, reject, update, field, problem):
    body = {key: value for key, value in {**example("model_training_builtin"), **update}.items() if value is not None}
    error = reject(body)
    assert error.field == field
    assert problem in error.problem


def test_spot_wait_time_must_cover_the_runtime_when_spot_is_on(example, reject):
    body = {**example("model_training_builtin"), "max_runtime_per_job": 7200, "max_wait_time_spot_instances": 3600}
    error = reject(body)
    assert error.field == "max_wait_time_spot_instances"
    assert error.problem == "must be at least max_runtime_per_job (7200) when use_spot_instances is on"
    assert parse_pipeline_request({**body, "use_spot_instances": "False"}).max_wait_time_spot_instances == 3600


def test_defaults_break_the_spot_rule_only_when_the_runtime_is_raised(reject):
    # Defaults: runtime 86400, wait 172800. Raising the runtime past the default wait must be caught.
    error = reject({**MINIMAL_TRAINING, "max_runtime_per_job": 259200})
    assert error.field == "max_wait_time_spot_instances"


def test_attribute_names_accept_mwos_json_text_with_an_augmented_manifest(example):
    body = {
        **example("model_training_builtin"),
        "s3_data_type": "AugmentedManifestFile",
        "attribute_names": '["source-ref", "class"]',
    }
    assert parse_pipeline_request(body).attribute_names == ["source-ref", "class"]


# -- tuner ----------------------------------------------------------------------------------------
def test_tuner_example_parses_ranges_and_config(example):
    spec = parse_pipeline_request(example("model_tuner_builtin"))
    assert isinstance(spec, TunerSpec)
    assert spec.hyperparamaters_ranges["max_depth"] == ("integer", [3, 10])
    assert spec.model_dump(mode="json")["hyperparamaters_ranges"]["eta"] == ["continuous", [0.05, 0.5]]
    assert (spec.tuner_configs.objective_metric_name, spec.tuner_configs.max_parallel_jobs) == ("validation:auc", 4)


@pytest.mark.parametrize(
    ("ranges", "field", "problem"),
    [
        ({"eta": ["continuous", [0.5, 0.1]]}, "hyperparamaters_ranges.eta", "continuous range needs min < max"),
        ({"eta": ["continuous", [0.1]]}, "hyperparamaters_ranges.eta", "continuous range needs [min, max] as numbers"),
        (
            {"depth": ["integer", [1.5, 3]]},
            "hyperparamaters_ranges.depth",
            "integer range needs [min, max] as integers",
        ),
        ({"depth": ["integer", ["1", "3"]]}, "hyperparamaters_ranges.depth", "as integers"),
        ({"booster": ["categorical", []]}, "hyperparamaters_ranges.booster", "needs a non-empty list"),
        ({"eta": ["log", [0.1, 0.5]]}, "hyperparamaters_ranges.eta[0]", "'continuous', 'integer' or 'categorical'"),
        ({"eta": "0.1-0.5"}, "hyperparamaters_ranges.eta", "valid tuple"),
        ({}, "hyperparamaters_ranges", "at least 1 item"),
    ],
)
def test_bad_hyperparameter_range_names_the_hyperparameter(example, reject, ranges, field, problem):
    error = reject({**example("model_tuner_builtin"), "hyperparamaters_ranges": ranges})
    assert error.field == field
    assert problem in error.problem


@pytest.mark.parametrize(
    ("update", "field", "problem"),
    [
        ({"max_jobs": 2, "max_parallel_jobs": 4}, "tuner_configs.max_parallel_jobs", "must be at most max_jobs (2)"),
        ({"max_job": 5}, "tuner_configs.max_job", "is not a known field"),
        ({"objective_metric_name": None}, "tuner_configs.objective_metric_name", "is required"),
        ({"objective_type": "Max"}, "tuner_configs.objective_type", "'Maximize' or 'Minimize'"),
        ({"strategy": "Genetic"}, "tuner_configs.strategy", "'Bayesian', 'Random', 'Hyperband' or 'Grid'"),
    ],
)
def test_bad_tuner_config_names_the_key(example, reject, update, field, problem):
    body = example("model_tuner_builtin")
    config = {key: value for key, value in {**body["tuner_configs"], **update}.items() if value is not None}
    error = reject({**body, "tuner_configs": config})
    assert error.field == field
    assert problem in error.problem


def test_tuning_job_names_are_limited_to_32_characters(example, reject):
    error = reject({**example("model_tuner_builtin"), "job_name": "churn-xgb-hyperparameter-tuning-1"})
    assert (error.field, error.problem) == ("job_name", "must be at most 32 characters for this job type")
    spec = parse_pipeline_request(
        {**example("model_training_builtin"), "job_name": "churn-xgb-hyperparameter-tuning-1"}
    )
    assert spec.job_name == "churn-xgb-hyperparameter-tuning-1"


def test_tuner_accepts_the_correct_spelling_of_ranges(example):
    body = example("model_tuner_builtin")
    body["hyperparameters_ranges"] = body.pop("hyperparamaters_ranges")
    assert set(parse_pipeline_request(body).hyperparamaters_ranges) == {
        "eta",
        "max_depth",
        "min_child_weight",
        "tree_method",
    }


def test_giving_both_spellings_is_refused(example, reject):
    body = {**example("model_tuner_builtin"), "hyperparameters_ranges": {"eta": ["continuous", [0.1, 0.2]]}}
    error = reject(body)
    assert error.field == "hyperparameters_ranges"
