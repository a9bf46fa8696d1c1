"""`mlops deploy`: up one environment's target stack of a pipeline (what each delivery pipeline build runs)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lambda_src.provisioner import source
from lambda_src.provisioner.errors import BeingDeleted, ProvisioningError, SpecUnavailable
from lambda_src.provisioner.program import stack_config, target_program
from lambda_src.provisioner.promotion import Promotion, PromotionRefused
from lambda_src.provisioner.runner import TARGET_RETRY, AutomationStackRunner, RunnerConfig, StackRunner, UpOutcome
from lambda_src.provisioner.settings import ProvisionerSettings
from lambda_src.registry import Registry, Status, violations
from lambda_src.registry.monitored import monitored_pipeline
from lambda_src.status_events import records
from mlops_spec import naming
from mlops_spec.base import PipelineSpec

logger = logging.getLogger(__name__)


class WrongEnvironment(ProvisioningError, reason="wrong-environment", retryable=False):
    """The build was asked to deploy to an environment the pipeline does not deploy to."""


# Statuses a refused promotion turns into FAILED: not a queued request or a deletion under way.
REFUSAL_RECORDED_IN = frozenset({Status.PROVISIONING, Status.AWAITING_APPROVAL, Status.DEPLOYED, Status.FAILED})


def load_spec(
    pipeline_id: str, settings: ProvisionerSettings, spec_file: Path | None = None, s3: Any = None
) -> PipelineSpec:
    """The request from `spec_file` (the build's source artifact) or else from the assets bucket."""
    if spec_file is not None:
        try:
            raw = spec_file.read_bytes()
        except OSError as exc:
            raise SpecUnavailable(f"cannot read {spec_file}: {exc.strerror or exc}") from None
    else:
        try:
            raw = source.read_stored_spec(s3 or _client("s3"), settings.assets_bucket, pipeline_id)
        except Exception as exc:
            raise SpecUnavailable(
                f"cannot read {source.spec_url(settings.assets_bucket, pipeline_id)}: {exc}"
            ) from None
    return source.parse_spec(raw, pipeline_id, settings.mode, settings.use_model_registry)


def deploy(
    pipeline_id: str,
    env: str,
    settings: ProvisionerSettings,
    *,
    spec_file: Path | None = None,
    runner: StackRunner | None = None,
    registry: Registry | None = None,
    on_output: Callable[[str], Any] | None = None,
    s3: Any = None,
    promotion: Promotion | None = None,
) -> UpOutcome:
    """Create or update stack `<pipeline>-<env>`; record its outputs (or its error) on the registry item.

    An environment guarded by an approval is deployed only from the delivery pipeline's run whose
    approval succeeded (`promotion`: the CodeBuild build this runs in, read from its environment when
    not given); otherwise PromotionRefused, recorded as the pipeline's failure, and nothing deployed.
    """
    _refuse_while_deleted(registry, pipeline_id)
    spec = load_spec(pipeline_id, settings, spec_file, s3)
    allowed = spec.environments(settings.mode, home=settings.orchestrator_environment)  # type: ignore[arg-type]
    if env not in allowed:
        raise WrongEnvironment(f"{pipeline_id} deploys to {', '.join(allowed)}, not {env}")
    gate = promotion or Promotion.from_environment()
    try:
        gate.refuse_if_blocked(_blocked(registry, pipeline_id), spec, env, settings)
        if gate.required(spec, env, settings):
            gate.verify(pipeline_id, env)
    except PromotionRefused as refused:
        _record_refusal(registry, pipeline_id, env, refused)
        raise
    # A deploy build may not touch the state bucket's root: stacks earlier versions left there are moved
    # by the provisioner (lambda_src/provisioner/state_layout.py); until then the build refuses.
    config = RunnerConfig.from_settings(settings, moves_legacy_stacks=False)
    stacks = runner or AutomationStackRunner(config, retry=TARGET_RETRY)
    try:
        stacks.select_or_create(naming.target_stack_name(pipeline_id, env), target_program(spec, env, settings))
        stacks.set_config(stack_config(spec, env, settings))
        outcome = stacks.up(on_output)
    except ProvisioningError as error:
        _record_error(registry, pipeline_id, env, error)
        raise
    finally:
        stacks.close()
    _best_effort(lambda: records.merge_outputs(registry, pipeline_id, env, outcome.outputs) if registry else None)
    _best_effort(lambda: _record_monitored(registry, pipeline_id, spec, env))
    return outcome


def _record_monitored(registry: Registry | None, pipeline_id: str, spec: PipelineSpec, env: str) -> None:
    """A monitor that acts records, once provisioned, the pipeline whose endpoint it watches: the one
    DEPLOYED real-time pipeline of its owner serving it (lambda_src/registry/monitored.py). Its actions
    then touch that pipeline only, whatever other record claims the same endpoint name later."""
    from mlops_spec.pipelines.monitors import MonitorSpec

    if registry is None or not isinstance(spec, MonitorSpec) or spec.violation_action == "notify":
        return
    current = registry.get(pipeline_id)
    if current is None or current.monitored:
        return
    endpoint = str(spec.for_env(env).endpoint_name)  # type: ignore[arg-type]
    found = monitored_pipeline(registry.each(), endpoint, env, current.owner)
    if found is not None:
        violations.record_monitored(registry, current, found)


def _refuse_while_deleted(registry: Registry | None, pipeline_id: str) -> None:
    """A deploy (a build that escaped the teardown's stop, or one run by hand) must not re-create what
    the teardown destroys. Without access to the registry (a user's own run) nothing is known."""
    if registry is None:
        return
    try:
        current = registry.get(pipeline_id)
    except Exception as exc:
        logger.warning("could not read the registry record of %s: %s", pipeline_id, exc)
        return
    if current is not None and current.status in (Status.DELETING, Status.DELETED):
        raise BeingDeleted(f"{pipeline_id} is {current.status}: nothing deployed")


def _blocked(registry: Registry | None, pipeline_id: str) -> dict[str, Any] | None:
    """A monitor's block on the pipeline's promotions (lambda_src/trigger/monitor_violations.py), if any.
    A registry that cannot be read refuses the deploy (retryable): a block could not be ruled out."""
    if registry is None:
        return None
    try:
        current = registry.get(pipeline_id)
    except Exception as exc:
        raise PromotionRefused(
            f"could not read the registry record of {pipeline_id} to check for a monitor's block: {exc}",
            retryable=True,
        ) from exc
    return current.blocked if current is not None else None


def _record_error(registry: Registry | None, pipeline_id: str, env: str, error: ProvisioningError) -> None:
    """During a delivery run, keep the real cause: the build's own failure event only says "FAILED"."""
    if registry is None:
        return

    def record() -> None:
        current = registry.get(pipeline_id)
        if current is not None and current.status == Status.PROVISIONING:
            text = records.error_text(error.reason, f"{env}: {error.message}", error.retryable)
            records.set_status(
                registry,
                pipeline_id,
                Status.PROVISIONING,
                last_error=text,
                expected_status=Status.PROVISIONING,
                expected_version=current.version,
            )

    _best_effort(record)


def _record_refusal(registry: Registry | None, pipeline_id: str, env: str, refused: PromotionRefused) -> None:
    """A refused promotion fails the pipeline, with the reason, whatever run it was part of (none, if
    someone started the build by hand); a deletion under way is left alone."""
    if registry is None:
        return

    def record() -> None:
        current = registry.get(pipeline_id)
        if current is not None and current.status in REFUSAL_RECORDED_IN:
            records.set_status(
                registry,
                pipeline_id,
                Status.FAILED,
                last_error=records.error_text(refused.reason, f"{env}: {refused.message}", refused.retryable),
                expected_status=current.status,
                expected_version=current.version,
            )

    _best_effort(record)


def _best_effort(action: Callable[[], Any]) -> None:
    # Users running the CLI may lack access to the registry; the deployment itself is what counts.
    try:
        action()
    except Exception as exc:
        logger.warning("could not update the pipeline registry: %s", exc)


def _client(service: str) -> Any:
    from lambda_src.common import aws

    return aws.client(service)
