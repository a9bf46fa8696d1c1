"""Which monitor ran a run with violations, and what its action may touch: decisions of monitors that act.

- The run is a monitor's only when its schedule ARN is exactly the ARN of that monitor's schedule in
  the environment's own account and this region, and the event comes from that account: a schedule of
  the same name in any other account or region (anyone can create one) is not ours.
- The monitored pipeline is the one recorded on the monitor's record (found once: the one DEPLOYED
  real-time pipeline of the monitor's owner serving the endpoint, lambda_src/registry/monitored.py).
- A rollback returns to the last version that reached DEPLOYED before the one live when the run
  happened, never to a version a rollback replaced (which would undo that rollback), nor to the live
  version's own request again; and only while the version live then is still the pipeline's and DEPLOYED
  (a run judged an older version than a fix deployed since; a version awaiting approval is not yet the
  one live everywhere): the new version is written by a compare-and-swap on it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from lambda_src.common import submission
from lambda_src.common.cost_limit import check_cost_limit
from lambda_src.common.errors import Conflict
from lambda_src.common.reconciling import replace_while
from lambda_src.registry import PipelineRecord, Registry
from lambda_src.registry.monitored import GONE
from mlops_spec.approvers import Principal
from mlops_spec.env_vars import EnvVar
from mlops_spec.environments import ENVIRONMENTS
from mlops_spec.monitor_violations import schedule_arn
from mlops_spec.partitions import partition_of
from mlops_spec.status import Status

if TYPE_CHECKING:
    from lambda_src.common.settings import Settings

ROLLBACK_SOURCE = "monitor:"


def environment_accounts(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environments' accounts the orchestrator set (MLOPS_ACCOUNTS); empty when absent or malformed:
    then no run is anyone's (fail closed)."""
    env = os.environ if environ is None else environ
    try:
        value = json.loads(env.get(EnvVar.ACCOUNTS, "") or "{}")
    except json.JSONDecodeError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if isinstance(v, str)}


def account_of(env: str, accounts: Mapping[str, str], config: Settings) -> str | None:
    """The account a monitor runs in, in `env`: the environment's own in multi-account mode, else the
    orchestrator's (single-account mode deploys every environment there)."""
    return accounts.get(env) if config.mode == "multi" else accounts.get(config.orchestrator_environment)


def expected_schedule_arn(name: str, env: str, accounts: Mapping[str, str], config: Settings) -> str | None:
    """The ARN the monitor's schedule has in `env`; None when the account or region is not known."""
    account, region = account_of(env, accounts, config), os.environ.get("AWS_REGION")
    if not account or not region:
        return None
    return schedule_arn(partition_of(region), region, account, name)


def from_schedule(event_account: Any, event_region: Any, arn: str, expected: str | None) -> bool:
    """The event's account and region are the expected schedule's, and its ARN is that schedule's."""
    if expected is None or arn.lower() != expected:
        return False
    parts = expected.split(":")
    return event_account == parts[4] and event_region == parts[3]


# -- rollback ---------------------------------------------------------------------------------------------
def _instant(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None


def live_at(history: Sequence[Mapping[str, Any]], run_at: str | None) -> Mapping[str, Any] | None:
    """The deployed version (its history entry) live when the run happened (`run_at` None: now)."""
    before = _deployed_before(history, run_at)
    return before[-1] if before else None


def _deployed_before(history: Sequence[Mapping[str, Any]], run_at: str | None) -> list[Mapping[str, Any]]:
    moment = _instant(run_at) if run_at else None
    return [e for e in history if moment is None or (_instant(e.get("deployed_at")) or moment) <= moment]


def rollback_refusal(record: PipelineRecord, live: Mapping[str, Any] | None) -> str | None:
    """Why a rollback must not touch the pipeline now (None: it may): only the version the run watched,
    still DEPLOYED, is replaced; never a newer version (a fix deployed since), nor a version not yet
    live everywhere (awaiting approval, being deployed), from which it would return two versions back."""
    if record.status != Status.DEPLOYED:
        return f"the pipeline is {record.status}"
    if live is not None and live.get("version") != record.version:
        return "a newer version was deployed since this run"
    return None


def sent_by(record: PipelineRecord, token: str) -> bool:
    """Whether the pipeline's current version is the one a run's rollback sent (its event retried): a
    version that failed to start is not (the retry judges the pipeline as it is)."""
    return record.client_token == token and record.status != Status.FAILED


def rollback_target(history: Sequence[Mapping[str, Any]], run_at: str | None) -> Mapping[str, Any] | None:
    """The deployed version (its history entry) to return to; None when there is none.

    `history` is the record's deployed versions, oldest first; `run_at` when the run happened (None:
    now). The version live then is the last deployed before it; the target is the newest deployed before
    that one whose request differs from it and from every version a rollback replaced.
    """
    before = _deployed_before(history, run_at)
    if len(before) < 2:
        return None
    live = before[-1]
    excluded = {live.get("spec_hash")} | replaced_by_rollbacks(history)
    for entry in reversed(before[:-1]):
        if entry.get("spec_hash") not in excluded:
            return entry
    return None


def queue_over(registry: Registry, read: PipelineRecord, candidate: PipelineRecord) -> PipelineRecord:
    """Queue `candidate` as the version after `read`, only while the pipeline is still DEPLOYED at `read`'s
    version (a compare-and-swap, as a promotion's): a write in between that leaves it so (a note, an
    approval) is read again and retried; any other raises Conflict, and nothing is written."""

    def still_deployed_at_read(current: PipelineRecord | None) -> PipelineRecord:
        if current is None or current.version != read.version or current.status != Status.DEPLOYED:
            state = f"at version {current.version}, {current.status}" if current else "gone"
            raise Conflict(f"pipeline {read.pipeline_id} changed since the run was judged (now {state})")
        return current

    return replace_while(registry, read, candidate, still_deployed_at_read)


def queue_request(
    over: PipelineRecord,
    request: submission.Plan,
    config: Settings,
    source: str,
    asked_by: Principal | None,
    barred: tuple[Principal, ...],
) -> submission.Outcome:
    """`request` queued over exactly the version `over` holds, as `submit` queues (within the cost limit,
    then its provisioning started); Conflict when the pipeline moved on since it was read."""
    check_cost_limit(request.spec, config)
    registry = Registry(config.registry_table)
    candidate = replace(request.new_record(source, asked_by), barred=tuple(p.as_dict() for p in barred if p.known))
    queued = queue_over(registry, over, candidate)
    submission.start_queued(registry, queued, request.spec_json, config)
    return submission.Outcome(queued, queued=True)


def replaced_by_rollbacks(history: Sequence[Mapping[str, Any]]) -> set[Any]:
    """The requests (spec hashes) that a monitor's rollback replaced: the entry before each rollback's."""
    return {
        history[i - 1].get("spec_hash")
        for i in range(1, len(history))
        if str(history[i].get("source") or "").startswith(ROLLBACK_SOURCE)
    }


class Records:
    """The registry as one event's handling reads it: records by id, and the whole table only when
    nothing else finds what is needed (once per event)."""

    def __init__(self, registry: Registry):
        self.registry = registry
        self._live: list[PipelineRecord] | None = None

    def get(self, pipeline_id: str) -> PipelineRecord | None:
        """The live record of `pipeline_id`; None when there is none, or it is gone."""
        record = self.registry.get(pipeline_id)
        return record if record is not None and record.status not in GONE else None

    def live(self) -> list[PipelineRecord]:
        if self._live is None:
            self._live = [record for record in self.registry.each() if record.status not in GONE]
        return self._live


def monitor_ids(schedule: str) -> list[str]:
    """The monitors whose schedule `schedule` could be by its name (`<monitor>-<env>-schedule`, unless the
    name had to be shortened): they are read first, the whole table only when none of them runs it."""
    return [schedule.removesuffix(f"-{env}-schedule") for env in ENVIRONMENTS if schedule.endswith(f"-{env}-schedule")]
