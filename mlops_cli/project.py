"""The Pulumi project `mlops plan` acts on: found from the current directory (or --cwd) as pulumi finds
it, with its stacks (every `Pulumi.<name>.yaml`) and the config each would hand the program."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlops_spec.errors import FieldError, SpecError

PROJECT_FILES = ("Pulumi.yaml", "Pulumi.yml")
SECURE = "secure"
SECRET_PLACEHOLDER = "[secret]"


@dataclass(frozen=True)
class StackFile:
    """One stack's config as written: values as YAML reads them, and which keys are `secure:`."""

    values: dict[str, Any]
    secret_keys: frozenset[str]


@dataclass(frozen=True)
class Project:
    root: Path
    name: str
    program: Path  # the directory holding the program's __main__.py
    config_dir: Path
    shared_config: dict[str, Any]  # project-level `config:` values, shared by every stack

    def stack_path(self, stack: str) -> Path:
        return self.config_dir / f"Pulumi.{stack}.yaml"

    def stacks(self) -> list[str]:
        """Every stack with a config file, sorted by name."""
        files = self.config_dir.glob("Pulumi.*.yaml")
        return sorted(name for path in files if (name := path.name.removeprefix("Pulumi.").removesuffix(".yaml")))

    def read_stack(self, stack: str) -> StackFile:
        """The stack's config over the project's shared config."""
        path = self.stack_path(stack)
        if not path.is_file():
            found = ", ".join(self.stacks()) or "none"
            raise SpecError("unknown stack", [FieldError("--stack", f"'{stack}' has no {path.name} (stacks: {found})")])
        written = _config_map(_load_yaml(path), path.name)
        values = {**self.shared_config, **{k: _unwrapped(v) for k, v in written.items()}}
        secrets = frozenset(k for k, v in written.items() if _is_secure(v))
        return StackFile(values, secrets)


def find_project(start: Path) -> Project:
    """The project whose Pulumi.yaml is in `start` or the nearest directory above it (as pulumi looks)."""
    start = start.resolve()
    if not start.is_dir():  # a mistyped --cwd must not fall back to a project above it
        raise SpecError("no project", [FieldError(str(start), "is not a directory")])
    for directory in (start, *start.parents):
        for name in PROJECT_FILES:
            if (directory / name).is_file():
                return _project(directory, directory / name)
    raise SpecError(
        "no project", [FieldError(str(start), "holds no Pulumi.yaml (run in a project directory or pass --cwd DIR)")]
    )


def _project(root: Path, path: Path) -> Project:
    document = _load_yaml(path)
    main = root / str(document.get("main") or ".")
    return Project(
        root=root,
        name=str(document.get("name") or root.name),
        program=main.parent if main.suffix == ".py" else main,
        config_dir=root / str(document.get("stackConfigDir") or "."),
        shared_config=_shared_config(document.get("config") or {}),
    )


def _shared_config(config: Any) -> dict[str, Any]:
    """Project-level settings with a namespace (`mlops:mode: single` or `{value: single}`), as pulumi
    applies them to every stack; `pulumi:` keys and declarations without a value are not settings."""
    if not isinstance(config, dict):
        return {}
    shared = {}
    for key, value in config.items():
        if ":" not in key or key.startswith("pulumi:"):
            continue
        if isinstance(value, dict) and "value" in value:
            shared[key] = value["value"]
        elif isinstance(value, dict) and "default" in value:
            shared[key] = value["default"]
        elif not isinstance(value, dict):
            shared[key] = value
    return shared


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        # libyaml's parser where installed: several times faster than the pure-Python one.
        document = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    except yaml.YAMLError as exc:
        problem = f"is not valid YAML ({' '.join(str(exc).split())})"
        raise SpecError("bad project file", [FieldError(path.name, problem)]) from None
    if not isinstance(document, dict):
        raise SpecError("bad project file", [FieldError(path.name, "must be a mapping")])
    return document


def _config_map(document: dict[str, Any], name: str) -> dict[str, Any]:
    values = document.get("config") or {}
    if not isinstance(values, dict):
        raise SpecError("bad stack file", [FieldError(f"{name}:config", "must be a mapping")])
    return values


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {SECURE}


def _unwrapped(value: Any) -> Any:
    """An encrypted value cannot be read offline: it is planned as the placeholder `[secret]`."""
    return SECRET_PLACEHOLDER if _is_secure(value) else value


def stacks_for(selection: str, project: Project) -> list[str]:
    """The stacks `--stack` names: one, or with `all` every stack file of the project (at least one)."""
    if selection != "all":
        return [selection]
    stacks = project.stacks()
    if not stacks:
        problem = f"{project.config_dir} holds no stack file (Pulumi.<stack>.yaml)"
        raise SpecError("no stacks", [FieldError("--stack all", problem)])
    return stacks


def default_stack(project: Project) -> str:
    """The project's only stack, else dev; with several and no dev, the user must choose."""
    stacks = project.stacks()
    if len(stacks) == 1:
        return stacks[0]
    if "dev" in stacks:
        return "dev"
    found = ", ".join(stacks) or "none"
    raise SpecError("which stack", [FieldError("--stack", f"is needed to choose a stack (found: {found}) or all")])


def stack_of_environment(project: Project, environment: str) -> str:
    """The stack whose `mlops:environment` (or, without one, whose name) is `environment`."""
    matches = [
        stack
        for stack in project.stacks()
        if project.read_stack(stack).values.get("mlops:environment", stack) == environment
    ]
    if len(matches) != 1:
        found = ", ".join(matches) or "none"
        raise SpecError("which stack", [FieldError("--env", f"'{environment}' is the environment of {found} stacks")])
    return matches[0]


def check_shared_settings(project: Project) -> None:
    """The multi-account stacks of the project agree on the settings they share (region, mode,
    accounts, ...): SpecError naming each that differs, whichever stack is planned."""
    from mlops_spec.stack_config_checks import shared_setting_problems

    values = {stack: project.read_stack(stack).values for stack in project.stacks()}
    multi = {stack: config for stack, config in values.items() if config.get("mlops:mode") == "multi"}
    problems = shared_setting_problems(multi) if len(multi) > 1 else []
    if problems:
        raise SpecError("stacks disagree", problems)
