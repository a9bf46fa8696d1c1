"""Regenerate mlops_spec/data/framework_versions.json from the SageMaker Python SDK's image-URI config.

The SDK is not a dependency of the orchestrator: this script downloads its wheel (no dependencies)
and reads sagemaker/image_uri_config/<framework>.json for each built-in framework a request may
name, keeping per scope (inference, training) each version's ECR repository and regions:

    .venv/bin/python scripts/generate_framework_versions.py            # downloads SDK_VERSION
    .venv/bin/python scripts/generate_framework_versions.py path.whl   # or reads a wheel you have

Bump SDK_VERSION to pick up new versions; tests/mlops_spec/test_framework_versions.py checks the
table against the wheel when one is at hand (SAGEMAKER_WHEEL) and against the request models always.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mlops_spec.pipelines.frameworks import DATA_FILE, SCOPES  # noqa: E402  (after the path fix)
from mlops_spec.pipelines.model_source import BUILTIN_FRAMEWORKS  # noqa: E402

SDK_VERSION = "2.257.7"
CONFIG_DIR = "sagemaker/image_uri_config"


def download_wheel(folder: Path) -> Path:
    command = [sys.executable, "-m", "pip", "download", f"sagemaker=={SDK_VERSION}", "--no-deps", "-d", str(folder)]
    subprocess.run(command, check=True, capture_output=True)
    return next(folder.glob(f"sagemaker-{SDK_VERSION}-*.whl"))


def read_configs(wheel: Path) -> dict[str, dict[str, Any]]:
    """framework -> its image_uri_config JSON, for every framework a request may name."""
    with zipfile.ZipFile(wheel) as archive:
        return {name: json.loads(archive.read(f"{CONFIG_DIR}/{name}.json")) for name in BUILTIN_FRAMEWORKS}


def scoped_versions(config: dict[str, Any], scope: str) -> dict[str, Any]:
    """The `versions` of one scope: under the scope's key (xgboost, sklearn) or shared by every scope
    the config lists (single-scope first-party algorithms such as knn)."""
    if scope in config:
        return dict(config[scope].get("versions", {}))
    if scope in config.get("scope", []):
        return dict(config.get("versions", {}))
    return {}


def table_from_configs(configs: dict[str, dict[str, Any]], source: str) -> dict[str, Any]:
    """{source, region_sets: [[region, ...]], frameworks: {framework: {scope: {version: {repository,
    regions: <index of its region set>}}}}}; region lists are shared, they repeat across versions."""
    region_sets: list[list[str]] = []
    frameworks: dict[str, Any] = {}
    for name, config in sorted(configs.items()):
        frameworks[name] = {}
        for scope in SCOPES:
            frameworks[name][scope] = {}
            for version, entry in sorted(scoped_versions(config, scope).items()):
                regions = sorted(entry["registries"])
                if regions not in region_sets:
                    region_sets.append(regions)
                frameworks[name][scope][version] = {
                    "repository": entry["repository"],
                    "regions": region_sets.index(regions),
                }
    return {"source": source, "region_sets": region_sets, "frameworks": frameworks}


def main(argv: list[str]) -> int:
    """`[WHEEL]`: write the table (from WHEEL, or a downloaded SDK wheel). `--check [WHEEL]`: exit 1 when
    the committed table is not what the wheel gives (run it when the pinned SDK version changes)."""
    check = "--check" in argv
    args = [arg for arg in argv if arg != "--check"]
    with tempfile.TemporaryDirectory() as folder:
        wheel = Path(args[0]) if args else download_wheel(Path(folder))
        version = wheel.name.split("-")[1]
        table = table_from_configs(read_configs(wheel), f"sagemaker {version} ({CONFIG_DIR})")
    if check:
        committed = json.loads(DATA_FILE.read_text())
        same = {**committed, "source": ""} == {**table, "source": ""}
        print(f"{DATA_FILE.relative_to(ROOT)} {'matches' if same else 'differs from'} {table['source']}")
        return 0 if same else 1
    DATA_FILE.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    print(f"wrote {DATA_FILE.relative_to(ROOT)} from {table['source']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
