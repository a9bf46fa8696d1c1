"""Hostile input never gets past validation: 5,000 malformed bodies, each a 4xx JSON answer, and no write.

Hypothesis chooses the kind of attack and a seed; the body is then built in plain Python from the
seed. Rich hypothesis strategies cost several milliseconds per example on a busy machine, and
5,000 of them must run in seconds; a failure still reports a reproducible (kind, seed).
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops_spec.modelcards import MODEL_CARD_OPERATIONS
from mlops_spec.spec_union import SPEC_TYPES
from tests.support.api_gateway import api_event, call
from tests.support.examples import EXAMPLES
from tests.support.requests import realtime_body

KNOWN_TYPES = sorted(SPEC_TYPES) + sorted(MODEL_CARD_OPERATIONS)
EXAMPLE_BODIES = [json.loads(p.read_text()) for p in sorted(EXAMPLES.glob("*.json"))] or [realtime_body()]
FIELD_NAMES = sorted({name for spec in SPEC_TYPES.values() for name in spec.model_fields})
SPECIAL_STRINGS = [
    "",
    " ",
    "ml.m5.large",
    "s3://bucket/key",
    "../../etc/passwd",
    "\u0000",
    "\u202e",
    "💥",
    "a" * 70,
    "DROP TABLE pipelines;",
    "${jndi:ldap://x}",
    "<script>",
    "dev",
    "staging",
]
# Code point ranges for random text: ASCII, controls, Latin/CJK, emoji, and surrogates (which JSON
# can carry as \\ud800 escapes although UTF-8 cannot encode them).
CODEPOINTS = [(0x20, 0x7E), (0x00, 0x1F), (0xA0, 0x2FF), (0x4E00, 0x4E50), (0x1F300, 0x1F320), (0xD800, 0xDFFF)]


def random_text(rng: random.Random, max_size: int = 16) -> str:
    if rng.random() < 0.3:
        return rng.choice(SPECIAL_STRINGS)
    low, high = rng.choice(CODEPOINTS)
    return "".join(chr(rng.randint(low, high)) for _ in range(rng.randint(0, max_size)))


def random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.choice([0, -1, 1, 2**31, -(2**63), 10**30, rng.randint(-1000, 1000)])
    if kind == 3:
        return rng.choice([0.5, -1e308, 1e-320, rng.uniform(-1e6, 1e6)])
    if kind in (4, 5):
        return random_text(rng)
    if kind in (6, 7):
        return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    keys = [rng.choice(FIELD_NAMES) if rng.random() < 0.5 else random_text(rng, 8) for _ in range(rng.randint(0, 3))]
    return {key: random_json(rng, depth + 1) for key in keys}


def non_blank(rng: random.Random) -> Any:
    """A value that is not a blank string: the spec drops keys whose value is "" (MWO clients send ""
    for omitted options), unknown keys included, so a blank value would not make a body invalid."""
    value = random_json(rng)
    return value if not (isinstance(value, str) and not value.strip()) else 0


def an_example(rng: random.Random) -> dict[str, Any]:
    return json.loads(json.dumps(rng.choice(EXAMPLE_BODIES)))


# -- attack kinds: each returns a raw JSON text, or bytes to send base64-encoded ----------------------


def missing_required_field(rng: random.Random) -> str:
    """A real example without one of its required fields (never valid), other fields scrambled."""
    body = an_example(rng)
    spec = SPEC_TYPES[body["pipeline_type"]]
    required = [name for name, field in spec.model_fields.items() if field.is_required() and name in body]
    dropped = rng.choice(required)
    body.pop(dropped)
    # Scrambling must not put the dropped field back, under its name or an alias.
    alias = spec.model_fields[dropped].validation_alias
    blocked = {dropped, *(getattr(alias, "choices", None) or [alias])}
    for _ in range(rng.randint(0, 3)):
        name = rng.choice(FIELD_NAMES)
        if name not in blocked:
            body[name] = random_json(rng)
    return json.dumps(body)


def unknown_field(rng: random.Random) -> str:
    body = an_example(rng)
    body[f"x_fuzz_{random_text(rng, 8)}"] = non_blank(rng)
    return json.dumps(body)


def bad_pipeline_type(rng: random.Random) -> str:
    body = {rng.choice(FIELD_NAMES): random_json(rng) for _ in range(rng.randint(0, 8))}
    body.pop("pipeline_type", None)
    choice = rng.randrange(3)
    if choice == 1:
        body["pipeline_type"] = rng.choice([None, 1, True, [], {}, ["byom_realtime_builtin"], {"type": "x"}])
    elif choice == 2:
        known = rng.choice(KNOWN_TYPES)
        near = rng.choice([f" {known}", known.upper(), f"{known}_v2", known.replace("_", "-"), random_text(rng)])
        body["pipeline_type"] = near if near not in KNOWN_TYPES else "nope"
    return json.dumps(body)


def bad_model_card_request(rng: random.Random) -> str:
    fields = {rng.choice(["name", "status", "version", "intended_uses"]): random_json(rng) for _ in range(3)}
    unknown = f"x_fuzz_{random_text(rng, 6)}"
    return json.dumps({"pipeline_type": rng.choice(sorted(MODEL_CARD_OPERATIONS)), **fields, unknown: 1})


def not_an_object(rng: random.Random) -> str:
    value = random_json(rng)
    return json.dumps(value if not isinstance(value, dict) else [value])


def raw_text(rng: random.Random) -> str:
    return random_text(rng, 200)


def raw_bytes(rng: random.Random) -> bytes:
    return bytes(rng.randrange(256) for _ in range(rng.randint(0, 200)))


def deep_nesting(rng: random.Random) -> str:
    depth = rng.randint(33, 3000)
    if rng.random() < 0.5:
        return "[" * depth + "]" * depth
    inner = '{"a":' * depth + "1" + "}" * depth
    return json.dumps({**an_example(rng), "tags": "__INNER__"}).replace('"__INNER__"', inner)


def huge(rng: random.Random) -> str:
    body = an_example(rng)
    body[rng.choice(["model_name", "tags", "x_fuzz"])] = "x" * rng.randint(256 * 1024 + 1, 400_000)
    return json.dumps(body)


def truncated(rng: random.Random) -> str:
    text = json.dumps(an_example(rng))
    return text[: rng.randint(0, len(text) - 1)]


ATTACKS: list[Callable[[random.Random], str | bytes]] = [
    missing_required_field,
    unknown_field,
    bad_pipeline_type,
    bad_model_card_request,
    not_an_object,
    raw_text,
    raw_bytes,
    deep_nesting,
    huge,
    truncated,
]


def to_event(path: str, body: str | bytes, query: dict[str, str] | None) -> dict[str, Any]:
    if isinstance(body, bytes):
        event = api_event("POST", path, query=query)
        event["body"] = base64.b64encode(body).decode()
        event["isBase64Encoded"] = True
        return event
    return api_event("POST", path, raw_body=body, query=query)


requests = st.tuples(
    st.sampled_from(ATTACKS),
    st.integers(min_value=0, max_value=2**32),
    st.sampled_from(["/provisionpipeline"] * 5 + ["/pipelinestatus"]),
    st.sampled_from([None, {"dry_run": "true"}, {"dry_run": "false"}]),
)


def test_twelve_hundred_hostile_bodies_get_a_4xx_json_answer_and_write_nothing(orchestrator):
    statuses: dict[int, int] = {}
    kinds: dict[str, int] = {}

    @settings(
        max_examples=1200,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(requests)
    def one(request: tuple[Callable[[random.Random], str | bytes], int, str, dict[str, str] | None]) -> None:
        attack, seed, path, query = request
        if attack in (unknown_field, bad_model_card_request):
            # Without strict, an unknown key is ignored with a warning (test_unknown_keys.py,
            # test_modelcard_unknown_keys.py).
            query = {**(query or {}), "strict": "true"}
        response = call(to_event(path, attack(random.Random(seed)), query))
        assert 400 <= response.status < 500, (attack.__name__, seed, path, query, response)
        assert isinstance(response.body["message"], str) and response.body["message"]
        for error in response.body.get("errors", []):
            assert set(error) == {"field", "problem"}, response.body
        statuses[response.status] = statuses.get(response.status, 0) + 1
        kinds[attack.__name__] = kinds.get(attack.__name__, 0) + 1

    one()

    assert sum(statuses.values()) >= 1200
    assert set(statuses) <= {400, 404, 413}, statuses
    assert statuses[400] > 700
    assert set(kinds) == {attack.__name__ for attack in ATTACKS}
    assert min(kinds.values()) > 35, kinds
    assert orchestrator.items() == []
    assert orchestrator.object_keys() == []
    assert orchestrator.invocations.calls == []
