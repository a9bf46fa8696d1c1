"""One decision and one field list everywhere (issue 12): a table of request bodies (valid and invalid,
both modes, every pipeline type, model cards too) sent to the API handler (a dry run), to the
mlops-config.json trigger and to `mlops validate --json` gets the same verdict, the same fields in
error and, from the API and the CLI, the same warnings.

The trigger takes pipeline requests only (model-card operations from files are refused by design,
tests/lambda_src/trigger), so the model-card rows go through the API and the CLI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from click.testing import CliRunner

from lambda_src.common import aws, settings
from lambda_src.trigger.handler import process
from mlops_cli.main import app
from tests.support.api_gateway import api_event, call
from tests.support.examples import EXAMPLES
from tests.support.moto_orchestrator import BUCKET

TYPES = sorted(path.stem for path in EXAMPLES.glob("*.json"))
# field -> a value each type's request refuses there, or None to leave the field out.
BREAKERS: list[tuple[str, Any]] = [("owner", 5), ("tags", {"aws:team": "a"})]
TARGETED: list[tuple[str, dict[str, Any]]] = [
    ("byom_realtime_builtin", {"inference_instance": "ml.m5.largee"}),
    ("byom_realtime_custom", {"inference_instance": "ml.t2.micro"}),
    ("byom_batch_builtin", {"schedule_expression": "cron(0 25 * * ? *)"}),
    ("byom_batch_builtin", {"schedule_expression": "rate(1 days)"}),
    ("byom_batch_custom", {"schedule_expression": "rate(2 hours)"}),
    ("byom_data_quality_monitor", {"schedule_expression": "cron(0/30 * ? * * *)"}),
    ("byom_model_quality_monitor", {"schedule_expression": "NOW"}),
    ("byom_realtime_builtin", {"model_framework_version": "1"}),
    ("model_training_builtin", {"model_framework_version": "99.9-9", "instance_type": "ml.t2.medium"}),
    ("model_tuner_builtin", {"instance_type": "ml.inf1.xlarge"}),
    ("byom_realtime_custom", {"endpoint_name": "churn-endpoint "}),
    ("byom_batch_custom", {"description": "team a", "batch_size": 10}),
    ("model_autopilot_training", {"team": {"name": "a"}, "client_token": "x" * 65}),
]


def _named(body: dict[str, Any], case: int) -> dict[str, Any]:
    """A name of its own per case, so the trigger's recorded pipelines never meet."""
    key = "image_tag" if body["pipeline_type"] == "byom_image_builder" else "model_name"
    return {**body, key: f"c{case}-{body[key]}"[:40]}


def _cases() -> list[tuple[str, str, dict[str, Any]]]:
    """(mode, id, body): every example as written, in both modes; two generic breakages per type; the
    targeted checks of issue 12 (unknown keys and trimmed names among them)."""
    rows: list[tuple[str, str, dict[str, Any]]] = []
    for name in TYPES:
        example = json.loads((EXAMPLES / f"{name}.json").read_text())
        rows.append(("single", f"{name}", example))
        rows += [("single", f"{name}-bad-{field}", {**example, field: value}) for field, value in BREAKERS]
        rows.append(("multi", f"multi-{name}", json.loads((EXAMPLES / "multi" / f"{name}.json").read_text())))
    rows += [("single", f"{name}-{'-'.join(update)}", {**_example(name), **update}) for name, update in TARGETED]
    return [(mode, case_id, _named(body, index)) for index, (mode, case_id, body) in enumerate(rows)]


def _example(name: str) -> dict[str, Any]:
    return dict(json.loads((EXAMPLES / f"{name}.json").read_text()))


CASES = _cases()
# The `mlops` command built once (Typer builds it again on every CliRunner call of the app).
MLOPS = typer.main.get_command(app)
CARDS = [json.loads(path.read_text()) for path in sorted((EXAMPLES / "model_cards").glob("*.json"))] + [
    {"pipeline_type": "create_model_card", "name": "c", "status": "Done"},
    {"pipeline_type": "update_model_card", "name": "c"},
    # Unknown keys of a card, at any depth: ignored with the same warnings (compatibility mode).
    {"pipeline_type": "create_model_card", "name": "c", "team": "a", "intended_uses": {"risk_ratng": "Low"}},
]


def via_api(body: dict[str, Any]) -> tuple[bool, list[str], list[str]]:
    response = call(api_event("POST", "/provisionpipeline", body, query={"dry_run": "true"}))
    assert response.status in (200, 400), response.body
    errors = response.body.get("errors", []) if response.status == 400 else []
    warnings = response.body.get("warnings", [])
    return response.status == 200, sorted(e["field"] for e in errors), sorted(w["field"] for w in warnings)


def via_cli(body: dict[str, Any], mode: str, folder: Path) -> tuple[bool, list[str], list[str]]:
    path = folder / "request.json"
    path.write_text(json.dumps(body))
    result = CliRunner().invoke(MLOPS, ["validate", "--json", "--mode", mode, str(path)])
    assert result.exit_code in (0, 1), result.output
    answer = json.loads(result.stdout)
    errors, warnings = answer.get("errors", []), answer.get("warnings", [])
    return result.exit_code == 0, sorted(e["field"] for e in errors), sorted(w["field"] for w in warnings)


def via_trigger(body: dict[str, Any], case_id: str) -> tuple[bool, list[str]]:
    key = f"cases/{case_id}/mlops-config.json"
    aws.client("s3").put_object(Bucket=BUCKET, Key=key, Body=json.dumps(body))
    result = process(settings.settings(), BUCKET, key)
    assert result.outcome in ("queued", "rejected"), result
    return result.outcome == "queued", sorted(e["field"] for e in result.errors)


def test_the_table_is_wide_enough():
    assert len(CASES) + len(CARDS) >= 60
    assert {mode for mode, _, _ in CASES} == {"single", "multi"}


def test_every_request_gets_the_same_decision_and_fields_from_the_api_the_trigger_and_the_cli(
    orchestrator, monkeypatch, tmp_path
):
    decisions: dict[str, tuple[bool, list[str], list[str]]] = {}
    for mode, case_id, body in CASES:
        monkeypatch.setenv(settings.MODE, mode)
        api = via_api(body)
        assert via_cli(body, mode, tmp_path) == api, case_id
        assert via_trigger(body, case_id) == api[:2], case_id
        decisions[case_id] = api
    # The table holds both verdicts, with and without warnings, in both modes.
    assert {valid for valid, _, _ in decisions.values()} == {True, False}
    assert decisions["byom_batch_custom-description-batch_size"] == (True, [], ["batch_size", "description"])
    assert decisions["byom_realtime_custom-endpoint_name"][0] is True


@pytest.mark.parametrize("body", CARDS, ids=lambda body: body["pipeline_type"])
def test_model_card_operations_get_the_same_decision_from_the_api_and_the_cli(orchestrator, tmp_path, body):
    api = via_api(body)
    assert via_cli(body, "single", tmp_path) == api
