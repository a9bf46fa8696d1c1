"""Make every moto request atomic, as DynamoDB is per item.

moto evaluates a DynamoDB condition expression and then writes the item without holding a lock, so
two threads can both pass the same condition and both write: a race that real DynamoDB never lets
happen. Tests of concurrency would then fail (or pass) by chance. One lock around each request
handled by moto keeps each call atomic while threads still interleave between calls, which is the
interleaving the code under test must survive.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from moto.core.botocore_stubber import BotocoreStubber

_LOCK = threading.RLock()
_MARK = "_mlops_atomic"


def install() -> None:
    """Wrap moto's request dispatcher in one process-wide lock (idempotent)."""
    original = BotocoreStubber.process_request
    if getattr(original, _MARK, False):
        return

    @functools.wraps(original)
    def process_request(self: BotocoreStubber, request: Any) -> Any:
        with _LOCK:
            return original(self, request)

    setattr(process_request, _MARK, True)
    BotocoreStubber.process_request = process_request  # type: ignore[method-assign]


def installed() -> bool:
    return bool(getattr(BotocoreStubber.process_request, _MARK, False))
