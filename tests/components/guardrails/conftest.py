"""The policy pack's adapter module, loaded from policy_pack/ the way the Pulumi CLI finds it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

PACK_DIR = Path(__file__).resolve().parents[3] / "policy_pack"


@pytest.fixture(scope="session")
def pack() -> ModuleType:
    """policy_pack/guardrail_policies.py. The CLI runs the pack with its directory on sys.path, so the
    module's import name is its bare file name; registering it lets __main__.py import it the same way."""
    spec = importlib.util.spec_from_file_location("guardrail_policies", PACK_DIR / "guardrail_policies.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["guardrail_policies"] = module
    spec.loader.exec_module(module)
    return module
