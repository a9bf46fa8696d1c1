"""Regenerate mlops_spec/data/instance_types.json from botocore's SageMaker service model.

The API handler validates instance types against this committed table instead of loading the
service model (several MB of JSON) at cold start. Run after upgrading botocore:

    .venv/bin/python scripts/generate_instance_types.py

tests/mlops_spec/test_instance_types.py fails while the table and the installed botocore differ.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import botocore
import botocore.session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mlops_spec.instance_types import DATA_FILE, PURPOSE_SOURCES  # noqa: E402  (after the path fix)


def instance_types_by_purpose() -> dict[str, list[str]]:
    """purpose -> the InstanceType values SageMaker's API accepts where that purpose names one."""
    model = botocore.session.get_session().get_service_model("sagemaker")
    tables: dict[str, list[str]] = {}
    for purpose, (structure, member) in PURPOSE_SOURCES.items():
        shape = model.shape_for(structure).members[member]  # type: ignore[attr-defined]
        tables[purpose] = sorted(shape.enum)
    return tables


def table() -> dict[str, Any]:
    return {"source": f"botocore {botocore.__version__} sagemaker", "purposes": instance_types_by_purpose()}


def main() -> int:
    DATA_FILE.write_text(json.dumps(table(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {DATA_FILE.relative_to(ROOT)} ({table()['source']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
