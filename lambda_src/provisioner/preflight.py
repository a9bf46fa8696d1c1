"""Quota preflight before provisioning: a request whose SageMaker instance quotas fall short in any of
its environments is refused before anything is created, naming each quota, its value and the need
(lambda_src/common/quotas.py), instead of a stack that fails minutes into the deploy.

The provisioner reads each environment's quotas in that environment's account: with its own role in
the orchestrator's account, through the environment's deploy role elsewhere (the role it already
assumes to destroy target stacks; its external id too). A quota that cannot be read (the deploy role
of an environment not yet upgraded lacks the permission) is logged and not checked: preflight
refuses on what it knows, never on what it could not learn.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from lambda_src.common import aws
from lambda_src.common.quotas import Preflight, QuotaCache, held_by_endpoints, preflight
from lambda_src.provisioner.errors import ProvisioningError
from lambda_src.provisioner.program import deploy_role_external_id
from lambda_src.provisioner.settings import ProvisionerSettings
from lambda_src.registry import PipelineRecord, Registry
from mlops_spec.base import PipelineSpec

logger = logging.getLogger(__name__)

# A reader of Service Quotas for one environment's account.
QuotasFor = Callable[[str], Any]
# Each account's listed quotas for dry runs, kept while this function's instance lives (QUOTAS_KEPT_SECONDS
# each): any caller may ask for dry runs, as often as it likes; provisioning reads the quotas afresh.
QUOTAS = QuotaCache()
# Environments checked at once: each may assume a deploy role and page through its account's quotas.
PARALLEL_ENVIRONMENTS = 3
DEADLINE_PASSED = "deadline: the dry run had to answer before its quotas were read"


class QuotaShortfall(ProvisioningError, reason="quota-shortfall", retryable=True):
    """An environment's SageMaker quotas cannot hold what the request needs; retryable once raised."""


def assess(
    spec: PipelineSpec,
    settings: ProvisionerSettings,
    registry: Registry,
    quotas_for: QuotasFor,
    parse: Callable[[PipelineRecord], PipelineSpec | None],
    *,
    deadline: float | None = None,
    cache: QuotaCache | None = None,
) -> list[Preflight]:
    """Every environment's preflight, environments at once; an environment whose quotas cannot be read is
    "not checked", with the reason (the deploy role of an environment not yet upgraded lacks the
    permission), and so is one not read by `deadline` (epoch seconds: the dry run's caller stops waiting).
    `cache`: quotas listed before (the dry runs' QUOTAS); none: read now (provisioning decides on them)."""
    cache = cache or QuotaCache()
    envs = list(spec.environments(settings.mode, home=settings.orchestrator_environment))  # type: ignore[arg-type]
    if _remaining(deadline) == 0:
        return [Preflight(env, not_checked=DEADLINE_PASSED) for env in envs]
    current = registry.get(spec.pipeline_id)
    records = list(registry.each())

    def one(env: Any) -> Preflight:
        updating = current is not None and env in current.outputs
        held = held_by_endpoints(records, env, parse, exclude=spec.pipeline_id)
        key = f"{settings.target(env).account_id}/{settings.region}"
        try:
            read = lambda names: cache.values(key, lambda: quotas_for(env), names)  # noqa: E731
            return preflight(spec, env, None, held, updating=updating, read=read)
        except ProvisioningError:
            raise
        except Exception as exc:
            logger.warning("quotas of %s not checked: %s", env, exc)
            return Preflight(env, not_checked=_unreadable(exc))

    pool = ThreadPoolExecutor(max_workers=max(1, min(PARALLEL_ENVIRONMENTS, len(envs))))
    futures = [pool.submit(one, env) for env in envs]
    done, _ = wait(futures, timeout=_remaining(deadline))
    pool.shutdown(wait=False, cancel_futures=True)  # what is late is answered "not checked", not awaited
    return [
        future.result() if future in done else Preflight(env, not_checked=DEADLINE_PASSED)
        for env, future in zip(envs, futures, strict=True)
    ]


def _remaining(deadline: float | None) -> float | None:
    """Seconds left until `deadline` (epoch seconds), never below 0; None: no deadline."""
    return None if deadline is None else max(0.0, deadline - time.time())


def check(
    spec: PipelineSpec,
    settings: ProvisionerSettings,
    registry: Registry,
    quotas_for: QuotasFor,
    parse: Callable[[PipelineRecord], PipelineSpec | None],
) -> list[Preflight]:
    """Every environment's preflight; QuotaShortfall naming each shortfall when any falls short."""
    results = assess(spec, settings, registry, quotas_for, parse)
    short = [result.summary() for result in results if not result.ok]
    if short:
        raise QuotaShortfall(" ".join(short))
    return results


def dry_run(provisioner: Any, event: dict[str, Any]) -> dict[str, Any]:
    """The "preflight" action: the API's dry run asks for a request's preflight in every environment (the
    API may not assume the deploy roles; this function already does). Reads only; writes nothing. The
    event's `deadline` (epoch seconds, before the API stops waiting) bounds it: what is not read by then
    is answered "not checked"."""
    raw = event.get("spec")
    if not isinstance(raw, str):
        return {"error": "malformed event"}
    try:
        spec = provisioner._parse(raw, str(event.get("pipeline_id")))
    except ProvisioningError as exc:
        return {"error": f"the request cannot be read: {exc.message}"}
    deadline = event.get("deadline")
    results = assess(
        spec,
        provisioner.settings,
        provisioner.registry,
        provisioner._quotas_for(),
        provisioner._spec_of,
        deadline=float(deadline) if isinstance(deadline, int | float) else None,
        cache=QUOTAS,
    )
    return {"ok": all(result.ok for result in results), "environments": [result.as_dict() for result in results]}


def _unreadable(exc: Exception) -> str:
    code = aws.error_code(exc)
    return f"Service Quotas could not be read ({code or type(exc).__name__})"


def quotas_reader(settings: ProvisionerSettings) -> QuotasFor:
    """Service Quotas of an environment's account: the provisioner's own in the orchestrator's account,
    through the environment's deploy role in any other."""

    def quotas_for(env: str) -> Any:
        target = settings.target(env)
        if target.account_id == settings.orchestrator_account_id:
            return aws.client("service-quotas")
        assume: dict[str, Any] = {"RoleArn": target.deploy_role_arn, "RoleSessionName": "mlops-quota-preflight"}
        external_id = deploy_role_external_id(settings)
        if external_id:
            assume["ExternalId"] = external_id
        credentials = aws.client("sts").assume_role(**assume)["Credentials"]
        return aws.assumed_client("service-quotas", settings.region, credentials)

    return quotas_for
