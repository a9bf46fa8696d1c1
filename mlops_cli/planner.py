"""Offline plans: run a project's Pulumi program under the recording mock engine, one stack at a time."""

from __future__ import annotations

import contextlib
import gc
import json
import runpy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime.settings import set_root_resource

from components.guardrails import Violation, check_all
from mlops_cli.mocks import PlanRecorder
from mlops_cli.project import SECRET_PLACEHOLDER, Project, find_project
from mlops_spec import naming
from mlops_spec.account_guard import ALLOWED_ACCOUNTS_KEY, check_allowed_accounts
from mlops_spec.errors import FieldError, SpecError
from mlops_spec.partitions import ecr_registry
from mlops_spec.stack_config import StackConfig, load_stack_config
from mlops_spec.stack_config_checks import plain_text_secrets, written_type_problems

# The project name of the packaged program's URNs when no project is given (this repository's).
PROJECT = "mlops-orchestrator"


@dataclass
class StackPlan:
    stack: str
    recorder: PlanRecorder
    orchestrator_account: str
    outputs: dict[str, Any] = field(default_factory=dict)
    request_pipelines: list[str] = field(default_factory=list)  # pipeline ids a --request added
    preflight: list[dict[str, Any]] = field(default_factory=list)  # with --preflight: per pipeline and environment
    config: StackConfig | None = None  # the stack's config, as the program read it
    cost: dict[str, Any] | None = None  # the estimated cost (mlops_cli/plan_cost.py), once priced

    # The violations of the resources as last counted: the text plan and the JSON plan both show them.
    _checked: tuple[int, list[Violation]] | None = field(default=None, init=False, repr=False, compare=False)

    def violations(self) -> list[Violation]:
        """Guardrail violations of the planned resources (components/guardrails/), in a stable order."""
        count = len(self.recorder.resources)
        if self._checked is None or self._checked[0] != count:
            found = check_all(self.recorder.in_order(), self.orchestrator_account)
            self._checked = (count, sorted(found, key=lambda v: (v.rule, v.resource_type, v.resource_name, v.message)))
        return list(self._checked[1])

    def as_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "resources": [r.as_dict() for r in self.recorder.in_order()],
            "outputs": self.outputs,
            "violations": [
                {"rule": v.rule, "type": v.resource_type, "name": v.resource_name, "message": v.message}
                for v in self.violations()
            ],
            **({"preflight": self.preflight} if self.preflight else {}),
            **({"cost": self.cost} if self.cost is not None else {}),
        }

    def cost_violations(self) -> list[str]:
        """The estimates above mlops:maxMonthlyCostPerPipeline, as guardrail lines naming the figure."""
        from mlops_cli.plan_cost import violations

        return violations(self.cost)


def read_stack_file(stack: str, project: Project | None = None) -> dict[str, Any]:
    """The config `pulumi up` would give stack `stack` of `project` (default: the project of the
    current directory). Encrypted (`secure:`) values cannot be read offline: they are planned as the
    placeholder `[secret]`. A key that must be a secret but is written in plain text is refused."""
    stack_file = (project or find_project(Path.cwd())).read_stack(stack)
    problems = plain_text_secrets(stack_file.values, stack_file.secret_keys) + written_type_problems(stack_file.values)
    if problems:
        raise SpecError("invalid stack config", problems)
    return stack_file.values


def with_overrides(
    values: dict[str, Any], stack: str, mode: str | None = None, model_registry: bool | None = None
) -> dict[str, Any]:
    """A stack's config with the mode or the model-registry switch overridden (for planning requests
    written for another install). Single-account mode keeps only this stack's account."""
    result = dict(values)
    if model_registry is not None:
        result["mlops:useModelRegistry"] = model_registry
    if mode is not None:
        result["mlops:mode"] = mode
        if mode == "single":
            environment = str(result.get("mlops:environment") or stack)  # as load_stack_config reads it
            accounts = result.get("mlops:accounts") or {}
            if isinstance(accounts, dict) and environment in accounts:
                result["mlops:accounts"] = {environment: accounts[environment]}
            result["mlops:orchestratorEnvironment"] = environment
    return result


def config_strings(values: dict[str, Any]) -> dict[str, str]:
    """Config as the engine hands it to a program: strings, structured values as JSON."""
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in values.items()}


def plan_stack(
    stack: str,
    project: Project | None = None,
    extra_pipelines: list[dict[str, Any]] | None = None,
    config_values: dict[str, Any] | None = None,
) -> StackPlan:
    """Plan one stack: the program of `project` (its `__main__.py`) with `config_values`, or else with
    the stack's file of `project` (default: the project of the current directory). Without a project,
    the packaged program plans `config_values`. Config problems raise SpecError before any resource
    is recorded."""
    if config_values is None:
        project = project or find_project(Path.cwd())
        config_values = read_stack_file(stack, project)
    values = dict(config_values)
    if extra_pipelines:
        values["mlops:pipelines"] = list(values.get("mlops:pipelines") or []) + extra_pipelines
    strings = config_strings(values)
    config = load_stack_config(strings, stack)  # fail fast, with the key named, before the engine starts
    check_allowed_accounts(strings.get(ALLOWED_ACCOUNTS_KEY), config.account_id, config.environment)
    plan = StackPlan(
        stack, PlanRecorder(account_id=config.account_id, region=config.region), config.orchestrator_account_id
    )
    plan.config = config
    if extra_pipelines:
        plan.request_pipelines = [spec.pipeline_id for spec in config.pipelines[-len(extra_pipelines) :]]
    _run_program(plan, strings, _program_of(project), project.name if project else PROJECT)
    return plan


def _program_of(project: Project | None) -> Callable[[], Any]:
    if project is None:
        from mlops_cli.program import run

        return run
    main = project.program / "__main__.py"
    if not main.is_file():
        raise SpecError("no program", [FieldError(str(project.program), "holds no __main__.py")])
    return lambda: runpy.run_path(str(main), run_name="__main__")


def plan_delivery(stack: str, request: dict[str, Any], config_values: dict[str, Any]) -> StackPlan:
    """Plan the delivery stack (CodePipeline) the provisioner would create for `request`, with the
    settings the orchestrator of this stack config gives the provisioner."""
    from components.orchestrator import provisioner_environment
    from components.stack import orchestrator_args
    from lambda_src.provisioner.program import delivery_program
    from lambda_src.provisioner.settings import ProvisionerSettings, SettingsError
    from mlops_spec.request import parse_pipeline_request

    strings = config_strings(config_values)
    config = load_stack_config(strings, stack)
    if not config.hosts_orchestrator:
        raise SpecError("not an orchestrator stack", [FieldError(stack, "does not host the orchestrator")])
    spec = parse_pipeline_request(request, mode=config.mode, use_model_registry=config.use_model_registry)
    args = orchestrator_args(config)
    keys = f"arn:{config.partition}:kms:{config.region}:{config.account_id}:key"
    image = f"{ecr_registry(config.account_id, config.region)}/{args.names.provisioner_repository}"
    environment = {
        **provisioner_environment(
            args,
            f"{keys}/planned-data-key",
            f"{keys}/planned-secrets-key",
            f"{image}:{config.provisioner_image_tag or 'latest'}",
        ),
        "AWS_REGION": config.region,
    }
    try:
        settings = ProvisionerSettings.from_env(environment)
    except SettingsError as exc:
        raise SpecError("bad provisioner settings", [FieldError("provisioner", str(exc))]) from None
    name = naming.delivery_stack_name(spec.pipeline_id)
    plan = StackPlan(
        name, PlanRecorder(account_id=config.account_id, region=config.region), config.orchestrator_account_id
    )
    plan.config = config
    _run_program(plan, strings, delivery_program(spec, settings), PROJECT)
    return plan


@contextlib.contextmanager
def _without_source_positions() -> Iterator[None]:
    """The SDK walks the Python stack of every registration to tell the engine where a resource was
    declared; the mock engine ignores it, and the walk is a fifth of a large plan's time. Skipped
    during offline plans only (a private SDK hook: left alone if a future SDK lacks it)."""
    from pulumi.runtime import resource as sdk_resource

    original = getattr(sdk_resource, "_get_stack_trace", None)
    if original is None:
        yield
        return
    from pulumi.runtime.proto import source_pb2

    sdk_resource._get_stack_trace = source_pb2.StackTrace  # type: ignore[attr-defined]
    try:
        yield
    finally:
        sdk_resource._get_stack_trace = original  # type: ignore[attr-defined]


def _run_program(plan: StackPlan, config: dict[str, str], program: Callable[[], Any], project: str) -> None:
    """Run `program` as stack `plan.stack` of `project` under the plan's recording engine and collect
    its exports. Values planned as `[secret]` are the stack's secrets, as the engine would mark them."""
    set_root_resource(None)  # type: ignore[arg-type]
    plan.recorder.install(project, plan.stack)
    pulumi.runtime.set_all_config(config, [key for key, value in config.items() if value == SECRET_PLACEHOLDER])

    @pulumi.runtime.test
    def run() -> pulumi.Output[Any]:
        program()
        stack_resource: Any = pulumi.runtime.get_root_resource()
        return pulumi.Output.from_input(dict(stack_resource.outputs)).apply(plan.outputs.update)

    # The engine builds a large, long-lived graph of futures and outputs; CPython's cyclic collector
    # rescanning it over and over took about half of a large plan's time. Nothing in a plan is
    # garbage until it ends, so the collector pauses for the run.
    collecting = gc.isenabled()
    gc.disable()
    try:
        with _without_source_positions():
            run()
    finally:
        pulumi.runtime.set_all_config({}, [])
        if collecting:
            gc.enable()
    if plan.recorder.duplicates:
        raise SpecError("duplicate resources", [FieldError(d, "is declared twice") for d in plan.recorder.duplicates])
