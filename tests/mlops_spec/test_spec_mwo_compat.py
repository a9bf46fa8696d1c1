"""Requests written for the old solution (MWO) keep working: blank optional keys, string booleans, its spellings."""

from __future__ import annotations

from mlops_spec.request import parse_pipeline_request

# Shaped like the old solution's own test fixture: every optional key present and blank.
MWO_REALTIME = {
    "pipeline_type": "byom_realtime_builtin",
    "model_name": "my-model-name",
    "model_framework": "xgboost",
    "model_framework_version": "1.7-1",
    "model_artifact_location": "path/to/model.tar.gz",
    "data_capture_location": "mlops-assets-111111111111/datacapture",
    "inference_instance": "ml.m5.large",
    "endpoint_name": "",
    "kms_key_arn": "",
    "model_package_name": "",
}


def test_blank_optional_keys_mean_absent():
    spec = parse_pipeline_request(MWO_REALTIME)
    assert (spec.endpoint_name, spec.kms_key_arn, spec.model_package_name) == (None, None, None)


def test_a_blank_required_key_is_reported_as_missing(reject):
    error = reject({**MWO_REALTIME, "inference_instance": "  "})
    assert (error.field, error.problem) == ("inference_instance", "is required")


def test_blank_and_absent_requests_are_the_same_request():
    absent = {key: value for key, value in MWO_REALTIME.items() if value != ""}
    assert parse_pipeline_request(absent).spec_hash() == parse_pipeline_request(MWO_REALTIME).spec_hash()


def test_mwo_training_request_with_string_flags_and_numbers():
    body = {
        "pipeline_type": "model_training_builtin",
        "model_name": "my-model",
        "training_data": "data/train.csv",
        "validation_data": "",
        "job_output_location": "training/output",
        "model_framework": "xgboost",
        "model_framework_version": "1.5-1",
        "algo_hyperparamaters": {"eval_metric": "auc", "objective": "binary:logistic", "num_round": 400},
        "instance_count": "1",
        "instance_volume_size": "20",
        "max_runtime_per_job": "86400",
        "use_spot_instances": "False",
        "max_wait_time_spot_instances": "",
        "encrypt_inner_traffic": "True",
        "compression_type": "",
        "data_record_wrapping": "",
        "attribute_names": "",
        "kms_key_arn": "",
    }
    spec = parse_pipeline_request(body)
    assert (spec.use_spot_instances, spec.encrypt_inner_traffic) == (False, True)
    assert (spec.instance_count, spec.instance_volume_size, spec.max_runtime_per_job) == (1, 20, 86400)
    assert (spec.validation_data, spec.compression_type, spec.attribute_names) == (None, None, None)
    assert spec.max_wait_time_spot_instances == 172800


def test_realtime_instance_count_must_be_positive(reject):
    error = reject({**MWO_REALTIME, "instance_count": 0})
    assert (error.field, error.problem) == ("instance_count", "Input should be greater than 0")


def test_unknown_pipeline_type_names_the_known_ones(reject):
    error = reject({**MWO_REALTIME, "pipeline_type": "byom_realtime"})
    assert error.field == "pipeline_type"
    assert error.problem.startswith("'byom_realtime' is not a known value; expected one of 'byom_realtime_builtin'")
    assert "'model_autopilot_training'" in error.problem
