"""Instance types per purpose: the committed table matches botocore, and requests are held to it."""

from __future__ import annotations

import json

import pytest

from mlops_spec.instance_types import DATA_FILE, instance_type_problem, valid_instance_types
from mlops_spec.request import parse_pipeline_request
from tests.support.scripts import load_script


def test_committed_table_matches_the_installed_botocore():
    # Regenerate with `.venv/bin/python scripts/generate_instance_types.py` when this fails.
    generator = load_script("generate_instance_types")
    assert json.loads(DATA_FILE.read_text())["purposes"] == generator.instance_types_by_purpose()


@pytest.mark.parametrize(
    ("value", "purpose", "problem"),
    [
        ("ml.m5.large", "hosting", None),
        ("ml.t2.medium", "hosting", None),
        ("ml.m4.xlarge", "training", None),
        ("ml.m5.xlarge", "tuning", None),
        ("ml.t3.medium", "processing", None),
        ("ml.m5.largee", "hosting", "must be a SageMaker instance type for endpoints; did you mean ml.m5.large?"),
        ("ml.t2.micro", "hosting", "must be a SageMaker instance type for endpoints; did you mean ml.t2.medium?"),
        ("m5.large", "training", "must be a SageMaker instance type for training jobs; did you mean ml.m5.large?"),
        ("ml.m55.large", "training", "must be a SageMaker instance type for training jobs; did you mean ml.m5.large?"),
        (
            # A family that serves endpoints but runs no tuning job: said so, with a type of its size.
            "ml.inf1.xlarge",
            "tuning",
            "must be a SageMaker instance type for tuning jobs (no ml.inf1 type runs them), like ml.m5.xlarge",
        ),
        (
            "huge",
            "hosting",
            "must be a SageMaker instance type for endpoints, like ml.m5.large (277 types are valid here)",
        ),
        # Valid for endpoints, not for transform jobs.
        (
            "ml.t2.medium",
            "transform",
            "must be a SageMaker instance type for batch transform jobs (no ml.t2 type runs them), like ml.m5.large",
        ),
    ],
)
def test_instance_type_problem_names_the_closest_valid_type(value, purpose, problem):
    assert instance_type_problem(value, purpose) == problem


def test_every_purpose_has_its_own_list():
    assert "ml.t2.medium" in valid_instance_types("hosting")
    assert "ml.t2.medium" not in valid_instance_types("transform")
    assert "ml.inf1.xlarge" in valid_instance_types("hosting")
    assert "ml.inf1.xlarge" not in valid_instance_types("training")


@pytest.mark.parametrize(
    ("pipeline_type", "field", "value", "problem"),
    [
        ("byom_realtime_builtin", "inference_instance", "ml.m5.largee", "did you mean ml.m5.large?"),
        ("byom_batch_builtin", "inference_instance", "ml.t2.medium", "for batch transform"),
        ("byom_data_quality_monitor", "instance_type", "ml.inf1.xlarge", "for processing (monitoring) jobs"),
        ("model_training_builtin", "instance_type", "ml.t2.medium", "for training jobs"),
        ("model_tuner_builtin", "instance_type", "ml.inf1.xlarge", "for tuning jobs"),
    ],
)
def test_request_with_an_instance_type_of_another_purpose_names_the_field(
    example, reject, pipeline_type, field, value, problem
):
    error = reject({**example(pipeline_type), field: value})
    assert error.field == field
    assert problem in error.problem


def test_per_environment_instance_types_are_each_checked(example):
    body = {
        **example("byom_realtime_custom", "multi"),
        "inference_instance": {"dev": "ml.m5.large", "staging": "ml.m5.large", "prod": "ml.c5.xlargee"},
    }
    with pytest.raises(ValueError, match=r"prod: must be a SageMaker instance type for endpoints; did you mean"):
        parse_pipeline_request(body, mode="multi")
