"""Quota preflight: the SageMaker instance quotas of an account, read from Service Quotas, against what a
request needs (mlops_spec/capacity.py) and what this project's live endpoints already hold there.

Refusing a request whose quota falls short names the quota, its value and the need, instead of a
stack that fails minutes into the deploy with ResourceLimitExceeded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from lambda_src.registry import PipelineRecord, Status
from mlops_spec.base import PipelineSpec
from mlops_spec.capacity import Shortfall, instance_needs, shortfalls, total_by_quota, unknown_needs
from mlops_spec.common import Environment

SERVICE_CODE = "sagemaker"
NOT_CHECKED = "not checked"
# How long the provisioner keeps an account's listed quota values. Reading them means paging through every
# SageMaker quota (hundreds): at most once per account in this time, however many dry runs ask. (Asking
# for the few quotas a request needs by code, GetServiceQuota, would need one more action in the deploy
# roles, whose policy has no room left under IAM's size limit.) A quota raised meanwhile is seen late.
QUOTAS_KEPT_SECONDS = 15 * 60
# Records of pipelines whose resources are gone. Not REJECTED: a rejected version leaves the version
# before it deployed (its endpoints live on); a record that never deployed has no outputs anyway.
GONE = frozenset({Status.DELETED})


@dataclass(frozen=True)
class Preflight:
    """The outcome of one environment's check."""

    environment: str
    shortfalls: list[Shortfall] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)
    """Quotas the account does not list (a new instance type, another partition): not checked."""
    note: str | None = None
    not_checked: str | None = None
    """Why the environment's quotas could not be read at all (then nothing of it was checked)."""

    @property
    def ok(self) -> bool:
        return not self.shortfalls

    @property
    def status(self) -> str:
        """ok, shortfall, or not checked (the quotas could not be read)."""
        if self.not_checked is not None:
            return NOT_CHECKED
        return "ok" if self.ok else "shortfall"

    def as_dict(self) -> dict[str, Any]:
        """The check as the API's dry run and `mlops plan --preflight` show it."""
        body: dict[str, Any] = {"environment": self.environment, "status": self.status}
        if self.shortfalls:
            body["shortfalls"] = [
                {"quota": s.quota, "value": s.value, "in_use": s.in_use, "needed": s.needed, "message": s.message}
                for s in self.shortfalls
            ]
        if self.unchecked:
            body["unchecked_quotas"] = list(self.unchecked)
        if self.not_checked is not None:
            body["reason"] = self.not_checked
        if self.note:
            body["note"] = self.note
        return body

    def summary(self) -> str:
        if self.not_checked is not None:
            return f"{self.environment}: SageMaker quotas not checked ({self.not_checked})"
        if self.shortfalls:
            return f"{self.environment}: " + " ".join(short.message for short in self.shortfalls)
        parts = [f"{self.environment}: SageMaker quotas suffice"]
        if self.unchecked:
            parts.append(f"not listed by Service Quotas, so not checked: {', '.join(self.unchecked)}")
        if self.note:
            parts.append(self.note)
        return "; ".join(parts)


def quota_values(client: Any, names: set[str]) -> dict[str, int]:
    """Values of the named SageMaker quotas in the client's account and region: as applied to the
    account, or AWS's default for those the account never changed."""
    found = _named(client, "list_service_quotas", names)
    missing = names - set(found)
    if missing:
        found.update(_named(client, "list_aws_default_service_quotas", missing))
    return found


def all_quota_values(client: Any) -> dict[str, int]:
    """Every SageMaker quota's value in the client's account and region: as applied, else AWS's default."""
    values = _named(client, "list_aws_default_service_quotas", None)
    values.update(_named(client, "list_service_quotas", None))
    return values


class QuotaCache:
    """The quota values of each account (and region) as last listed, kept QUOTAS_KEPT_SECONDS; shared by
    the threads that check environments at once. The client is made only when the values are listed (for
    another account it means assuming its deploy role)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._listed: dict[str, tuple[float, dict[str, int]]] = {}
        self._lock = threading.Lock()

    def values(self, key: str, client: Callable[[], Any], names: set[str]) -> dict[str, int]:
        with self._lock:
            entry = self._listed.get(key)
        if entry is None or self._clock() - entry[0] >= QUOTAS_KEPT_SECONDS:
            entry = (self._clock(), all_quota_values(client()))
            with self._lock:
                self._listed[key] = entry
        return {name: value for name, value in entry[1].items() if name in names}


def _named(client: Any, operation: str, names: set[str] | None) -> dict[str, int]:
    """Values of the quotas `operation` lists, of those named (None: every one)."""
    values: dict[str, int] = {}
    for page in client.get_paginator(operation).paginate(ServiceCode=SERVICE_CODE):
        for quota in page.get("Quotas", []):
            wanted = names is None or quota.get("QuotaName") in names
            if wanted and isinstance(quota.get("Value"), int | float):
                values[quota["QuotaName"]] = int(quota["Value"])
    return values


def held_by_endpoints(
    records: Iterable[PipelineRecord],
    env: Environment,
    parse: Callable[[PipelineRecord], PipelineSpec | None],
    exclude: str | None = None,
) -> dict[str, int]:
    """Instances this project's pipelines hold in `env` (endpoints at their instance count: jobs come
    and go), by quota: those deployed there (their stack recorded outputs for `env`), whatever their
    status since, until deleted. `exclude`: the pipeline being checked, whose own need is counted as
    the request's. A record whose request no longer reads is left out."""
    held: dict[str, int] = {}
    for record in records:
        if record.pipeline_id == exclude or record.status in GONE or env not in record.outputs:
            continue
        try:
            spec = parse(record)
            needs = instance_needs(spec, env, at_rest=True) if spec is not None else []
        except Exception:
            continue
        for quota, count in total_by_quota(needs).items():
            if "endpoint usage" in quota:
                held[quota] = held.get(quota, 0) + count
    return held


def preflight(
    spec: PipelineSpec,
    env: Environment,
    client: Any,
    held: dict[str, int],
    *,
    updating: bool = False,
    read: Callable[[set[str]], dict[str, int]] | None = None,
) -> Preflight:
    """Check `spec`'s needs in `env` against the quotas `client` reads (that environment's account), or
    `read` gives (QuotaCache's values of that account)."""
    needed = total_by_quota(instance_needs(spec, env, updating=updating))
    reader = read or (lambda names: quota_values(client, names))
    quotas = reader(set(needed)) if needed else {}
    return Preflight(
        environment=env,
        shortfalls=shortfalls(needed, quotas, held),
        unchecked=sorted(set(needed) - set(quotas)),
        note=unknown_needs(spec),
    )
