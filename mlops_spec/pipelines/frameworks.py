"""Which versions of each built-in framework image exist, per scope and region. Pure Python.

The table (data/framework_versions.json) is generated from the SageMaker Python SDK's image-URI
config by scripts/generate_framework_versions.py and read on first use, not at import. A version
is valid when its image is in the framework's repository, the one the deploy looks up
(mlops_spec.pipelines.model_source.BUILTIN_FRAMEWORKS). The old solution's documented `"1"` for
xgboost gave its users the SDK's legacy XGBoost algorithm image (`xgboost:1`, another repository,
which the deploy's image lookup cannot name): it is refused with the list of valid versions.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any, Literal

Scope = Literal["inference", "training"]
SCOPES: tuple[Scope, ...] = ("inference", "training")
DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "framework_versions.json"


@cache
def _table() -> dict[str, Any]:
    return dict(json.loads(DATA_FILE.read_text()))


def _entries(framework: str, scope: Scope, repository: str) -> dict[str, Any]:
    """version -> entry of `framework`'s `scope` images in `repository` (the one the deployer looks up)."""
    entries = _table()["frameworks"].get(framework, {}).get(scope, {})
    return {version: entry for version, entry in entries.items() if entry["repository"] == repository}


def _version_order(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.split(r"[.-]", version) if part.isdigit())


def framework_versions(framework: str, scope: Scope, repository: str) -> list[str]:
    """The versions of `framework` with a `scope` image in `repository`, oldest first."""
    return sorted(_entries(framework, scope, repository), key=_version_order)


def version_problem(framework: str, version: str, scope: Scope, repository: str) -> str | None:
    """None when `framework` has a `scope` image of `version` in `repository`; otherwise the problem,
    listing the valid versions."""
    if version in _entries(framework, scope, repository):
        return None
    job = "serving" if scope == "inference" else "training"
    problem = f"{framework} has no {job} image {version!r}"
    legacy = _table()["frameworks"].get(framework, {}).get(scope, {}).get(version)
    if legacy:
        # xgboost "1": the SDK's legacy algorithm image, which the image lookup of the deploy cannot name.
        problem += f" in {repository} ({version!r} is the legacy {legacy['repository']}:{version} image, not deployed)"
    valid = framework_versions(framework, scope, repository)
    same = [other for other in valid if _separators_aside(other) == _separators_aside(version)]
    hint = f" (did you mean {same[0]}?)" if same else ""
    return f"{problem}{hint}; valid versions: {', '.join(valid)}"


def _separators_aside(version: str) -> str:
    """1.7.1 and 1.7-1 alike: the same version written with the other separator."""
    return version.replace("-", ".")


def region_problem(framework: str, version: str, scope: Scope, repository: str, region: str) -> str | None:
    """None when the image exists in `region` (or the version is unknown: version_problem says so)."""
    entry = _entries(framework, scope, repository).get(version)
    if entry is None or region in _table()["region_sets"][entry["regions"]]:
        return None
    return f"{framework} {version} images are not published in {region}"
