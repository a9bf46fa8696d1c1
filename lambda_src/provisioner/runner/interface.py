"""The stack runner's contract with the provisioner: the StackRunner protocol and what an `up` returns.

Changes when the provisioner needs another stack operation or another fact about an update's result.
Failures are the ProvisioningError kinds of `lambda_src.provisioner.errors`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

OnOutput = Callable[[str], Any]
PulumiProgram = Callable[[], None]


@dataclass(frozen=True)
class UpOutcome:
    """What an `up` produced: the stack outputs and how many resources each operation touched."""

    outputs: dict[str, Any]
    resource_changes: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(count for op, count in self.resource_changes.items() if op != "same")

    @property
    def created(self) -> int:
        return self.resource_changes.get("create", 0)


@dataclass(frozen=True)
class DriftedResource:
    """One resource whose live state differs from the stack's state: how (update, delete) and in what."""

    urn: str
    type: str
    op: str
    properties: tuple[str, ...] = ()


@dataclass(frozen=True)
class DriftReport:
    """A preview-only refresh: the operations a refresh would apply, and the resources they touch."""

    changes: dict[str, int] = field(default_factory=dict)
    resources: tuple[DriftedResource, ...] = ()

    @property
    def in_sync(self) -> bool:
        return not any(count for op, count in self.changes.items() if op != "same") and not self.resources


class StackRunner(Protocol):
    """Create/select one stack, configure it, and run it. One stack at a time per runner."""

    def select_or_create(self, stack_name: str, program: PulumiProgram) -> None: ...

    def select_existing(self, stack_name: str, program: PulumiProgram) -> bool:
        """Select a stack if it exists; False when there is nothing to select."""
        ...

    def set_config(self, values: Mapping[str, str]) -> None: ...

    def up(self, on_output: OnOutput | None = None) -> UpOutcome: ...

    def outputs(self) -> dict[str, Any]: ...

    def destroy_and_remove(self, on_output: OnOutput | None = None) -> None: ...

    def cancel(self) -> None: ...

    def refresh(self, clear_pending_creates: bool = False, on_output: OnOutput | None = None) -> None: ...

    def drift(self, on_output: OnOutput | None = None) -> DriftReport:
        """What a refresh would change (`pulumi refresh --preview-only`): nothing is written."""
        ...

    def close(self) -> None: ...

    # -- moving a stack between backends (runner.migration) -----------------------------------------
    def export_deployment(self) -> dict[str, Any]:
        """The selected stack's deployment as `pulumi stack export --show-secrets` writes it
        (`{"version": ..., "deployment": {...}}`, secrets in plain text)."""
        ...

    def import_deployment(self, exported: dict[str, Any]) -> None:
        """Replace the selected stack's state with an exported deployment (`pulumi stack import`)."""
        ...

    def secrets_provider_state(self) -> dict[str, Any] | None:
        """The selected stack's secrets provider as a deployment names it, when this runner created the
        stack (its data key is known only then); None otherwise."""
        ...

    def remove_state(self) -> None:
        """Forget the selected stack without touching its resources (`pulumi stack rm --force`)."""
        ...
