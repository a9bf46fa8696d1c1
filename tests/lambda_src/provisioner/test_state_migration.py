"""Moving a target stack of an earlier version from the state bucket's root to its own place, through the
StackRunner interface: moved once with its secrets under the new provider, the original removed, a second
run does nothing, a failure leaves the original in place, a held lock stops the move."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from lambda_src.provisioner.errors import PendingCreates, StackBusy
from lambda_src.provisioner.runner.migration import StateMigration
from lambda_src.provisioner.state_layout import StackPlace, StateLayout, StateNotMigrated
from tests.support.provisioner_settings import make_settings

pytestmark = pytest.mark.fast

LAYOUT = StateLayout.from_settings(make_settings("multi"))
STACK = "churn-realtime-builtin-prod"
NEW = LAYOUT.place_of(STACK)
OLD_PROVIDER = {"type": "cloud", "state": {"url": LAYOUT.secrets_provider, "encryptedkey": "b2xk"}}
ENDPOINT = f"urn:pulumi:{STACK}::mlops-pipelines::aws:sagemaker/endpoint:Endpoint::churn"


def legacy_deployment(**extra: Any) -> dict[str, Any]:
    """What `pulumi stack export --show-secrets` gives for a legacy stack: secrets in plain text."""
    resource = {"urn": ENDPOINT, "id": "churn-prod", "outputs": {"externalId": {"plaintext": '"s3cret"'}}}
    deployment = {"manifest": {}, "secrets_providers": OLD_PROVIDER, "resources": [resource], **extra}
    return {"version": 3, "deployment": deployment}


@dataclass
class Backends:
    """Stacks per place, as exported deployments; `fail[op]` makes the next `op` raise."""

    stacks: dict[StackPlace, dict[str, dict[str, Any]]] = field(default_factory=dict)
    fail: dict[str, Exception] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    locked_by_other: bool = False
    locks_taken: int = 0
    held: bool = False

    def at(self, place: StackPlace) -> dict[str, dict[str, Any]]:
        return self.stacks.setdefault(place, {})

    # the legacy side, as LegacyStacks does it in S3
    def exists(self, stack_name: str) -> bool:
        return stack_name in self.at(LAYOUT.root)

    @contextmanager
    def lock(self, stack_name: str) -> Iterator[None]:
        if self.locked_by_other:
            raise StackBusy(f"{stack_name} is locked by another update")
        self.locks_taken += 1
        self.held = True
        try:
            yield
        finally:
            self.held = False

    def remove(self, stack_name: str) -> None:
        assert self.held, "the legacy stack is removed under its lock"
        self.calls.append(("remove-legacy", stack_name))
        del self.at(LAYOUT.root)[stack_name]


class FakeRunner:
    """A StackRunner on one place of Backends."""

    def __init__(self, backends: Backends, place: StackPlace):
        self.backends, self.place, self.name, self.created = backends, place, "", False

    def _op(self, op: str) -> None:
        self.backends.calls.append((op, "new" if self.place == NEW else "root"))
        if op in self.backends.fail:
            raise self.backends.fail.pop(op)

    def select_existing(self, stack_name: str, program: Any) -> bool:
        self.name = stack_name
        return stack_name in self.backends.at(self.place)

    def select_or_create(self, stack_name: str, program: Any) -> None:
        self.name = stack_name
        if stack_name not in self.backends.at(self.place):
            self._op("init")
            self.backends.at(self.place)[stack_name] = {"version": 3, "deployment": {"manifest": {}}}
            self.created = True

    def export_deployment(self) -> dict[str, Any]:
        self._op("export")
        return copy.deepcopy(self.backends.at(self.place)[self.name])

    def import_deployment(self, exported: dict[str, Any]) -> None:
        self._op("import")
        self.backends.at(self.place)[self.name] = copy.deepcopy(exported)

    def secrets_provider_state(self) -> dict[str, Any] | None:
        if not self.created:
            return None
        return {"type": "cloud", "state": {"url": self.place.secrets_provider, "encryptedkey": "bmV3"}}

    def remove_state(self) -> None:
        self._op("remove")
        del self.backends.at(self.place)[self.name]

    def refresh(self, clear_pending_creates: bool = False, on_output: Any = None) -> None:
        self._op("refresh")
        self.backends.at(self.place)[self.name]["deployment"].pop("pending_operations", None)

    def close(self) -> None:
        pass


def migration(backends: Backends) -> StateMigration:
    return StateMigration(LAYOUT, backends, lambda place: FakeRunner(backends, place))  # type: ignore[arg-type, return-value]


def with_legacy(**extra: Any) -> Backends:
    backends = Backends()
    backends.at(LAYOUT.root)[STACK] = legacy_deployment(**extra)
    return backends


def test_a_legacy_stack_is_moved_once_with_its_secrets_under_its_environments_provider() -> None:
    backends = with_legacy()

    moved = migration(backends).settle(STACK, may_move=True)

    assert moved == [STACK]
    copied = backends.at(NEW)[STACK]["deployment"]
    assert copied["resources"] == legacy_deployment()["deployment"]["resources"]
    assert copied["secrets_providers"] == {
        "type": "cloud",
        "state": {"url": f"{LAYOUT.secrets_provider}&context_mlops-environment=prod", "encryptedkey": "bmV3"},
    }
    assert not backends.exists(STACK)
    assert backends.calls[-2:] == [("import", "new"), ("remove-legacy", STACK)]


def test_a_second_run_finds_nothing_to_move_and_touches_nothing() -> None:
    backends = with_legacy()
    migration(backends).settle(STACK, may_move=True)
    before, calls = copy.deepcopy(backends.stacks), len(backends.calls)

    assert migration(backends).settle(STACK, may_move=True) == []

    assert backends.stacks == before and len(backends.calls) == calls and backends.locks_taken == 1


def test_a_failed_import_leaves_the_legacy_stack_in_place_and_a_retry_moves_it() -> None:
    backends = with_legacy()
    backends.fail["import"] = RuntimeError("S3 said no")

    with pytest.raises(RuntimeError, match="S3 said no"):
        migration(backends).settle(STACK, may_move=True)

    assert backends.at(LAYOUT.root)[STACK] == legacy_deployment() and not backends.held
    assert migration(backends).settle(STACK, may_move=True) == [STACK]
    assert backends.at(NEW)[STACK]["deployment"]["resources"][0]["urn"] == ENDPOINT


def test_a_copy_left_by_a_run_stopped_before_removing_the_original_is_made_again_from_the_original() -> None:
    """An older image's build may have updated the original since the interrupted copy: the original
    (still the one in use) wins, and only then is it removed."""
    backends = with_legacy()
    stale_copy = legacy_deployment()
    stale_copy["deployment"]["resources"][0]["id"] = "churn-prod-before-the-last-update"
    backends.at(NEW)[STACK] = stale_copy

    assert migration(backends).settle(STACK, may_move=True) == [STACK]

    assert ("remove", "new") in backends.calls and ("import", "new") in backends.calls
    assert backends.at(NEW)[STACK]["deployment"]["resources"] == legacy_deployment()["deployment"]["resources"]
    assert not backends.exists(STACK)


def test_an_empty_stack_left_by_a_run_stopped_before_importing_is_created_again_then_filled() -> None:
    backends = with_legacy()
    backends.at(NEW)[STACK] = {"version": 3, "deployment": {"manifest": {}}}

    migration(backends).settle(STACK, may_move=True)

    assert ("remove", "new") in backends.calls
    assert backends.at(NEW)[STACK]["deployment"]["secrets_providers"]["state"]["encryptedkey"] == "bmV3"


def test_a_legacy_stack_locked_by_another_update_is_not_moved() -> None:
    backends = with_legacy()
    backends.locked_by_other = True

    with pytest.raises(StackBusy):
        migration(backends).settle(STACK, may_move=True)

    assert backends.exists(STACK) and STACK not in backends.at(NEW)


def test_pending_creates_stop_the_move_and_pending_updates_are_refreshed_away_first() -> None:
    create = [{"resource": {"urn": ENDPOINT}, "type": "creating"}]
    backends = with_legacy(pending_operations=create)

    with pytest.raises(PendingCreates):
        migration(backends).settle(STACK, may_move=True)
    assert backends.exists(STACK) and STACK not in backends.at(NEW)

    backends = with_legacy(pending_operations=[{"resource": {"urn": ENDPOINT}, "type": "updating"}])
    assert migration(backends).settle(STACK, may_move=True) == [STACK]
    assert backends.calls.index(("refresh", "root")) < backends.calls.index(("import", "new"))
    assert "pending_operations" not in backends.at(NEW)[STACK]["deployment"]


def test_a_deploy_build_refuses_while_its_stack_is_unmoved_and_never_moves_it() -> None:
    backends = with_legacy()

    with pytest.raises(StateNotMigrated) as refused:
        migration(backends).settle(STACK, may_move=False)

    assert refused.value.retryable and refused.value.reason == "state-not-moved"
    assert backends.calls == [] and backends.exists(STACK)
    assert migration(Backends()).settle(STACK, may_move=False) == []


def test_opening_a_delivery_stack_moves_every_target_stack_of_its_pipeline() -> None:
    backends = Backends()
    for env in ("dev", "staging"):
        backends.at(LAYOUT.root)[f"churn-realtime-builtin-{env}"] = legacy_deployment()
    backends.at(LAYOUT.root)["other-realtime-builtin-dev"] = legacy_deployment()

    moved = migration(backends).settle("churn-realtime-builtin-delivery", may_move=True)

    assert moved == ["churn-realtime-builtin-dev", "churn-realtime-builtin-staging"]
    assert set(backends.at(LAYOUT.root)) == {"other-realtime-builtin-dev"}
    assert "churn-realtime-builtin-dev" in backends.at(LAYOUT.place_of("churn-realtime-builtin-dev"))
