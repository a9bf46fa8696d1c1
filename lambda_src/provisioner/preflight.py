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
from collections.abc import Callable
from typing import Any

from lambda_src.common import aws
from lambda_src.common.quotas import Preflight, held_by_endpoints, preflight
from lambda_src.provisioner.errors import ProvisioningError
from lambda_src.provisioner.program import deploy_role_external_id
from lambda_src.provisioner.settings import ProvisionerSettings
from lambda_src.registry import PipelineRecord, Registry
from mlops_spec.base import PipelineSpec

logger = logging.getLogger(__name__)

# A reader of Service Quotas for one environment's account.
QuotasFor = Callable[[str], Any]


class QuotaShortfall(ProvisioningError, reason="quota-shortfall", retryable=True):
    """An environment's SageMaker quotas cannot hold what the request needs; retryable once raised."""


def assess(
    spec: PipelineSpec,
    settings: ProvisionerSettings,
    registry: Registry,
    quotas_for: QuotasFor,
    parse: Callable[[PipelineRecord], PipelineSpec | None],
) -> list[Preflight]:
    """Every environment's preflight; an environment whose quotas cannot be read is "not checked",
    with the reason (the deploy role of an environment not yet upgraded lacks the permission)."""
    current = registry.get(spec.pipeline_id)
    records = list(registry.each())
    results = []
    for env in spec.environments(settings.mode, home=settings.orchestrator_environment):  # type: ignore[arg-type]
        updating = current is not None and env in current.outputs
        held = held_by_endpoints(records, env, parse, exclude=spec.pipeline_id)
        try:
            results.append(preflight(spec, env, quotas_for(env), held, updating=updating))
        except ProvisioningError:
            raise
        except Exception as exc:
            logger.warning("quotas of %s not checked: %s", env, exc)
            results.append(Preflight(env, not_checked=_unreadable(exc)))
    return results


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
    API may not assume the deploy roles; this function already does). Reads only; writes nothing."""
    raw = event.get("spec")
    if not isinstance(raw, str):
        return {"error": "malformed event"}
    try:
        spec = provisioner._parse(raw, str(event.get("pipeline_id")))
    except ProvisioningError as exc:
        return {"error": f"the request cannot be read: {exc.message}"}
    results = assess(spec, provisioner.settings, provisioner.registry, provisioner._quotas_for(), provisioner._spec_of)
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
