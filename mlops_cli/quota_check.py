"""`mlops plan --preflight`: the quota preflight of a stack's pipelines, read with the caller's own credentials.

The orchestrator's preflight (lambda_src/provisioner/preflight.py) reads every environment's account through
its deploy role; the CLI has only the caller's credentials (boto3's default session), so it checks the
environments whose account is the caller's and says the others are not checked. What the account's endpoints
hold already is read from SageMaker itself (every endpoint, this project's or not: quotas are per account), and
a request whose endpoint exists is checked as an update (a blue/green switch holds both fleets at once).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lambda_src.common.quotas import Preflight
    from mlops_spec.base import PipelineSpec
    from mlops_spec.stack_config import StackConfig


# What an endpoint whose configuration was deleted holds: instances whose type SageMaker no longer says.
UNKNOWN_TYPE = "instances of an unknown type"


class NoCredentials(Exception):
    """No usable AWS credentials: the message is one line for the user."""


@dataclass(frozen=True)
class PipelinePreflight:
    pipeline_id: str
    result: Preflight

    def line(self) -> str:
        return f"preflight {self.pipeline_id} {self.result.summary()}"

    def as_dict(self) -> dict[str, Any]:
        return {"pipeline_id": self.pipeline_id, **self.result.as_dict()}


def caller_account(session: Any) -> str:
    """The account of the caller's credentials; NoCredentials when there are none (or they are refused)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return str(session.client("sts").get_caller_identity()["Account"])
    except (BotoCoreError, ClientError) as exc:
        raise NoCredentials(f"--preflight needs AWS credentials to read Service Quotas ({exc})") from None


def check_stack(specs: Sequence[PipelineSpec], config: StackConfig, session: Any) -> list[PipelinePreflight]:
    """Each pipeline's preflight in each of its environments, in promotion order."""
    from lambda_src.common.quotas import Preflight  # lazily, as the command's other imports: it loads pydantic

    account = caller_account(session)
    results: list[PipelinePreflight] = []
    readers: dict[str, tuple[Any, dict[str, dict[str, int]] | str]] = {}
    for spec in specs:
        for env in spec.environments(config.mode, home=config.orchestrator_environment):
            env_account = config.accounts.get(env)
            if env_account != account:
                reason = f"its account {env_account} is not the caller's ({account}); run with credentials there"
                results.append(PipelinePreflight(spec.pipeline_id, Preflight(env, not_checked=reason)))
                continue
            if env not in readers:
                sagemaker = session.client("sagemaker", region_name=config.region)
                readers[env] = (session.client("service-quotas", region_name=config.region), endpoints_held(sagemaker))
            quotas, endpoints = readers[env]
            if isinstance(endpoints, str):
                results.append(PipelinePreflight(spec.pipeline_id, Preflight(env, not_checked=endpoints)))
                continue
            results.append(PipelinePreflight(spec.pipeline_id, _checked(spec, env, quotas, endpoints)))
    return results


def _checked(spec: PipelineSpec, env: str, quotas: Any, endpoints: dict[str, dict[str, int]]) -> Preflight:
    """One environment: an existing endpoint of the request is an update, the others' instances are held."""
    from lambda_src.common.quotas import Preflight, preflight

    own = _endpoint_name(spec, env)
    held: dict[str, int] = {}
    for name, by_quota in endpoints.items():
        if name != own:
            for quota, count in by_quota.items():
                held[quota] = held.get(quota, 0) + count
    try:
        result = preflight(spec, env, quotas, held, updating=own in endpoints)  # type: ignore[arg-type]
    except Exception as exc:  # as the orchestrator's preflight: what cannot be read is not checked, never a refusal
        from lambda_src.common import aws

        reason = f"Service Quotas could not be read ({aws.error_code(exc) or type(exc).__name__})"
        return Preflight(env, not_checked=reason)
    return _noting_unknown(result, endpoints)


def _noting_unknown(result: Preflight, endpoints: dict[str, dict[str, int]]) -> Preflight:
    """The check, naming the endpoints whose instances could not be counted (their configuration is gone)."""
    from dataclasses import replace

    unknown = sorted(name for name, by_quota in endpoints.items() if UNKNOWN_TYPE in by_quota)
    if not unknown:
        return result
    note = f"endpoints whose configuration was deleted, so their instances were not counted: {', '.join(unknown)}"
    return replace(result, note="; ".join(filter(None, [result.note, note])))


def _endpoint_name(spec: PipelineSpec, env: str) -> str | None:
    """The endpoint name a request gives (an endpoint named by the pipeline is not looked for)."""
    name = getattr(spec.for_env(env), "endpoint_name", None)  # type: ignore[arg-type]
    return name if isinstance(name, str) and name else None


def endpoints_held(sagemaker: Any) -> dict[str, dict[str, int]] | str:
    """Instances each endpoint of the account holds, by quota (its configuration's instance types at
    their current counts; serverless variants hold none); or, when SageMaker cannot be read (access
    denied, throttled, no network), why not, in one line: what the account holds is then unknown, so the
    environment is not checked rather than checked against too little."""
    from botocore.exceptions import BotoCoreError, ClientError

    held: dict[str, dict[str, int]] = {}
    try:
        for page in sagemaker.get_paginator("list_endpoints").paginate():
            for summary in page.get("Endpoints", []):
                name = summary["EndpointName"]
                found = _endpoint_instances(sagemaker, name)
                if found is not None:
                    held[name] = found
    except (BotoCoreError, ClientError) as exc:
        from lambda_src.common import aws

        return f"SageMaker's endpoints could not be read ({aws.error_code(exc) or type(exc).__name__})"
    return held


def _endpoint_instances(sagemaker: Any, name: str) -> dict[str, int] | None:
    """One endpoint's instances by quota; None when it was deleted since it was listed. An endpoint whose
    configuration was deleted (SageMaker allows it while the endpoint runs) holds its instances all the
    same, but their type is no longer known: they are kept under UNKNOWN_TYPE (no quota's name), which
    the check names in its note."""
    from botocore.exceptions import ClientError

    from mlops_spec.capacity import Usage, quota_name

    try:
        endpoint = sagemaker.describe_endpoint(EndpointName=name)
    except ClientError as exc:
        if _not_found(exc):
            return None  # deleted between the list and the describe: it holds nothing any more
        raise
    types = _variant_types(sagemaker, endpoint)
    by_quota: dict[str, int] = {}
    for variant in endpoint.get("ProductionVariants", []):
        instance_type = types.get(variant.get("VariantName"), UNKNOWN_TYPE if not types else None)
        count = variant.get("CurrentInstanceCount") or 0
        if instance_type == UNKNOWN_TYPE and count:
            by_quota[UNKNOWN_TYPE] = by_quota.get(UNKNOWN_TYPE, 0) + int(count)
        elif instance_type and count:
            quota = quota_name(instance_type, Usage.ENDPOINT)
            by_quota[quota] = by_quota.get(quota, 0) + int(count)
    return by_quota


def _variant_types(sagemaker: Any, endpoint: dict[str, Any]) -> dict[str, str | None]:
    """Instance type per variant from the endpoint's configuration; empty when the configuration is gone."""
    from botocore.exceptions import ClientError

    try:
        config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    except ClientError as exc:
        if _not_found(exc):
            return {}
        raise
    return {v["VariantName"]: v.get("InstanceType") for v in config.get("ProductionVariants", [])}


def _not_found(exc: Any) -> bool:
    """SageMaker's answer for a resource that does not exist (ValidationException "Could not find ...")."""
    error = exc.response.get("Error", {})
    return (
        error.get("Code") in ("ValidationException", "ResourceNotFound")
        and "could not find" in str(error.get("Message", "")).lower()
    )
