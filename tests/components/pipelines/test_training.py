"""Training and tuning jobs: hyperparameters and ranges as SageMaker takes them, and what each job deploys."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from components.pipelines import training
from components.pipelines.base import PipelineContext
from mlops_cli.mocks import PlanRecorder, policy_of
from mlops_spec.pipelines.training import TunerConfig
from mlops_spec.request import parse_pipeline_request
from tests.components.support import ASSETS_KEY, ENV_KEY, build, make_context, only

REQUEST_KEY = "arn:aws:kms:us-east-1:111111111111:key/22222222-2222-2222-2222-222222222222"
TRAINING_JOB = "aws:sagemaker/trainingJob:TrainingJob"
TUNING_JOB = "aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob"
STACK = "aws:cloudformation/stack:Stack"
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def training_request(**overrides: Any) -> dict[str, Any]:
    return {
        "pipeline_type": "model_training_builtin",
        "model_name": "churn",
        "training_data": "data/churn/train.csv",
        "validation_data": "data/churn/validation.csv",
        "job_output_location": "training/churn",
        "model_framework": "xgboost",
        "model_framework_version": "1.7-1",
        "algo_hyperparamaters": {"num_round": 100, "eta": 0.2, "objective": "binary:logistic", "verbose": False},
        **overrides,
    }


def tuner_request(**overrides: Any) -> dict[str, Any]:
    return training_request(
        pipeline_type="model_tuner_builtin",
        tuner_configs={"objective_metric_name": "validation:auc", "max_jobs": 8, "max_parallel_jobs": 2},
        hyperparamaters_ranges={
            "eta": ["continuous", [0.1, 0.5]],
            "max_depth": ["integer", [3, 10]],
            "booster": ["categorical", ["gbtree", "dart"]],
        },
        **overrides,
    )


def context(group: str | None = "mlops-models", assets_key: str | None = None) -> PipelineContext:
    return make_context(model_package_group_name=group, assets_kms_key_arn=assets_key)


def deploy(
    body: dict[str, Any], group: str | None = "mlops-models", check: Any = None, assets_key: str | None = None
) -> None:
    build(parse_pipeline_request(body).for_env("dev"), context(group, assets_key), check=check)


@dataclass
class Deployment:
    recorder: PlanRecorder
    outputs: dict[str, Any]


def deployment(body: dict[str, Any]) -> Deployment:
    recorder = PlanRecorder()
    recorder.install(project="mlops", stack="dev")
    outputs: dict[str, Any] = {}
    deploy(body, check=outputs.update)
    return Deployment(recorder, outputs)


@pytest.fixture(scope="module")
def trained() -> Deployment:
    return deployment(training_request())


@pytest.fixture(scope="module")
def tuned() -> Deployment:
    return deployment(tuner_request())


# -- plain decisions -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "text"),
    [
        (100, "100"),
        (0.25, "0.25"),
        (True, "true"),
        (False, "false"),
        ("reg:squarederror", "reg:squarederror"),
        ([1, 2], "[1, 2]"),
        ({"a": 1}, '{"a": 1}'),
    ],
)
def test_hyperparameters_are_strings_sagemaker_understands(value: Any, text: str) -> None:
    assert training.hyperparameter_value(value) == text


def test_tuned_hyperparameters_are_left_out_of_the_static_ones() -> None:
    static = training.hyperparameters({"eta": 0.2, "num_round": 10}, tuned=frozenset({"eta"}))
    assert static == {"num_round": "10"}


def test_ranges_become_sagemaker_parameter_ranges() -> None:
    ranges = training.parameter_ranges(
        {"eta": ("continuous", [0.1, 0.5]), "depth": ("integer", [3, 10]), "booster": ("categorical", ["a", 1])}
    )
    assert ranges == {
        "continuous_parameter_ranges": [
            {"name": "eta", "min_value": "0.1", "max_value": "0.5", "scaling_type": "Auto"}
        ],
        "integer_parameter_ranges": [{"name": "depth", "min_value": "3", "max_value": "10", "scaling_type": "Auto"}],
        "categorical_parameter_ranges": [{"name": "booster", "values": ["a", "1"]}],
    }


def test_grid_search_sets_no_job_count() -> None:
    grid = TunerConfig(objective_metric_name="validation:auc", strategy="Grid", max_jobs=4, max_parallel_jobs=2)
    bayesian = TunerConfig(objective_metric_name="validation:auc", max_jobs=4, max_parallel_jobs=2)
    assert training.resource_limits(grid) == {"max_parallel_training_jobs": 2}
    assert training.resource_limits(bayesian)["max_number_of_training_jobs"] == 4


def test_the_model_artifact_is_where_sagemaker_writes_it() -> None:
    uri = training.model_artifact_uri("s3://mlops-assets/training/churn", "job-1")
    assert uri == "s3://mlops-assets/training/churn/job-1/output/model.tar.gz"


def test_registered_versions_survive_their_stack() -> None:
    template = json.loads(training.model_package_template("group", "image", "s3://b/m.tar.gz", "job", "d"))
    package = template["Resources"]["ModelPackage"]
    assert package["DeletionPolicy"] == package["UpdateReplacePolicy"] == "Retain"
    assert package["Properties"]["ModelApprovalStatus"] == "PendingManualApproval"
    assert package["Properties"]["InferenceSpecification"]["Containers"] == [
        {"Image": "image", "ModelDataUrl": "s3://b/m.tar.gz"}
    ]


# -- the training job ------------------------------------------------------------------------
def test_training_job_runs_the_builtin_image_with_stringified_hyperparameters(trained: Deployment) -> None:
    job = only(trained.recorder, TRAINING_JOB).inputs
    assert job["algorithmSpecification"] == {"trainingImage": XGBOOST_IMAGE, "trainingInputMode": "File"}
    assert job["hyperParameters"] == {
        "eta": "0.2",
        "num_round": "100",
        "objective": "binary:logistic",
        "verbose": "false",
    }
    assert len(job["trainingJobName"]) <= 63


def test_training_job_reads_train_and_validation_channels(trained: Deployment) -> None:
    channels = {c["channelName"]: c for c in only(trained.recorder, TRAINING_JOB).inputs["inputDataConfigs"]}
    assert set(channels) == {"train", "validation"}
    assert channels["train"]["dataSource"]["s3DataSource"] == {
        "s3Uri": "s3://mlops-assets/data/churn/train.csv",
        "s3DataType": "S3Prefix",
        "s3DataDistributionType": "FullyReplicated",
    }
    assert (
        channels["validation"]["dataSource"]["s3DataSource"]["s3Uri"] == "s3://mlops-assets/data/churn/validation.csv"
    )
    assert channels["train"]["contentType"] == "csv"


def test_training_job_encrypts_volume_output_and_traffic_and_uses_spot(trained: Deployment) -> None:
    job = only(trained.recorder, TRAINING_JOB).inputs
    assert job["outputDataConfig"] == {"s3OutputPath": "s3://mlops-assets/training/churn", "kmsKeyId": ENV_KEY}
    assert job["resourceConfig"]["volumeKmsKeyId"] == ENV_KEY
    assert job["enableInterContainerTrafficEncryption"] is True
    assert job["enableNetworkIsolation"] is True
    assert job["enableManagedSpotTraining"] is True
    assert job["stoppingCondition"] == {"maxRuntimeInSeconds": 86400, "maxWaitTimeInSeconds": 172800}
    assert job["checkpointConfig"]["s3Uri"].startswith("s3://mlops-assets/training/churn/")


def test_training_outputs_the_model_artifact_and_registers_it(trained: Deployment) -> None:
    job_name = only(trained.recorder, TRAINING_JOB).inputs["trainingJobName"]
    assert trained.outputs["training_job_name"] == job_name
    artifact = f"s3://mlops-assets/training/churn/{job_name}/output/model.tar.gz"
    assert trained.outputs["model_artifact_location"] == artifact
    template = json.loads(only(trained.recorder, STACK).inputs["templateBody"])
    properties = template["Resources"]["ModelPackage"]["Properties"]
    assert properties["ModelPackageGroupName"] == "mlops-models"
    assert properties["InferenceSpecification"]["Containers"] == [{"Image": XGBOOST_IMAGE, "ModelDataUrl": artifact}]


def test_training_role_reads_its_data_writes_its_output_and_grants_nothing_wide(trained: Deployment) -> None:
    role = trained.recorder.named("aws:iam/role:Role", "churn-training-role").inputs
    assert json.loads(role["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    statements = policy_of(trained.recorder.named("aws:iam/rolePolicy:RolePolicy", "churn-training-role-policy"))[
        "Statement"
    ]
    by_action: dict[str, set[str]] = {}
    for statement in statements:
        for action in statement["Action"]:
            by_action.setdefault(action, set()).update(_as_list(statement["Resource"]))
    assert by_action["s3:GetObject"] == {
        "arn:aws:s3:::mlops-assets/data/churn/train.csv*",
        "arn:aws:s3:::mlops-assets/data/churn/validation.csv*",
        "arn:aws:s3:::mlops-assets/training/churn*",
    }
    assert by_action["s3:PutObject"] == {"arn:aws:s3:::mlops-assets/training/churn*"}
    assert by_action["ecr:BatchGetImage"] == {"arn:aws:ecr:us-east-1:683313688378:repository/sagemaker-xgboost"}
    for statement in statements:
        if statement["Resource"] == "*":
            assert statement["Action"] in (["ecr:GetAuthorizationToken"], ["cloudwatch:PutMetricData"])


def _as_list(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


def test_without_a_package_group_nothing_is_registered(pulumi_mocks: PlanRecorder) -> None:
    deploy(training_request(), group=None, check=lambda outputs: _assert_unregistered(outputs))
    assert not pulumi_mocks.of_type(STACK)


def _assert_unregistered(outputs: dict[str, Any]) -> None:
    assert "model_package_arn" not in outputs


def test_on_demand_training_waits_for_no_spot_capacity(pulumi_mocks: PlanRecorder) -> None:
    deploy(training_request(use_spot_instances="False", instance_type="ml.g4dn.xlarge"))
    job = only(pulumi_mocks, TRAINING_JOB).inputs
    assert job["enableManagedSpotTraining"] is False
    assert job["stoppingCondition"] == {"maxRuntimeInSeconds": 86400}
    assert "checkpointConfig" not in job
    # Instance storage is encrypted by the hardware; SageMaker refuses a volume key for it.
    assert "volumeKmsKeyId" not in job["resourceConfig"]


def _actions_on(statements: list[dict[str, Any]], key: str) -> set[str]:
    return {a for s in statements if key in _as_list(s["Resource"]) for a in s["Action"]}


@pytest.mark.parametrize("request_key", [None, REQUEST_KEY])
def test_the_model_is_encrypted_with_the_assets_key_other_accounts_may_use(
    pulumi_mocks: PlanRecorder, request_key: str | None
) -> None:
    """The model lands in the orchestrator's assets bucket, which staging and prod read: it must not be
    encrypted with the environment's (or the request's) key, which those accounts cannot use."""
    overrides = {"kms_key_arn": request_key} if request_key else {}
    deploy(training_request(**overrides), assets_key=ASSETS_KEY)
    job = only(pulumi_mocks, TRAINING_JOB).inputs
    assert job["outputDataConfig"]["kmsKeyId"] == ASSETS_KEY
    # Volumes stay on the request's key, or the environment's.
    assert job["resourceConfig"]["volumeKmsKeyId"] == (request_key or ENV_KEY)
    statements = policy_of(pulumi_mocks.named("aws:iam/rolePolicy:RolePolicy", "churn-training-role-policy"))[
        "Statement"
    ]
    assert {"kms:Encrypt", "kms:GenerateDataKey*", "kms:Decrypt"} <= _actions_on(statements, ASSETS_KEY)


def test_tuning_jobs_write_with_the_assets_key_too(pulumi_mocks: PlanRecorder) -> None:
    deploy(tuner_request(), assets_key=ASSETS_KEY)
    definition = only(pulumi_mocks, TUNING_JOB).inputs["trainingJobDefinition"]
    assert definition["outputDataConfig"]["kmsKeyId"] == ASSETS_KEY
    assert definition["resourceConfig"]["volumeKmsKeyId"] == ENV_KEY
    statements = policy_of(pulumi_mocks.named("aws:iam/rolePolicy:RolePolicy", "churn-tuner-role-policy"))["Statement"]
    assert {"kms:Encrypt", "kms:GenerateDataKey*"} <= _actions_on(statements, ASSETS_KEY)


# -- the tuning job --------------------------------------------------------------------------
def test_tuning_job_searches_the_requested_ranges(tuned: Deployment) -> None:
    job = only(tuned.recorder, TUNING_JOB).inputs
    config = job["config"]
    assert config["strategy"] == "Bayesian"
    assert config["objective"] == {"metricName": "validation:auc", "type": "Maximize"}
    assert config["resourceLimits"] == {"maxParallelTrainingJobs": 2, "maxNumberOfTrainingJobs": 8}
    assert config["parameterRanges"]["continuousParameterRanges"] == [
        {"name": "eta", "minValue": "0.1", "maxValue": "0.5", "scalingType": "Auto"}
    ]
    assert config["parameterRanges"]["integerParameterRanges"][0]["name"] == "max_depth"
    assert config["parameterRanges"]["categoricalParameterRanges"] == [
        {"name": "booster", "values": ["gbtree", "dart"]}
    ]
    assert len(job["name"]) <= 32
    assert tuned.outputs["tuning_job_name"] == job["name"]


def test_tuning_definition_keeps_static_hyperparameters_and_encryption(tuned: Deployment) -> None:
    definition = only(tuned.recorder, TUNING_JOB).inputs["trainingJobDefinition"]
    assert definition["staticHyperParameters"] == {
        "num_round": "100",
        "objective": "binary:logistic",
        "verbose": "false",
    }
    assert definition["algorithmSpecification"]["trainingImage"] == XGBOOST_IMAGE
    assert definition["outputDataConfig"]["kmsKeyId"] == ENV_KEY
    assert definition["resourceConfig"]["volumeKmsKeyId"] == ENV_KEY
    assert definition["enableInterContainerTrafficEncryption"] is True
    assert [c["channelName"] for c in definition["inputDataConfigs"]] == ["train", "validation"]
    assert not tuned.recorder.of_type(STACK)
