"""Running Pulumi stacks: the StackRunner interface and its Automation API implementation with fault recovery."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from pulumi import automation as auto
from pulumi.automation import errors as auto_errors

from lambda_src.provisioner.errors import (
    MESSAGE_LIMIT,
    AssumeRoleDenied,
    DeploymentFailed,
    PendingCreates,
    ProvisioningError,
    PulumiUnavailable,
    StackBusy,
    has_pending_operations,
    is_assume_role_denied,
    lock_timestamps,
)
from lambda_src.provisioner.settings import PROJECT_NAME, ProvisionerSettings

logger = logging.getLogger(__name__)

OnOutput = Callable[[str], Any]
PulumiProgram = Callable[[], None]
T = TypeVar("T")
# URNs a pending-creates error names; the rest are counted (recorded messages stay short).
PENDING_URNS_SHOWN = 5


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

    def close(self) -> None: ...


# -- decisions ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait for another update's lock before giving up with StackBusy.

    `stale_lock_after` is longer than any run may last (Lambda: 15 min; CodeBuild: its build
    timeout): a lock older than that belongs to a killed run and is safe to cancel.
    """

    attempts: int = 4
    base_delay_seconds: float = 5.0
    max_delay_seconds: float = 30.0
    stale_lock_after: timedelta = timedelta(minutes=20)

    def delays(self) -> list[float]:
        """Waits between attempts: exponential, capped, and bounded in number."""
        return [min(self.base_delay_seconds * 2**i, self.max_delay_seconds) for i in range(self.attempts - 1)]


# Only the provisioner function (15 minutes at most) updates delivery stacks: an older lock is a killed run's.
DELIVERY_RETRY = RetryPolicy(stale_lock_after=timedelta(minutes=16))
# Target stacks are also updated by deploy builds, which may run for their whole build timeout (60 min).
TARGET_RETRY = RetryPolicy(stale_lock_after=timedelta(minutes=65))


def lock_is_stale(message: str, now: datetime, stale_after: timedelta) -> bool:
    """True when every lock named in the message is older than `stale_after`."""
    stamps = [_parse_time(text) for text in lock_timestamps(message)]
    if not stamps or any(stamp is None for stamp in stamps):
        return False
    return all(now - stamp > stale_after for stamp in stamps if stamp is not None)


@dataclass(frozen=True)
class PendingOperation:
    """An operation a killed run began and never finished, as `pulumi stack export` lists it."""

    urn: str
    kind: str
    """"creating", "updating", "deleting", "reading", "importing"."""
    resource_type: str = ""

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> PendingOperation:
        resource = raw.get("resource") or {}
        return cls(
            urn=str(resource.get("urn", "")), kind=str(raw.get("type", "")), resource_type=str(resource.get("type", ""))
        )


def pending_operations(deployment: Mapping[str, Any] | None) -> list[PendingOperation]:
    """The pending operations of an exported deployment (`pulumi stack export` -> "deployment")."""
    return [PendingOperation.parse(op) for op in (deployment or {}).get("pending_operations") or []]


def pending_creates_error(stack_name: str, creates: list[PendingOperation]) -> PendingCreates:
    """Creates AWS may have finished: clearing them would forget real resources (whose fixed names
    then fail every later create with "already exists"), so an operator reconciles them first.

    Names as many URNs as fit the recorded message; the stack and the way out always fit."""
    head = f"stack {stack_name} has {len(creates)} pending create(s) left by an interrupted run: "
    tail = (
        ". Check in AWS whether each resource exists, then run `pulumi refresh --stack"
        f" {stack_name} --import-pending-creates <urn> <id>` for the ones that do (`--clear-pending-creates`"
        f" drops the ones that do not), or fix the state with `pulumi stack export --stack {stack_name}` and"
        " `pulumi stack import`; then send the request again."
    )
    budget = MESSAGE_LIMIT - len(head) - len(tail) - len(" (and 999 more)")
    shown: list[str] = []
    for op in creates[:PENDING_URNS_SHOWN]:
        if len(", ".join([*shown, op.urn])) > budget:
            break
        shown.append(op.urn)
    more = f" (and {len(creates) - len(shown)} more)" if len(creates) > len(shown) else ""
    return PendingCreates(head + ", ".join(shown) + more + tail)


def classify(exc: BaseException, stack_name: str = "") -> ProvisioningError:
    """The domain error for a failure of the pulumi CLI or the Automation API."""
    if isinstance(exc, ProvisioningError):
        return exc
    where = f" ({stack_name})" if stack_name else ""
    if isinstance(exc, FileNotFoundError | PermissionError | auto_errors.InvalidVersionError):
        return PulumiUnavailable(f"the pulumi CLI cannot be run{where}: {exc}")
    text = str(exc)
    if isinstance(exc, auto_errors.ConcurrentUpdateError):
        return StackBusy(f"another update holds the lock{where}: {text}")
    if is_assume_role_denied(text):
        return AssumeRoleDenied(f"the deploy role could not be assumed{where}: {text}")
    if isinstance(exc, auto_errors.CommandError):
        return DeploymentFailed(f"pulumi failed{where}: {text}")
    return DeploymentFailed(f"unexpected provisioning error{where}: {type(exc).__name__}: {text}")


def prepare_pulumi_home(home: str, baked_home: str | None) -> None:
    """A writable PULUMI_HOME whose plugins are the ones baked into the image.

    Lambda's image filesystem is read-only, so PULUMI_HOME lives under /tmp; the aws plugin is
    linked rather than copied (hundreds of MB) and is never downloaded at run time.
    """
    os.makedirs(home, exist_ok=True)
    if not baked_home:
        return
    baked_plugins = os.path.join(baked_home, "plugins")
    plugins = os.path.join(home, "plugins")
    if os.path.isdir(baked_plugins) and not os.path.lexists(plugins):
        os.symlink(baked_plugins, plugins)


def _parse_time(text: str) -> datetime | None:
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _utcnow() -> datetime:
    return datetime.now(UTC)


# -- the real runner ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunnerConfig:
    """Where stacks live and how the CLI runs; built from ProvisionerSettings in production."""

    backend_url: str
    secrets_provider: str
    pulumi_home: str
    baked_pulumi_home: str | None = None
    pulumi_root: str | None = None
    project_name: str = PROJECT_NAME

    @classmethod
    def from_settings(cls, settings: ProvisionerSettings) -> RunnerConfig:
        return cls(
            backend_url=settings.backend_url,
            secrets_provider=settings.secrets_provider,
            pulumi_home=settings.pulumi_home,
            baked_pulumi_home=settings.baked_pulumi_home,
            pulumi_root=settings.pulumi_root,
        )

    def env_vars(self) -> dict[str, str]:
        """Environment of every CLI invocation: no update checks, no plugin downloads, a writable home."""
        env = {
            "PULUMI_HOME": self.pulumi_home,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            # The CLI is pinned to the SDK's version in the image, so the SDK need not check it.
            "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
            # Plugins are baked into the image; a missing one must fail, never be fetched.
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            # Each run has a fresh workspace without Pulumi.<stack>.yaml: take the KMS secrets
            # provider recorded in the stack's state instead of falling back to a passphrase.
            "PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER": "true",
        }
        if not os.environ.get("HOME"):
            # Lambda sets no HOME; the CLI and the AWS SDK look there for optional files.
            env["HOME"] = "/tmp"
        return env


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
    ):
        self.config = config
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._command = pulumi_command
        self._owns_work_dir = work_dir is None
        self.work_dir = work_dir or tempfile.mkdtemp(prefix="mlops-workspace-")
        self._stack: auto.Stack | None = None

    # -- stack selection ---------------------------------------------------------------------------
    def select_or_create(self, stack_name: str, program: PulumiProgram) -> None:
        def create_or_select() -> auto.Stack:
            try:
                return auto.create_or_select_stack(
                    stack_name, project_name=self.config.project_name, program=program, opts=self._options()
                )
            except auto_errors.StackAlreadyExistsError:
                # Another run created it between our select and create: select it now.
                return auto.select_stack(
                    stack_name, project_name=self.config.project_name, program=program, opts=self._options()
                )

        self._stack = self._run(stack_name, create_or_select)

    def select_existing(self, stack_name: str, program: PulumiProgram) -> bool:
        def select() -> auto.Stack | None:
            try:
                return auto.select_stack(
                    stack_name, project_name=self.config.project_name, program=program, opts=self._options()
                )
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
        printer = on_output or _log_line
        result = self._run(stack.name, lambda: stack.up(on_output=printer, on_error=printer, color="never"))
        changes = {str(op): count for op, count in (result.summary.resource_changes or {}).items()}
        return UpOutcome(outputs={key: out.value for key, out in result.outputs.items()}, resource_changes=changes)

    def outputs(self) -> dict[str, Any]:
        stack = self._selected()
        return {key: out.value for key, out in self._run(stack.name, stack.outputs).items()}

    def destroy_and_remove(self, on_output: OnOutput | None = None) -> None:
        stack = self._selected()
        printer = on_output or _log_line
        self._run(stack.name, lambda: stack.destroy(on_output=printer, on_error=printer, color="never", remove=True))
        self._stack = None

    def cancel(self) -> None:
        stack = self._selected()
        try:
            stack.cancel()
        except auto_errors.CommandError as exc:
            # Nothing to cancel is fine: the lock may have been released meanwhile.
            logger.info("pulumi cancel of %s did nothing: %s", stack.name, exc)
        except Exception as exc:
            raise classify(exc, stack.name) from exc

    def pending_operations(self) -> list[PendingOperation]:
        """What a killed run left unfinished in the stack's state."""
        stack = self._selected()
        try:
            return pending_operations(stack.export_stack().deployment)
        except Exception as exc:
            raise classify(exc, stack.name) from exc

    def refresh(self, clear_pending_creates: bool = False, on_output: OnOutput | None = None) -> None:
        stack = self._selected()
        printer = on_output or _log_line
        try:
            stack.refresh(
                clear_pending_creates=clear_pending_creates, on_output=printer, on_error=printer, color="never"
            )
        except Exception as exc:
            raise classify(exc, stack.name) from exc

    def close(self) -> None:
        if self._owns_work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    # -- internals ---------------------------------------------------------------------------------------
    def _selected(self) -> auto.Stack:
        if self._stack is None:
            raise RuntimeError("select a stack first")
        return self._stack

    def _pulumi_command(self) -> auto.PulumiCommand:
        if self._command is None:
            # Constructing it runs `pulumi version`: FileNotFoundError here means no CLI in the image.
            self._command = auto.PulumiCommand(root=self.config.pulumi_root, skip_version_check=True)
        return self._command

    def _options(self) -> auto.LocalWorkspaceOptions:
        prepare_pulumi_home(self.config.pulumi_home, self.config.baked_pulumi_home)
        return auto.LocalWorkspaceOptions(
            work_dir=self.work_dir,
            pulumi_home=self.config.pulumi_home,
            env_vars=self.config.env_vars(),
            secrets_provider=self.config.secrets_provider,
            project_settings=auto.ProjectSettings(
                name=self.config.project_name,
                runtime="python",
                backend=auto.ProjectBackend(url=self.config.backend_url),
            ),
            pulumi_command=self._pulumi_command(),
        )

    def _run(self, stack_name: str, operation: Callable[[], T]) -> T:
        """Run one operation, waiting out held locks and clearing what a killed run left behind once."""
        waits = iter(self.retry.delays())
        recovered = False
        while True:
            try:
                return operation()
            except auto_errors.ConcurrentUpdateError as exc:
                stale = lock_is_stale(str(exc), self._clock(), self.retry.stale_lock_after)
                if not recovered and self._stack is not None and stale:
                    logger.warning("stack %s: lock left by a killed run; cancelling and refreshing", stack_name)
                    self._recover(clear_lock=True)
                    recovered = True
                    continue
                delay = next(waits, None)
                if delay is None:
                    raise StackBusy(
                        f"{stack_name} stayed locked by another update after {self.retry.attempts} attempts: {exc}"
                    ) from exc
                logger.info("stack %s is locked by another update; retrying in %.0f s", stack_name, delay)
                self._sleep(delay)
            except auto_errors.CommandError as exc:
                if not recovered and self._stack is not None and has_pending_operations(str(exc)):
                    logger.warning("stack %s: pending operations from an interrupted run; recovering", stack_name)
                    self._recover(clear_lock=False)
                    recovered = True
                    continue
                raise classify(exc, stack_name) from exc
            except ProvisioningError:
                raise
            except Exception as exc:
                raise classify(exc, stack_name) from exc

    def _recover(self, clear_lock: bool) -> None:
        """Cancel a killed run's lock, then refresh away its pending updates and deletes; its pending
        creates stop the run instead (PendingCreates), since clearing them would forget what AWS made."""
        stack = self._selected()
        if clear_lock:
            self.cancel()
        creates = [op for op in self.pending_operations() if op.kind == "creating"]
        if creates:
            logger.error("stack %s: pending creates need an operator: %s", stack.name, [op.urn for op in creates])
            raise pending_creates_error(stack.name, creates)
        self.refresh(clear_pending_creates=False)


def _log_line(line: str) -> None:
    logger.info("%s", line)
