"""Moving a target stack from the state bucket's root (earlier versions) to its own place, exactly once.

Changes when the way a stack is moved, or what a move must leave intact, changes. Where stacks live
is `lambda_src.provisioner.state_layout`'s decision; this module carries out a move through the
StackRunner interface (export, import) and LegacyStacks (lock, remove).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, closing
from typing import Protocol

from lambda_src.provisioner.runner.faults import pending_creates, pending_creates_error, pending_operations
from lambda_src.provisioner.runner.interface import StackRunner
from lambda_src.provisioner.state_layout import (
    StackPlace,
    StateLayout,
    StateNotMigrated,
    stacks_to_settle,
    with_secrets_provider,
)

logger = logging.getLogger(__name__)

RunnerAt = Callable[[StackPlace], StackRunner]


class Legacy(Protocol):
    """What a move needs of the legacy stacks (state_layout.LegacyStacks)."""

    def exists(self, stack_name: str) -> bool: ...

    def lock(self, stack_name: str) -> AbstractContextManager[None]: ...

    def remove(self, stack_name: str) -> None: ...


def _no_program() -> None:
    """Moves run no program: export, import and selection never call it."""


class StateMigration:
    """Moves legacy target stacks to their place; `runner_at` opens a runner on one place."""

    def __init__(self, layout: StateLayout, legacy: Legacy, runner_at: RunnerAt):
        self.layout, self.legacy, self.runner_at = layout, legacy, runner_at

    def settle(self, stack_name: str, may_move: bool) -> list[str]:
        """Before `stack_name` is opened: move the legacy target stacks it needs (the stacks moved),
        or, where this role may not (`may_move` False: a deploy build), refuse while one is unmoved."""
        moved = []
        for target in stacks_to_settle(stack_name):
            if not may_move:
                if self.legacy.exists(target):
                    raise StateNotMigrated(
                        f"stack {target} is still where earlier versions kept it; send the pipeline's request again:"
                        " the provisioner moves it before the next delivery run"
                    )
            elif self.move(target):
                moved.append(target)
        return moved

    def move(self, stack_name: str) -> bool:
        """Move one stack if it is still at the root; True when this call moved it.

        Safe to repeat and to run concurrently: the legacy stack's lock is held from the export to its
        removal (a second mover waits, then finds nothing to move), the copy is written before the
        original is removed, and a copy that already holds resources is not written again (a mover
        stopped between the two steps). A failure leaves the legacy stack in place.
        """
        if not self.legacy.exists(stack_name):
            return False
        self._settle_pending(stack_name)
        with self.legacy.lock(stack_name):
            if not self.legacy.exists(stack_name):
                return False  # another run moved it while we waited for the lock
            self._copy(stack_name)
            self.legacy.remove(stack_name)
        logger.warning("stack %s moved to %s", stack_name, self.layout.place_of(stack_name).backend_url)
        return True

    def _settle_pending(self, stack_name: str) -> None:
        """What a killed run left in the legacy stack: pending creates stop the move (an operator
        reconciles them, as for any stack); pending updates and deletes are refreshed away first, since
        an import drops them without looking."""
        with closing(self.runner_at(self.layout.root)) as old:
            if not old.select_existing(stack_name, _no_program):
                return
            pending = pending_operations(old.export_deployment().get("deployment"))
            if pending_creates(pending):
                raise pending_creates_error(stack_name, pending_creates(pending))
            if pending:
                old.refresh(clear_pending_creates=False)

    def _copy(self, stack_name: str) -> None:
        """The legacy deployment imported at the stack's place, its secrets under the new provider."""
        with closing(self.runner_at(self.layout.place_of(stack_name))) as new:
            new.select_or_create(stack_name, _no_program)
            # A copy left by a run that stopped before removing the original is made again from the
            # original, which an older image's build may have updated since (it is the one in use).
            provider = new.secrets_provider_state()
            if provider is None:
                # Created by a run that stopped before importing: its data key is unknown here.
                new.remove_state()
                new.select_or_create(stack_name, _no_program)
                provider = new.secrets_provider_state()
            with closing(self.runner_at(self.layout.root)) as old:
                if not old.select_existing(stack_name, _no_program):
                    raise StateNotMigrated(f"stack {stack_name} vanished from the root while it was locked")
                exported = old.export_deployment()
            creates = pending_creates(pending_operations(exported.get("deployment")))
            if creates:
                raise pending_creates_error(stack_name, creates)
            if provider is None:
                raise StateNotMigrated(f"stack {stack_name} was created at its place without a secrets provider")
            new.import_deployment(with_secrets_provider(exported, provider))
