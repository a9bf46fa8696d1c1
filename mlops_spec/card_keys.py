"""Compatibility mode of model-card requests: keys a card's models do not know are dropped and reported as
warnings, at any depth (MWO dropped the unknown keys of a card's sections), unless the request is strict.

Each warning names the key's path as the validation errors name fields (`model_overview.colour`,
`evaluation_details[0].metric_groups[1].notez`) and the closest known field when one is close, as the
pipeline requests' unknown keys do (mlops_spec/request.py). Pure Python.
"""

from __future__ import annotations

from typing import Any, get_args

from pydantic import BaseModel

from mlops_spec.errors import FieldError
from mlops_spec.request import UNKNOWN_FIELD, capped_warnings, did_you_mean


def without_unknown_keys(model: type[BaseModel], data: Any) -> tuple[Any, list[FieldError]]:
    """`data` without the keys `model` (and the models nested in it) does not know, and a warning per
    key left out (the first MAX_WARNINGS and a count). Values of the wrong shape are kept as they are,
    for validation to name."""
    kept, warnings = _without(model, data, "")
    return kept, capped_warnings(warnings)


def _without(model: type[BaseModel], data: Any, path: str) -> tuple[Any, list[FieldError]]:
    if not isinstance(data, dict):
        return data, []
    known = set(model.model_fields)
    kept: dict[Any, Any] = {}
    warnings: list[FieldError] = []
    for key, value in data.items():
        where = f"{path}.{key}" if path else str(key)
        if key not in known:
            warnings.append(FieldError(where, did_you_mean(f"{UNKNOWN_FIELD}; ignored", str(key), known)))
            continue
        inner = _nested_model(model.model_fields[key].annotation)
        if inner is not None:
            value, found = _within(inner, value, where)
            warnings += found
        kept[key] = value
    return kept, warnings


def _within(model: type[BaseModel], value: Any, where: str) -> tuple[Any, list[FieldError]]:
    """A nested model's value: one object, or a list of them."""
    if not isinstance(value, list):
        return _without(model, value, where)
    items, warnings = [], []
    for index, item in enumerate(value):
        kept, found = _without(model, item, f"{where}[{index}]")
        items.append(kept)
        warnings += found
    return items, warnings


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds (directly, in a list, or optional), if it holds one."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = _nested_model(argument)
        if found is not None:
            return found
    return None
