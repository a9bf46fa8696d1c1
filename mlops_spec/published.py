"""What the request models check beyond their field types, written into their JSON Schema.

A pattern checked by a validator (so its error message stays ours), the keys a JSON object must
have, and the rules between fields that model validators check: each is published beside the
field or model that checks it, so openapi.json refuses what the API refuses. Rules that JSON
Schema cannot state (one field compared with another) are published as `x-rules` entries naming
the field and the problem the API reports; tests/contract/ holds the handler to both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue

Rule = dict[str, Any] | Callable[[type], dict[str, Any]]

# Unicode White_Space: what the request models strip from both ends of every string (pydantic's
# str_strip_whitespace) before checking its length. Written out because `\s` differs between
# Python and JSON Schema's ECMA-262 (which adds U+FEFF and leaves out U+0085).
STRIPPED = r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Whitespace as Python's str.isspace() has it (White_Space and \x1c-\x1f): what a pipeline
# request's blank values are made of (mlops_spec.base takes them as absent, for the old solution's
# clients, which send "" for every option they leave out), and what paths and locations may not hold.
WHITESPACE = STRIPPED.replace(r"\r ", r"\r\x1c-\x1f ")
NOT_SPACE = f"[^{WHITESPACE}]"
BLANK = {"type": "string", "pattern": f"^[{WHITESPACE}]*$", "description": "Blank: the same as absent."}
_ANNOTATIONS = ("title", "description", "default", "examples")


def blank_means_absent(schema: dict[str, Any]) -> None:
    """Publish that a blank value counts as absent: an optional property may be blank (and takes its
    default); a required one, when a string, must hold something else than whitespace."""
    required = set(schema.get("required", []))
    for name, value in schema.get("properties", {}).items():
        if name in required:
            value.setdefault("allOf", []).append({"pattern": NOT_SPACE})
            continue
        annotations = {key: value.pop(key) for key in _ANNOTATIONS if key in value}
        options = value.pop("anyOf") if set(value) == {"anyOf"} else [dict(value)]
        value.clear()
        value.update({"anyOf": [*options, BLANK], **annotations})


def not_blank(min_length: int) -> str:
    """A pattern (searched, not anchored) matching strings still `min_length` long once stripped."""
    kept = f"[^{STRIPPED}]"
    if min_length <= 1:
        return kept
    return f"{kept}[\\s\\S]{{{min_length - 2},}}{kept}"


@dataclass(frozen=True)
class Published:
    """JSON Schema keywords stating what a validator of the annotated type checks. A keyword the
    type's schema already has (a second pattern, say) is added under `allOf`, so both apply."""

    keywords: tuple[tuple[str, Any], ...]

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        for key, value in self.keywords:
            if key in schema:
                schema.setdefault("allOf", []).append({key: value})
            else:
                schema[key] = value
        return schema


def published_pattern(pattern: str) -> Published:
    """The full-match `pattern` a validator checks, as the type's JSON Schema `pattern`."""
    return Published((("pattern", f"^(?:{pattern})$"),))


def published_keys(*keys: str) -> Published:
    """The keys a validator requires of a JSON object, as the type's JSON Schema `required`."""
    return Published((("required", list(keys)),))


def given(name: str, *, non_empty: bool = False) -> dict[str, Any]:
    """JSON Schema: `name` is present, not null and not blank (and, with `non_empty`, not an empty list)."""
    value: dict[str, Any] = {"not": {"anyOf": [{"type": "null"}, {"type": "string", "pattern": BLANK["pattern"]}]}}
    if non_empty:
        value = {"type": "array", "minItems": 1}
    return {"required": [name], "properties": {name: value}}


def all_given(names: Iterable[str]) -> dict[str, Any]:
    return {"allOf": [given(name) for name in names]}


def when(condition: dict[str, Any], then: dict[str, Any]) -> dict[str, Any]:
    return {"if": condition, "then": then}


def value_in(name: str, values: Iterable[Any]) -> dict[str, Any]:
    """JSON Schema: `name` is present and one of `values`."""
    return {"required": [name], "properties": {name: {"enum": list(values)}}}


def rule(field: str, problem: str) -> dict[str, Any]:
    """A rule JSON Schema cannot state (e.g. one field at most another): the field and the problem
    (the start of the message) the API answers with, published under `x-rules`."""
    return {"x-rules": [{"field": field, "problem": problem}]}


def publish_rules(schema: dict[str, Any], cls: type) -> None:
    """`json_schema_extra` of the request models: every class's SCHEMA_RULES along the MRO (so a
    subclass keeps its bases' rules), as `allOf`, and their `x-rules` collected in one list."""
    rules: list[dict[str, Any]] = []
    for klass in reversed(cls.__mro__):
        for entry in vars(klass).get("SCHEMA_RULES", ()):
            rules.append(entry(cls) if callable(entry) else entry)
    described = [item for entry in rules for item in entry.get("x-rules", [])]
    checks = [entry for entry in rules if "x-rules" not in entry]
    if checks:
        schema["allOf"] = checks
    if described:
        schema["x-rules"] = described
