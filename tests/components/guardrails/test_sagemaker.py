"""SageMaker rules: job storage and data capture are caught without a KMS key, wherever the request lives."""

from __future__ import annotations

import json

from components.guardrails import has_instance_storage, sagemaker_data_capture_kms, sagemaker_job_storage_kms
from tests.components.guardrails.support import (
    KEY,
    STATE_MACHINE,
    endpoint_config,
    named,
    res,
    state_machine,
    training_job,
)

TRANSFORM = {
    "TransformOutput": {"S3OutputPath.$": "$.out", "KmsKeyId": KEY},
    "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeKmsKeyId": KEY},
}


# -- sagemaker-job-storage-kms ------------------------------------------------------------------
def test_training_job_with_keys_passes() -> None:
    assert sagemaker_job_storage_kms([training_job()]) == []


def test_training_job_without_output_key_is_caught() -> None:
    job = training_job(outputDataConfig={"s3OutputPath": "s3://b/out"})
    assert [v.message for v in sagemaker_job_storage_kms([job])] == ["outputDataConfig has no KmsKeyId"]


def test_training_job_without_volume_key_is_caught_unless_the_instance_has_local_storage() -> None:
    job = training_job(resourceConfig={"instanceType": "ml.m5.xlarge", "instanceCount": 1})
    assert [v.message for v in sagemaker_job_storage_kms([job])] == ["resourceConfig has no VolumeKmsKeyId"]
    nvme = training_job(resourceConfig={"instanceType": "ml.p4d.24xlarge", "instanceCount": 1})
    assert sagemaker_job_storage_kms([nvme]) == []


def test_state_machine_sagemaker_task_with_keys_passes() -> None:
    assert sagemaker_job_storage_kms([state_machine(TRANSFORM)]) == []
    # A key filled in at run time from the execution input is a key.
    dynamic = {**TRANSFORM, "TransformOutput": {"S3OutputPath": "s3://b", "KmsKeyId.$": "$.key"}}
    assert sagemaker_job_storage_kms([state_machine(dynamic)]) == []


def test_state_machine_sagemaker_task_without_output_key_is_caught() -> None:
    parameters = {**TRANSFORM, "TransformOutput": {"S3OutputPath": "s3://b"}}
    violations = sagemaker_job_storage_kms([state_machine(parameters)])
    assert [(v.rule, v.resource_type, v.message) for v in violations] == [
        ("sagemaker-job-storage-kms", STATE_MACHINE, "TransformOutput has no KmsKeyId")
    ]


def test_processing_output_key_must_be_spelled_as_the_api_spells_it() -> None:
    # CreateProcessingJob's ProcessingOutputConfig takes KmsKeyId; "KmsKey" is not a field of it.
    parameters = {"ProcessingOutputConfig": {"KmsKey": KEY, "Outputs": []}}
    machine = state_machine(parameters, "arn:aws:states:::sagemaker:createProcessingJob.sync")
    assert [v.message for v in sagemaker_job_storage_kms([machine])] == ["ProcessingOutputConfig has no KmsKeyId"]


def test_tasks_that_do_not_call_sagemaker_are_not_judged() -> None:
    machine = state_machine({"OutputDataConfig": {}}, "arn:aws:states:::lambda:invoke")
    assert sagemaker_job_storage_kms([machine]) == []


def test_cloudformation_monitoring_job_definition_without_output_key_is_caught() -> None:
    template = {
        "Resources": {
            "JobDefinition": {
                "Type": "AWS::SageMaker::ModelBiasJobDefinition",
                "Properties": {
                    "ModelBiasJobOutputConfig": {"MonitoringOutputs": []},
                    "JobResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "VolumeKmsKeyId": KEY}},
                },
            },
            # Not a SageMaker resource: its ClusterConfig is OpenSearch's, which has no volume key.
            "Search": {"Type": "AWS::OpenSearchService::Domain", "Properties": {"ClusterConfig": {}}},
        }
    }
    stack = res("aws:cloudformation/stack:Stack", "bias", templateBody=json.dumps(template))
    assert [v.message for v in sagemaker_job_storage_kms([stack])] == ["ModelBiasJobOutputConfig has no KmsKeyId"]


# -- sagemaker-data-capture-kms -----------------------------------------------------------------
def test_data_capture_without_key_is_caught_and_with_key_passes() -> None:
    capture = {
        "enableCapture": True,
        "destinationS3Uri": "s3://b/capture",
        "captureOptions": [{"captureMode": "Input"}],
    }
    bad = endpoint_config("bad", dataCaptureConfig=capture)
    good = endpoint_config("good", dataCaptureConfig={**capture, "kmsKeyId": KEY})
    assert named(sagemaker_data_capture_kms([bad, good])) == [("sagemaker-data-capture-kms", "bad")]


# -- where SageMaker refuses a volume key -------------------------------------------------------
def test_the_rule_and_the_components_read_one_instance_storage_decision() -> None:
    """The rule's exemption and the components' decision to omit the key cannot drift apart: one function."""
    from components.pipelines import served_model
    from mlops_spec import instance_types

    assert has_instance_storage is instance_types.has_instance_storage is served_model.has_instance_storage
