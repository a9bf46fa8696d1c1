"""Monitors that act: a monitoring run with violations does what its monitor's `on_violation` says.

The event is SageMaker's "Processing Job State Change" of a monitoring run that completed with
violations (mlops_spec/monitor_violations.py says why this event), sent to this account's bus by the
monitor's own stack. The trigger function acts because it already sends requests through the normal
update path (as for deploys on approval). Every action emails the orchestrator's topic: the monitor,
the endpoint, the violated constraints (from the run's report when it can be read here) and where
the report is. Then:

- notify: nothing more.
- block: the monitored pipeline (the one whose endpoint the monitor watches) is marked blocked: its
  deploys then need an approved delivery run (lambda_src/provisioner/promotion.py) until a person
  sends it a new request version (an automated version, from the registry or a monitor, keeps it).
- rollback: the monitored pipeline's previous stored request version is sent again, as a new version
  through the normal update path; without a previous version nothing is sent and the email says so.
- retrain: the named training pipeline's request is sent again with a new job name (a new training
  run), whose registered model can come back through registry approval.

SageMaker may deliver an event more than once: the run is noted on the monitor's record first (a
compare-and-swap on its revision, lambda_src/registry/violations.py), and a run noted already does
nothing. An action that fails forgets the run again, so that Lambda's retry acts on it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from lambda_src.common import aws, submission
from lambda_src.common.errors import ApiError
from lambda_src.common.settings import Settings
from lambda_src.registry import PipelineRecord, Registry, Status, now
from lambda_src.registry import violations as notes
from mlops_spec import naming
from mlops_spec.approvers import Principal
from mlops_spec.monitor_violations import DETAIL_TYPE, SOURCE, VIOLATIONS, VIOLATIONS_FILE, schedule_name

if TYPE_CHECKING:  # pydantic stays out of the trigger's import (its cold start)
    from mlops_spec.base import PipelineSpec
    from mlops_spec.pipelines.monitors import MonitorSpec

logger = Logger(child=True)

GONE = frozenset({Status.DELETED, Status.DELETING, Status.REJECTED})
SOURCE_PREFIX = "monitor:"
# Lines of violated constraints an email lists; the report has them all.
LISTED_FINDINGS = 20
Announce = Callable[[str, str], None]


@dataclass(frozen=True)
class Violation:
    """One monitoring run that completed with violations."""

    run: str
    """The run's processing job ARN (its name when the event has no ARN): one action per run."""
    schedule: str
    exit_message: str
    report: str | None
    """The S3 URI of the run's output, where its report is."""

    @classmethod
    def parse(cls, event: dict[str, Any]) -> Violation | None:
        if event.get("source") != SOURCE or event.get("detail-type") != DETAIL_TYPE:
            return None
        detail = event.get("detail") or {}
        schedule_arn, message = detail.get("MonitoringScheduleArn"), detail.get("ExitMessage")
        run = detail.get("ProcessingJobArn") or detail.get("ProcessingJobName")
        if not (isinstance(schedule_arn, str) and isinstance(message, str) and isinstance(run, str)):
            return None
        if detail.get("ProcessingJobStatus") != "Completed" or not message.startswith(VIOLATIONS):
            return None
        outputs = (detail.get("ProcessingOutputConfig") or {}).get("Outputs") or [{}]
        report = (outputs[0].get("S3Output") or {}).get("S3Uri")
        return cls(run, schedule_name(schedule_arn).lower(), message, report if isinstance(report, str) else None)

    @property
    def report_file(self) -> str | None:
        return f"{self.report.rstrip('/')}/{VIOLATIONS_FILE}" if self.report else None


@dataclass(frozen=True)
class Watch:
    """The monitor whose run it was, the environment it ran in, and the endpoint it watches there."""

    record: PipelineRecord
    spec: MonitorSpec
    env: str
    endpoint: str


@dataclass(frozen=True)
class Outcome:
    result: str
    lines: tuple[str, ...]


def handle(event: dict[str, Any], config: Settings, announce: Announce) -> dict[str, Any]:
    """Act once on one run with violations, as its monitor says; ignored when no monitor here ran it."""
    violation = Violation.parse(event)
    if violation is None:
        return {"outcome": "ignored"}
    registry = Registry(config.registry_table)
    specs = _stored_specs(registry, config)
    watch = find_monitor(specs, violation.schedule, config)
    if watch is None:
        logger.info("violations of a schedule no monitor here runs", schedule=violation.schedule)
        return {"outcome": "ignored", "why": f"no monitor runs schedule {violation.schedule}"}
    monitor_id, action = watch.record.pipeline_id, watch.spec.violation_action
    entry = {"execution": violation.run, "at": now(), "action": action}
    if not notes.claim_run(registry, monitor_id, entry):
        return {"outcome": "already handled", "pipeline_id": monitor_id, "run": violation.run}
    try:
        outcome = ACTIONS[action](watch, violation, specs, config)
    except Exception:
        notes.release_run(registry, monitor_id, violation.run)
        raise
    announce(subject(watch), message(watch, violation, outcome, read_findings(violation.report_file)))
    logger.info("monitor violations acted on", pipeline_id=monitor_id, action=action, result=outcome.result)
    return {"outcome": outcome.result, "pipeline_id": monitor_id, "action": action, "run": violation.run}


def _stored_specs(registry: Registry, config: Settings) -> list[tuple[PipelineRecord, PipelineSpec]]:
    """Every live pipeline with the request it holds, read under today's rules."""
    found = []
    for record in registry.each():
        spec = submission.stored_spec(record, config) if record.status not in GONE else None
        if spec is not None:
            found.append((record, spec))
    return found


def find_monitor(specs: list[tuple[PipelineRecord, PipelineSpec]], schedule: str, config: Settings) -> Watch | None:
    """The monitor whose schedule (in one of its environments) is `schedule`."""
    from mlops_spec.pipelines.monitors import MonitorSpec

    for record, spec in specs:
        if not isinstance(spec, MonitorSpec):
            continue
        for env in spec.environments(config.mode, home=config.orchestrator_environment):
            if spec.monitoring_schedule_name(env).lower() == schedule:
                return Watch(record, spec, env, str(spec.for_env(env).endpoint_name))
    return None


def find_monitored(specs: list[tuple[PipelineRecord, PipelineSpec]], watch: Watch) -> PipelineRecord | None:
    """The real-time pipeline serving the watched endpoint in the monitor's environment."""
    from mlops_spec.pipelines.realtime import RealtimeFields

    for record, spec in specs:
        if isinstance(spec, RealtimeFields) and watch.env in record.environments:
            named = spec.for_env(watch.env).endpoint_name  # type: ignore[arg-type]
            default = naming.resource_name(record.pipeline_id, watch.env, "endpoint")
            if (named or default) == watch.endpoint:
                return record
    return None


# -- the actions ---------------------------------------------------------------------------------
def notify(watch: Watch, violation: Violation, specs: list[Any], config: Settings) -> Outcome:
    return Outcome("notified", ())


def block(watch: Watch, violation: Violation, specs: list[Any], config: Settings) -> Outcome:
    monitored = find_monitored(specs, watch)
    if monitored is None:
        return Outcome("not blocked", (f"No pipeline of this orchestrator serves {watch.endpoint}: nothing blocked.",))
    note = {"monitor": watch.record.pipeline_id, "run": violation.run, "at": now(), "environment": watch.env}
    before = notes.block(Registry(config.registry_table), monitored.pipeline_id, note)
    if before is not None and before.blocked:
        return Outcome("already blocked", (f"{monitored.pipeline_id} was already blocked by {before.blocked}.",))
    return Outcome(
        "blocked",
        (
            f"Promotions of {monitored.pipeline_id} now wait for a person: its deploys need an approved delivery run",
            "until someone sends it a new request version (versions from the model registry or a monitor keep",
            "the block).",
        ),
    )


def rollback(watch: Watch, violation: Violation, specs: list[Any], config: Settings) -> Outcome:
    monitored = find_monitored(specs, watch)
    if monitored is None:
        return Outcome("not rolled back", (f"No pipeline of this orchestrator serves {watch.endpoint}.",))
    previous = previous_request(monitored, config)
    if previous is None:
        return Outcome(
            "not rolled back",
            (f"{monitored.pipeline_id} has no previous request version to return to: nothing was sent.",),
        )
    version, body = previous
    return _send(body, watch, config, f"{monitored.pipeline_id} returns to its request version {version}")


def retrain(watch: Watch, violation: Violation, specs: list[Any], config: Settings) -> Outcome:
    training_id = str(watch.spec.retrain_pipeline_id)
    found = next(((r, s) for r, s in specs if r.pipeline_id == training_id), None)
    limit = getattr(type(found[1]), "JOB_NAME_LIMIT", None) if found else None
    if found is None or limit is None or "job_name" not in type(found[1]).model_fields:
        return Outcome("not retrained", (f"{training_id} is not a training pipeline of this orchestrator.",))
    body = {**(found[0].spec_document() or {}), "job_name": retrain_job_name(training_id, violation.run, limit)}
    return _send(body, watch, config, f"{training_id} trains again as job {body['job_name']}")


ACTIONS: dict[str, Callable[[Watch, Violation, list[Any], Settings], Outcome]] = {
    "notify": notify,
    "block": block,
    "rollback": rollback,
    "retrain": retrain,
}


def _send(body: dict[str, Any], watch: Watch, config: Settings, what: str) -> Outcome:
    """`body` through the normal update path, as the monitor's version (no person's client token). Its
    requester is the monitor's: who asked for this action, who then may not approve its promotion to prod."""
    body.pop("client_token", None)
    asked_by = Principal.from_dict(watch.record.requested_by) if watch.record.requested_by else None
    try:
        request = submission.plan(body, config)
        source = f"{SOURCE_PREFIX} {watch.record.pipeline_id}"
        sent = submission.submit(request, config, source=source, requested_by=asked_by)
    except ApiError as refused:
        # A pipeline busy with another operation, or a request today's rules refuse: said, not retried.
        return Outcome("refused", (f"Not done: {what}: {refused}",))
    except submission.ProvisioningNotStarted:
        # The version is recorded (FAILED, retryable): acting again would step back from it instead.
        return Outcome("not started", (f"{what}: recorded, but its provisioning could not start: send it again.",))
    state = f"queued as version {sent.record.version}" if sent.queued else "already its current request"
    return Outcome("queued" if sent.queued else "unchanged", (f"{what}: {state}.",))


def previous_request(record: PipelineRecord, config: Settings) -> tuple[int, dict[str, Any]] | None:
    """The newest stored request before the record's version (the assets bucket keeps every version of
    a pipeline's spec.json, each naming its spec version); None when there is none."""
    s3, key = aws.client("s3"), naming.spec_key(record.pipeline_id)
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=config.assets_bucket, Prefix=key)
    stored = [v for page in pages for v in page.get("Versions", []) if v.get("Key") == key]
    for item in sorted(stored, key=lambda v: v["LastModified"], reverse=True):
        response = s3.get_object(Bucket=config.assets_bucket, Key=key, VersionId=item["VersionId"])
        version = int(response.get("Metadata", {}).get("spec-version", "0") or 0)
        if 0 < version < record.version:
            return version, json.loads(response["Body"].read())
    return None


def retrain_job_name(training_id: str, run: str, limit: int) -> str:
    """A new job name for each run that asks for retraining (SageMaker never reuses a job name)."""
    suffix = f"-rt{naming.short_hash(run)}"
    return training_id[: limit - len(suffix)].rstrip("-") + suffix


# -- the email -----------------------------------------------------------------------------------
def read_findings(report_file: str | None) -> list[str] | None:
    """The violated constraints the run's report lists; None when it cannot be read from here (another
    account's bucket, or no access): the email then names where it is."""
    if report_file is None:
        return None
    bucket, _, key = report_file.removeprefix("s3://").partition("/")
    try:
        report = json.loads(aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    except Exception as exc:
        logger.info("violations report not readable here", report=report_file, error=str(exc))
        return None
    found = report.get("violations") if isinstance(report, dict) else None
    return [_finding(v) for v in found if isinstance(v, dict)] if isinstance(found, list) else None


def _finding(violation: dict[str, Any]) -> str:
    what = violation.get("feature_name") or violation.get("metric_name") or violation.get("facet") or "(model)"
    return f"- {what}: {violation.get('constraint_check_type', 'violation')}: {violation.get('description', '')}"


def subject(watch: Watch) -> str:
    return f"MLOps monitor {watch.record.pipeline_id}: violations on {watch.endpoint}"[:100]


def message(watch: Watch, violation: Violation, outcome: Outcome, findings: list[str] | None) -> str:
    lines = [
        f"Monitor {watch.record.pipeline_id} ({watch.spec.pipeline_type}) found violations on endpoint "
        f"{watch.endpoint} ({watch.env}).",
        f"Run: {violation.run}",
        f"Result: {violation.exit_message}",
        f"Report: {violation.report_file or 'not named by the run'}",
        "",
    ]
    if findings is None:
        lines.append("Violated constraints: see the report above.")
    else:
        listed = findings[:LISTED_FINDINGS]
        more = len(findings) - len(listed)
        lines += ["Violated constraints:", *listed, *([f"... and {more} more in the report."] if more > 0 else [])]
    lines += ["", f"on_violation: {watch.spec.violation_action}: {outcome.result}.", *outcome.lines]
    return "\n".join(lines)
