"""How to parse a pipeline request body: into the model of the type it names (only that type's module is
imported, which keeps the API's cold start small), or, for a body naming no known type, through the union of
every type (mlops_spec/spec_union.py) for its error.

Unknown top-level keys: the old solution ignored keys it did not know, so its users' request files
carry extra ones (a description, team metadata). Read in compatibility mode (the default of the API,
the trigger and the CLI) they are dropped and reported as warnings; in strict mode they are errors.
Either way each names the closest known field when one is close (a typo rather than metadata).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from mlops_spec.base import PipelineSpec
from mlops_spec.common import Mode
from mlops_spec.errors import FieldError, SpecError, field_errors
from mlops_spec.pipeline_types import spec_type

UNKNOWN_FIELD = "is not a known field"
# Warnings an answer lists: a body of thousands of unknown keys gets the first ones and a count, not an
# answer many times its size.
MAX_WARNINGS = 50


def capped_warnings(warnings: list[FieldError]) -> list[FieldError]:
    """The first MAX_WARNINGS warnings, and one saying how many more there were (pipeline requests and
    model cards alike)."""
    if len(warnings) <= MAX_WARNINGS:
        return warnings
    more = len(warnings) - MAX_WARNINGS
    return [*warnings[:MAX_WARNINGS], FieldError("(body)", f"... and {more} more unknown keys; ignored")]


@dataclass(frozen=True)
class ReadRequest:
    """A valid request's spec, and the warnings about what was ignored in it (compatibility mode)."""

    spec: PipelineSpec
    warnings: tuple[FieldError, ...] = ()


def parse_pipeline_request(
    body: Any, mode: Mode = "single", use_model_registry: bool = False, root: str = ""
) -> PipelineSpec:
    """Validate a request body into its spec, or raise SpecError naming each bad field (strict: an
    unknown key is an error)."""
    return read_pipeline_request(body, mode, use_model_registry, root, strict=True).spec


def read_pipeline_request(
    body: Any,
    mode: Mode = "single",
    use_model_registry: bool = False,
    root: str = "",
    strict: bool = False,
    region: str | None = None,
) -> ReadRequest:
    """Validate a request body into its spec and warnings, or raise SpecError naming each bad field
    (and, in compatibility mode, carrying the warnings too). Unknown top-level keys are warnings and
    ignored, or with `strict` errors. With `region` (the orchestrator's), built-in images must exist there."""
    if not isinstance(body, dict):
        raise SpecError("request body must be a JSON object", [FieldError(root or "(body)", "must be a JSON object")])
    warnings: list[FieldError] = []
    if not strict:
        unknown = unknown_keys(body)
        warnings = capped_warnings([_at(root, error) for error in unknown])
        body = {key: value for key, value in body.items() if key not in {error.field for error in unknown}}
    context = {"mode": mode, "use_model_registry": use_model_registry, "region": region}
    spec_class = _spec_class(body)
    try:
        # Its own type's model when the type is known: the union would build every type's validator.
        if spec_class is not None:
            spec: PipelineSpec = spec_class.model_validate(body, context=context)
        else:
            from mlops_spec.spec_union import union

            # A body naming no known type: the union's validation names the types it may be.
            spec = union().validate_python(body, context=context)
    except ValidationError as exc:
        found = field_errors(exc, tagged_union=spec_class is None, root=root)
        raise RequestError(
            "invalid pipeline request", [_with_suggestion(e, body, root) for e in found], warnings
        ) from None
    return ReadRequest(spec, tuple(warnings))


def _spec_class(body: dict[str, Any]) -> type[PipelineSpec] | None:
    pipeline_type = body.get("pipeline_type")
    return spec_type(pipeline_type) if isinstance(pipeline_type, str) else None


class RequestError(SpecError):
    """A request that does not validate; `warnings` holds what compatibility mode would have ignored."""

    def __init__(self, message: str, errors: list[FieldError], warnings: list[FieldError]):
        super().__init__(message, errors)
        self.warnings = warnings


def unknown_keys(body: dict[str, Any]) -> list[FieldError]:
    """A warning per top-level key the request's type does not know (none when the type is unknown:
    that is the error then), with the closest known field when one is close."""
    spec_class = _spec_class(body)
    if spec_class is None:
        return []
    known = spec_class.accepted_keys()
    return [
        FieldError(str(key), did_you_mean(f"{UNKNOWN_FIELD}; ignored", str(key), known))
        for key in body
        if key not in known
    ]


def did_you_mean(problem: str, key: str, known: set[str]) -> str:
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.7)
    return f"{problem} (did you mean {close[0]}?)" if close else problem


def _at(root: str, error: FieldError) -> FieldError:
    return FieldError(f"{root}.{error.field}" if root else error.field, error.problem)


def _with_suggestion(error: FieldError, body: dict[str, Any], root: str) -> FieldError:
    """An unknown-key error with the closest known field of the model it sits in."""
    if error.problem != UNKNOWN_FIELD:
        return error
    path = error.field.removeprefix(f"{root}.") if root else error.field
    *parents, key = path.split(".")
    spec_class = _spec_class(body)
    model = _model_at(spec_class, parents) if spec_class else None
    if model is None or "[" in path:
        return error
    known = model.accepted_keys() if issubclass(model, PipelineSpec) else set(model.model_fields)
    return FieldError(error.field, did_you_mean(UNKNOWN_FIELD, key, known))


def _model_at(model: type[BaseModel], path: list[str]) -> type[BaseModel] | None:
    """The model of the object at `path` inside `model` (through optional fields), if it is one."""
    for name in path:
        field = model.model_fields.get(name)
        found = [arg for arg in (field.annotation, *get_args(field.annotation)) if _is_model(arg)] if field else []
        if not found:
            return None
        model = found[0]
    return model


def _is_model(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, BaseModel)
