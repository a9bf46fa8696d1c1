"""One pipeline's record: its fields, and the DynamoDB item it is stored as (the record codec).

Item attributes: status, pipeline_type, spec (normalised request as JSON text), spec_hash,
client_token, version (N, the spec version), created_at, updated_at (ISO-8601 UTC),
environments (L of S), codepipeline_name, last_error, errors (L of M {field, problem}),
outputs (M), source, execution_id (the delivery pipeline execution of the current version, or
EXECUTION_PENDING until the provisioner has started it), restarts (N, how often the sweep re-sent
the provisioner's start in the current waiting status), claimed_by (the provisioner invocation
that runs a deletion), requested_by (M {arn, principal_id}: who queued the current version),
approvals (L of M: the current version's answered approvals, who answered and when), name and
owner (the pipeline's name exactly as it was created, and its
owner: together its identity), revision (N, incremented by every write: each write is a
compare-and-swap on it, so no writer can undo another's change; 0/absent on records written before),
teardown_build and teardown_claim (the CodeBuild build that ran the record's latest deletion, and the
deletion claim it was started for: it is this deletion's build while that claim holds), drift (M: the
last drift check of the deployed stacks, lambda_src/provisioner/drift.py), blocked (M: a monitor's
`block` on this pipeline's promotions: which monitor, which run, when; lambda_src/trigger/monitor_violations.py),
violations (L of M: a monitor's latest runs with violations it acted on, newest first, so each acts once),
deployed (L of M: the versions that reached DEPLOYED, oldest first: version, spec_hash, requested_by, source,
deployed_at, barred; what a monitor's rollback returns to; the same request deployed again replaces the last
entry), barred (L of M {arn, principal_id}: who, besides requested_by, may not approve this version's promotion
to prod: whoever a rollback's version, a promotion or a retraining bars), monitored (S, on a monitor's record:
the pipeline whose endpoint it watches).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lambda_src.registry.attributes import from_attr, to_attr
from mlops_spec.approvers import Principal, same_principal
from mlops_spec.status import Status

# `execution_id` of a version whose delivery pipeline run the provisioner has not recorded yet:
# events of any execution are then someone else's (an earlier version's run). Records written
# before execution ids were tracked have none at all (None) and are matched on status alone.
EXECUTION_PENDING = "pending"
# Sources of versions no person sent (deploys on approval, monitors, a drift check's auto-remediation):
# they leave a monitor's block in place.
AUTOMATED_SOURCES = ("model registry:", "monitor:", "reconcile:auto-remediate")
# How many deployed versions a record remembers (what a rollback may return to).
REMEMBERED_DEPLOYS = 20


def automated(source: str | None) -> bool:
    return (source or "").startswith(AUTOMATED_SOURCES)


def lifts_block(source: str | None, requested_by: dict[str, str] | None) -> bool:
    """Whether a new version lifts a monitor's block: a person sent it (not an automated source) and
    who did is known (an upload whose uploader is not recorded could be anyone's, or no one's)."""
    return not automated(source) and Principal.from_dict(requested_by).known


def entry_barred(entry: Mapping[str, Any]) -> tuple[dict[str, str], ...]:
    """Who may not approve a deployed version's request into prod when it is sent again: its requester
    and whoever it barred (old entries without `barred` bar their requester only); unknown principals
    (no one can be told apart from them) left out, each principal once."""
    return union_of_principals((entry.get("requested_by"), *_listed(entry.get("barred"))))


def union_of_principals(principals: Iterable[Any]) -> tuple[dict[str, str], ...]:
    """The known principals among `principals` (registry maps), each once."""
    kept: list[Principal] = []
    for value in principals:
        principal = Principal.from_dict(value)
        if principal.known and not any(same_principal(principal, other) for other in kept):
            kept.append(principal)
    return tuple(p.as_dict() for p in kept)


def same_request_again(earlier: Mapping[str, Any], again: dict[str, Any]) -> dict[str, Any]:
    """The history entry of a request deployed again right after itself: the new version (its request is
    the same), since when it is live and where it came from (a rollback stays one), and everyone either
    barred, with the earlier requester (the request is theirs; a person's reconcile makes another one
    the requester)."""
    barred = union_of_principals(
        (*_listed(earlier.get("barred")), earlier.get("requested_by"), *_listed(again.get("barred")))
    )
    mine = Principal.from_dict(again.get("requested_by"))
    barred = tuple(b for b in barred if not (mine.known and same_principal(Principal.from_dict(b), mine)))
    merged = {**again, "deployed_at": earlier.get("deployed_at", again["deployed_at"]), "barred": list(barred)}
    merged["source"] = earlier.get("source", again.get("source"))
    return {key: value for key, value in merged.items() if value not in (None, [])}


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True)
class PipelineRecord:
    pipeline_id: str
    status: Status
    pipeline_type: str
    version: int
    created_at: str
    updated_at: str
    spec: str | None = None
    spec_hash: str | None = None
    client_token: str | None = None
    environments: tuple[str, ...] = ()
    codepipeline_name: str | None = None
    last_error: str | None = None
    errors: tuple[dict[str, str], ...] = ()
    outputs: dict[str, Any] = field(default_factory=dict)
    source: str | None = None
    execution_id: str | None = None
    restarts: int = 0
    claimed_by: str | None = None
    name: str | None = None
    owner: str | None = None
    revision: int = 0
    requested_by: dict[str, str] | None = None
    approvals: tuple[dict[str, Any], ...] = ()
    teardown_build: str | None = None
    teardown_claim: str | None = None
    drift: dict[str, Any] | None = None
    blocked: dict[str, Any] | None = None
    violations: tuple[dict[str, Any], ...] = ()
    deployed: tuple[dict[str, Any], ...] = ()
    barred: tuple[dict[str, str], ...] = ()
    monitored: str | None = None

    def deployed_entry(self) -> dict[str, Any]:
        """What the history of deployed versions keeps of this version, as it reaches DEPLOYED: with whom
        it bars, so that sending it again (a rollback) bars them again."""
        entry = {
            "version": self.version,
            "spec_hash": self.spec_hash,
            "requested_by": self.requested_by,
            "source": self.source,
            "deployed_at": now(),
            "barred": [dict(b) for b in self.barred] or None,
        }
        return {key: value for key, value in entry.items() if value is not None}

    def with_deployed(self) -> tuple[dict[str, Any], ...]:
        """The history with this version's entry added (once: a version deploys again after a reconcile).
        The same request deployed again (a reconcile, a remediation) replaces the last entry instead of
        adding one: the history keeps REMEMBERED_DEPLOYS distinct requests, not 20 remediations of one."""
        if any(entry.get("version") == self.version for entry in self.deployed):
            return self.deployed
        entry, last = self.deployed_entry(), self.deployed[-1] if self.deployed else None
        if last is not None and entry.get("spec_hash") is not None and last.get("spec_hash") == entry["spec_hash"]:
            return (*self.deployed[:-1], same_request_again(last, entry))
        return (*self.deployed, entry)[-REMEMBERED_DEPLOYS:]

    @property
    def tearing_down(self) -> bool:
        """DELETING, and the teardown build of the claim that holds it has started (it, not the sweep,
        ends this deletion). Every status change drops the claim, so an earlier deletion's build never counts."""
        return (
            self.status == Status.DELETING
            and bool(self.teardown_build)
            and self.claimed_by is not None
            and self.claimed_by == self.teardown_claim
        )

    def spec_document(self) -> dict[str, Any] | None:
        return json.loads(self.spec) if self.spec else None

    def to_item(self) -> dict[str, Any]:
        """The DynamoDB item; absent values are left out (a GSI key may not be empty)."""
        plain: dict[str, Any] = {
            "pipeline_id": self.pipeline_id,
            "status": str(self.status),
            "pipeline_type": self.pipeline_type,
            "version": self.version,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "spec": self.spec,
            "spec_hash": self.spec_hash,
            "client_token": self.client_token,
            "environments": list(self.environments),
            "codepipeline_name": self.codepipeline_name,
            "last_error": self.last_error,
            "errors": [dict(e) for e in self.errors],
            "outputs": self.outputs,
            "source": self.source,
            "execution_id": self.execution_id,
            "restarts": self.restarts or None,
            "claimed_by": self.claimed_by,
            "name": self.name,
            "owner": self.owner,
            "revision": self.revision or None,
            "requested_by": self.requested_by,
            "approvals": [dict(a) for a in self.approvals],
            "teardown_build": self.teardown_build,
            "teardown_claim": self.teardown_claim,
            "drift": self.drift,
            "blocked": self.blocked,
            "violations": [dict(v) for v in self.violations],
            "deployed": [dict(d) for d in self.deployed],
            "barred": [dict(b) for b in self.barred],
            "monitored": self.monitored,
        }
        return {key: to_attr(value) for key, value in plain.items() if value not in (None, [], {})}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> PipelineRecord:
        plain = {key: from_attr(value) for key, value in item.items()}
        return cls(
            pipeline_id=plain["pipeline_id"],
            status=Status(plain["status"]),
            pipeline_type=plain.get("pipeline_type", ""),
            version=int(plain.get("version", 0)),
            created_at=plain.get("created_at", ""),
            updated_at=plain.get("updated_at", ""),
            spec=plain.get("spec"),
            spec_hash=plain.get("spec_hash"),
            client_token=plain.get("client_token"),
            environments=tuple(plain.get("environments", ())),
            codepipeline_name=plain.get("codepipeline_name"),
            last_error=plain.get("last_error"),
            errors=tuple(plain.get("errors", ())),
            outputs=plain.get("outputs", {}),
            source=plain.get("source"),
            execution_id=plain.get("execution_id"),
            restarts=int(plain.get("restarts", 0)),
            claimed_by=plain.get("claimed_by"),
            name=plain.get("name"),
            owner=plain.get("owner"),
            revision=int(plain.get("revision", 0)),
            requested_by=plain.get("requested_by") or None,
            approvals=tuple(plain.get("approvals", ())),
            teardown_build=_optional_text(plain.get("teardown_build")),
            teardown_claim=_optional_text(plain.get("teardown_claim")),
            drift=plain.get("drift") if isinstance(plain.get("drift"), dict) else None,
            blocked=plain.get("blocked") if isinstance(plain.get("blocked"), dict) else None,
            violations=tuple(plain.get("violations", ())),
            deployed=tuple(d for d in plain.get("deployed", ()) if isinstance(d, dict)),
            barred=tuple(b for b in plain.get("barred", ()) if isinstance(b, dict)),
            monitored=_optional_text(plain.get("monitored")),
        )


def _optional_text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
