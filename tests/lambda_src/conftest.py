"""Fixtures for the API and trigger tests: a fresh moto account holding what the orchestrator creates."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.moto_orchestrator import Orchestrator, start_orchestrator


@pytest.fixture
def orchestrator(aws_credentials: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Orchestrator]:
    yield from start_orchestrator(monkeypatch)


@pytest.fixture
def strict_install(orchestrator: Orchestrator, monkeypatch: pytest.MonkeyPatch) -> Orchestrator:
    """The orchestrator's account with mlops:strictRequests on (MLOPS_STRICT_REQUESTS on the functions)."""
    monkeypatch.setenv("MLOPS_STRICT_REQUESTS", "true")
    return orchestrator
