"""Lambda entry of the provisioner: the API's async "provision" and "delete" requests -> Pulumi stacks + registry."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from lambda_src.common import aws
from lambda_src.provisioner import builds, drift, preflight, runs, source, state_guard, teardown
from lambda_src.provisioner.claims import already_claimed, claimable, held_by, invocation_id, skipped
from lambda_src.provisioner.errors import ProvisioningError, SpecUnavailable, TimedOut
from lambda_src.provisioner.program import delivery_program, stack_config, target_program
from lambda_src.provisioner.runner import (
    DELIVERY_RETRY,
    TEARDOWN_DELIVERY_RETRY,
    AutomationStackRunner,
    PulumiProgram,
    RetryPolicy,
    RunnerConfig,
    StackRunner,
    classify,
    locks_dead_before,
)
from lambda_src.provisioner.settings import ProvisionerSettings
from lambda_src.registry import (
    EXECUTION_PENDING,
    ConcurrentUpdate,
    InvalidTransition,
    PipelineRecord,
    RecordNotFound,
    Registry,
    Status,
)
from lambda_src.status_events import records
from mlops_spec import naming
from mlops_spec.base import PipelineSpec

logger = Logger(service="mlops-provisioner")
# The runner logs through the standard library; Lambda drops INFO unless asked.
logging.getLogger("lambda_src").setLevel(logging.INFO)

# Record a timeout this long before Lambda cuts the run off, so the registry never stays PROVISIONING.
TIMEOUT_MARGIN_SECONDS = 30

RunnerFactory = Callable[[RetryPolicy], StackRunner]


# -- decisions -----------------------------------------------------------------------------------------
def destroy_order(environments: tuple[str, ...] | list[str]) -> list[str]:
    """Target stacks last-deployed-first (prod, staging, dev), then nothing depends on what goes."""
    return list(reversed(list(environments)))


def _noop_program() -> None:
    """Destroying needs no program (Pulumi works from the state); used when the spec cannot be read."""


# -- the service ---------------------------------------------------------------------------------------
@dataclass
class Provisioner:
    settings: ProvisionerSettings
    registry: Registry
    runners: RunnerFactory
    s3: Any
    codepipeline: Any
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    on_output: Callable[[str], Any] | None = None
    sns_client: Any = None
    codebuild_client: Any = None
    sleep: Callable[[float], None] = time.sleep
    quotas_for: preflight.QuotasFor | None = None

    @property
    def sns(self) -> Any:
        """For result emails of runs that ended before the provisioner recorded them."""
        return self.sns_client or aws.client("sns")

    @property
    def codebuild(self) -> Any:
        """To stop a deleted pipeline's running deploy builds."""
        return self.codebuild_client or aws.client("codebuild")

    @classmethod
    def from_env(cls) -> Provisioner:
        settings = ProvisionerSettings.from_env()
        config = RunnerConfig.from_settings(settings)
        return cls(
            settings=settings,
            registry=Registry(settings.registry_table),
            runners=lambda retry: AutomationStackRunner(config, retry=retry),
            s3=aws.client("s3"),
            codepipeline=aws.client("codepipeline"),
            on_output=lambda line: logger.info(line),
        )

    # -- provision ---------------------------------------------------------------------------------------
    def provision(self, pipeline_id: str, version: int | None, context: Any = None) -> dict[str, Any]:
        record = self.registry.get(pipeline_id)
        if not claimable(record, Status.QUEUED, version):
            return skipped(pipeline_id, "provision", record)
        if not self._claim_provisioning(record):
            return already_claimed(pipeline_id, "provision")
        with self._guard(pipeline_id, record.version, Status.PROVISIONING, context):
            spec_json = self._read_spec(pipeline_id)
            spec = self._parse(spec_json, pipeline_id)
            # Before anything is created: a quota that cannot hold the request refuses it here.
            preflight.check(spec, self.settings, self.registry, self._quotas_for(), self._spec_of)
            self._write_source(pipeline_id, spec_json)
            started = self.clock()
            outputs = self._up_delivery(spec)
            name = str(outputs["pipeline_name"])
            if not self._still_provisioning(pipeline_id, record.version):
                # Deleted (or superseded) during the `up`: the run CodePipeline started by itself
                # must not deploy what is being destroyed, nor any build it has started already.
                runs.stop_running(self.codepipeline, name)
                self._stop_deploy_builds(pipeline_id, list(outputs.get("environments") or ()))
                return skipped(pipeline_id, "provision", self.registry.get(pipeline_id))
            execution = runs.started_during(runs.executions_or_none(self.codepipeline, name), started)
            if execution is None:
                execution = self.codepipeline.start_pipeline_execution(name=name)
                logger.info("delivery pipeline run started", pipeline_id=pipeline_id, codepipeline=name)
            execution_id = str(execution["pipelineExecutionId"])
            # From here on the status function applies this run's events (and only this run's).
            recorded = records.merge_outputs(
                self.registry,
                pipeline_id,
                "delivery",
                outputs,
                codepipeline_name=name,
                expected_version=record.version,
                expected_status=Status.PROVISIONING,
                execution_id=execution_id,
            )
            if recorded is None:
                runs.stop_running(self.codepipeline, name)  # the record moved on between our check and the start
                return skipped(pipeline_id, "provision", self.registry.get(pipeline_id))
            self._catch_up(pipeline_id, name, execution_id)
            return {"pipeline_id": pipeline_id, "action": "provision", "codepipeline_name": name}
        return {"pipeline_id": pipeline_id, "action": "provision", "status": str(Status.FAILED)}

    def _quotas_for(self) -> preflight.QuotasFor:
        return self.quotas_for or preflight.quotas_reader(self.settings)

    def _claim_provisioning(self, record: PipelineRecord) -> bool:
        """QUEUED -> PROVISIONING on condition that the record is still QUEUED at this version: of two
        deliveries of the same request (or a re-sent start) exactly one wins, and the other stops."""
        try:
            self.registry.transition(
                record.pipeline_id,
                Status.PROVISIONING,
                expected_status=Status.QUEUED,
                expected_version=record.version,
                execution_id=EXECUTION_PENDING,
            )
        except (ConcurrentUpdate, InvalidTransition, RecordNotFound):
            return False
        return True

    def _still_provisioning(self, pipeline_id: str, version: int) -> bool:
        current = self.registry.get(pipeline_id)
        return current is not None and current.status == Status.PROVISIONING and current.version == version

    def _catch_up(self, pipeline_id: str, name: str, execution_id: str) -> None:
        """Events of the run that arrived before its id was recorded were dropped: if the run has
        already ended, record its end now (best effort; its later events are applied anyway)."""
        from lambda_src.status_events.handler import StatusUpdater

        updater = StatusUpdater(
            self.registry, self.codepipeline, self.sns, self.settings.notification_topic_arn, self.settings.region
        )
        try:
            updater.catch_up(pipeline_id, name, execution_id)
        except Exception as exc:
            logger.warning("could not read the started run", pipeline_id=pipeline_id, error=str(exc))

    def _up_delivery(self, spec: PipelineSpec) -> dict[str, Any]:
        with closing(self.runners(DELIVERY_RETRY)) as runner:
            runner.select_or_create(naming.delivery_stack_name(spec.pipeline_id), delivery_program(spec, self.settings))
            runner.set_config(stack_config(spec, "delivery", self.settings))
            return runner.up(self.on_output).outputs

    # -- delete ------------------------------------------------------------------------------------------
    def delete(self, pipeline_id: str, version: int | None, context: Any = None) -> dict[str, Any]:
        """Claim the deletion and hand it to a teardown build, which has no 15-minute limit."""
        record = self.registry.get(pipeline_id)
        if not claimable(record, Status.DELETING, version):
            return skipped(pipeline_id, "delete", record)
        # DELETING stays DELETING while the stacks go: the claim is the invocation's id on the record,
        # so a second delivery of the same request (or a re-sent start) does not destroy in parallel.
        claim = invocation_id(context)
        if not self.registry.claim_deletion(pipeline_id, record.version, claim):
            return already_claimed(pipeline_id, "delete")
        if record.teardown_build and record.teardown_claim == claim:
            # A retry of this invocation after it started its build: that build is the deletion.
            return {"pipeline_id": pipeline_id, "action": "delete", "teardown_build": record.teardown_build}
        with self._guard(pipeline_id, record.version, Status.DELETING, context):
            request = teardown.TeardownRequest(pipeline_id, record.version, claim, record.teardown_build)
            build_id = teardown.start(self.codebuild, self.settings.orchestrator.teardown_project, request)
            if not self.registry.record_teardown(pipeline_id, record.version, claim, build_id):
                # The record moved on: the build finds it so and destroys nothing.
                logger.warning("teardown build started for a record that moved on", pipeline_id=pipeline_id)
            logger.info("teardown build started", pipeline_id=pipeline_id, build=build_id)
            return {"pipeline_id": pipeline_id, "action": "delete", "teardown_build": build_id}
        return {"pipeline_id": pipeline_id, "action": "delete", "status": str(Status.FAILED)}

    def tear_down(self, request: teardown.TeardownRequest) -> dict[str, Any]:
        """In the teardown build: stop the pipeline's runs and builds, destroy its delivery stack (then
        nothing can start a deploy any more), then its target stacks, and record DELETED. Each step
        runs only while the record still carries this build's claim."""
        record = self.registry.get(request.pipeline_id)
        if not held_by(record, request):
            return skipped(request.pipeline_id, "delete", record)
        with self._guard(request.pipeline_id, request.version, Status.DELETING, None):
            return self._tear_down(record, request)
        return {"pipeline_id": request.pipeline_id, "action": "delete", "status": str(Status.FAILED)}

    def _tear_down(self, record: PipelineRecord, request: teardown.TeardownRequest) -> dict[str, Any]:
        pipeline_id = record.pipeline_id
        self._stop_everything_running(record, request)
        spec = self._spec_of(record)
        program = delivery_program(spec, self.settings) if spec else _noop_program
        # A provisioner run may still hold the delivery stack: waiting it out, the teardown also waits
        # for that run to stop what it started (see provision).
        self._destroy(naming.delivery_stack_name(pipeline_id), program, TEARDOWN_DELIVERY_RETRY)
        door_closed = self.clock()
        for env in destroy_order(self._environments(record, spec)):
            if not held_by(self.registry.get(pipeline_id), request):
                return skipped(pipeline_id, "delete", self.registry.get(pipeline_id))
            program = target_program(spec, env, self.settings) if spec else _noop_program
            # Locks taken before the door closed are stopped runs'; a younger one is someone's live deploy.
            retry = locks_dead_before(self.clock() - door_closed)
            self._destroy(naming.target_stack_name(pipeline_id, env), program, retry, env)
        deleted = records.set_status(
            self.registry,
            pipeline_id,
            Status.DELETED,
            expected_status=Status.DELETING,
            expected_version=request.version,
            outputs={},
        )
        if deleted is None:
            return skipped(pipeline_id, "delete", self.registry.get(pipeline_id))
        return {"pipeline_id": pipeline_id, "action": "delete", "status": str(Status.DELETED)}

    def _environments(self, record: PipelineRecord, spec: PipelineSpec | None) -> list[str]:
        if record.environments:
            return list(record.environments)
        if spec is None:
            return []
        return list(spec.environments(self.settings.mode, home=self.settings.orchestrator_environment))  # type: ignore[arg-type]

    def _stop_everything_running(self, record: PipelineRecord, request: teardown.TeardownRequest) -> None:
        """Nothing may re-create a stack while the stacks go, or hold a lock a destroy would wait for:
        the delivery runs, then every deploy build of the pipeline and the previous teardown build."""
        if record.codepipeline_name:
            runs.stop_running(self.codepipeline, record.codepipeline_name)
        self._stop_deploy_builds(record.pipeline_id, record.environments)
        if request.previous_build:
            builds.stop_and_wait_builds(self.codebuild, [request.previous_build], sleep=self.sleep)

    def _stop_deploy_builds(self, pipeline_id: str, environments: tuple[str, ...] | list[str]) -> None:
        envs = environments or tuple(self.settings.accounts)
        projects = [naming.deploy_project_name(pipeline_id, env) for env in envs]
        builds.stop_and_wait(self.codebuild, projects, sleep=self.sleep)

    def _destroy(self, stack_name: str, program: PulumiProgram, retry: RetryPolicy, env: str | None = None) -> None:
        """Destroy the stack and forget it; a target stack (`env`) only if its state is that environment's."""
        with closing(self.runners(retry)) as runner:
            if runner.select_existing(stack_name, program):
                if env is not None:
                    state_guard.guard_target(runner, stack_name, env, self.settings)
                runner.destroy_and_remove(self.on_output)
                logger.info("stack destroyed", stack=stack_name)
            else:
                logger.info("stack does not exist; nothing to destroy", stack=stack_name)

    # -- drift -----------------------------------------------------------------------------------------
    def check_drift(self, pipeline_id: str, version: int | None) -> dict[str, Any]:
        """A preview-only refresh of each deployed target stack, recorded and announced (drift.py)."""
        return drift.check(
            pipeline_id,
            version,
            registry=self.registry,
            runners=self.runners,
            settings=self.settings,
            spec_of=self._spec_of,
            announce=drift.announcer(self.sns, self.settings.notification_topic_arn),
            clock=self.clock,
        )

    # -- failures ----------------------------------------------------------------------------------------
    @contextmanager
    def _guard(self, pipeline_id: str, version: int, claimed: Status, context: Any) -> Iterator[None]:
        """Every failure ends in FAILED with its reason, also when Lambda is about to cut the run off.

        Only the status this run claimed is failed: if the record has moved on meanwhile (its
        delivery run reported progress), that is the better account of it.
        """
        timer = self._watchdog(pipeline_id, version, claimed, context)
        try:
            yield
        except Exception as exc:
            error = classify(exc)
            logger.exception("provisioning failed", pipeline_id=pipeline_id, reason=error.reason)
            self._fail(pipeline_id, version, error, claimed)
        finally:
            if timer is not None:
                timer.cancel()

    def _watchdog(self, pipeline_id: str, version: int, claimed: Status, context: Any) -> threading.Timer | None:
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        if remaining is None:
            return None
        seconds = remaining() / 1000 - TIMEOUT_MARGIN_SECONDS
        error = TimedOut("the provisioner ran out of time; send the request again to resume")
        timer = threading.Timer(max(seconds, 0), self._fail, args=(pipeline_id, version, error, claimed))
        timer.daemon = True
        timer.start()
        return timer

    def _fail(self, pipeline_id: str, version: int, error: ProvisioningError, claimed: Status | None = None) -> None:
        text = records.error_text(error.reason, error.message, error.retryable)
        records.set_status(
            self.registry,
            pipeline_id,
            Status.FAILED,
            last_error=text,
            expected_status=claimed,
            expected_version=version,
        )

    # -- AWS reads and writes ----------------------------------------------------------------------------
    def _read_spec(self, pipeline_id: str) -> bytes:
        try:
            return source.read_stored_spec(self.s3, self.settings.assets_bucket, pipeline_id)
        except Exception as exc:
            # A missing or forbidden object will not come back by retrying; other S3 errors stay retryable.
            if aws.error_code(exc) in ("NoSuchKey", "404", "AccessDenied"):
                raise SpecUnavailable(f"{source.spec_url(self.settings.assets_bucket, pipeline_id)}: {exc}") from None
            raise

    def _parse(self, raw: bytes | str, pipeline_id: str) -> PipelineSpec:
        return source.parse_spec(raw, pipeline_id, self.settings.mode, self.settings.use_model_registry)

    def _spec_of(self, record: PipelineRecord) -> PipelineSpec | None:
        """The record's spec for destroying; None (destroy from state alone) if it no longer parses."""
        if not record.spec:
            return None
        try:
            return self._parse(record.spec, record.pipeline_id)
        except ProvisioningError as exc:
            logger.warning("destroying without the spec", pipeline_id=record.pipeline_id, error=exc.message)
            return None

    def _write_source(self, pipeline_id: str, spec_json: bytes) -> None:
        extra: dict[str, Any] = {}
        if self.settings.assets_kms_key_arn:
            extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.settings.assets_kms_key_arn}
        self.s3.put_object(
            Bucket=self.settings.assets_bucket,
            Key=source.source_key(pipeline_id),
            Body=source.source_zip(spec_json),
            ContentType="application/zip",
            **extra,
        )


def run(provisioner: Provisioner, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    action = event.get("action")
    pipeline_id = event.get("pipeline_id")
    version = event.get("version")
    if not isinstance(pipeline_id, str) or not isinstance(version, int | None) or isinstance(version, bool):
        logger.error("malformed provisioner event", keys=sorted(event)[:10])
        return {"error": "malformed event"}
    if action == "provision":
        return provisioner.provision(pipeline_id, version, context)
    if action == "delete":
        return provisioner.delete(pipeline_id, version, context)
    if action == "drift":
        return provisioner.check_drift(pipeline_id, version)
    if action == "preflight":  # the API's dry run, answered synchronously
        return preflight.dry_run(provisioner, event)
    logger.error("unknown provisioner action", action=str(action)[:40])
    return {"error": "unknown action"}


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return run(Provisioner.from_env(), event, context)
