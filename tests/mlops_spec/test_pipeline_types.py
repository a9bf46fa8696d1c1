"""The light table of which module holds each pipeline type (mlops_spec/pipeline_types.py) names exactly
the union's classes (mlops_spec/spec_union.py), so that a request imports its own type's module only."""

from __future__ import annotations

import pytest

from mlops_spec.pipeline_types import TYPE_MODULES, spec_type
from mlops_spec.spec_union import SPEC_TYPES

pytestmark = pytest.mark.fast


def test_every_type_of_the_union_is_found_in_its_module_and_no_other_type_is_listed():
    assert sorted(TYPE_MODULES) == sorted(SPEC_TYPES)
    assert {name: spec_type(name) for name in TYPE_MODULES} == SPEC_TYPES


@pytest.mark.parametrize("name", ["", "byom_realtime", "BYOM_REALTIME_BUILTIN", "__class__"])
def test_a_name_that_is_no_type_finds_nothing(name: str):
    assert spec_type(name) is None
