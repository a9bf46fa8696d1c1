"""`mlops plan`: show what a stack (or one pipeline request) would create, offline, with no AWS account."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mlops_cli.extras import require_orchestrator
from mlops_cli.plan_cost import PricesOption, estimated_cost, wants_live
from mlops_cli.quota_check import NoCredentials
from mlops_cli.request_file import EXIT_INVALID, StrictOption, print_field_errors, print_warnings
from mlops_cli.validate_command import card_operation, check_card_operation_or_exit

if TYPE_CHECKING:
    from mlops_cli.planner import StackPlan
    from mlops_cli.project import Project
    from mlops_spec.base import PipelineSpec
    from mlops_spec.errors import FieldError
    from mlops_spec.stack_config import StackConfig


DeliveryOption = Annotated[
    bool, typer.Option(help="Plan the request's delivery pipeline (CodePipeline) instead of its target resources.")
]
DiffOption = Annotated[
    Path | None, typer.Option("--diff", help="Show what changed since OLD.json (saved `mlops plan --json`).")
]
PreflightOption = Annotated[
    bool,
    typer.Option(
        "--preflight",
        help="Also check SageMaker's quotas for the --request (or the stack's declared pipelines) with your AWS "
        "credentials, in the environments whose account they are in; exit 1 on a shortfall.",
    ),
]


def plan(
    stack: Annotated[
        str | None,
        typer.Option(help="Stack to plan (any with a Pulumi.<stack>.yaml), or all. Default: the only one, or dev."),
    ] = None,
    cwd: Annotated[
        Path | None, typer.Option("--cwd", help="Plan the Pulumi project in this directory (default: the current one).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    request: Annotated[
        Path | None, typer.Option(help="Also plan this pipeline request (a JSON file) in the stack.")
    ] = None,
    only_request: Annotated[
        bool, typer.Option("--only-request", help="With --request: show only the request's resources.")
    ] = False,
    env: Annotated[
        str | None, typer.Option(help="Plan the stack of this environment (its mlops:environment), e.g. for --request.")
    ] = None,
    mode: Annotated[
        str | None, typer.Option(help="Override the stack's mode (single|multi), e.g. for a single-account request.")
    ] = None,
    model_registry: Annotated[
        bool | None, typer.Option("--model-registry/--no-model-registry", help="Override mlops:useModelRegistry.")
    ] = None,
    delivery: DeliveryOption = False,
    diff: DiffOption = None,
    strict: StrictOption = False,
    preflight: PreflightOption = False,
    prices: PricesOption = "table",
) -> None:
    """Run the project's Pulumi program offline under the mock engine and print what it would create.
    A --request is first checked as `mlops validate --stack` checks it (same lines, exit 1 when invalid).
    Each stack's pipelines (or the request's) are priced for its environment; an estimate above the
    stack's mlops:maxMonthlyCostPerPipeline is a guardrail violation (exit 1)."""
    require_orchestrator("plan")
    from mlops_cli.project import check_shared_settings, find_project  # lazily: they load yaml and pydantic

    with _one_line_errors():
        project = find_project(cwd or Path.cwd())
        names = _selected_stacks(project, stack, env)
        check_shared_settings(project)
        old_plan = _read_json_plan(diff) if diff else None
        request_body = _read_request(request) if request else None
        _check_options(mode, delivery, request_body is not None, only_request)
        if request_body is not None and card_operation(request_body):
            _card_operation_plans_nothing(request_body, strict)
            return
        session, live = _aws_session() if preflight else None, wants_live(prices)
        plans = _make_plans(project, names, request_body, (mode, model_registry, strict), delivery, session, live)
    _report(plans, old_plan, as_json, only_request, preflight)


@contextmanager
def _one_line_errors() -> Iterator[None]:
    """A request's errors as `mlops validate` prints them; any other problem as one line; exit 1. A region
    the plan cannot build for (UnsupportedRegion: of another partition, or a monitor's image not published
    there) is such a problem, not a traceback."""
    from mlops_spec.errors import SpecError
    from mlops_spec.partitions import UnsupportedRegion

    try:
        yield
    except RequestRejected as exc:
        print_warnings(exc.warnings)
        print_field_errors(exc.errors)
        raise typer.Exit(EXIT_INVALID) from None
    except (NoCredentials, SpecError, UnsupportedRegion) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def _selected_stacks(project: Project, stack: str | None, env: str | None) -> list[str]:
    """--stack as given; else the stack of --env; else the project's only stack, or dev."""
    from mlops_cli.project import default_stack, stack_of_environment, stacks_for

    if stack is not None:
        return stacks_for(stack, project)
    if env is not None:
        return [stack_of_environment(project, env)]
    return [default_stack(project)]


def _make_plans(
    project: Project,
    names: list[str],
    request_body: dict[str, Any] | None,
    overrides: tuple[str | None, bool | None, bool],
    delivery: bool,
    session: Any = None,
    live: bool = False,
) -> list[StackPlan]:
    """One plan per selected stack: its own resources plus the request's, or the request's delivery
    pipeline, with their estimated cost (at the Price List's prices when `live`). `overrides`: --mode,
    --model-registry and --strict. With an AWS `session` (--preflight), each plan carries the quota
    preflight of the request (or of the stack's declared pipelines)."""
    # Imported here, not at the top: the planner loads pulumi, pulumi_aws and every component
    # (1-3 s), which `mlops --help` and the other commands should not wait for.
    from mlops_cli import planner

    mode, model_registry, strict = overrides
    plans = []
    warned: list[FieldError] = []
    for name in names:
        values = planner.with_overrides(planner.read_stack_file(name, project), name, mode, model_registry)
        body, spec = _checked_request(request_body, values, name, strict, warned) if request_body else (None, None)
        if delivery and body is not None:
            plans.append(planner.plan_delivery(name, body, values))
        else:
            extra = [body] if body else None
            plans.append(planner.plan_stack(name, project, extra_pipelines=extra, config_values=values))
        plans[-1].cost = _stack_cost(plans[-1].config, spec, delivery and body is not None, live)
        if session is not None:
            plans[-1].preflight = _preflight(values, name, spec, session)
    print_warnings(warned)
    return plans


def _stack_cost(config: StackConfig | None, spec: PipelineSpec | None, delivery: bool, live: bool) -> dict[str, Any]:
    """What the stack's pipelines (or the request's) cost in its environment, or with --delivery in every
    environment the request's delivery pipeline deploys to; held to the stack's cost limit."""
    if config is None:
        raise ValueError("a plan carries the config of its stack")
    return estimated_cost(
        [spec] if spec is not None else config.pipelines,
        config.mode,
        config.region,
        live=live,
        limit_usd=config.max_monthly_cost_per_pipeline,
        environments=None if delivery else [config.environment],
        home=config.orchestrator_environment,
    )


def _exit_on_cost_violations(plans: list[StackPlan], as_json: bool) -> None:
    """Exit 1 when an estimate is above its stack's limit; the text plan's summary names it already, the
    JSON plan's `cost.violations` too, so stderr says it for those who read only the exit code."""
    found = [line for plan in plans for line in plan.cost_violations()]
    if not found:
        return
    if as_json:
        for line in found:
            typer.echo(f"guardrail violation: {line}", err=True)
    raise typer.Exit(1)


def _aws_session() -> Any:
    """boto3's default session, once it is known to hold credentials (NoCredentials otherwise)."""
    import boto3

    from mlops_cli.quota_check import caller_account

    session = boto3.session.Session()
    caller_account(session)
    return session


def _preflight(values: dict[str, Any], stack: str, spec: PipelineSpec | None, session: Any) -> list[dict[str, Any]]:
    """The quota preflight of `spec`, or of the stack's declared pipelines, as far as the caller's
    credentials reach."""
    from mlops_cli.planner import config_strings
    from mlops_cli.quota_check import check_stack
    from mlops_spec.stack_config import load_stack_config

    config = load_stack_config(config_strings(values), stack)
    specs = [spec] if spec is not None else list(config.pipelines)
    return [result.as_dict() | {"line": result.line()} for result in check_stack(specs, config, session)]


def _show_preflight(plans: list[StackPlan], as_json: bool) -> None:
    """One line per pipeline and environment (in --json, each stack's `preflight` carries them); exit 1
    when a quota falls short."""
    checked = [entry for plan in plans for entry in plan.preflight]
    if not as_json:
        typer.echo("\n".join(entry["line"] for entry in checked) or "preflight: no pipeline to check")
    if any(entry["status"] == "shortfall" for entry in checked):
        raise typer.Exit(1)


class RequestRejected(Exception):
    """The --request does not validate for a planned stack: every field error, and its unknown keys."""

    def __init__(self, errors: list[FieldError], warnings: list[FieldError]):
        super().__init__("invalid request")
        self.errors, self.warnings = errors, warnings


def _checked_request(
    body: dict[str, Any], values: dict[str, Any], stack: str, strict: bool, warned: list[FieldError]
) -> tuple[dict[str, Any], PipelineSpec]:
    """The request as the stack's install reads it (as `mlops validate --stack` does: its mode, model
    registry, strictness and region), without the unknown keys it ignores (each added to `warned` once);
    RequestRejected naming every field otherwise."""
    from mlops_cli.planner import config_strings
    from mlops_cli.request_file import read_request
    from mlops_spec.errors import SpecError
    from mlops_spec.request import unknown_keys
    from mlops_spec.stack_config import load_stack_config

    config = load_stack_config(config_strings({**values, "mlops:pipelines": []}), stack)
    strict = strict or config.strict_requests
    try:
        read = read_request(body, config.mode, config.use_model_registry, strict, config.region)
    except SpecError as exc:
        raise RequestRejected(exc.errors, list(getattr(exc, "warnings", []))) from None
    warned.extend(warning for warning in read.warnings if warning not in warned)
    # Every unknown key, not only the warnings shown (at most MAX_WARNINGS of them).
    ignored = set() if strict else {warning.field for warning in unknown_keys(body)}
    return {key: value for key, value in body.items() if key not in ignored}, read.spec


def _card_operation_plans_nothing(body: dict[str, Any], strict: bool) -> None:
    """A model-card operation creates no stack: checked as the API's dry run checks it, and said so."""
    check_card_operation_or_exit(body, strict)
    operation = body["pipeline_type"]
    typer.echo(f"model card operation {operation}: valid; it plans no resources (SageMaker is called when provisioned)")


def _check_options(mode: str | None, delivery: bool, has_request: bool, only_request: bool) -> None:
    """SpecError naming the option when --mode is unknown or --delivery or --only-request lacks --request."""
    from mlops_spec.errors import SpecError

    if mode not in (None, "single", "multi"):
        raise SpecError("bad option", [_field("--mode", "must be single or multi")])
    for flag, given in (("--delivery", delivery), ("--only-request", only_request)):
        if given and not has_request:
            raise SpecError("bad option", [_field(flag, "needs --request FILE")])


def _field(field: str, problem: str) -> FieldError:
    from mlops_spec.errors import FieldError

    return FieldError(field, problem)


def _read_json_plan(path: Path) -> dict[str, Any]:
    """A plan saved with `mlops plan --json`."""
    from mlops_spec.errors import SpecError

    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SpecError("bad plan", [_field(str(path), f"is not a saved JSON plan ({exc})")]) from None
    if not isinstance(document, dict) or not isinstance(document.get("stacks"), list):
        raise SpecError("bad plan", [_field(str(path), "is not a saved JSON plan (no stacks list)")])
    return document


def _read_request(path: Path) -> dict[str, Any]:
    """The request file's JSON object (what it holds is checked per stack: _checked_request)."""
    from mlops_cli.request_file import RequestFileError, load_request
    from mlops_spec.errors import SpecError

    try:
        body = load_request(path)
    except RequestFileError as exc:
        raise SpecError("bad request", [_field(str(path), str(exc))]) from None
    if not isinstance(body, dict):
        raise SpecError("bad request", [_field(str(path), "must hold a JSON object")])
    return body


def _report(
    plans: list[StackPlan], old_plan: dict[str, Any] | None, as_json: bool, only_request: bool, preflight: bool
) -> None:
    """The plans (or their changes), the quota preflight when asked, exit 1 on a shortfall or a cost violation."""
    _show(plans, old_plan, as_json, only_request)
    if preflight:
        _show_preflight(plans, as_json)
    _exit_on_cost_violations(plans, as_json)


def _show(plans: list[StackPlan], old_plan: dict[str, Any] | None, as_json: bool, only_request: bool) -> None:
    """The changes since `old_plan`, or the plans as JSON, or as text."""
    if old_plan is None and not as_json:
        _print_plans(plans, only_request)
        return
    document = json.dumps({"stacks": [p.as_dict() for p in plans]}, indent=2, default=str, sort_keys=True)
    if old_plan is not None:
        from mlops_cli.plan_diff import plan_diff

        typer.echo("\n".join(plan_diff(old_plan, json.loads(document))))
    else:
        print(document)


def _print_plans(plans: list[StackPlan], only_request: bool) -> None:
    """Each plan as text that fits the terminal (at most 120 columns, so it stays readable)."""
    from mlops_cli.plan_text import render

    width = min(shutil.get_terminal_size((80, 24)).columns, 120)
    texts = [render(stack_plan, width, only_request) for stack_plan in plans]
    typer.echo(("\n\n").join(texts))
