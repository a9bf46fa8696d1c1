"""MWO users send "" for optional keys they leave out; that must not hide a misspelt key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_spec.errors import SpecError
from mlops_spec.request import parse_pipeline_request

EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "byom_realtime_builtin.json").read_text())


def test_blank_known_optional_key_means_absent() -> None:
    spec = parse_pipeline_request({**EXAMPLE, "kms_key_arn": "", "endpoint_name": "  "})
    assert spec.kms_key_arn is None  # type: ignore[attr-defined]
    assert spec.endpoint_name is None  # type: ignore[attr-defined]


def test_blank_unknown_key_is_still_reported() -> None:
    with pytest.raises(SpecError) as caught:
        parse_pipeline_request({**EXAMPLE, "kms_key_ar": ""})
    assert [(e.field, e.problem) for e in caught.value.errors] == [
        ("kms_key_ar", "is not a known field (did you mean kms_key_arn?)")
    ]


def test_the_owner_is_tagged_on_every_resource_of_the_pipeline() -> None:
    spec = parse_pipeline_request({**EXAMPLE, "owner": "ml-platform@example.com"})
    assert spec.tags_for("prod")["mlops:owner"] == "ml-platform@example.com"
    assert "mlops:owner" not in parse_pipeline_request(EXAMPLE).tags_for("prod")


def test_an_owner_that_cannot_be_a_tag_value_is_refused() -> None:
    with pytest.raises(SpecError) as caught:
        parse_pipeline_request({**EXAMPLE, "owner": "team <ml>"})
    assert caught.value.errors[0].field == "owner"
