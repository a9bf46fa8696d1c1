"""Zip packages for the small Lambda functions, built from this repository's own source."""

from __future__ import annotations

from pathlib import Path

import pulumi

from mlops_spec.partitions import partition_of, powertools_layer_account, region_problem

REPO_ROOT = Path(__file__).resolve().parent.parent

# Powertools' public layer carries aws-lambda-powertools and pydantic v2 (compiled for Lambda), so
# our zips hold only our own code. Who publishes it where: mlops_spec/partitions.py.
POWERTOOLS_LAYER_VERSION = 18


def powertools_layer_arn(region: str, architecture: str = "arm64") -> str:
    """The Powertools layer of `region`; ValueError where none is published (the stack config refuses
    such a region for the orchestrator first, mlops_spec/partitions.py region_problem)."""
    publisher = powertools_layer_account(region)
    if publisher is None:
        raise ValueError(region_problem(region))
    arch = "arm64" if architecture == "arm64" else "x86_64"
    return (
        f"arn:{partition_of(region)}:lambda:{region}:{publisher}:layer:"
        f"AWSLambdaPowertoolsPythonV3-python311-{arch}:{POWERTOOLS_LAYER_VERSION}"
    )


def source_files(paths: list[str], root: Path = REPO_ROOT) -> list[str]:
    """Every .py file under `paths` (files or packages), and the tables of their `data/` folders (e.g.
    mlops_spec/data/*.json, read by the request validators), relative to the repo, sorted for stable hashes."""
    found: set[str] = set()
    for entry in paths:
        target = root / entry
        candidates = [target] if target.is_file() else sorted([*target.rglob("*.py"), *target.rglob("data/*.json")])
        for file in candidates:
            if "__pycache__" not in file.parts:
                found.add(file.relative_to(root).as_posix())
    return sorted(found)


def code_archive(paths: list[str], root: Path = REPO_ROOT) -> pulumi.AssetArchive:
    """A zip of the listed packages/modules, keeping their paths so imports work unchanged."""
    return pulumi.AssetArchive({name: pulumi.FileAsset(str(root / name)) for name in source_files(paths, root)})
