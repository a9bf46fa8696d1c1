"""Fault classification as plain functions: CLI words and times in, a remedy and an error kind out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pulumi.automation import errors as auto_errors
from pulumi.automation._cmd import CommandResult

from lambda_src.provisioner.errors import (
    AssumeRoleDenied,
    DeploymentFailed,
    PendingCreates,
    ProvisioningError,
    PulumiUnavailable,
    StackBusy,
)
from lambda_src.provisioner.runner import (
    Failure,
    FailureKind,
    PendingOperation,
    Remedy,
    classify,
    domain_error,
    failure_of,
    pending_creates,
    remedy_for,
    still_locked_error,
)

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
STALE_AFTER = timedelta(minutes=20)
DENIED = "api error AccessDenied: User: x is not authorized to perform: sts:AssumeRole on resource: y"
PENDING = "error: the current deployment has 1 resource(s) with pending operations"


def locked_at(stamp: datetime) -> str:
    created = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"error: the stack is currently locked by 1 lock(s).\n  s3://b/x.json: created by u@h (pid 1) at {created}"


def command_error(cls: type[auto_errors.CommandError], stderr: str) -> auto_errors.CommandError:
    return cls(CommandResult(stdout="", stderr=stderr, code=255))


# -- what failed --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (FileNotFoundError(2, "No such file", "pulumi"), FailureKind.CLI_UNAVAILABLE),
        (PermissionError(13, "Permission denied", "pulumi"), FailureKind.CLI_UNAVAILABLE),
        (auto_errors.InvalidVersionError("too old"), FailureKind.CLI_UNAVAILABLE),
        (command_error(auto_errors.ConcurrentUpdateError, "locked"), FailureKind.LOCKED),
        (command_error(auto_errors.CommandError, "boom"), FailureKind.COMMAND_FAILED),
        (command_error(auto_errors.StackNotFoundError, "no stack"), FailureKind.COMMAND_FAILED),
        (ValueError("boom"), FailureKind.UNEXPECTED),
    ],
)
def test_an_exception_is_reduced_to_its_kind_text_and_type(exc: Exception, kind: FailureKind):
    failure = failure_of(exc)

    assert failure == Failure(kind, str(exc), type(exc).__name__)


# -- what to do about it --------------------------------------------------------------------------------
def remedy(kind: FailureKind, text: str, can_recover: bool = True) -> Remedy:
    return remedy_for(Failure(kind, text), can_recover=can_recover, now=NOW, stale_after=STALE_AFTER)


def test_a_lock_of_a_killed_run_is_cleared_once():
    old = locked_at(NOW - timedelta(hours=2))

    assert remedy(FailureKind.LOCKED, old) is Remedy.CLEAR_STALE_LOCK
    assert remedy(FailureKind.LOCKED, old, can_recover=False) is Remedy.WAIT


def test_a_live_or_unreadable_lock_is_waited_for():
    assert remedy(FailureKind.LOCKED, locked_at(NOW - timedelta(minutes=1))) is Remedy.WAIT
    assert remedy(FailureKind.LOCKED, "[409] Conflict: Another update is currently in progress.") is Remedy.WAIT


def test_pending_operations_in_a_failed_command_are_settled_once():
    assert remedy(FailureKind.COMMAND_FAILED, PENDING) is Remedy.SETTLE_PENDING
    assert remedy(FailureKind.COMMAND_FAILED, "interrupted while deleting") is Remedy.SETTLE_PENDING
    assert remedy(FailureKind.COMMAND_FAILED, PENDING, can_recover=False) is Remedy.FAIL


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        (FailureKind.COMMAND_FAILED, "error: creating SageMaker Endpoint: ResourceLimitExceeded"),
        (FailureKind.COMMAND_FAILED, DENIED),
        # Only the CLI's own transcript speaks of pending operations; other failures are reported.
        (FailureKind.UNEXPECTED, PENDING),
        (FailureKind.CLI_UNAVAILABLE, PENDING),
    ],
)
def test_other_failures_are_reported_without_retrying(kind: FailureKind, text: str):
    assert remedy(kind, text) is Remedy.FAIL


# -- our error kinds ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("failure", "expected", "retryable", "message"),
    [
        (
            Failure(FailureKind.CLI_UNAVAILABLE, "[Errno 2] pulumi"),
            PulumiUnavailable,
            False,
            "the pulumi CLI cannot be run (churn-dev): [Errno 2] pulumi",
        ),
        (Failure(FailureKind.LOCKED, "locked"), StackBusy, True, "another update holds the lock (churn-dev): locked"),
        (Failure(FailureKind.LOCKED, DENIED), StackBusy, True, f"another update holds the lock (churn-dev): {DENIED}"),
        (
            Failure(FailureKind.COMMAND_FAILED, DENIED),
            AssumeRoleDenied,
            False,
            f"the deploy role could not be assumed (churn-dev): {DENIED}",
        ),
        (
            Failure(FailureKind.UNEXPECTED, DENIED, "ClientError"),
            AssumeRoleDenied,
            False,
            f"the deploy role could not be assumed (churn-dev): {DENIED}",
        ),
        (
            Failure(FailureKind.COMMAND_FAILED, "Throttling"),
            DeploymentFailed,
            True,
            "pulumi failed (churn-dev): Throttling",
        ),
        (
            Failure(FailureKind.UNEXPECTED, "boom", "ValueError"),
            DeploymentFailed,
            True,
            "unexpected provisioning error (churn-dev): ValueError: boom",
        ),
    ],
)
def test_failures_become_our_error_kinds(failure: Failure, expected: type, retryable: bool, message: str):
    error = domain_error(failure, "churn-dev")

    assert type(error) is expected
    assert error.retryable is retryable
    assert error.message == message


def test_an_error_without_a_stack_names_none():
    assert domain_error(Failure(FailureKind.COMMAND_FAILED, "boom")).message == "pulumi failed: boom"


def test_a_domain_error_is_classified_as_itself():
    error = PendingCreates("stack churn-dev has 1 pending create(s)")

    assert classify(error, "churn-dev") is error
    assert isinstance(classify(RuntimeError("x")), ProvisioningError)


def test_a_lock_held_through_every_attempt_is_a_busy_stack():
    error = still_locked_error("churn-dev", 4, "locked by u@h")

    assert isinstance(error, StackBusy) and error.retryable
    assert error.message == "churn-dev stayed locked by another update after 4 attempts: locked by u@h"


def test_only_pending_creates_are_left_to_an_operator():
    operations = [
        PendingOperation("urn:a", "creating"),
        PendingOperation("urn:b", "updating"),
        PendingOperation("urn:c", "deleting"),
        PendingOperation("urn:d", "creating"),
    ]

    assert [op.urn for op in pending_creates(operations)] == ["urn:a", "urn:d"]
    assert pending_creates([]) == []
