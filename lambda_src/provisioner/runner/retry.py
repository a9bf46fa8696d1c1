"""How long a stack operation waits for another update's lock, and when a lock is old enough to break.

Changes with the time limits of the runs that update stacks (the provisioner Lambda, deploy builds).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta


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

# The delivery stack may still be locked by a provisioner run (15 minutes at most) that was deploying
# when the delete came: a teardown outlives it, so it waits until such a lock is a killed run's.
TEARDOWN_DELIVERY_RETRY = RetryPolicy(attempts=40, stale_lock_after=timedelta(minutes=16))


def locks_dead_before(age: timedelta) -> RetryPolicy:
    """Target stacks in a teardown (lambda_src/provisioner/teardown.py) once nothing of the pipeline can
    deploy any more (`age` ago): a lock taken before that moment is a stopped run's and is cancelled at
    once; a younger one is someone's live deploy and is waited for as usual."""
    return replace(TARGET_RETRY, stale_lock_after=max(age, timedelta(0)))
