"""`mlops modelcard ...` against a local API that checks SigV4 signatures: the route, query and body each
command sends, what it prints, and bad card files refused before anything is sent."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from typer.testing import Result

from tests.support.examples import EXAMPLES

Run = Callable[..., Result]
CARDS = EXAMPLES / "model_cards"
NAME = "churn-xgb-card"
CARD = {"name": NAME, "version": 2, "status": "PendingReview", "content": {"model_overview": {"model_owner": "a"}}}


def test_create_sends_the_example_card_without_its_operation_key(mlops: Run, api) -> None:
    api.answer("POST", "/modelcards", (201, {**CARD, "version": 1, "status": "Draft"}))

    result = mlops("modelcard", "create", str(CARDS / "create_model_card.json"))

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"model card {NAME}: created (version 1, Draft)"
    [sent] = api.received
    example = json.loads((CARDS / "create_model_card.json").read_text())
    assert (sent.method, sent.path) == ("POST", "/prod/modelcards")
    assert sent.body == {key: value for key, value in example.items() if key != "pipeline_type"}


def test_update_names_the_card_by_the_path(mlops: Run, api) -> None:
    api.answer("PUT", f"/modelcards/{NAME}", (200, CARD))

    result = mlops("modelcard", "update", NAME, str(CARDS / "update_model_card.json"), "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == CARD
    [sent] = api.received
    assert (sent.method, sent.path) == ("PUT", f"/prod/modelcards/{NAME}")
    assert sent.body == {
        "status": "PendingReview",
        "additional_information": {
            "caveats_and_recommendations": "Retrain when the product catalogue changes; reviewed by the risk team."
        },
    }


def test_a_bad_card_file_is_refused_naming_each_field_and_nothing_is_sent(mlops: Run, api, tmp_path: Path) -> None:
    path = tmp_path / "card.json"
    path.write_text(json.dumps({"name": NAME, "status": "Finished", "intended_uses": {"risk_rating": "Huge"}}))

    result = mlops("modelcard", "create", str(path))

    assert result.exit_code == 1
    assert sorted(line.split(":")[0] for line in result.stderr.splitlines()) == ["intended_uses.risk_rating", "status"]
    assert api.received == []


def test_an_update_file_naming_another_card_is_refused(mlops: Run, api) -> None:
    result = mlops("modelcard", "update", "other-card", str(CARDS / "update_model_card.json"))

    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith("name: ")
    assert api.received == []


def test_describe_asks_for_a_version(mlops: Run, api) -> None:
    api.answer("GET", f"/modelcards/{NAME}", (200, CARD))

    result = mlops("modelcard", "describe", NAME, "--version", "2")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"model card {NAME}: found (version 2, PendingReview)"
    [sent] = api.received
    assert (sent.method, sent.path, sent.query) == ("GET", f"/prod/modelcards/{NAME}", {"version": ["2"]})


def test_delete_asks_first_unless_yes(mlops: Run, api) -> None:
    api.answer("DELETE", f"/modelcards/{NAME}", (200, {"message": "deleted", "name": NAME}))

    refused = mlops("modelcard", "delete", NAME, input="n\n")
    assert refused.exit_code == 1
    assert api.received == []

    result = mlops("modelcard", "delete", NAME, "--yes")
    assert (result.exit_code, result.stdout.strip()) == (0, f"model card {NAME}: deleted")
    assert [(r.method, r.path) for r in api.received] == [("DELETE", f"/prod/modelcards/{NAME}")]


def test_export_sends_its_options_and_says_where_the_pdf_lands(mlops: Run, api) -> None:
    answer = {"name": NAME, "export_job_name": "e1", "export_job_arn": "arn:x", "output_location": "s3://b/p"}
    api.answer("POST", f"/modelcards/{NAME}/export", (202, answer))

    result = mlops("modelcard", "export", NAME, "--version", "1", "--job-name", "e1")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"model card {NAME}: export e1 started", "the PDF lands under s3://b/p"]
    assert api.received[0].body == {"export_job_name": "e1", "model_card_version": 1}


def test_list_shows_a_table_and_the_next_page(mlops: Run, api) -> None:
    cards = [{"name": NAME, "status": "Draft", "created_at": "2026-12-01T10:00:00Z", "last_modified_at": None}]
    api.answer("GET", "/modelcards", (200, {"model_cards": cards, "next_token": "t2"}))

    result = mlops("modelcard", "list", "--status", "Draft", "--limit", "10")

    assert result.exit_code == 0, result.output
    assert NAME in result.stdout and "2026-12-01T10:00:00Z" in result.stdout
    assert "mlops modelcard list --next-token t2" in result.stdout
    assert api.received[0].query == {"status": ["Draft"], "limit": ["10"]}


def test_an_api_error_is_one_line_per_field_and_exit_1(mlops: Run, api) -> None:
    errors = [{"field": "name", "problem": "already exists"}]
    api.answer("POST", "/modelcards", (409, {"message": "model card exists", "errors": errors}))

    result = mlops("modelcard", "create", str(CARDS / "create_model_card.json"))

    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["error (HTTP 409): model card exists", "  name: already exists"]
