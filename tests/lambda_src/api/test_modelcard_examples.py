"""examples/model_cards/: one request per model-card operation, in the old solution's form (POST
/provisionpipeline with the operation as pipeline_type); each is accepted as it is written."""

from __future__ import annotations

import json

import pytest

from mlops_spec.modelcards import MODEL_CARD_OPERATIONS
from tests.support.api_gateway import api_event, call
from tests.support.examples import EXAMPLES

CARDS = sorted((EXAMPLES / "model_cards").glob("*.json"))


def test_there_is_an_example_per_operation():
    assert sorted(path.stem for path in CARDS) == sorted(MODEL_CARD_OPERATIONS)


@pytest.mark.parametrize("path", CARDS, ids=lambda path: path.stem)
def test_each_example_passes_the_apis_dry_run(orchestrator, path):
    body = json.loads(path.read_text())

    response = call(api_event("POST", "/provisionpipeline", body, query={"dry_run": "true"}))

    assert response.status == 200, response.body
    assert (response.body["dry_run"], response.body["pipeline_type"]) == (True, path.stem)
    assert orchestrator.invocations.calls == []
