"""Provisioner settings and example specs, as the provisioner and the delivery component tests build them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lambda_src.provisioner.settings import ProvisionerSettings
from mlops_spec.base import PipelineSpec
from mlops_spec.request import parse_pipeline_request
from tests.support import examples

ACCOUNTS_SINGLE = {"dev": "111111111111"}
ACCOUNTS_MULTI = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}
IMAGE = "111111111111.dkr.ecr.us-east-1.amazonaws.com/mlops-provisioner:v1"


def make_settings(mode: str = "single", **overrides: Any) -> ProvisionerSettings:
    values: dict[str, Any] = {
        "region": "us-east-1",
        "accounts": ACCOUNTS_MULTI if mode == "multi" else ACCOUNTS_SINGLE,
        "mode": mode,
        "assets_kms_key_arn": "arn:aws:kms:us-east-1:111111111111:key/00000000-0000-0000-0000-00000000aaaa",
        "state_key_arn": "arn:aws:kms:us-east-1:111111111111:key/00000000-0000-0000-0000-00000000bbbb",
        "provisioner_image_uri": IMAGE,
        **overrides,
    }
    return ProvisionerSettings(**values)


def load_example(pipeline_type: str, mode: str = "single") -> dict[str, Any]:
    return examples.load_example(pipeline_type, "multi" if mode == "multi" else "")


def example_spec(pipeline_type: str = "byom_realtime_builtin", mode: str = "single") -> PipelineSpec:
    return parse_pipeline_request(load_example(pipeline_type, mode), mode=mode)  # type: ignore[arg-type]


@pytest.fixture
def settings_for() -> Callable[..., ProvisionerSettings]:
    return make_settings


@pytest.fixture
def spec_for() -> Callable[..., PipelineSpec]:
    return example_spec
