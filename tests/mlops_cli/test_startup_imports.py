"""What keeps `mlops` quick to start: importing the app loads none of the heavy packages its commands use.

Each check runs in a fresh interpreter, since this test process has long since imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# pulumi, pulumi_aws and components take seconds; boto3/botocore and pydantic (the request models) a
# good part of one. `mlops --help` needs none of them: each command imports its own when it runs.
CLI_HEAVY = {"pulumi", "pulumi_aws", "components", "boto3", "botocore", "pydantic"}
HANDLER_HEAVY = {"pulumi", "pulumi_aws", "components"}


def packages_loaded_by(module: str) -> set[str]:
    """The top-level packages in sys.modules after importing `module` in a fresh interpreter."""
    code = f"import json, sys; import {module}; print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return set(json.loads(done.stdout))


@pytest.mark.parametrize(
    ("module", "heavy"),
    [("mlops_cli.main", CLI_HEAVY), ("lambda_src.api.handler", HANDLER_HEAVY)],
)
def test_importing_loads_no_heavy_package(module: str, heavy: set[str]) -> None:
    loaded = packages_loaded_by(module)
    assert module.split(".")[0] in loaded  # the probe did import something
    assert loaded & heavy == set()
