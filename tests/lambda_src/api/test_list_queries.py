"""Query strings of the list and describe routes: a parameter given empty is checked like any value,
as the published enums and integer types say (`?status=` is not "no filter")."""

from __future__ import annotations

import pytest

from tests.support.api_gateway import api_event, call


@pytest.mark.parametrize("name", ["status", "pipeline_type", "limit"])
def test_an_empty_pipeline_filter_is_400_naming_it(orchestrator, name):
    response = call(api_event("GET", "/pipelines", query={name: ""}))
    assert response.status == 400, response.body
    assert [error["field"] for error in response.body["errors"]] == [name]


def test_an_empty_next_token_is_the_first_page(orchestrator):
    response = call(api_event("GET", "/pipelines", query={"next_token": ""}))
    assert response.status == 200
    assert response.body == {"pipelines": [], "next_token": None}


@pytest.mark.parametrize("name", ["status", "name_contains", "limit"])
def test_an_empty_model_card_filter_is_400_naming_it(orchestrator, name):
    response = call(api_event("GET", "/modelcards", query={name: ""}))
    assert response.status == 400, response.body
    assert [error["field"] for error in response.body["errors"]] == [name]


@pytest.mark.parametrize(
    ("version", "status"), [("1", 200), ("2147483647", 404), ("2147483648", 400), ("9" * 30, 400), ("1.0", 400)]
)
def test_a_card_version_is_a_32_bit_whole_number(orchestrator, version, status):
    assert call(api_event("POST", "/modelcards", {"name": "churn-card"})).status == 201
    response = call(api_event("GET", "/modelcards/churn-card", query={"version": version}))
    assert response.status == status, response.body
    if status == 400:
        assert [error["field"] for error in response.body["errors"]] == ["version"]
