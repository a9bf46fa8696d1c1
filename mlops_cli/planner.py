"""Offline plans: run the real Pulumi program under the recording mock engine, one stack at a time."""

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
import yaml
from pulumi.runtime.settings import set_root_resource

from components.guardrails import Violation, check_all
from mlops_cli.mocks import PlanRecorder
from mlops_spec import naming
from mlops_spec.errors import FieldError, SpecError
from mlops_spec.stack_config import load_stack_config

REPO_ROOT = Path(__file__).resolve().parent.parent
PROJECT = "mlops-orchestrator"
STACKS = ("dev", "staging", "prod")
SECRET_PLACEHOLDER = "[secret]"


@dataclass
class StackPlan:
    stack: str
    recorder: PlanRecorder
    orchestrator_account: str
    outputs: dict[str, Any] = field(default_factory=dict)

    def violations(self) -> list[Violation]:
        """Guardrail violations of the planned resources (components/guardrails/)."""
        return check_all(self.recorder.resources, self.orchestrator_account)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "resources": [r.as_dict() for r in self.recorder.resources],
            "outputs": self.outputs,
            "violations": [
                {"rule": v.rule, "type": v.resource_type, "name": v.resource_name, "message": v.message}
                for v in self.violations()
            ],
        }


def read_stack_file(stack: str, root: Path | None = None) -> dict[str, Any]:
    """The `config:` map of Pulumi.<stack>.yaml. Encrypted (`secure:`) values cannot be read offline
    and are replaced by a placeholder."""
    path = (root or REPO_ROOT) / f"Pulumi.{stack}.yaml"
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise SpecError("missing stack file", [FieldError(path.name, "does not exist")]) from None
    except yaml.YAMLError as exc:
        raise SpecError("bad stack file", [FieldError(path.name, f"is not valid YAML ({exc})")]) from None
    values = document.get("config") or {}
    if not isinstance(values, dict):
        raise SpecError("bad stack file", [FieldError(f"{path.name}:config", "must be a mapping")])
    return {key: _plain(value) for key, value in values.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"secure"}:
        return SECRET_PLACEHOLDER
    return value


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
            environment = str(result.get("mlops:environment") or stack)
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
    root: Path | None = None,
    extra_pipelines: list[dict[str, Any]] | None = None,
    config_values: dict[str, Any] | None = None,
) -> StackPlan:
    """Plan one stack. Config problems raise SpecError before any resource is recorded."""
    root = root or REPO_ROOT
    values = dict(config_values if config_values is not None else read_stack_file(stack, root))
    if extra_pipelines:
        values["mlops:pipelines"] = list(values.get("mlops:pipelines") or []) + extra_pipelines
    values = {k: v for k, v in values.items() if v != SECRET_PLACEHOLDER}
    strings = config_strings(values)
    config = load_stack_config(strings, stack)  # fail fast, with the key named, before the engine starts
    plan = StackPlan(
        stack, PlanRecorder(account_id=config.account_id, region=config.region), config.orchestrator_account_id
    )
    _run_program(plan, strings, lambda: runpy.run_path(str(root / "__main__.py"), run_name="__main__"))
    return plan


def plan_delivery(stack: str, request: dict[str, Any], config_values: dict[str, Any]) -> StackPlan:
    """Plan the delivery stack (CodePipeline) the provisioner would create for `request`, with the
    settings the orchestrator of this stack config gives the provisioner."""
    from components.orchestrator import provisioner_environment
    from components.stack import orchestrator_args
    from lambda_src.provisioner.program import delivery_program
    from lambda_src.provisioner.settings import ProvisionerSettings, SettingsError
    from mlops_spec.request import parse_pipeline_request

    strings = config_strings({k: v for k, v in config_values.items() if v != SECRET_PLACEHOLDER})
    config = load_stack_config(strings, stack)
    if not config.hosts_orchestrator:
        raise SpecError("not an orchestrator stack", [FieldError(stack, "does not host the orchestrator")])
    spec = parse_pipeline_request(request, mode=config.mode, use_model_registry=config.use_model_registry)
    args = orchestrator_args(config)
    keys = f"arn:aws:kms:{config.region}:{config.account_id}:key"
    image = f"{config.account_id}.dkr.ecr.{config.region}.amazonaws.com/{args.names.provisioner_repository}"
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
    _run_program(plan, strings, delivery_program(spec, settings))
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


def _run_program(plan: StackPlan, config: dict[str, str], program: Callable[[], Any]) -> None:
    """Run `program` as stack `plan.stack` under the plan's recording engine and collect its exports."""
    set_root_resource(None)  # type: ignore[arg-type]
    plan.recorder.install(PROJECT, plan.stack)
    pulumi.runtime.set_all_config(config)

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
        pulumi.runtime.set_all_config({})
        if collecting:
            gc.enable()
    if plan.recorder.duplicates:
        raise SpecError("duplicate resources", [FieldError(d, "is declared twice") for d in plan.recorder.duplicates])


def stacks_for(selection: str, root: Path | None = None) -> list[str]:
    root = root or REPO_ROOT
    if selection == "all":
        return [s for s in STACKS if (root / f"Pulumi.{s}.yaml").exists()]
    return [selection]
