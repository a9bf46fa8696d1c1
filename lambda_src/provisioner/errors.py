"""What can go wrong while provisioning, in the few words the registry records and users read."""

from __future__ import annotations

import re
from typing import Any

# Keep recorded messages short: a registry item is read by people and stays well under DynamoDB's limit.
MESSAGE_LIMIT = 1000


class ProvisioningError(Exception):
    """A provisioning failure with a short machine-readable `reason` and a `retryable` flag.

    `retryable` means: sending the same request again can succeed once the cause has cleared
    (another run has finished, AWS has recovered); False means an operator must fix something first.
    """

    reason = "provisioning-failed"
    retryable = True

    def __init_subclass__(cls, *, reason: str | None = None, retryable: bool | None = None, **kwargs: Any) -> None:
        """Each kind declares its reason and retryability in its class line."""
        super().__init_subclass__(**kwargs)
        if reason is not None:
            cls.reason = reason
        if retryable is not None:
            cls.retryable = retryable

    def __init__(self, message: str, *, reason: str | None = None, retryable: bool | None = None):
        super().__init__(shorten(message))
        self.message = shorten(message)
        if reason is not None:
            self.reason = reason
        if retryable is not None:
            self.retryable = retryable

    def as_record(self) -> dict[str, object]:
        """The `last_error` the registry stores."""
        return {"reason": self.reason, "message": self.message, "retryable": self.retryable}


class StackBusy(ProvisioningError, reason="stack-busy", retryable=True):
    """Another update holds the stack's lock and kept holding it through our retries."""


class PulumiUnavailable(ProvisioningError, reason="pulumi-unavailable", retryable=False):
    """The pulumi CLI is missing or unusable in this image: the image must be rebuilt."""


class AssumeRoleDenied(ProvisioningError, reason="assume-role-denied", retryable=False):
    """The target account's deploy role refused us: its trust policy or our role name must be fixed."""


class DeploymentFailed(ProvisioningError, reason="deployment-failed", retryable=True):
    """Pulumi ran and a resource operation failed (often transient: throttling, IAM propagation)."""


class SpecUnavailable(ProvisioningError, reason="spec-unavailable", retryable=False):
    """The stored request is missing or no longer validates."""


class ExternalIdUnavailable(ProvisioningError, reason="external-id-unavailable", retryable=False):
    """The deploy roles' external id could not be read from its SSM parameter: the orchestrator's
    configuration (the parameter, or the provisioner's and builds' access to it) must be fixed."""


class PendingCreates(ProvisioningError, reason="pending-creates", retryable=False):
    """A killed run left creates in the state that AWS may have finished: clearing them would forget
    real resources (and every later run would fail with "already exists"), so an operator decides."""


class BeingDeleted(ProvisioningError, reason="being-deleted", retryable=False):
    """The pipeline is being deleted (or is gone): a deploy now would re-create what its teardown destroys."""


class BuildsStillRunning(ProvisioningError, reason="builds-still-running", retryable=True):
    """Deploy builds of a pipeline being deleted did not stop in time; nothing was destroyed yet."""


class TimedOut(ProvisioningError, reason="timed-out", retryable=True):
    """The run was about to be cut off by its time limit; the next run recovers the stack's lock."""


def shorten(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """The end of a long CLI transcript: Pulumi prints the cause last."""
    text = text.strip()
    return text if len(text) <= limit else "..." + text[-(limit - 3) :]


_ASSUME_ROLE_DENIED = re.compile(
    r"is not authorized to perform: sts:AssumeRole|AccessDenied[^\n]*AssumeRole|AssumeRole[^\n]*AccessDenied",
    re.IGNORECASE,
)
_PENDING_OPERATIONS = re.compile(r"pending operations|interrupted while (creating|updating|deleting)", re.IGNORECASE)
_LOCK_CREATED_AT = re.compile(r"created by \S+ \(pid \d+\) at (\S+)")


def is_assume_role_denied(text: str) -> bool:
    return bool(_ASSUME_ROLE_DENIED.search(text))


def has_pending_operations(text: str) -> bool:
    """A previous run was killed mid-operation and left pending operations in the state."""
    return bool(_PENDING_OPERATIONS.search(text))


def lock_timestamps(text: str) -> list[str]:
    """Creation times of the locks named in a DIY backend's "stack is currently locked" message."""
    return _LOCK_CREATED_AT.findall(text)
