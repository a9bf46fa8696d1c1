"""Turning validation failures into field-level errors that name the problem."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError


@dataclass(frozen=True)
class FieldError:
    field: str
    problem: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "problem": self.problem}

    def __str__(self) -> str:
        return f"{self.field}: {self.problem}"


class SpecError(ValueError):
    """A request or config that does not validate; `errors` names each offending field."""

    def __init__(self, message: str, errors: list[FieldError]):
        super().__init__(message)
        self.message = message
        self.errors = errors

    def __str__(self) -> str:
        return "; ".join(str(e) for e in self.errors) or self.message


_PROBLEMS = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "union_tag_not_found": "is required",
}


def _field_path(loc: tuple[Any, ...], skip_first: bool) -> str:
    parts = [str(p) for p in loc[1:]] if skip_first else [str(p) for p in loc]
    path = ""
    for part in parts:
        if part.isdigit():
            path += f"[{part}]"
        else:
            path += ("." if path else "") + part
    return path


def field_path(loc: tuple[Any, ...]) -> str:
    """A pydantic location as the errors write it: `a.b[0].c`."""
    return _field_path(loc, skip_first=False)


def field_errors(exc: ValidationError, tagged_union: bool = False, root: str = "") -> list[FieldError]:
    """One FieldError per pydantic error. For a tagged union, the tag in each location is dropped."""
    errors: list[FieldError] = []
    for err in exc.errors(include_url=False):
        kind = err["type"]
        loc = tuple(err["loc"])
        if kind in ("union_tag_not_found", "union_tag_invalid"):
            tag = err.get("ctx", {}).get("discriminator", "pipeline_type").strip("'")
            field = tag
            problem = (
                "is required"
                if kind == "union_tag_not_found"
                else (
                    f"'{err['ctx'].get('tag')}' is not a known value; expected one of {err['ctx'].get('expected_tags')}"
                )
            )
        else:
            field = _field_path(loc, skip_first=tagged_union and len(loc) > 0)
            problem = _PROBLEMS.get(kind, err["msg"].removeprefix("Value error, "))
        if root:
            field = f"{root}.{field}" if field else root
        errors.append(FieldError(field or "(body)", problem))
    return errors
