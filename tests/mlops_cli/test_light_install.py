"""The light install (issue 13, point 10): `pip install mlops-orchestrator` without the orchestrator extra
runs the API client commands, `mlops validate` and `mlops init`; the commands that run the Pulumi program
stop with one line naming the extra, never a traceback.

A light install is simulated by hiding the extra's packages (a `None` entry in sys.modules makes both
`import` and importlib's find_spec report them missing), in a fresh interpreter where it matters.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlops_cli.extras import INSTALL_ORCHESTRATOR, ORCHESTRATOR_MODULES, missing_modules
from mlops_cli.main import app

REPO = Path(__file__).resolve().parents[2]
HINT = "pip install 'mlops-orchestrator[orchestrator]'"
# Everything a data scientist's commands import; none may need the orchestrator extra.
API_CLIENT_MODULES = [
    "mlops_cli.main",
    "mlops_cli.api_client",
    "mlops_cli.api_commands.pipelines",
    "mlops_cli.api_commands.approvals",
    "mlops_cli.api_commands.modelcards",
    "mlops_cli.api_commands.wait",
    "mlops_cli.validate_command",
    "mlops_cli.init_command",
]
HIDDEN = [*ORCHESTRATOR_MODULES, "components"]

# Run in a fresh interpreter without the extra: import every client module, validate an example request
# (the request models, the framework tables), then ask for a plan; print what was loaded and the exits.
LIGHT_RUN = """
import contextlib, io, json, sys
for name in {hidden}:
    sys.modules[name] = None
for module in {modules}:
    __import__(module)
from mlops_cli.main import app

def run(*args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            app(list(args), prog_name="mlops")
        except SystemExit as exit_:
            return exit_.code, out.getvalue(), err.getvalue()

validate = run("validate", {example!r}, "--mode", "single", "--no-model-registry", "--json")
plan = run("plan", "--cwd", {repo!r})
loaded = sorted(m for m in sys.modules if sys.modules[m] is not None and m.split(".")[0] in {hidden})
print(json.dumps({{"validate": validate, "plan": plan, "loaded": loaded}}))
"""


def run_light(example: Path) -> dict:
    code = LIGHT_RUN.format(hidden=HIDDEN, modules=API_CLIENT_MODULES, example=str(example), repo=str(REPO))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_the_client_commands_work_without_the_orchestrator_extra() -> None:
    outcome = run_light(REPO / "examples" / "byom_realtime_builtin.json")
    assert outcome["loaded"] == []
    exit_code, stdout, stderr = outcome["validate"]
    assert exit_code == 0, stderr
    assert json.loads(stdout)["pipeline_id"] == "churn-xgb-realtime-builtin"
    exit_code, stdout, stderr = outcome["plan"]
    assert (exit_code, stdout) == (2, "")
    assert stderr == f"error: mlops plan needs pulumi, pulumi_aws, aws_lambda_powertools (not installed): {HINT}\n"


@pytest.mark.fast
@pytest.mark.parametrize(
    ("args", "command"),
    [
        (["plan", "--stack", "dev"], "plan"),
        (["deploy", "--pipeline-id", "churn-xgb-realtime-builtin", "--env", "dev"], "deploy"),
        (["teardown"], "teardown"),
    ],
)
def test_an_orchestrator_command_without_the_extra_is_one_line_and_exit_2(
    args: list[str], command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pulumi_aws", None)
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    assert result.stderr == f"error: mlops {command} needs pulumi_aws (not installed): {HINT}\n"


@pytest.mark.fast
def test_missing_modules_names_only_what_cannot_be_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    assert missing_modules() == []  # the dev install has the extra
    monkeypatch.setitem(sys.modules, "aws_lambda_powertools", None)
    assert missing_modules() == ["aws_lambda_powertools"]
    assert missing_modules(("json", "no_such_module_here")) == ["no_such_module_here"]
    assert INSTALL_ORCHESTRATOR == HINT


@pytest.mark.fast
def test_the_heavy_packages_are_an_extra_that_dev_installs() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    base = {_name(requirement) for requirement in project["dependencies"]}
    extras = project["optional-dependencies"]
    assert base == {"boto3", "pydantic", "typer", "rich", "pyyaml"}
    assert {_name(requirement) for requirement in extras["orchestrator"]} == {
        "pulumi",
        "pulumi-aws",
        "aws-lambda-powertools",
    }
    # `make test` and CI install .[dev]: it must keep installing everything.
    assert f"{project['name']}[orchestrator]" in extras["dev"]


def _name(requirement: str) -> str:
    for separator in ("<", ">", "=", "[", ";", " "):
        requirement = requirement.split(separator)[0]
    return requirement.strip()
