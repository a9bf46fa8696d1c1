"""Monitors that act: a monitoring run with violations does what its monitor's `on_violation` says.

The event is SageMaker's "Processing Job State Change" of a monitoring run that completed with
violations (mlops_spec/monitor_violations.py says why this event), sent to this account's bus by the
monitor's own stack. The trigger function acts because it already sends requests through the normal
update path (as for deploys on approval). A run is a monitor's only when its schedule ARN, account and
region are that monitor's own in the environment (monitor_targets.py). Every action emails the
orchestrator's topic: the monitor, the endpoint, the violated constraints (from the run's report, read
only inside the monitor's own monitoring_output_location) and where the report is. Then:

- notify: nothing more.
- block: the monitored pipeline is marked blocked: its deploys then need an approved delivery run
  (lambda_src/provisioner/promotion.py) and its approvals are refused (lambda_src/api/approvals.py)
  until a known person sends it a new request version (an automated version keeps it).
- rollback: the monitored pipeline's last deployed version before the one live when the run happened
  is sent again, as a new version through the normal update path, only while the version live then is
  still DEPLOYED and the pipeline's (a compare-and-swap on it; else the email says why not); its
  requester is the monitor's, and the requester of the version sent again, and whoever it barred, may
  not approve it into prod either.
- retrain: the named training pipeline's request is sent again with a new job name (a new training
  run), whose registered model can come back through registry approval; the training request's
  requester (and whoever it barred) may not approve it into prod.
Block, rollback and retrain act only on pipelines of the monitor's own owner (registry/monitored.py).

SageMaker may deliver an event more than once: the run is noted on the monitor's record first (a
compare-and-swap on its revision, lambda_src/registry/violations.py), and a run noted already does
nothing. Anything that fails (the action, the email) forgets the run again, so that Lambda's retry acts:
each version an action sends carries a client token derived from the run, so the retry replays it
instead of sending another.
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
from lambda_src.registry import PipelineRecord, Registry, now
from lambda_src.registry import violations as notes
from lambda_src.registry.monitored import monitored_pipeline, owner_problems, still_serves
from lambda_src.registry.record import entry_barred, union_of_principals
from lambda_src.trigger import monitor_targets as targets
from mlops_spec import naming
from mlops_spec.approvers import Principal
from mlops_spec.monitor_violations import DETAIL_TYPE, SOURCE, VIOLATIONS, VIOLATIONS_FILE, schedule_name

if TYPE_CHECKING:  # pydantic stays out of the trigger's import (its cold start)
    from mlops_spec.pipelines.monitors import MonitorSpec

logger = Logger(child=True)

SOURCE_PREFIX = "monitor:"
# Lines of violated constraints an email lists; the report has them all.
LISTED_FINDINGS = 20
Announce = Callable[[str, str], None]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Violation:
    """One monitoring run that completed with violations."""

    run: str
    """The run's processing job ARN (its name when the event has no ARN): one action per run."""
    schedule_arn: str
    exit_message: str
    report: str | None
    """The S3 URI of the run's output, where its report is."""
    account: Any = None
    region: Any = None
    at: str | None = None
    """When the run's state changed (the event's time)."""

    @classmethod
    def parse(cls, event: Any) -> Violation | None:
        """The run an event names; None for any other event, or one whose fields are not as SageMaker
        writes them (every field is checked for its type: nothing in the event is trusted)."""
        if not isinstance(event, dict) or event.get("source") != SOURCE or event.get("detail-type") != DETAIL_TYPE:
            return None
        detail = _mapping(event.get("detail"))
        schedule, message = _text(detail.get("MonitoringScheduleArn")), _text(detail.get("ExitMessage"))
        run = _text(detail.get("ProcessingJobArn")) or _text(detail.get("ProcessingJobName"))
        if not (schedule and message and run) or detail.get("ProcessingJobStatus") != "Completed":
            return None
        if not message.startswith(VIOLATIONS):
            return None
        outputs = _mapping(detail.get("ProcessingOutputConfig")).get("Outputs")
        first = _mapping(outputs[0]) if isinstance(outputs, list) and outputs else {}
        report = _text(_mapping(first.get("S3Output")).get("S3Uri"))
        return cls(run, schedule, message, report, event.get("account"), event.get("region"), _text(event.get("time")))

    @property
    def schedule(self) -> str:
        return schedule_name(self.schedule_arn).lower()

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

    @property
    def reports(self) -> str:
        """Where the monitor's runs write their reports (s3://bucket/prefix/)."""
        return f"s3://{str(self.spec.for_env(self.env).monitoring_output_location).strip('/')}/"  # type: ignore[arg-type]


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
    records = targets.Records(registry)
    watch = find_monitor(records, violation, config)
    if watch is None:
        logger.info("violations of a schedule no monitor here runs", schedule=violation.schedule_arn)
        return {"outcome": "ignored", "why": f"no monitor of this orchestrator runs {violation.schedule_arn}"}
    monitor_id, action = watch.record.pipeline_id, watch.spec.violation_action
    entry = {"execution": violation.run, "at": now(), "action": action}
    if not notes.claim_run(registry, monitor_id, entry):
        return {"outcome": "already handled", "pipeline_id": monitor_id, "run": violation.run}
    try:
        outcome = ACTIONS[action](watch, violation, records, config)
        report = violation.report_file if (violation.report or "").startswith(watch.reports) else None
        announce(subject(watch), message(watch, violation, outcome, read_findings(report)))
    except Exception:
        # Retried by Lambda: the versions sent carry the run's client token, so the retry replays them.
        notes.release_run(registry, monitor_id, violation.run)
        raise
    logger.info("monitor violations acted on", pipeline_id=monitor_id, action=action, result=outcome.result)
    return {"outcome": outcome.result, "pipeline_id": monitor_id, "action": action, "run": violation.run}


def find_monitor(records: targets.Records, violation: Violation, config: Settings) -> Watch | None:
    """The monitor whose schedule (in one of its environments) ran the run, from that environment's own
    account and this region: the monitor its schedule's name names, else any monitor of the table."""
    named = [records.get(pipeline_id) for pipeline_id in targets.monitor_ids(violation.schedule)]
    for record in named:
        watch = _watch_of(record, violation, config) if record is not None else None
        if watch is not None:
            return watch
    # A schedule name that had to be shortened names no monitor: each monitor of the table is asked.
    return next(filter(None, (_watch_of(record, violation, config) for record in records.live())), None)


def _watch_of(record: PipelineRecord, violation: Violation, config: Settings) -> Watch | None:
    """The monitor of `record` as the run's, when one of its schedules is exactly the run's (only
    monitors' requests are read)."""
    from mlops_spec.pipeline_types import spec_type
    from mlops_spec.pipelines.monitors import MonitorSpec

    kind = spec_type(record.pipeline_type)
    spec = submission.stored_spec(record, config) if kind is not None and issubclass(kind, MonitorSpec) else None
    if not isinstance(spec, MonitorSpec):
        return None
    accounts = targets.environment_accounts()
    for env in spec.environments(config.mode, home=config.orchestrator_environment):
        expected = targets.expected_schedule_arn(spec.monitoring_schedule_name(env), env, accounts, config)
        if targets.from_schedule(violation.account, violation.region, violation.schedule_arn, expected):
            return Watch(record, spec, env, str(spec.for_env(env).endpoint_name))
    return None


def find_monitored(records: targets.Records, watch: Watch, config: Settings) -> PipelineRecord | None:
    """The pipeline the monitor's record names while it still serves the watched endpoint for the
    monitor's owner; else (and the first time) the one DEPLOYED real-time pipeline of the monitor's owner
    serving it, recorded; None when there is none (nothing is acted on)."""
    recorded = records.get(watch.record.monitored) if watch.record.monitored else None
    if recorded is not None and still_serves(recorded, watch.endpoint, watch.env, watch.record.owner):
        return recorded
    pipeline_id = monitored_pipeline(records.live(), watch.endpoint, watch.env, watch.record.owner)
    current = records.registry.get(watch.record.pipeline_id)  # as it is now: the run's note changed it
    if pipeline_id is not None and current is not None and current.version == watch.record.version:
        notes.record_monitored(records.registry, current, pipeline_id)
    return records.get(pipeline_id) if pipeline_id else None


# -- the actions ---------------------------------------------------------------------------------
def notify(watch: Watch, violation: Violation, records: targets.Records, config: Settings) -> Outcome:
    return Outcome("notified", ())


def _target(watch: Watch, records: targets.Records, config: Settings, what: str) -> PipelineRecord | Outcome:
    """The monitored pipeline, or the Outcome saying why nothing is done to it."""
    monitored = find_monitored(records, watch, config)
    if monitored is None:
        return Outcome(
            f"not {what}",
            (f"No deployed pipeline of {watch.record.owner or 'no owner'} serves {watch.endpoint}: nothing {what}.",),
        )
    problems = owner_problems(watch.record.owner, monitored, None)
    return Outcome(f"not {what}", tuple(f"Not done: {p}." for p in problems)) if problems else monitored


def block(watch: Watch, violation: Violation, records: targets.Records, config: Settings) -> Outcome:
    monitored = _target(watch, records, config, "blocked")
    if isinstance(monitored, Outcome):
        return monitored
    note = {"monitor": watch.record.pipeline_id, "run": violation.run, "at": now(), "environment": watch.env}
    before = notes.block(Registry(config.registry_table), monitored.pipeline_id, note)
    if before is not None and before.blocked and before.blocked.get("run") != violation.run:
        return Outcome("already blocked", (f"{monitored.pipeline_id} was already blocked by {before.blocked}.",))
    return Outcome(
        "blocked",
        (
            f"Promotions of {monitored.pipeline_id} now wait for a person: its deploys need an approved delivery run",
            "and its approvals are refused until someone sends it a new request version (versions from the model",
            "registry, a monitor or an automatic remediation keep the block).",
        ),
    )


def rollback(watch: Watch, violation: Violation, records: targets.Records, config: Settings) -> Outcome:
    monitored = _target(watch, records, config, "rolled back")
    if isinstance(monitored, Outcome):
        return monitored
    entry = targets.rollback_target(monitored.deployed, violation.at)
    what = f"{monitored.pipeline_id} returns to its deployed version {entry['version'] if entry else '?'}"
    if entry is not None and targets.sent_by(monitored, run_token(watch.record.pipeline_id, violation.run)):
        return Outcome("unchanged", (f"{what}: already its current request.",))  # a retried event
    refusal = targets.rollback_refusal(monitored, targets.live_at(monitored.deployed, violation.at))
    if refusal is not None:
        return Outcome("not rolled back", (f"Not done: {monitored.pipeline_id} was not rolled back: {refusal}.",))
    body = stored_request(monitored, int(entry["version"]), config) if entry else None
    if entry is None or body is None:
        return Outcome(
            "not rolled back",
            (f"{monitored.pipeline_id} has no earlier deployed version to return to: nothing was sent.",),
        )
    # Whoever that version barred stays barred: its request is still its author's, however often re-sent.
    barred = tuple(Principal.from_dict(b) for b in entry_barred(entry))
    return _send(
        body, watch, violation, config, what, expected_hash=entry.get("spec_hash"), barred=barred, over=monitored
    )


def retrain(watch: Watch, violation: Violation, records: targets.Records, config: Settings) -> Outcome:
    training_id = str(watch.spec.retrain_pipeline_id)
    found = records.get(training_id)
    spec = submission.stored_spec(found, config) if found else None
    limit = getattr(type(spec), "JOB_NAME_LIMIT", None)
    if found is None or spec is None or limit is None or "job_name" not in type(spec).model_fields:
        return Outcome("not retrained", (f"{training_id} is not a training pipeline of this orchestrator.",))
    problems = owner_problems(watch.record.owner, None, found)
    if problems:
        return Outcome("not retrained", tuple(f"Not done: {p}." for p in problems))
    body = {**(found.spec_document() or {}), "job_name": retrain_job_name(training_id, violation.run, limit)}
    # The training request is its requester's (and whoever it barred): they may not approve its new model.
    barred = tuple(Principal.from_dict(b) for b in union_of_principals((found.requested_by, *found.barred)))
    return _send(body, watch, violation, config, f"{training_id} trains again as job {body['job_name']}", barred=barred)


ACTIONS: dict[str, Callable[[Watch, Violation, targets.Records, Settings], Outcome]] = {
    "notify": notify,
    "block": block,
    "rollback": rollback,
    "retrain": retrain,
}


def run_token(monitor_id: str, run: str) -> str:
    """The client token of the version a monitor's action sends for a run: a retried event replays it."""
    return f"monitor-{naming.short_hash(f'{monitor_id}|{run}', 32)}"


def _send(
    body: dict[str, Any],
    watch: Watch,
    violation: Violation,
    config: Settings,
    what: str,
    *,
    expected_hash: str | None = None,
    barred: tuple[Principal, ...] = (),
    over: PipelineRecord | None = None,
) -> Outcome:
    """`body` through the normal update path, as the monitor's version. Its requester is the monitor's
    (who asked for this action, who then may not approve its promotion to prod), and so are `barred`.
    With `over`: queued only while the pipeline is still at that record's version (targets.queue_over)."""
    body = {**body, "client_token": run_token(watch.record.pipeline_id, violation.run)}
    asked_by = Principal.from_dict(watch.record.requested_by) if watch.record.requested_by else None
    try:
        request = submission.plan(body, config)
        if expected_hash is not None and request.spec_hash != expected_hash:
            return Outcome("refused", (f"Not done: {what}: its stored request is not the one that deployed.",))
        source = f"{SOURCE_PREFIX} {watch.record.pipeline_id}"
        if over is None:
            sent = submission.submit(request, config, source=source, requested_by=asked_by, barred=barred)
        else:
            sent = targets.queue_request(over, request, config, source, asked_by, barred)
    except ApiError as refused:
        # A pipeline busy with another operation, or a request today's rules refuse: said, not retried.
        return Outcome("refused", (f"Not done: {what}: {refused}",))
    except submission.ProvisioningNotStarted:
        # The version is recorded (FAILED, retryable): sending the request again starts it.
        return Outcome("not started", (f"{what}: recorded, but its provisioning could not start: send it again.",))
    state = f"queued as version {sent.record.version}" if sent.queued else "already its current request"
    return Outcome("queued" if sent.queued else "unchanged", (f"{what}: {state}.",))


def stored_request(record: PipelineRecord, version: int, config: Settings) -> dict[str, Any] | None:
    """The request of `version` of the pipeline, as the assets bucket keeps it (every version of its
    spec.json, each naming its spec version in its metadata); None when it is not kept."""
    s3, key = aws.client("s3"), naming.spec_key(record.pipeline_id)
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=config.assets_bucket, Prefix=key)
    for item in (v for page in pages for v in page.get("Versions", []) if v.get("Key") == key):
        head = s3.head_object(Bucket=config.assets_bucket, Key=key, VersionId=item["VersionId"])
        if head.get("Metadata", {}).get("spec-version") == str(version):
            response = s3.get_object(Bucket=config.assets_bucket, Key=key, VersionId=item["VersionId"])
            document = json.loads(response["Body"].read())
            return document if isinstance(document, dict) else None
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
