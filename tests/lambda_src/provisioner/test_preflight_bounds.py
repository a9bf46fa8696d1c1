"""The dry run's quota preflight is bounded (review M4): each account's quotas are listed once per
QUOTAS_KEPT_SECONDS however many dry runs ask, environments are read at once, and what is not read by the
payload's deadline is answered "not checked: deadline" before the API stops waiting."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from lambda_src.common.quotas import QUOTAS_KEPT_SECONDS, QuotaCache
from lambda_src.provisioner.preflight import DEADLINE_PASSED, assess
from tests.support.fake_quotas import FakeServiceQuotas

ENDPOINT_M5 = "ml.m5.large for endpoint usage"
ENDPOINT_M5X = "ml.m5.xlarge for endpoint usage"  # the multi example's prod instances


def spec_of(example_body: Callable[..., dict[str, Any]], mode: str) -> Any:
    from mlops_spec.request import parse_pipeline_request

    body = example_body("byom_realtime_builtin", "multi") if mode == "multi" else example_body("byom_realtime_builtin")
    return parse_pipeline_request(body, mode=mode)


@pytest.mark.fast
def test_an_accounts_quotas_are_listed_once_while_kept_and_again_after() -> None:
    now = [0.0]
    cache = QuotaCache(clock=lambda: now[0])
    quotas = FakeServiceQuotas({ENDPOINT_M5: 4})

    first = cache.values("111111111111/us-east-1", lambda: quotas, {ENDPOINT_M5})
    now[0] = QUOTAS_KEPT_SECONDS - 1
    kept = cache.values("111111111111/us-east-1", lambda: quotas, {ENDPOINT_M5})
    reads_while_kept = quotas.reads
    now[0] = QUOTAS_KEPT_SECONDS
    cache.values("111111111111/us-east-1", lambda: quotas, {ENDPOINT_M5})

    assert first == kept == {ENDPOINT_M5: 4}
    assert (reads_while_kept, quotas.reads) == (2, 4)  # applied and defaults: once, then once more


def test_dry_runs_within_the_time_kept_list_the_quotas_once(single: Any, example_body: Any) -> None:
    quotas = FakeServiceQuotas({ENDPOINT_M5: 4})
    cache = QuotaCache()
    made: list[str] = []

    def quotas_for(env: str) -> Any:
        made.append(env)
        return quotas

    spec = spec_of(example_body, "single")
    for _ in range(3):
        [dev] = assess(spec, single.settings, single.registry, quotas_for, lambda r: None, cache=cache)
        assert dev.status == "ok"

    assert (made, quotas.reads) == (["dev"], 2)  # no client made (no role assumed) once listed


def test_environments_are_read_at_once(multi: Any, example_body: Any) -> None:
    # Each reader waits for the other two: read one after another, the first would time out.
    together = threading.Barrier(3, timeout=5)
    quotas = {"dev": {ENDPOINT_M5: 10}, "staging": {ENDPOINT_M5: 10}, "prod": {ENDPOINT_M5X: 10}}

    def quotas_for(env: str) -> Any:
        together.wait()
        return FakeServiceQuotas(quotas[env])

    results = assess(spec_of(example_body, "multi"), multi.settings, multi.registry, quotas_for, lambda r: None)

    assert [(r.environment, r.status) for r in results] == [("dev", "ok"), ("staging", "ok"), ("prod", "ok")]


def test_what_is_not_read_by_the_deadline_is_not_checked(multi: Any, example_body: Any) -> None:
    released = threading.Event()

    def quotas_for(env: str) -> Any:
        if env == "prod":
            released.wait(5)  # prod's account answers late
        return FakeServiceQuotas({ENDPOINT_M5: 10})

    try:
        results = assess(
            spec_of(example_body, "multi"),
            multi.settings,
            multi.registry,
            quotas_for,
            lambda r: None,
            deadline=time.time() + 0.3,
        )
    finally:
        released.set()

    assert [(r.environment, r.status) for r in results] == [
        ("dev", "ok"),
        ("staging", "ok"),
        ("prod", "not checked"),
    ]
    assert results[2].as_dict()["reason"] == DEADLINE_PASSED


def test_a_deadline_already_past_reads_nothing(single: Any, example_body: Any) -> None:
    def quotas_for(env: str) -> Any:
        raise AssertionError("nothing may be read after the deadline")

    [dev] = assess(
        spec_of(example_body, "single"), single.settings, single.registry, quotas_for, lambda r: None, deadline=1.0
    )

    assert (dev.status, dev.not_checked) == ("not checked", DEADLINE_PASSED)
