"""The example requests in examples/: where they are, and each with the install it was written for."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = REPO_ROOT / "examples"
# folder -> (mode, use_model_registry): top-level single-account, multi/, registry/.
FOLDERS: dict[str, tuple[str, bool]] = {"": ("single", False), "multi": ("multi", False), "registry": ("single", True)}


def load_example(pipeline_type: str, folder: str = "") -> dict[str, Any]:
    """examples/<folder>/<pipeline_type>.json; folder "" (single-account), "multi" or "registry"."""
    data: dict[str, Any] = json.loads((EXAMPLES / folder / f"{pipeline_type}.json").read_text())
    return data


def example_cases() -> list[tuple[Path, str, bool]]:
    """(file, mode, use_model_registry) for every example."""
    return [
        (path, mode, registry)
        for folder, (mode, registry) in FOLDERS.items()
        for path in sorted((EXAMPLES / folder).glob("*.json"))
    ]
