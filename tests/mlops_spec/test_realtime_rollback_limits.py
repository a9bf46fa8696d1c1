"""Rollback alarm limits are checked at request time, not at deploy time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_spec.errors import SpecError
from mlops_spec.request import parse_pipeline_request

EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "byom_realtime_builtin.json").read_text())


def with_alarms(count: int) -> dict:
    return {
        **EXAMPLE,
        "instance_count": 2,
        "deployment": {"type": "canary", "alarm_names": [f"a{i}" for i in range(count)]},
    }


def test_eight_extra_alarms_fit_beside_the_two_built_in_ones() -> None:
    spec = parse_pipeline_request(with_alarms(8))
    assert len(spec.deployment.alarm_names) == 8  # type: ignore[attr-defined]


def test_a_ninth_alarm_is_rejected_naming_the_field() -> None:
    with pytest.raises(SpecError) as caught:
        parse_pipeline_request(with_alarms(9))
    assert caught.value.errors[0].field == "deployment.alarm_names"
    assert "at most 8" in caught.value.errors[0].problem
