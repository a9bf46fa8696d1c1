"""The provisioner image bakes exactly the pulumi CLI and aws plugin versions the project is tested with."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[3]


def dockerfile_args() -> dict[str, str]:
    text = (ROOT / "Dockerfile.provisioner").read_text()
    return dict(re.findall(r"^ARG (\w+)=(\S+)$", text, flags=re.MULTILINE))


def requirements() -> dict[str, Requirement]:
    """The base dependencies and the orchestrator extra (the Pulumi program's), by name."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = [*project["dependencies"], *project["optional-dependencies"]["orchestrator"]]
    return {(req := Requirement(line)).name: req for line in lines}


def test_the_cli_is_the_pulumi_sdk_version_the_project_uses():
    cli = dockerfile_args()["PULUMI_VERSION"]

    assert requirements()["pulumi"].specifier.contains(cli)
    # The SDK the tests run against is the SDK (and CLI) the image carries.
    assert cli == version("pulumi")


def test_the_aws_plugin_is_the_pinned_pulumi_aws_version():
    pinned = str(requirements()["pulumi-aws"].specifier)

    assert pinned == f"=={dockerfile_args()['PULUMI_AWS_VERSION']}"


def test_plugins_are_installed_at_build_time_and_never_fetched_at_run_time():
    text = (ROOT / "Dockerfile.provisioner").read_text()

    assert "pulumi plugin install resource aws v${PULUMI_AWS_VERSION}" in text
    assert "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true" in text
    assert re.search(r"^FROM public\.ecr\.aws/lambda/python:3\.11$", text, flags=re.MULTILINE)
    assert text.rstrip().endswith('CMD ["lambda_src.provisioner.handler.handler"]')


def test_the_image_installs_the_project_with_the_orchestrator_extra():
    """The provisioner's handler logs with Powertools and runs the Pulumi program: both come with the
    extra, not with the light base install."""
    text = (ROOT / "Dockerfile.provisioner").read_text()

    assert re.search(r'"/tmp/mlops-src\[orchestrator\]"', text)
    assert {"pulumi", "pulumi-aws", "aws-lambda-powertools"} <= set(requirements())
