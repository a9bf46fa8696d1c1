"""Which monitor ran a run with violations, and what its action may touch: decisions of monitors that act.

- The run is a monitor's only when its schedule ARN is exactly the ARN of that monitor's schedule in
  the environment's own account and this region, and the event comes from that account: a schedule of
  the same name in any other account or region (anyone can create one) is not ours.
- The monitored pipeline is the one recorded on the monitor's record (found once: the one DEPLOYED
  real-time pipeline of the monitor's owner serving the endpoint, lambda_src/registry/monitored.py).
- A rollback returns to the last version that reached DEPLOYED before the one live when the run
  happened, never to a version a rollback replaced (which would undo that rollback), nor to the live
  version's own request again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from lambda_src.registry import PipelineRecord, Registry
from lambda_src.registry.monitored import GONE
from mlops_spec.env_vars import EnvVar
from mlops_spec.environments import ENVIRONMENTS
from mlops_spec.monitor_violations import schedule_arn
from mlops_spec.partitions import partition_of

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


def rollback_target(history: Sequence[Mapping[str, Any]], run_at: str | None) -> Mapping[str, Any] | None:
    """The deployed version (its history entry) to return to; None when there is none.

    `history` is the record's deployed versions, oldest first; `run_at` when the run happened (None:
    now). The version live then is the last deployed before it; the target is the newest deployed before
    that one whose request differs from it and from every version a rollback replaced.
    """
    moment = _instant(run_at) if run_at else None
    before = [e for e in history if moment is None or (_instant(e.get("deployed_at")) or moment) <= moment]
    if len(before) < 2:
        return None
    live = before[-1]
    excluded = {live.get("spec_hash")} | replaced_by_rollbacks(history)
    for entry in reversed(before[:-1]):
        if entry.get("spec_hash") not in excluded:
            return entry
    return None


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
