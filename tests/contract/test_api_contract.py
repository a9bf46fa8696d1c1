"""The published contract (openapi.json) and the API handler agree: a property-based test with schemathesis.

Every operation of the document is exercised with requests generated from it, sent over HTTP to a
local API Gateway on 127.0.0.1 (tests/support/api_gateway.py), which turns each request into the
REST proxy event API Gateway would send and runs the real handler in a moto account. Checks:

- no server error: nothing answers 5xx (the moto account has no outage, so not even the documented 503);
- every status code and every response body is the documented one (schema conformance);
- a request the schema accepts is accepted: 2xx, or 404 / 409 where the state it names is missing or busy;
- a request the schema refuses is refused with a 4xx.

Bounded and deterministic: a fixed number of examples per operation (positive and negative cases
together), a fixed seed, no example database, and a freshly seeded account per operation; the
whole module takes about 30 s on two cores.
"""

from __future__ import annotations

import os
import re
import zlib
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from schemathesis import Case, Config, GenerationMode

from mlops_spec.openapi import openapi_document
from tests.support.api_gateway import MAX_REQUEST_LINE, LocalApiGateway
from tests.support.contract_world import CARDS, World, contract_world, seeded_pipeline_ids

# Fixed for CI. To explore further: CONTRACT_SEED / CONTRACT_EXAMPLES (e.g. 200 examples, other
# seeds), or CONTRACT_COVERAGE=1 for schemathesis's boundary-value phase instead (minutes).
EXAMPLES_PER_OPERATION = int(os.environ.get("CONTRACT_EXAMPLES", "4"))
SEED = int(os.environ.get("CONTRACT_SEED", "20260611"))
COVERAGE = os.environ.get("CONTRACT_COVERAGE") == "1"
CONFIG = Config.from_dict(
    {
        "seed": SEED,
        "phases": {
            "coverage": {"enabled": COVERAGE},
            "fuzzing": {"enabled": not COVERAGE},
            "stateful": {"enabled": False},
        },
        "generation": {
            "mode": "all",
            "max-examples": EXAMPLES_PER_OPERATION,
            "deterministic": True,
            "database": "none",
            # IAM (SigV4) is API Gateway's job, before the handler runs; the shim does not check it.
            "with-security-parameters": False,
        },
        "checks": {
            # Replaced by `accepted_unless_a_published_rule`, which knows the document's x-rules.
            "positive_data_acceptance": {"enabled": False},
            "negative_data_rejection": {"expected-statuses": ["400", "404", "413"]},
            # API Gateway answers methods a resource does not have, and unsigned requests, itself.
            "unsupported_method": {"enabled": False},
            "ignored_auth": {"enabled": False},
        },
    }
)
DOCUMENT = openapi_document()
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)


def published_rules(node: Any) -> list[dict[str, str]]:
    """Every `x-rules` entry of the document: the rules between fields that JSON Schema cannot state."""
    if isinstance(node, dict):
        return list(node.get("x-rules", [])) + [rule for value in node.values() for rule in published_rules(value)]
    if isinstance(node, list):
        return [rule for value in node for rule in published_rules(value)]
    return []


RULES = published_rules(DOCUMENT)


def breaks_a_published_rule(error: dict[str, str]) -> bool:
    segments = set(re.split(r"[.\[\]]", error.get("field", "")))
    return any(rule["field"] in segments and rule["problem"] in error.get("problem", "") for rule in RULES)


@schemathesis.check
def accepted_unless_a_published_rule(ctx: Any, response: Any, case: Case) -> None:
    """A request the schema accepts is accepted: 2xx, or 404 / 409 when the state it names is missing
    or busy; a 400 only when every field error is one of the document's x-rules (which JSON Schema
    cannot state, e.g. max_parallel_jobs at most max_jobs)."""
    if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return
    status = response.status_code
    if 200 <= status < 300 or status in (404, 409):
        return
    errors = response.json().get("errors", []) if status == 400 else []
    if errors and all(breaks_a_published_rule(error) for error in errors):
        return
    raise AssertionError(f"a request the schema accepts was answered {status}: {response.text[:2000]}")


@pytest.fixture(scope="module")
def gateway() -> Iterator[LocalApiGateway]:
    with LocalApiGateway() as local:
        yield local


# What the seeded account holds, known before it exists: cases may be generated before any fixture runs.
EXISTING = {"pipeline_id": seeded_pipeline_ids(), "name": list(CARDS)}


@pytest.fixture
def world() -> Iterator[World]:
    """A fresh seeded account per operation: each operation's run starts from the same state, whichever
    worker runs it and whatever ran before."""
    with contract_world() as seeded:
        assert (seeded.pipelines, seeded.cards) == (EXISTING["pipeline_id"], EXISTING["name"])
        yield seeded


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        yield http


@schema.hook("filter_case")
def reaches_the_handler(context: Any, case: Case) -> bool:
    """API Gateway answers a method the resource does not have, and a request line it refuses (414),
    itself: such requests never reach the handler, so they are not this contract's business."""
    if case.method.upper() != case.operation.method.upper():
        return False
    url = requests.Request(case.method, f"http://gateway{case.formatted_path}", params=case.query).prepare().path_url
    return len(f"{case.method} {url} HTTP/1.1") <= MAX_REQUEST_LINE


def _name_existing_resources(case: Case) -> None:
    """Positive cases name a seeded pipeline or card about half the time (chosen from the
    generated value, so the run stays deterministic): answers about existing resources are checked
    against the document too, not only 404s."""

    def existing(name: str, value: Any) -> Any:
        choices = EXISTING[name]
        pick = zlib.crc32(str(value).encode("utf-8", "surrogatepass")) % (len(choices) + 2)
        return choices[pick] if pick < len(choices) else value

    for name, value in list((case.path_parameters or {}).items()):
        case.path_parameters[name] = existing(name, value)
    if case.operation.path == "/pipelinestatus" and isinstance(case.body, dict) and "pipeline_id" in case.body:
        case.body["pipeline_id"] = existing("pipeline_id", case.body["pipeline_id"])


def _issued_tokens(case: Case) -> None:
    """A `next_token` is opaque: only one the API issued is valid, which no schema can say (the
    document says so). Positive cases carry an issued one (for any pipeline id the API could page
    after), or none for model cards, whose tokens SageMaker issues."""
    from lambda_src.api.pipelines import encode_token

    query = case.query or {}
    if "next_token" not in query:
        return
    if case.operation.path == "/pipelines":
        after = "".join(ch for ch in str(query["next_token"]) if ch.isascii() and ch.isalnum())
        query["next_token"] = encode_token(f"p{after[:60]}")
    else:
        del query["next_token"]


# The request model of each model-card route's body (its unknown keys, at any depth, are warnings).
_CARD_BODIES = {
    ("POST", "/modelcards"): "CreateModelCard",
    ("PUT", "/modelcards/{name}"): "UpdateModelCardBody",
    ("POST", "/modelcards/{name}/export"): "ExportModelCardBody",
}


def _strict_bodies_hold_known_keys(case: Case) -> None:
    """A pipeline request or a model card may carry unknown keys (ignored with a warning) unless
    `strict=true`, which the document says but no schema of the body can: positive cases with
    strict=true leave them out."""
    from mlops_spec import modelcards
    from mlops_spec.card_keys import without_unknown_keys
    from mlops_spec.spec_union import SPEC_TYPES

    strict = str((case.query or {}).get("strict", "")).strip().lower() == "true"
    if not strict or not isinstance(case.body, dict):
        return
    card_body = _CARD_BODIES.get((case.operation.method.upper(), case.operation.path))
    if card_body is not None:
        case.body = without_unknown_keys(getattr(modelcards, card_body), case.body)[0]
    if case.operation.path != "/provisionpipeline":
        return
    operation = modelcards.MODEL_CARD_OPERATIONS.get(case.body.get("pipeline_type"))  # type: ignore[arg-type]
    if operation is not None:  # an MWO-style model-card operation: unknown keys at any depth
        case.body = without_unknown_keys(operation, case.body)[0]
        return
    spec = SPEC_TYPES.get(case.body.get("pipeline_type"))  # type: ignore[arg-type]
    if spec is not None:
        for key in set(case.body) - spec.accepted_keys():
            del case.body[key]


@schema.hook("map_case")
def positive_cases_meet_the_world(context: Any, case: Case) -> Case:
    """Positive cases name existing resources some of the time, carry issued tokens, and leave out
    the one derived field, `pipeline_id` of a pipeline request: it must be the id the request's own
    name and type give (as its description says). Negative cases keep what was generated."""
    if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return case
    _name_existing_resources(case)
    _issued_tokens(case)
    _strict_bodies_hold_known_keys(case)
    if case.operation.path == "/provisionpipeline" and isinstance(case.body, dict):
        case.body.pop("pipeline_id", None)
    return case


@schema.parametrize()
@hypothesis.settings(
    deadline=None,
    derandomize=False,  # the schemathesis seed above makes each run the same
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    max_examples=EXAMPLES_PER_OPERATION,
)
def test_the_handler_honours_the_published_contract(
    case: Case, gateway: LocalApiGateway, session: requests.Session, world: World
) -> None:
    case.call_and_validate(base_url=gateway.url, session=session, additional_checks=[accepted_unless_a_published_rule])
