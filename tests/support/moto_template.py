"""A moto account built once per process and copied into each test's fresh account.

Making a test's resources through the API (create a table, a bucket, a topic, ...) costs a few
milliseconds a call, paid by every test that needs them. moto keeps an account's state in plain
backend objects: the first time, the resources are made through the API and deep copies of the
backends they live in are kept; afterwards each fresh account (each `mock_aws()`, which starts with
every backend reset) gets its own deep copy of them, about a hundredth of the cost. Each test still
owns its state: nothing is shared but the untouched template, and moto drops the copies at the end.
"""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from moto.core.base_backend import BackendDict, BaseBackend

T = TypeVar("T")

# The synchronisation objects a backend may hold (an SQS queue holds a Condition): they cannot be
# copied, and a copy must not share its template's, so each copy gets new ones.
_LOCK_FACTORIES: dict[type, Callable[[], Any]] = {
    type(threading.Lock()): threading.Lock,
    type(threading.RLock()): threading.RLock,
    threading.Condition: threading.Condition,
    threading.Event: threading.Event,
    threading.Semaphore: threading.Semaphore,
}


@dataclass(frozen=True)
class _Template:
    # (the service's backend dict, account id, region or partition, the untouched backend)
    backends: tuple[tuple[BackendDict[Any], str, str, BaseBackend], ...]
    locks: tuple[Any, ...]
    result: Any


_TEMPLATES: dict[tuple[str, str | None, str | None], _Template] = {}


def install(name: str, services: tuple[str, ...], build: Callable[[], T], on_top_of: str | None = None) -> T:
    """Inside a fresh `mock_aws()`: put the account `build` makes (in `services`) in place and return
    what `build` returned. The first call per process (and account id) runs `build` through the API and
    keeps copies; later calls copy those in instead. Inside an account that is not fresh (a nested
    `mock_aws()` keeps its outer state), `build` always runs, as without a template.

    `on_top_of`: the account is not fresh but holds exactly what the template of that name installed
    (the caller installed it just before); `build` adds to it, and the copies replace it."""
    if on_top_of is None and BackendDict._instances:
        return build()
    key = (name, on_top_of, os.environ.get("MOTO_ACCOUNT_ID"))
    template = _TEMPLATES.get(key)
    if template is None:
        result = build()
        _TEMPLATES[key] = _template_of(services, result)
        return copy.deepcopy(result)
    for backends, account, region, backend in template.backends:
        backends[account][region] = _fresh_copy(backend, template.locks)
        _register_buckets(backends, account, region)
    return copy.deepcopy(template.result)  # type: ignore[no-any-return]


def _template_of(services: tuple[str, ...], result: Any) -> _Template:
    """Copies of the backends of `services` as they are now, and the locks each later copy replaces."""
    live = [
        (backends, account, region, backend)
        for backends in BackendDict._instances
        if backends.service_name in services
        for account, region, backend in backends.iter_backends()
    ]
    locks = tuple(lock for *_, backend in live for lock in _locks_in(backend))
    copies = tuple((b, account, region, _fresh_copy(backend, locks)) for b, account, region, backend in live)
    return _Template(copies, tuple(lock for *_, backend in copies for lock in _locks_in(backend)), result)


def _fresh_copy(backend: BaseBackend, locks: tuple[Any, ...]) -> BaseBackend:
    fresh = {id(lock): _LOCK_FACTORIES[type(lock)]() for lock in locks}
    return copy.deepcopy(backend, fresh)


def _register_buckets(backends: BackendDict[Any], account: str, partition: str) -> None:
    """moto's S3 keeps one bucket namespace beside the backends (name -> partition, account): a copied
    bucket must be in it, as a created one is (the backend's reset takes it out again)."""
    owners = getattr(backends, "bucket_accounts", None)
    if owners is not None:
        for bucket in backends[account][partition].buckets:
            owners[bucket] = (partition, account)


def _locks_in(node: Any, seen: set[int] | None = None) -> Iterator[Any]:
    """Every lock-like object reachable from a backend through attributes and containers."""
    seen = set() if seen is None else seen
    if id(node) in seen or isinstance(node, (str, bytes, int, float, type)) or node is None:
        return
    seen.add(id(node))
    if type(node) in _LOCK_FACTORIES:
        yield node
        return
    if isinstance(node, dict):
        children: Any = [*node.keys(), *node.values()]
    elif isinstance(node, (list, tuple, set, frozenset)):
        children = node
    else:
        children = getattr(node, "__dict__", {}).values()
    for child in children:
        yield from _locks_in(child, seen)
