"""`mlops validate` decides where a model card's metric file may be as the API does (issue 12 review, low d):
under model_card_metrics/ of the assets bucket, the bucket known from the stack's config when there is one."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from mlops_cli.validate_command import chosen_install
from mlops_spec.stack_config import load_stack_config

Run = Callable[..., Result]
SINGLE = {"aws:region": "us-east-1", "mlops:environment": "dev", "mlops:accounts": '{"dev": "111111111111"}'}
BUCKET = "mlops-assets-111111111111-us-east-1"
FIELD = "evaluation_details[0].metric_file_s3_url"


def card_file(tmp_path: Path, url: str) -> str:
    job = {"name": "holdout", "metric_file_s3_url": url, "metric_type": "regression"}
    path = tmp_path / "card.json"
    path.write_text(json.dumps({"pipeline_type": "create_model_card", "name": "c", "evaluation_details": [job]}))
    return str(path)


@pytest.mark.fast
def test_the_assets_bucket_comes_from_the_orchestrators_stack() -> None:
    created = chosen_install(("dev", load_stack_config(SINGLE, "dev")), None, None)
    existing = load_stack_config({**SINGLE, "mlops:existingAssetsBucket": "team-assets"}, "dev")

    assert created.assets_bucket == BUCKET
    assert chosen_install(("dev", existing), None, None).assets_bucket == "team-assets"
    assert chosen_install(None, None, None).assets_bucket is None


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: mlops\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text(
        'config:\n  aws:region: us-east-1\n  mlops:environment: dev\n  mlops:accounts: {dev: "111111111111"}\n'
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_validate_refuses_another_bucket_when_the_stack_names_the_assets_bucket(mlops: Run, project: Path) -> None:
    inside = mlops("validate", card_file(project, f"s3://{BUCKET}/model_card_metrics/m.json"))
    elsewhere = mlops("validate", card_file(project, "s3://someone-elses-bucket/model_card_metrics/m.json"))

    assert inside.exit_code == 0, inside.output
    assert (elsewhere.exit_code, elsewhere.stderr.splitlines()) == (
        1,
        [f"{FIELD}: must name a .json file under s3://{BUCKET}/model_card_metrics/ (the orchestrator's assets bucket)"],
    )


def test_outside_a_project_validate_checks_the_prefix_and_leaves_the_bucket_to_the_api(
    mlops: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    any_bucket = mlops("validate", card_file(tmp_path, "s3://any-bucket/model_card_metrics/m.json"))
    pipelines = mlops("validate", card_file(tmp_path, "s3://any-bucket/pipelines/other/spec.json"))

    assert any_bucket.exit_code == 0, any_bucket.output
    assert (pipelines.exit_code, pipelines.stderr.splitlines()) == (
        1,
        [
            f"{FIELD}: must name a .json file under s3://<assets bucket>/model_card_metrics/ "
            "(the orchestrator's assets bucket)"
        ],
    )
