"""Model-card files with keys a card does not know (issue 12): `warning:` lines and the file is still sent, as the
API ignores them; `--strict` (or the stack's mlops:strictRequests) makes them errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from typer.testing import Result

Run = Callable[..., Result]
BODY = {"pipeline_type": "create_model_card", "name": "churn-card", "team": "a", "intended_uses": {"risk_ratng": "Low"}}
WARNINGS = [
    "warning: team: is not a known field; ignored",
    "warning: intended_uses.risk_ratng: is not a known field; ignored (did you mean risk_rating?)",
]


def write(tmp_path: Path) -> str:
    path = tmp_path / "card.json"
    path.write_text(json.dumps(BODY))
    return str(path)


def test_validate_warns_and_accepts_then_strict_refuses(mlops: Run, tmp_path: Path) -> None:
    path = write(tmp_path)

    lenient = mlops("validate", path)
    strict = mlops("validate", "--strict", path)

    assert (lenient.exit_code, lenient.stderr.splitlines()) == (0, WARNINGS)
    assert strict.exit_code == 1
    assert sorted(strict.stderr.splitlines()) == [
        "intended_uses.risk_ratng: is not a known field",
        "team: is not a known field",
    ]


def test_modelcard_create_warns_and_sends_the_file(mlops: Run, api, tmp_path: Path) -> None:
    card = {"name": "churn-card", "version": 1, "status": "Draft", "content": {}}
    api.answer("POST", "/modelcards", (201, card))

    result = mlops("modelcard", "create", write(tmp_path))

    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == WARNINGS
    assert api.received[0].body["team"] == "a"  # the API ignores it, and answers the same warning
