"""Drift detection: does each deployed target stack of a pipeline still match what AWS holds?

A schedule (the orchestrator's `mlops-drift-check` rule, `mlops:driftSchedule`) makes the status
function start one provisioner run per DEPLOYED pipeline; the run does a preview-only refresh of
each environment's target stack (nothing is written to the state or to AWS), records the result on
the registry item (`drift`) and emails when a pipeline newly drifts. Reconciling is the normal
update path: `mlops reconcile` (POST /pipelines/{id}/reconcile) queues the unchanged spec again; a
pipeline whose request sets `auto_remediate` is reconciled by the check itself, once per new drift.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from aws_lambda_powertools import Logger

from lambda_src.common.errors import ApiError
from lambda_src.common.reconciling import remediate_drift
from lambda_src.common.settings import Settings
from lambda_src.provisioner import state_guard
from lambda_src.provisioner.errors import ProvisioningError
from lambda_src.provisioner.program import target_program
from lambda_src.provisioner.runner import TARGET_RETRY, DriftReport, StackRunner
from lambda_src.provisioner.settings import ProvisionerSettings
from lambda_src.registry import PipelineRecord, Registry, Status
from mlops_spec import naming
from mlops_spec.base import PipelineSpec
from mlops_spec.env_vars import EnvVar

logger = Logger(child=True)

# What the record keeps of a check: a registry item holds at most 400 KB, and the request itself may
# take 300 KB of it (lambda_src/common/submission.py), so resources, properties and texts are bounded.
RESOURCES_KEPT = 25
PROPERTIES_KEPT = 20
TEXT_KEPT = 256


# -- decisions -----------------------------------------------------------------------------------------
def environment_entry(report: DriftReport | ProvisioningError) -> dict[str, Any]:
    """One environment's result as the record keeps it; an environment that could not be checked says why."""
    if isinstance(report, ProvisioningError):
        return {"in_sync": None, "error": f"{report.reason}: {report.message}"[:500]}
    resources = [
        {
            "urn": r.urn[:TEXT_KEPT],
            "type": r.type[:TEXT_KEPT],
            "op": r.op,
            "properties": [name[:TEXT_KEPT] for name in r.properties[:PROPERTIES_KEPT]],
        }
        for r in report.resources[:RESOURCES_KEPT]
    ]
    changes = {op: count for op, count in sorted(report.changes.items()) if count and op != "same"}
    return {"in_sync": report.in_sync, "changes": changes, "resources": resources}


def drift_document(
    entries: Mapping[str, dict[str, Any]], checked_at: str, version: int | None = None
) -> dict[str, Any]:
    """The record's `drift` of the pipeline's `version`: in sync only if every environment is and one
    at least was checked; unknown (None) when none drifted but one could not be checked, or none was."""
    states = [entry["in_sync"] for entry in entries.values()]
    in_sync: bool | None = False if False in states else (None if None in states or not states else True)
    return {"checked_at": checked_at, "version": version, "in_sync": in_sync, "environments": dict(entries)}


def newly_drifted(previous: Mapping[str, Any] | None, current: Mapping[str, Any]) -> list[str]:
    """Environments drifted now whose drifted resources differ from the previous check's: announced
    once per change of drift, not at every check."""

    def drifted_urns(document: Mapping[str, Any] | None, env: str) -> frozenset[str] | None:
        entry = (document or {}).get("environments", {}).get(env)
        if not entry or entry.get("in_sync") is not False:
            return None
        return frozenset(resource["urn"] for resource in entry.get("resources", []))

    return [
        env
        for env in sorted(current.get("environments", {}))
        if drifted_urns(current, env) is not None and drifted_urns(current, env) != drifted_urns(previous, env)
    ]


@dataclass(frozen=True)
class Remediation:
    """What auto_remediate did about new drift: the version queued to restore the stacks, or why none."""

    version: int | None
    problem: str | None = None

    def sentence(self, pipeline_id: str) -> str:
        if self.version is not None:
            return (
                f"auto_remediate is on: version {self.version} restores what the request declares through the "
                "normal update (approvals included); its progress is announced as any update's."
            )
        return (
            f"auto_remediate is on, but no update could be queued ({self.problem}); restore what it declares with "
            f"`mlops reconcile {pipeline_id}` (POST /pipelines/{pipeline_id}/reconcile)."
        )


def should_remediate(spec: PipelineSpec | None, newly: list[str]) -> bool:
    """Whether a check reconciles: the request asks for auto_remediate and drift is new (or changed) in
    some environment, so one drift is remediated once, however often it is checked."""
    return bool(spec is not None and spec.auto_remediate and newly)


def blocked_by(record: PipelineRecord) -> Remediation | None:
    """Why a drifted pipeline is not remediated while a monitor's block holds: every deploy of it is refused
    until a person sends a version, so the update would only end FAILED (a person's reconcile lifts it)."""
    if not record.blocked:
        return None
    monitor = record.blocked.get("monitor") or "a monitor"
    return Remediation(None, f"its promotions are blocked by {monitor}, so the update would be refused")


def drift_message(
    pipeline_id: str, document: Mapping[str, Any], envs: list[str], remediation: Remediation | None = None
) -> tuple[str, str]:
    """Subject and body of the email announcing new drift (and what auto_remediate did about it)."""
    lines = [f"MLOps pipeline {pipeline_id} no longer matches its stacks in {', '.join(envs)}:"]
    for env in envs:
        for resource in document["environments"][env].get("resources", []):
            what = f" ({', '.join(resource['properties'])})" if resource.get("properties") else ""
            lines.append(f"  {env}: {resource['op']} {resource['type']} {resource['urn'].split('::')[-1]}{what}")
    if remediation is not None:
        lines.append(remediation.sentence(pipeline_id))
    else:
        # Not "send the request again": an unchanged request of a DEPLOYED pipeline is a replay that does nothing.
        lines.append(
            f"Restore what it declares with `mlops reconcile {pipeline_id}` (POST /pipelines/{pipeline_id}/reconcile)."
        )
    return f"MLOps pipeline {pipeline_id} has drifted", "\n".join(lines)


def reconciler(
    settings: ProvisionerSettings, environ: Mapping[str, str] = os.environ
) -> Callable[[str, int], Remediation]:
    """Queue the normal update of a drifted pipeline's version (lambda_src/common/reconciling.py) and
    start the provisioner on it, as `mlops reconcile` does; the provisioner is this function itself."""

    def remediate(pipeline_id: str, version: int) -> Remediation:
        function = environ.get("AWS_LAMBDA_FUNCTION_NAME") or environ.get(EnvVar.PROVISIONER_FUNCTION, "")
        common = Settings(
            registry_table=settings.registry_table,
            assets_bucket=settings.assets_bucket,
            topic_arn=settings.notification_topic_arn,
            provisioner_function=function,
            mode=cast(Any, settings.mode),
            use_model_registry=settings.use_model_registry,
            orchestrator_environment=cast(Any, settings.orchestrator_environment),
            assets_kms_key_arn=settings.assets_kms_key_arn,
        )
        try:
            return Remediation(remediate_drift(pipeline_id, version, common).record.version)
        except ApiError as exc:  # no longer DEPLOYED at that version: someone acted first
            return Remediation(None, exc.message)
        except Exception as exc:  # the spec could not be stored or the provisioner started (recorded FAILED)
            logger.warning("auto-remediation not started", pipeline_id=pipeline_id, error=str(exc))
            return Remediation(None, f"the update could not be started: {type(exc).__name__}")

    return remediate


def announcer(sns: Any, topic_arn: str) -> Callable[[str, str], None]:
    """Email through the notification topic; the check is recorded either way, so a lost email is
    logged, not a failed run."""

    def announce(subject: str, message: str) -> None:
        try:
            sns.publish(TopicArn=topic_arn, Subject=subject, Message=message)
        except Exception as exc:
            logger.warning("could not publish", subject=subject, error=str(exc))

    return announce


# -- the check -------------------------------------------------------------------------------------------
def check(
    pipeline_id: str,
    version: int | None,
    *,
    registry: Registry,
    runners: Callable[[Any], StackRunner],
    settings: ProvisionerSettings,
    spec_of: Callable[[PipelineRecord], PipelineSpec | None],
    announce: Callable[[str, str], None],
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    remediate: Callable[[str, int], Remediation] | None = None,
) -> dict[str, Any]:
    """Check the deployed environments of a DEPLOYED pipeline; record and announce the result, and
    reconcile new drift of a pipeline that asks for auto_remediate (`remediate`: `reconciler`'s)."""
    record = registry.get(pipeline_id)
    if record is None or record.status != Status.DEPLOYED or (version is not None and record.version != version):
        found = f"{record.status} v{record.version}" if record else "no record"
        return {"pipeline_id": pipeline_id, "action": "drift", "skipped": found}
    spec = spec_of(record)
    unreadable = ProvisioningError("the stored request no longer validates: send it again to check its stacks")
    entries = {
        env: environment_entry(_report(runners, spec, env, settings, pipeline_id) if spec else unreadable)
        for env in record.environments
        if env in record.outputs
    }
    document = drift_document(entries, clock().strftime("%Y-%m-%dT%H:%M:%SZ"), record.version)
    if not registry.record_drift(pipeline_id, record.version, document):
        return {"pipeline_id": pipeline_id, "action": "drift", "skipped": "the record changed meanwhile"}
    envs = newly_drifted(record.drift, document)
    result = {"pipeline_id": pipeline_id, "action": "drift", "in_sync": document["in_sync"], "announced": envs}
    remediation = None
    if should_remediate(spec, envs):
        held = blocked_by(record)
        remediation = held or (remediate or reconciler(settings))(pipeline_id, record.version)
        result["remediation"] = {"version": remediation.version, "problem": remediation.problem}
    if envs:
        announce(*drift_message(pipeline_id, document, envs, remediation))
    return result


def _report(
    runners: Callable[[Any], StackRunner], spec: Any, env: str, settings: ProvisionerSettings, pipeline_id: str
) -> DriftReport | ProvisioningError:
    try:
        with closing(runners(TARGET_RETRY)) as runner:
            if not runner.select_existing(
                naming.target_stack_name(pipeline_id, env), target_program(spec, env, settings)
            ):
                return ProvisioningError(f"stack {naming.target_stack_name(pipeline_id, env)} does not exist")
            state_guard.guard_target(runner, naming.target_stack_name(pipeline_id, env), env, settings)
            return runner.drift()
    except ProvisioningError as error:
        logger.warning("drift not checked", pipeline_id=pipeline_id, environment=env, reason=error.reason)
        return error
