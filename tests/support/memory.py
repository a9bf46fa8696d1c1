"""The memory a call allocates at its peak (tracemalloc): for tests that a crafted input costs no more than
its size, where the unbounded code took gigabytes."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def peak_bytes(call: Callable[[], T]) -> tuple[T, int]:
    """`call()`'s result and the most memory allocated while it ran (what was allocated before not counted)."""
    tracemalloc.start()
    try:
        result = call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak
