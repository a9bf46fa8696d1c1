"""Upgrading never replaces a deployed resource: every URN of the snapshot plans is unchanged.

The snapshot (tests/snapshots/urns.json) changes only on purpose, in its own commit:
    .venv/bin/python -m tests.support.urn_snapshot
"""

from __future__ import annotations

import json

import pytest

from tests.support import urn_snapshot

SNAPSHOT: dict[str, list[str]] = json.loads(urn_snapshot.SNAPSHOT.read_text())


def test_the_snapshot_covers_every_shipped_stack_and_example():
    assert sorted(SNAPSHOT) == sorted(urn_snapshot.plan_names())


@pytest.mark.parametrize("plan_name", sorted(SNAPSHOT))
def test_urns_are_unchanged(plan_name: str):
    planned = urn_snapshot.urns_for(plan_name)
    missing = sorted(set(SNAPSHOT[plan_name]) - set(planned))
    added = sorted(set(planned) - set(SNAPSHOT[plan_name]))
    assert (missing, added) == ([], []), f"{plan_name}: URNs that would be replaced or created"
