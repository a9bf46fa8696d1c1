"""A request's estimated cost as the API and the trigger see it, and the mlops:maxMonthlyCostPerPipeline limit.

The functions have credentials, so prices are the AWS Price List's (lambda_src/common/prices.py); when
it cannot be read (a role without pricing:GetProducts, a timeout), the committed table's, and the
`source` says so. Above the limit, provisioning is refused (400) before anything is written; an
estimate with an unknown price is not refused, and `unchecked` says the limit could not be checked.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from lambda_src.common import aws
from lambda_src.common.errors import InvalidRequest, field_error
from lambda_src.common.settings import Settings

if TYPE_CHECKING:
    from mlops_spec.base import PipelineSpec
    from mlops_spec.costs import CostEstimate, PriceLookup

logger = Logger(child=True)

# The Price List is asked within the API's 29 s (the dry run also waits for the quota preflight):
# one attempt, a few seconds for each answer.
PRICE_LIST_SECONDS = 4
# The request fields that name a pipeline's instance type, in the order they are looked for.
INSTANCE_FIELDS = ("inference_instance", "instance_type")
_clients: dict[tuple[int, str], Any] = {}


def live_prices(region: str) -> PriceLookup:
    """The Price List lookup of `region`'s prices (its answers remembered for this request only: prices
    change), through a client bounded as above."""
    from lambda_src.common.prices import LivePrices

    return LivePrices(client=_pricing_client(region))


def _pricing_client(region: str) -> Any:
    """Made on first use from the functions' one session, and anew if that session is replaced."""
    from lambda_src.common.prices import pricing_region

    aws.client("lambda")  # creates the functions' one session when nothing has yet
    session = aws._boto3_session()
    key = (id(session), pricing_region(region))
    if key not in _clients:
        from botocore.config import Config

        config = Config(
            connect_timeout=2, read_timeout=PRICE_LIST_SECONDS, retries={"total_max_attempts": 1, "mode": "standard"}
        )
        _clients[key] = session.client("pricing", region_name=key[1], config=config)
    return _clients[key]


def request_cost(spec: PipelineSpec, settings: Settings, region: str | None = None) -> dict[str, Any]:
    """The `cost` object (mlops_spec.costs.cost_document) of `spec` in every environment it deploys to,
    priced in the orchestrator's region at the Price List's prices, or the table's when it cannot be read."""
    from botocore.exceptions import BotoCoreError, ClientError

    from mlops_spec.costs import LIVE_SOURCE, cost_document, price_table

    where = region or os.environ.get("AWS_REGION") or "us-east-1"
    try:
        found = list(_estimates(spec, settings, where, live_prices(where), LIVE_SOURCE))
    except (BotoCoreError, ClientError) as exc:
        reason = aws.error_code(exc) or type(exc).__name__
        logger.info("the AWS Price List could not be read; the committed table prices the estimate", reason=reason)
        table = price_table()
        source = f"{table.label} (the AWS Price List could not be read: {reason})"
        found = list(_estimates(spec, settings, where, table.lookup, source))
    return cost_document(found, settings.max_monthly_cost_per_pipeline)


def _estimates(
    spec: PipelineSpec, settings: Settings, region: str, lookup: PriceLookup, source: str
) -> Iterator[CostEstimate]:
    from mlops_spec.costs import estimates

    yield from estimates(spec, settings.mode, region, lookup, source, settings.orchestrator_environment)


def check_cost_limit(spec: PipelineSpec, settings: Settings) -> dict[str, Any] | None:
    """The request's cost object when the install sets a limit, after refusing (InvalidRequest, 400) an
    estimate above it with a field error on the pipeline's instance type naming the figure and the limit;
    None (nothing asked of the Price List) without a limit."""
    if settings.max_monthly_cost_per_pipeline is None:
        return None
    cost = request_cost(spec, settings)
    if cost["violations"]:
        field = instance_field(spec)
        raise InvalidRequest(
            "the pipeline's estimated cost is above mlops:maxMonthlyCostPerPipeline",
            [field_error(field, problem) for problem in cost["violations"]],
        )
    for why in cost["unchecked"]:
        logger.info("cost limit not checked", pipeline_id=spec.pipeline_id, why=why)
    return cost


def instance_field(spec: PipelineSpec) -> str:
    """The request field naming the instance type the estimate prices (the first of INSTANCE_FIELDS the
    request type has); "(body)" for a type without one."""
    for name in INSTANCE_FIELDS:
        if name in type(spec).model_fields:
            return name
    return "(body)"
