"""The `mlops` console script ends a plan without tearing the interpreter down (issue 13, point 9):
the output is complete and the exit code is the command's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

RUN_SCRIPT = "import sys; from mlops_cli.main import main; sys.argv = ['mlops', *sys.argv[1:]]; main()"
PROD = {
    "aws:region": "us-east-1",
    "mlops:environment": "prod",
    "mlops:mode": "multi",
    "mlops:accounts": {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"},
    "mlops:notificationEmail": "team@example.com",
}


def mlops(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", RUN_SCRIPT, *args], capture_output=True, text=True, timeout=60)


def test_a_plan_written_to_a_pipe_is_complete_and_exits_0(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: ml-platform\nruntime: python\n")
    (tmp_path / "__main__.py").write_text("from mlops_cli.program import run\n\nrun()\n")
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump({"config": PROD}))
    done = mlops("plan", "--cwd", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("stack prod: 23 resources\n")
    assert done.stdout.endswith("  guardrails: passed (components/guardrails/)\n")


def test_a_refused_plan_exits_1_with_its_message(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: ml-platform\nruntime: python\n")
    done = mlops("plan", "--cwd", str(tmp_path), "--stack", "all")
    assert done.returncode == 1
    assert done.stderr == f"error: --stack all: {tmp_path.resolve()} holds no stack file (Pulumi.<stack>.yaml)\n"
    assert done.stdout == ""
