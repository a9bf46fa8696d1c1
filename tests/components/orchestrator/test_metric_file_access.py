"""The API role reads model cards' metric files only under model_card_metrics/ of the assets bucket (issue 12
review, H1): never another pipeline's request or any other JSON of the bucket."""

from __future__ import annotations

import pytest

from components.orchestrator.access import api_statements
from components.stack import orchestrator_args
from mlops_spec.stack_config import load_stack_config

pytestmark = pytest.mark.fast
SINGLE = {"aws:region": "us-east-1", "mlops:environment": "dev", "mlops:accounts": '{"dev": "111111111111"}'}


@pytest.mark.parametrize(
    ("extra", "bucket"),
    [({}, "mlops-assets-111111111111-us-east-1"), ({"mlops:existingAssetsBucket": "team-assets"}, "team-assets")],
)
def test_the_api_role_reads_json_objects_only_under_the_metric_files_prefix(extra: dict, bucket: str) -> None:
    args = orchestrator_args(load_stack_config({**SINGLE, **extra}, "dev"))

    reads = sorted(r for s in api_statements(args, "k", "t") if "s3:GetObject" in s["Action"] for r in s["Resource"])

    assert reads == [f"arn:aws:s3:::{bucket}/model_card_metrics/*.json", f"arn:aws:s3:::{bucket}/pipelines/*"]
