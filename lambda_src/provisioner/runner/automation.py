"""The StackRunner over the Pulumi Automation API: stack operations, retried and recovered as faults call for.

Changes when the operations the provisioner runs, or the way a killed run's leftovers are settled, change.
What a fault is and what it calls for is decided in `faults`; this module carries it out.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from pulumi import automation as auto
from pulumi.automation import errors as auto_errors

from lambda_src.provisioner.errors import ProvisioningError, StackBusy
from lambda_src.provisioner.runner.faults import (
    Failure,
    PendingOperation,
    Remedy,
    classify,
    domain_error,
    failure_of,
    pending_creates,
    pending_creates_error,
    pending_operations,
    remedy_for,
    still_locked_error,
)
from lambda_src.provisioner.runner.interface import DriftedResource, DriftReport, OnOutput, PulumiProgram, UpOutcome
from lambda_src.provisioner.runner.migration import StateMigration
from lambda_src.provisioner.runner.retry import RetryPolicy
from lambda_src.provisioner.runner.workspace import RunnerConfig, workspace_options
from lambda_src.provisioner.state_layout import LegacyStacks, StackPlace, cloud_secrets_provider
from mlops_spec.naming import short_hash

logger = logging.getLogger(__name__)

T = TypeVar("T")
StackOpener = Callable[..., auto.Stack]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class AutomationStackRunner:
    """StackRunner over `pulumi.automation` with an inline program, an S3 backend and a KMS secrets provider.

    Faults become ProvisioningError subclasses: a held lock is waited for (bounded backoff) and then
    reported as StackBusy; a stale lock or pending operations left by a killed run are cleared once
    (cancel, then refresh) before the operation is retried. Pending creates are never cleared: AWS
    may have finished them, so they are reported as PendingCreates for an operator to reconcile.
    """

    def __init__(
        self,
        config: RunnerConfig,
        *,
        pulumi_command: auto.PulumiCommand | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = _utcnow,
        work_dir: str | None = None,
        s3: Any = None,
    ):
        self.config = config
        self._s3 = s3
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._command = pulumi_command
        self._owns_work_dir = work_dir is None
        self.work_dir = work_dir or tempfile.mkdtemp(prefix="mlops-workspace-")
        self._stack: auto.Stack | None = None

    # -- stack selection ---------------------------------------------------------------------------
    def select_or_create(self, stack_name: str, program: PulumiProgram) -> None:
        self._settle(stack_name)

        def create_or_select() -> auto.Stack:
            try:
                return self._open(auto.create_or_select_stack, stack_name, program)
            except auto_errors.StackAlreadyExistsError:
                # Another run created it between our select and create: select it now.
                return self._open(auto.select_stack, stack_name, program)

        self._stack = self._run(stack_name, create_or_select)

    def select_existing(self, stack_name: str, program: PulumiProgram) -> bool:
        self._settle(stack_name)

        def select() -> auto.Stack | None:
            try:
                return self._open(auto.select_stack, stack_name, program)
            except auto_errors.StackNotFoundError:
                return None

        self._stack = self._run(stack_name, select)
        return self._stack is not None

    def set_config(self, values: Mapping[str, str]) -> None:
        stack = self._selected()
        config = {key: auto.ConfigValue(value=value) for key, value in values.items()}
        self._run(stack.name, lambda: stack.set_all_config(config))

    # -- operations -----------------------------------------------------------------------------------
    def up(self, on_output: OnOutput | None = None) -> UpOutcome:
        stack = self._selected()
        result = self._run(stack.name, lambda: stack.up(**_transcript(on_output)))
        changes = {str(op): count for op, count in (result.summary.resource_changes or {}).items()}
        return UpOutcome(outputs=_values(result.outputs), resource_changes=changes)

    def outputs(self) -> dict[str, Any]:
        stack = self._selected()
        return _values(self._run(stack.name, stack.outputs))

    def destroy_and_remove(self, on_output: OnOutput | None = None) -> None:
        stack = self._selected()
        # run_program: the providers destroy with the program's current settings (the deploy role and
        # external id as configured now), not with those stored in state at the last `up`, which a
        # rotated external id or a changed role would turn into "assume-role denied".
        self._run(stack.name, lambda: stack.destroy(**_transcript(on_output), remove=True, run_program=True))
        self._stack = None

    def cancel(self) -> None:
        stack = self._selected()
        with _classified(stack.name):
            try:
                stack.cancel()
            except auto_errors.CommandError as exc:
                # Nothing to cancel is fine: the lock may have been released meanwhile.
                logger.info("pulumi cancel of %s did nothing: %s", stack.name, exc)

    def pending_operations(self) -> list[PendingOperation]:
        """What a killed run left unfinished in the stack's state."""
        stack = self._selected()
        with _classified(stack.name):
            return pending_operations(stack.export_stack().deployment)

    def refresh(self, clear_pending_creates: bool = False, on_output: OnOutput | None = None) -> None:
        stack = self._selected()
        with _classified(stack.name):
            stack.refresh(clear_pending_creates=clear_pending_creates, **_transcript(on_output))

    def drift(self, on_output: OnOutput | None = None) -> DriftReport:
        stack = self._selected()
        events: list[auto.events.EngineEvent] = []
        # run_program: the providers read with the deploy role as configured now (see destroy_and_remove).
        result = self._run(
            stack.name,
            lambda: stack.preview_refresh(**_transcript(on_output), on_event=events.append, run_program=True),
        )
        changes = {str(getattr(op, "value", op)): count for op, count in (result.change_summary or {}).items()}
        return DriftReport(changes=changes, resources=drifted_resources(events))

    def close(self) -> None:
        if self._owns_work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    # -- moving a stack between backends ----------------------------------------------------------------
    def export_deployment(self) -> dict[str, Any]:
        stack = self._selected()
        with _classified(stack.name):
            exported = stack.export_stack()
        return {"version": exported.version, "deployment": exported.deployment}

    def import_deployment(self, exported: dict[str, Any]) -> None:
        stack = self._selected()
        state = auto.Deployment(version=exported.get("version"), deployment=exported.get("deployment"))
        # The SDK writes the deployment (its secrets in plain text) to a temporary file it removes only
        # when the import succeeds: keep that file in this runner's work directory, removed on close.
        default_tempdir, tempfile.tempdir = tempfile.tempdir, self.work_dir
        try:
            with _classified(stack.name):
                stack.import_stack(state)
        finally:
            tempfile.tempdir = default_tempdir

    def secrets_provider_state(self) -> dict[str, Any] | None:
        stack = self._selected()
        try:
            # `stack init --secrets-provider` wrote the provider and its wrapped data key there.
            settings = stack.workspace.stack_settings(stack.name)
        except FileNotFoundError:
            return None
        if not settings.secrets_provider or not settings.encrypted_key:
            return None
        return cloud_secrets_provider(settings.secrets_provider, settings.encrypted_key)

    def remove_state(self) -> None:
        stack = self._selected()
        with _classified(stack.name):
            stack.workspace.remove_stack(stack.name, force=True)
        self._stack = None

    # -- internals ---------------------------------------------------------------------------------------
    def _selected(self) -> auto.Stack:
        if self._stack is None:
            raise RuntimeError("select a stack first")
        return self._stack

    def _open(self, open_stack: StackOpener, stack_name: str, program: PulumiProgram) -> auto.Stack:
        """A stack of our project in a fresh workspace at the stack's place, opened by `auto.select_stack`
        or its like."""
        place = self.config.place_of(stack_name)
        options = workspace_options(self.config, self._work_dir_of(place), self._pulumi_command(), place)
        return open_stack(stack_name, project_name=self.config.project_name, program=program, opts=options)

    def _work_dir_of(self, place: StackPlace) -> str:
        """One workspace directory per place: a workspace's project file names its backend, and a stack
        of the same name may live at two places while it is moved."""
        if self.config.layout is None:
            return self.work_dir
        path = os.path.join(self.work_dir, f"place-{short_hash(place.backend_url + place.secrets_provider, 12)}")
        os.makedirs(path, exist_ok=True)
        return path

    def _settle(self, stack_name: str) -> None:
        """Move (or refuse to run beside) the legacy target stacks `stack_name` needs at their place."""
        layout = self.config.layout
        if layout is None:
            return
        legacy = LegacyStacks(
            self._s3 or _s3_client(),
            layout.bucket,
            self.config.project_name,
            clock=self._clock,
            stale_after=self.retry.stale_lock_after,
        )
        migration = StateMigration(layout, legacy, self._runner_at)
        waits = iter(self.retry.delays())
        while True:
            try:
                with _classified(stack_name):
                    migration.settle(stack_name, self.config.moves_legacy_stacks)
                return
            except StackBusy:
                # An update of the legacy stack (an older image's build) holds its lock: wait as for any lock.
                delay = next(waits, None)
                if delay is None:
                    raise
                logger.info("stack %s is locked while it is to be moved; retrying in %.0f s", stack_name, delay)
                self._sleep(delay)

    def _runner_at(self, place: StackPlace) -> AutomationStackRunner:
        """A runner on one place, sharing this runner's CLI, retry policy and workspace directories."""
        return AutomationStackRunner(
            self.config.at(place),
            pulumi_command=self._pulumi_command(),
            retry=self.retry,
            sleep=self._sleep,
            clock=self._clock,
            work_dir=self._work_dir_of(place),
        )

    def _pulumi_command(self) -> auto.PulumiCommand:
        if self._command is None:
            # Constructing it runs `pulumi version`: FileNotFoundError here means no CLI in the image.
            self._command = auto.PulumiCommand(root=self.config.pulumi_root, skip_version_check=True)
        return self._command

    def _run(self, stack_name: str, operation: Callable[[], T]) -> T:
        """Run one operation, waiting out held locks and clearing what a killed run left behind once."""
        waits = iter(self.retry.delays())
        recovered = False
        while True:
            try:
                return operation()
            except ProvisioningError:
                raise
            except Exception as exc:
                failure = failure_of(exc)
                remedy = remedy_for(
                    failure,
                    can_recover=not recovered and self._stack is not None,
                    now=self._clock(),
                    stale_after=self.retry.stale_lock_after,
                )
                if remedy is Remedy.FAIL:
                    raise domain_error(failure, stack_name) from exc
                if remedy is Remedy.WAIT:
                    self._wait_for_lock(stack_name, next(waits, None), failure, exc)
                else:
                    self._recover(stack_name, remedy)
                    recovered = True

    def _wait_for_lock(self, stack_name: str, delay: float | None, failure: Failure, exc: Exception) -> None:
        """Sleep before the next attempt; StackBusy once the policy's attempts are used up."""
        if delay is None:
            raise still_locked_error(stack_name, self.retry.attempts, failure.text) from exc
        logger.info("stack %s is locked by another update; retrying in %.0f s", stack_name, delay)
        self._sleep(delay)

    def _recover(self, stack_name: str, remedy: Remedy) -> None:
        """Cancel a killed run's lock, then refresh away its pending updates and deletes; its pending
        creates stop the run instead (PendingCreates), since clearing them would forget what AWS made."""
        stack = self._selected()
        if remedy is Remedy.CLEAR_STALE_LOCK:
            logger.warning("stack %s: lock left by a killed run; cancelling and refreshing", stack_name)
            self.cancel()
        else:
            logger.warning("stack %s: pending operations from an interrupted run; recovering", stack_name)
        creates = pending_creates(self.pending_operations())
        if creates:
            logger.error("stack %s: pending creates need an operator: %s", stack.name, [op.urn for op in creates])
            raise pending_creates_error(stack.name, creates)
        self.refresh(clear_pending_creates=False)


@contextmanager
def _classified(stack_name: str) -> Iterator[None]:
    """Recovery steps are not retried: their failures only become domain errors."""
    try:
        yield
    except Exception as exc:
        raise classify(exc, stack_name) from exc


def _transcript(on_output: OnOutput | None) -> dict[str, Any]:
    """Where the CLI's output and errors go (the log, unless told otherwise), without terminal colours."""
    printer = on_output or _log_line
    return {"on_output": printer, "on_error": printer, "color": "never"}


def _values(outputs: auto.OutputMap) -> dict[str, Any]:
    return {key: out.value for key, out in outputs.items()}


def _log_line(line: str) -> None:
    logger.info("%s", line)


def _s3_client() -> Any:
    from lambda_src.common import aws

    return aws.client("s3")


# Operations a refresh reports for a resource whose live state left the stack's.
DRIFT_OPS = frozenset({"update", "delete", "replace"})


def drifted_resources(events: list[auto.events.EngineEvent]) -> tuple[DriftedResource, ...]:
    """The resources a preview-only refresh found changed or gone, from its engine events (one entry
    per resource; its refresh step's outputs or diffs say what changed)."""
    found: dict[str, DriftedResource] = {}
    for event in events:
        step = event.res_outputs_event or event.resource_pre_event
        if step is None:
            continue
        drifted = _drifted(step.metadata)
        if drifted is not None:
            found[drifted.urn] = drifted
    return tuple(found[urn] for urn in sorted(found))


def _drifted(meta: auto.events.StepEventMetadata) -> DriftedResource | None:
    op = str(getattr(meta.op, "value", meta.op))
    old = (meta.old.outputs if meta.old else None) or {}
    new = (meta.new.outputs if meta.new else None) or {}
    changed = tuple(sorted(meta.diffs or [key for key in set(old) | set(new) if old.get(key) != new.get(key)]))
    if op == "refresh":
        if meta.old is not None and meta.new is None:
            op = "delete"
        elif changed:
            op = "update"
    if op not in DRIFT_OPS:
        return None
    return DriftedResource(urn=meta.urn, type=meta.type, op=op, properties=changed)
