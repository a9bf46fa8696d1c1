"""Fixtures of the request-contract tests: the example requests, and the one field error a bad body gets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlops_spec.errors import FieldError, SpecError
from mlops_spec.request import parse_pipeline_request
from tests.support.examples import EXAMPLES, load_example

Example = Callable[..., dict[str, Any]]
Reject = Callable[..., FieldError]


def _reject(body: dict[str, Any], mode: str = "single", use_model_registry: bool = False) -> FieldError:
    """The single field error a request gets; fails the test if it is accepted or gets several."""
    with pytest.raises(SpecError) as caught:
        parse_pipeline_request(body, mode=mode, use_model_registry=use_model_registry)  # type: ignore[arg-type]
    errors = caught.value.errors
    assert len(errors) == 1, errors
    return errors[0]


@pytest.fixture
def examples_dir() -> Path:
    return EXAMPLES


@pytest.fixture
def example() -> Example:
    return load_example


@pytest.fixture
def reject() -> Reject:
    return _reject
