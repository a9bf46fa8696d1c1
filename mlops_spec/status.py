"""A pipeline's status: the names every layer shows, and the moves between them the registry allows.

Pure Python (no pydantic), so the light functions import it at no cost. The registry enforces
TRANSITIONS with conditional writes; the API, the OpenAPI document and the CLI show these names.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    QUEUED = "QUEUED"
    PROVISIONING = "PROVISIONING"
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    DEPLOYED = "DEPLOYED"
    FAILED = "FAILED"
    REJECTED = "REJECTED"
    DELETING = "DELETING"
    DELETED = "DELETED"


STATUS_NAMES: tuple[str, ...] = tuple(status.value for status in Status)

# Work is running for these: a new spec must wait (409); a delete supersedes it.
IN_PROGRESS = frozenset({Status.QUEUED, Status.PROVISIONING, Status.DELETING})
# A repeated identical request for a pipeline in one of these is a replay, not a new deployment.
LIVE = frozenset({Status.QUEUED, Status.PROVISIONING, Status.AWAITING_APPROVAL, Status.DEPLOYED})
# Nothing more happens to a pipeline in these until someone asks again.
FINAL = frozenset({Status.DEPLOYED, Status.FAILED, Status.REJECTED, Status.DELETED})
# Where a waiting client stops: nothing more happens, or a person must act (an approval).
SETTLED = FINAL | {Status.AWAITING_APPROVAL}

# old status (None: no record yet) -> the other statuses it may move to. Re-writing a record in
# its current status is always allowed (status updates and the provisioner record outputs and
# errors that way); callers that must not repeat work claim it with a conditional write instead
# (the registry's expected_status for QUEUED -> PROVISIONING, and its deletion claim for DELETING).
TRANSITIONS: dict[Status | None, frozenset[Status]] = {
    None: frozenset({Status.QUEUED, Status.REJECTED}),
    # A deletion supersedes a queued or running deployment (the provisioner stops its runs first).
    Status.QUEUED: frozenset({Status.PROVISIONING, Status.FAILED, Status.DELETING}),
    Status.PROVISIONING: frozenset({Status.AWAITING_APPROVAL, Status.DEPLOYED, Status.FAILED, Status.DELETING}),
    Status.AWAITING_APPROVAL: frozenset(
        {Status.PROVISIONING, Status.DEPLOYED, Status.FAILED, Status.REJECTED, Status.QUEUED, Status.DELETING}
    ),
    # DEPLOYED -> PROVISIONING: the delivery pipeline re-runs (e.g. a retried stage).
    Status.DEPLOYED: frozenset({Status.PROVISIONING, Status.QUEUED, Status.DELETING, Status.FAILED}),
    Status.FAILED: frozenset({Status.QUEUED, Status.PROVISIONING, Status.DELETING}),
    Status.REJECTED: frozenset({Status.QUEUED, Status.DELETING}),
    Status.DELETING: frozenset({Status.DELETED, Status.FAILED}),
    Status.DELETED: frozenset({Status.QUEUED}),
}


class InvalidTransition(ValueError):
    def __init__(self, old: Status | None, new: Status):
        super().__init__(f"a pipeline cannot go from {old or 'no record'} to {new}")
        self.old = old
        self.new = new


def check_transition(old: Status | None, new: Status) -> None:
    """Raise InvalidTransition unless the status machine allows `old` -> `new`."""
    if old is not None and old == new:
        return
    if new not in TRANSITIONS[old]:
        raise InvalidTransition(old, new)
