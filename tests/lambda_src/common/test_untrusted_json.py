"""What the API reads from a body before any model (lambda_src/common/untrusted_json.py): bounded in memory
whatever the body's shape (review: a long key over many members was copied into each member's path)."""

from __future__ import annotations

import json

import pytest

from lambda_src.common import untrusted_json
from tests.support.memory import peak_bytes

pytestmark = pytest.mark.fast


def test_a_long_key_over_many_members_costs_no_more_than_the_body():
    # Under the 256 KiB cap: one 100,000-character key holding 30,000 members (3 GB of paths before).
    body = json.dumps({"pipeline_type": "x", "k" * 100_000: [0] * 30_000}, separators=(",", ":"))
    assert len(body) <= untrusted_json.MAX_BODY_BYTES
    document = untrusted_json.loads(body)

    problems, peak = peak_bytes(lambda: untrusted_json.structure_problems(document))

    assert problems == []
    assert peak < 20 * 1024 * 1024


def test_a_number_out_of_range_is_named_by_its_path():
    document = untrusted_json.loads('{"a": {"b": [1, 1e400]}, "c": 2}')

    assert untrusted_json.structure_problems(document) == [{"field": "a.b[1]", "problem": untrusted_json.NOT_FINITE}]


def test_a_long_list_costs_no_more_than_its_nesting():
    document = untrusted_json.loads("[" + ",".join(["{}"] * 30_000) + "]")

    problems, peak = peak_bytes(lambda: untrusted_json.structure_problems(document))

    assert problems == []
    assert peak < 1024 * 1024  # an entry per member was ~7 MB


def test_nesting_deeper_than_the_limit_is_one_error_for_the_body():
    assert untrusted_json.structure_problems(untrusted_json.loads("[" * 33 + "]" * 33)) == [
        {"field": "(body)", "problem": "must nest at most 32 levels"}
    ]
    assert untrusted_json.structure_problems(untrusted_json.loads("[" * 32 + "]" * 32)) == []
