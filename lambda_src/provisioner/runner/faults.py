"""Fault classification: what a failure of the pulumi CLI means, as plain facts, a remedy and our error kind.

Changes when Pulumi words its failures differently or when another kind of fault is told apart. Only
`failure_of` looks at exception types; every other function here takes strings, times and dicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

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

# URNs a pending-creates error names; the rest are counted (recorded messages stay short).
PENDING_URNS_SHOWN = 5


# -- what failed ------------------------------------------------------------------------------------
class FailureKind(Enum):
    """What raised a failure, as far as telling faults apart needs."""

    CLI_UNAVAILABLE = "cli-unavailable"
    """The pulumi CLI could not be run at all (missing, not executable, unusable version)."""
    LOCKED = "locked"
    """The CLI ran and found the stack locked by another update."""
    COMMAND_FAILED = "command-failed"
    """The CLI ran and failed; its transcript says why."""
    UNEXPECTED = "unexpected"
    """Anything else (a bug, a network error in the SDK, ...)."""


@dataclass(frozen=True)
class Failure:
    """A failure reduced to plain facts: what kind of thing raised it and what it said."""

    kind: FailureKind
    text: str
    type_name: str = ""


def failure_of(exc: BaseException) -> Failure:
    """The plain facts of an exception raised by the pulumi CLI or the Automation API."""
    if isinstance(exc, FileNotFoundError | PermissionError | auto_errors.InvalidVersionError):
        kind = FailureKind.CLI_UNAVAILABLE
    elif isinstance(exc, auto_errors.ConcurrentUpdateError):
        kind = FailureKind.LOCKED
    elif isinstance(exc, auto_errors.CommandError):
        kind = FailureKind.COMMAND_FAILED
    else:
        kind = FailureKind.UNEXPECTED
    return Failure(kind, str(exc), type(exc).__name__)


# -- what to do about it ----------------------------------------------------------------------------
class Remedy(Enum):
    """What a failed stack operation calls for before it is tried again (or not)."""

    CLEAR_STALE_LOCK = "clear-stale-lock"
    """A killed run's lock: cancel it, settle what the run left, then try again once."""
    SETTLE_PENDING = "settle-pending"
    """A killed run's pending operations: settle them, then try again once."""
    WAIT = "wait"
    """A live run holds the lock: wait and try again, a bounded number of times."""
    FAIL = "fail"
    """Nothing to do here: report the domain error."""


def remedy_for(failure: Failure, *, can_recover: bool, now: datetime, stale_after: timedelta) -> Remedy:
    """The remedy for a failure; `can_recover` is False once recovery was tried or no stack is selected."""
    if failure.kind is FailureKind.LOCKED:
        if can_recover and lock_is_stale(failure.text, now, stale_after):
            return Remedy.CLEAR_STALE_LOCK
        return Remedy.WAIT
    if failure.kind is FailureKind.COMMAND_FAILED and can_recover and has_pending_operations(failure.text):
        return Remedy.SETTLE_PENDING
    return Remedy.FAIL


def lock_is_stale(message: str, now: datetime, stale_after: timedelta) -> bool:
    """True when every lock named in the message is older than `stale_after`."""
    stamps = [_parse_time(text) for text in lock_timestamps(message)]
    if not stamps or any(stamp is None for stamp in stamps):
        return False
    return all(now - stamp > stale_after for stamp in stamps if stamp is not None)


# -- our error kinds --------------------------------------------------------------------------------
def domain_error(failure: Failure, stack_name: str = "") -> ProvisioningError:
    """The ProvisioningError kind of a failure, with the CLI's words in its message."""
    where = f" ({stack_name})" if stack_name else ""
    text = failure.text
    if failure.kind is FailureKind.CLI_UNAVAILABLE:
        return PulumiUnavailable(f"the pulumi CLI cannot be run{where}: {text}")
    if failure.kind is FailureKind.LOCKED:
        return StackBusy(f"another update holds the lock{where}: {text}")
    # Checked on any kind of failure: the SDK may wrap the provider's refusal in any error.
    if is_assume_role_denied(text):
        return AssumeRoleDenied(f"the deploy role could not be assumed{where}: {text}")
    if failure.kind is FailureKind.COMMAND_FAILED:
        return DeploymentFailed(f"pulumi failed{where}: {text}")
    return DeploymentFailed(f"unexpected provisioning error{where}: {failure.type_name}: {text}")


def classify(exc: BaseException, stack_name: str = "") -> ProvisioningError:
    """The domain error for a failure of the pulumi CLI or the Automation API."""
    if isinstance(exc, ProvisioningError):
        return exc
    return domain_error(failure_of(exc), stack_name)


def still_locked_error(stack_name: str, attempts: int, text: str) -> StackBusy:
    """Another update kept the lock through every attempt we waited for."""
    return StackBusy(f"{stack_name} stayed locked by another update after {attempts} attempts: {text}")


# -- what a killed run left behind ------------------------------------------------------------------
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


def pending_creates(operations: list[PendingOperation]) -> list[PendingOperation]:
    """The creates among pending operations: the ones AWS may have finished without the state knowing."""
    return [op for op in operations if op.kind == "creating"]


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


def _parse_time(text: str) -> datetime | None:
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
