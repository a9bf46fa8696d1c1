"""The estimated cost `mlops plan` and `mlops validate` show (mlops_spec/costs.py): priced from the committed
table by default, so a plan stays offline and the same from run to run, or at the AWS Price List's current
prices with `--prices live` (the caller's credentials); an estimate above mlops:maxMonthlyCostPerPipeline is
a guardrail violation. Its lines in a text summary too (a plan's, validate's): this module loads no pulumi."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from mlops_spec.base import PipelineSpec
    from mlops_spec.environments import Environment

PricesOption = Annotated[
    str,
    typer.Option(
        "--prices",
        help="Where estimated costs take their prices: table (the committed snapshot, offline) or live (the AWS "
        "Price List API, with your AWS credentials).",
    ),
]
COST_RULE = "max-monthly-cost"
# A request checked outside a project has no stack region: its estimate is priced in this one (and says so).
DEFAULT_REGION = "us-east-1"


def wants_live(prices: str) -> bool:
    """True for `--prices live` (once credentials are known to exist); SpecError naming the option otherwise."""
    from lambda_src.common.prices import credentials_available
    from mlops_spec.errors import FieldError, SpecError

    if prices not in ("table", "live"):
        raise SpecError("bad option", [FieldError("--prices", "must be table or live")])
    if prices == "live" and not credentials_available():
        problem = "live needs AWS credentials to read the AWS Price List (none found); the default, table, needs none"
        raise SpecError("bad option", [FieldError("--prices", problem)])
    return prices == "live"


def estimated_cost(
    specs: Iterable[PipelineSpec],
    mode: str,
    region: str,
    *,
    live: bool,
    limit_usd: float | None = None,
    environments: Sequence[str] | None = None,
    home: Environment = "dev",
) -> dict[str, Any]:
    """The cost object (mlops_spec.costs.cost_document) of `specs`; a live Price List that cannot be read is
    a SpecError naming `--prices` (the user asked for its prices: the table's are not silently shown)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from lambda_src.common.prices import cost_of
    from mlops_spec.errors import FieldError, SpecError

    try:
        return cost_of(specs, mode, region, live=live, limit_usd=limit_usd, environments=environments, home=home)
    except (BotoCoreError, ClientError) as exc:
        problem = f"live: the AWS Price List could not be read ({exc})"
        raise SpecError("prices unavailable", [FieldError("--prices", problem)]) from None


def violations(document: dict[str, Any] | None) -> list[str]:
    """The estimates above mlops:maxMonthlyCostPerPipeline, as `[max-monthly-cost] ...` guardrail lines."""
    return [f"[{COST_RULE}] {problem}" for problem in (document or {}).get("violations", [])]


def cost_lines(document: dict[str, Any], width: int, indent: str) -> list[str]:
    """The estimated cost in a summary (mlops_spec/costs.py): where the prices come from, each estimate's
    one line and the assumptions of its own, the assumptions every estimate shares (once), the limit."""
    from mlops_spec.costs import ASSUMPTIONS

    if not document["estimates"]:
        return _wrapped("estimated cost: no pipeline deploys to this stack's environment", width, indent)
    deeper = indent + "  "
    lines = _wrapped(f"estimated cost (prices: {document['source']}):", width, indent)
    for estimate in document["estimates"]:
        lines += _wrapped(estimate["summary"], width, deeper)
        own = [assumption for assumption in estimate["assumptions"] if assumption not in ASSUMPTIONS]
        lines += [line for assumption in own for line in _wrapped(f"- {assumption}", width, deeper + "  ")]
    lines += _wrapped(f"every estimate assumes: {'; '.join(ASSUMPTIONS)}", width, deeper)
    limit = document["max_monthly_cost_per_pipeline"]
    if limit is not None:
        lines += _wrapped(f"mlops:maxMonthlyCostPerPipeline: ${limit:,.2f}", width, deeper)
        lines += [line for why in document["unchecked"] for line in _wrapped(why, width, deeper + "  ")]
    return lines


def _wrapped(text: str, width: int, indent: str) -> list[str]:
    """Prose broken between words, a name longer than the line left whole (as a text plan's other lines)."""
    return textwrap.wrap(
        text,
        width,
        initial_indent=indent,
        subsequent_indent=indent + "  ",
        break_long_words=False,
        break_on_hyphens=False,
    )
