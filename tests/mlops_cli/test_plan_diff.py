"""`mlops plan --diff OLD.json` (issue 13, point 8): two plans compared resource by resource."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from mlops_cli.main import app
from mlops_cli.plan_diff import plan_diff


def plan_of(*resources: dict[str, Any], stack: str = "dev") -> dict[str, Any]:
    return {"stacks": [{"stack": stack, "resources": list(resources), "outputs": {}, "violations": []}]}


def resource(name: str, parent: str | None = None, **inputs: Any) -> dict[str, Any]:
    return {"type": "aws:s3/bucket:Bucket", "name": name, "parent": parent, "inputs": inputs}


@pytest.mark.fast
def test_added_removed_and_changed_resources_are_listed_with_the_inputs_that_changed() -> None:
    old = plan_of(resource("logs", "base", tags={"a": "1"}), resource("gone"), resource("same", bucket="x"))
    new = plan_of(resource("same", bucket="x"), resource("logs", "base", tags={"a": "2"}), resource("new"))
    assert plan_diff(old, new) == [
        "stack dev: 3 change(s)",
        "  + new (aws:s3/bucket:Bucket)",
        "  - gone (aws:s3/bucket:Bucket)",
        "  ~ logs (aws:s3/bucket:Bucket) under base: tags",
    ]


@pytest.mark.fast
def test_the_same_plan_has_no_changes_and_a_stack_left_out_is_named() -> None:
    plan = plan_of(resource("same", bucket="x"))
    assert plan_diff({"stacks": [*plan["stacks"], *plan_of(stack="prod")["stacks"]]}, plan) == [
        "stack dev: no changes",
        "stack prod: not in this plan",
    ]


def test_plan_diff_compares_a_saved_plan_with_the_project_as_it_is_now(tmp_path: Path) -> None:
    config = {
        "aws:region": "us-east-1",
        "mlops:environment": "prod",
        "mlops:mode": "multi",
        "mlops:accounts": {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"},
        "mlops:notificationEmail": "team@example.com",
    }
    (tmp_path / "Pulumi.yaml").write_text("name: ml-platform\nruntime: python\n")
    (tmp_path / "__main__.py").write_text("from mlops_cli.program import run\n\nrun()\n")
    stack_file = tmp_path / "Pulumi.prod.yaml"
    stack_file.write_text(yaml.safe_dump({"config": config}))
    runner = CliRunner()
    saved = runner.invoke(app, ["plan", "--cwd", str(tmp_path), "--json"])
    (tmp_path / "old.json").write_text(saved.stdout)
    stack_file.write_text(yaml.safe_dump({"config": {**config, "mlops:useModelRegistry": True}}))

    result = runner.invoke(app, ["plan", "--cwd", str(tmp_path), "--diff", str(tmp_path / "old.json")])

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "stack prod: 2 change(s)",
        # the registry switch changes what both roles' policies allow
        "  ~ mlops-prod-deploy-policy (aws:iam/rolePolicy:RolePolicy) under mlops-prod: policy",
        "  ~ mlops-prod-sagemaker-policy (aws:iam/rolePolicy:RolePolicy) under mlops-prod: policy",
    ]
