"""The quota preflight of the API's dry run: asked of the provisioner, which reads each environment's Service
Quotas in its own account (through the deploy roles, which the API function may not assume).

A synchronous invoke of the provisioner's "preflight" action (lambda_src/provisioner/preflight.py dry_run):
it reads the quotas and the registry and writes nothing. Whatever keeps the answer from coming (no
provisioner yet, a failure, a timeout) makes the preflight "not checked" with the reason: a dry run
still answers what it validated.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from lambda_src.common import aws, cost_limit
from lambda_src.common.settings import Settings

if TYPE_CHECKING:
    from mlops_spec.base import PipelineSpec

logger = Logger(child=True)

PREFLIGHT_ACTION = "preflight"
NOT_CHECKED = "not checked"
SKIPPED = "checks=false was asked: the quotas were not read"
# The dry run must answer within API Gateway's 29 s: one attempt, at most 15 s for the provisioner's answer
# (the shared clients retry three times, 20 s each).
ANSWER_SECONDS = 15
# The provisioner stops reading quotas this long before the API stops waiting, so that its answer (with what
# it could not read in time "not checked: deadline") arrives: the payload's `deadline`, in epoch seconds.
ANSWER_MARGIN_SECONDS = 3


def lambda_client() -> Any:
    """The Lambda client the preflight is asked with: its own, bounded as above."""
    return aws.bounded_client(
        "lambda:preflight",
        "lambda",
        connect_timeout=3,
        read_timeout=ANSWER_SECONDS,
        retries={"total_max_attempts": 1, "mode": "standard"},
    )


def preflight_and_cost(
    pipeline_id: str, spec_json: str, spec: PipelineSpec, config: Settings
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The dry run's quota preflight and estimated cost (cost_limit.py), asked at the same time: each is
    bounded (ANSWER_SECONDS, cost_limit.PRICE_LIST_DEADLINE_SECONDS), so together well within API Gateway's
    29 s. Both clients are made here first: a boto3 session makes clients in one thread at a time."""
    if config.provisioner_function:
        lambda_client()
    lookup = cost_limit.live_prices(cost_limit.estimate_region())
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="dry-run") as pool:
        preflight = pool.submit(request_preflight, pipeline_id, spec_json, config)
        cost = pool.submit(cost_limit.request_cost, spec, config, None, lookup)
        return preflight.result(), cost.result()


def checks_skipped(spec: PipelineSpec, config: Settings) -> tuple[dict[str, Any], dict[str, Any]]:
    """A dry run asked not to call AWS (checks=false): the preflight not checked, and the cost at the committed
    table's prices. Nothing here makes a client, so such a dry run stays as light as validation."""
    return _not_checked(SKIPPED), cost_limit.table_cost(spec, config)


def request_preflight(pipeline_id: str, spec_json: str, config: Settings) -> dict[str, Any]:
    """`{"status": ok | shortfall | not checked, "environments": [...]}` for the normalised request."""
    if not config.provisioner_function:
        return _not_checked("the orchestrator has no provisioner function yet (first install)")
    payload = {
        "action": PREFLIGHT_ACTION,
        "pipeline_id": pipeline_id,
        "version": None,
        "spec": spec_json,
        "deadline": time.time() + ANSWER_SECONDS - ANSWER_MARGIN_SECONDS,
    }
    try:
        response = lambda_client().invoke(
            FunctionName=config.provisioner_function,
            InvocationType="RequestResponse",
            Payload=json.dumps(payload).encode(),
        )
        answer = json.loads(response["Payload"].read())
    except Exception as exc:
        logger.warning("quota preflight not answered", pipeline_id=pipeline_id, error=str(exc)[:200])
        return _not_checked(f"the provisioner could not be asked ({aws.error_code(exc) or type(exc).__name__})")
    return preflight_answer(answer, bool(response.get("FunctionError")))


def preflight_answer(answer: Any, failed: bool = False) -> dict[str, Any]:
    """The provisioner's answer as the dry run reports it: shortfall when any environment falls short,
    ok when every one was checked and suffices, not checked otherwise."""
    environments = answer.get("environments") if isinstance(answer, dict) else None
    if failed or not isinstance(environments, list):
        error = answer.get("error") if isinstance(answer, dict) else None
        reason = str(error or "it failed")[:300]
        return _not_checked(f"the provisioner could not check the quotas: {reason}")
    statuses = {entry.get("status") for entry in environments if isinstance(entry, dict)}
    status = "shortfall" if "shortfall" in statuses else "ok" if statuses <= {"ok"} else NOT_CHECKED
    return {"status": status, "environments": environments}


def _not_checked(reason: str) -> dict[str, Any]:
    return {"status": NOT_CHECKED, "reason": reason, "environments": []}
