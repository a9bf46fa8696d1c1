"""Where each stack's Pulumi state lives in the state bucket, and the target stacks earlier versions left at its root.

Changes when the state bucket's layout changes. docs/security.md ("State isolation") says why:
- a target stack `<pipeline>-<env>` lives under the prefix of its own deploy project
  (mlops_spec.naming.target_state_prefix), its secrets wrapped with the environment as KMS encryption
  context, so that a deploy build, whose role is shared by every pipeline of its environment, can be
  held by IAM to its own stack and its own environment's secrets;
- delivery stacks stay at the root with the plain secrets provider (only the provisioner opens them),
  as did target stacks before: `LegacyStacks` sees, locks and removes those through S3.
Pure decisions are `StateLayout`'s; `LegacyStacks` is the only code here that calls AWS.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from lambda_src.provisioner.errors import ProvisioningError, StackBusy
from lambda_src.provisioner.settings import ProvisionerSettings
from mlops_spec import naming
from mlops_spec.environments import ENVIRONMENTS

logger = logging.getLogger(__name__)


class StateNotMigrated(ProvisioningError, reason="state-not-moved", retryable=True):
    """A deploy build found its stack still at the root, where earlier versions kept it: it may not
    read it there, and creating a new stack beside it would duplicate what the old one manages. The
    provisioner moves it when the pipeline is provisioned again."""


@dataclass(frozen=True)
class StackPlace:
    """Where a stack lives: the backend URL (bucket and prefix) and its secrets provider."""

    backend_url: str
    secrets_provider: str


@dataclass(frozen=True)
class StateLayout:
    """The place of every stack, from the orchestrator's backend URL and secrets provider."""

    backend_url: str
    """The bucket's root, `s3://<state bucket>?region=<region>`: delivery stacks, and legacy target stacks."""
    secrets_provider: str
    """The secrets key without encryption context: delivery stacks, and legacy target stacks."""
    region: str
    orchestrator_account_id: str
    partition: str = "aws"

    @classmethod
    def from_settings(cls, settings: ProvisionerSettings) -> StateLayout:
        return cls(
            backend_url=settings.backend_url,
            secrets_provider=settings.secrets_provider,
            region=settings.region,
            orchestrator_account_id=settings.orchestrator_account_id,
            partition=settings.partition,
        )

    @property
    def bucket(self) -> str:
        return urlsplit(self.backend_url).netloc

    @property
    def root(self) -> StackPlace:
        return StackPlace(self.backend_url, self.secrets_provider)

    def place_of(self, stack_name: str) -> StackPlace:
        """A target stack's own prefix and environment's secrets; the root for any other stack."""
        parts = naming.target_stack_parts(stack_name)
        if parts is None:
            return self.root
        pipeline, env = parts
        project = naming.deploy_project_arn(pipeline, env, self.region, self.orchestrator_account_id, self.partition)
        return StackPlace(
            naming.prefixed_backend_url(self.backend_url, naming.target_state_prefix(project)),
            naming.secrets_provider_of(self.secrets_provider, env),
        )


def stacks_to_settle(stack_name: str) -> list[str]:
    """The target stacks to find at their place before `stack_name` is opened: a target stack itself;
    for a delivery stack, every target stack of its pipeline (the provisioner moves them before the
    delivery run whose builds will open them); none for any other stack."""
    if naming.target_stack_parts(stack_name) is not None:
        return [stack_name]
    pipeline = stack_name.removesuffix("-delivery")
    if pipeline and naming.delivery_stack_name(pipeline) == stack_name:
        return [naming.target_stack_name(pipeline, env) for env in ENVIRONMENTS]
    return []


def with_secrets_provider(exported: dict[str, Any], provider: dict[str, Any]) -> dict[str, Any]:
    """An exported deployment (secrets in plain text, as `pulumi stack export --show-secrets` gives
    them) that names `provider` as its secrets provider: `pulumi stack import` then encrypts every
    secret with that provider's data key, as `pulumi stack change-secrets-provider` would."""
    deployment = {**(exported.get("deployment") or {}), "secrets_providers": provider}
    return {**exported, "deployment": deployment}


def has_resources(exported: dict[str, Any]) -> bool:
    return bool((exported.get("deployment") or {}).get("resources"))


def cloud_secrets_provider(url: str, encrypted_key: str) -> dict[str, Any]:
    """A deployment's `secrets_providers` for a KMS provider (Pulumi's "cloud" secrets manager)."""
    return {"type": "cloud", "state": {"url": url, "encryptedkey": encrypted_key}}


class LegacyStacks:
    """Target stacks of earlier versions at the bucket's root (Pulumi's project layout), through S3.

    Only the provisioner's role may read, lock and remove them; a deploy build may only list their
    names (to refuse to create its stack beside an unmoved one).
    """

    def __init__(
        self,
        s3: Any,
        bucket: str,
        project: str = naming.PULUMI_PROJECT,
        clock: Callable[[], datetime] | None = None,
        stale_after: timedelta = timedelta(minutes=65),
    ):
        self.s3, self.bucket, self.project = s3, bucket, project
        self._clock = clock or (lambda: datetime.now(UTC))
        # A lock file older than any run may last belongs to a killed run (runner/retry.py).
        self.stale_after = stale_after

    def exists(self, stack_name: str) -> bool:
        key = naming.legacy_stack_key(stack_name, self.project)
        return bool(self._keys(key) & {key, f"{key}.gz"})

    @contextmanager
    def lock(self, stack_name: str) -> Iterator[None]:
        """Hold the stack's lock as Pulumi's S3 backend does (a lock file in its lock folder, checked
        before and after writing it), so that no update of the legacy stack runs while it is moved."""
        folder = naming.legacy_lock_folder(stack_name, self.project)
        self._refuse_if_locked(stack_name, self._live_locks(folder))
        mine = f"{folder}{uuid.uuid4()}.json"
        self.s3.put_object(Bucket=self.bucket, Key=mine, Body=self._lock_content().encode())
        try:
            self._refuse_if_locked(stack_name, self._live_locks(folder, mine))
            yield
        finally:
            self.s3.delete_object(Bucket=self.bucket, Key=mine)

    def remove(self, stack_name: str) -> None:
        """Forget the stack (its checkpoint and its backup copy); its resources are not touched. Its
        history stays, and the bucket is versioned: nothing of it is lost."""
        key = naming.legacy_stack_key(stack_name, self.project)
        for found in sorted(self._keys(key) & {key, f"{key}.gz", f"{key}.bak", f"{key}.gz.bak"}):
            self.s3.delete_object(Bucket=self.bucket, Key=found)

    def _live_locks(self, folder: str, mine: str | None = None) -> set[str]:
        """The lock files of live runs. One older than `stale_after` is a killed run's (a Lambda timeout,
        a stopped build): it is removed, as `pulumi cancel` would, instead of blocking the move forever."""
        live = set()
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=folder)
        for item in (item for page in pages for item in page.get("Contents", []) if item["Key"] != mine):
            modified = item.get("LastModified")
            if isinstance(modified, datetime) and self._clock() - modified.astimezone(UTC) > self.stale_after:
                logger.warning("removing the lock of a killed run: %s", item["Key"])
                self.s3.delete_object(Bucket=self.bucket, Key=item["Key"])
            else:
                live.add(item["Key"])
        return live

    def _keys(self, prefix: str) -> set[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return {item["Key"] for page in pages for item in page.get("Contents", [])}

    def _lock_content(self) -> str:
        stamp = self._clock().strftime("%Y-%m-%dT%H:%M:%SZ")
        return json.dumps(
            {"pid": os.getpid(), "username": "mlops-provisioner", "hostname": socket.gethostname(), "timestamp": stamp}
        )

    def _refuse_if_locked(self, stack_name: str, locks: set[str]) -> None:
        if locks:
            raise StackBusy(f"{stack_name} is locked by another update while its state is being moved: {sorted(locks)}")
