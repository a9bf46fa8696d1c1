"""Fixtures of the request-contract tests: the example requests, and the one field error a bad body gets."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlops_spec.errors import FieldError, SpecError
from mlops_spec.request import parse_pipeline_request

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

Example = Callable[..., dict[str, Any]]
Reject = Callable[..., FieldError]


def _load_example(pipeline_type: str, folder: str = "") -> dict[str, Any]:
    """examples/<folder>/<pipeline_type>.json; folder "" (single-account), "multi" or "registry"."""
    data: dict[str, Any] = json.loads((EXAMPLES / folder / f"{pipeline_type}.json").read_text())
    return data


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
    return _load_example


@pytest.fixture
def reject() -> Reject:
    return _reject
