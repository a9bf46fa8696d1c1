"""Warnings are capped (issue 12 review, low c): a body of thousands of unknown keys answers the first
MAX_WARNINGS and a count, for pipeline requests and model cards alike (mlops_spec/request.py)."""

from __future__ import annotations

import json

import pytest

from mlops_spec.card_keys import without_unknown_keys
from mlops_spec.modelcards import CreateModelCard
from mlops_spec.request import MAX_WARNINGS, read_pipeline_request
from tests.support.examples import EXAMPLES

pytestmark = pytest.mark.fast


def test_a_pipeline_request_warns_of_the_first_fifty_unknown_keys_and_counts_the_rest():
    body = json.loads((EXAMPLES / "byom_batch_builtin.json").read_text())
    read = read_pipeline_request({**body, **{f"extra_{i}": i for i in range(MAX_WARNINGS + 7)}})

    assert [w.field for w in read.warnings[:MAX_WARNINGS]] == [f"extra_{i}" for i in range(MAX_WARNINGS)]
    assert read.warnings[MAX_WARNINGS:] == read.warnings[-1:]
    assert read.warnings[-1].as_dict() == {"field": "(body)", "problem": "... and 7 more unknown keys; ignored"}


def test_a_card_at_the_cap_lists_every_key_and_all_unknown_keys_are_left_out():
    data = {"name": "c", **{f"k{i}": i for i in range(MAX_WARNINGS)}}
    kept, warnings = without_unknown_keys(CreateModelCard, data)
    assert (kept, len(warnings)) == ({"name": "c"}, MAX_WARNINGS)

    kept, warnings = without_unknown_keys(CreateModelCard, {**data, "k_last": 1})
    assert (kept, len(warnings), warnings[-1].problem) == (
        {"name": "c"},
        MAX_WARNINGS + 1,
        "... and 1 more unknown keys; ignored",
    )
