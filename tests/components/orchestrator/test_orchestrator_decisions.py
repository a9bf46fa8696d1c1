"""The orchestrator's plain decisions: its functions' settings, what the light functions ship, and the
package's one-way imports."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from components.lambda_package import source_files
from components.orchestrator import LIGHT_FUNCTION_CODE, OrchestratorArgs, provisioner_environment
from components.orchestrator.functions import light_function_environment
from mlops_spec.env_vars import LIGHT_FUNCTION_VARIABLES, PROVISIONER_VARIABLES

ROOT = Path(__file__).resolve().parents[3]
FIRST_PARTY = ("lambda_src", "mlops_spec", "components")
LIGHT_HANDLERS = ("lambda_src.api.handler", "lambda_src.trigger.handler", "lambda_src.status_events.handler")


def args(**overrides: object) -> OrchestratorArgs:
    values: dict[str, object] = {
        "account_id": "111111111111",
        "region": "us-east-1",
        "mode": "single",
        "environment": "dev",
        "environment_accounts": {"dev": "111111111111"},
        "provisioner_image_tag": "0.1.0",
    }
    return OrchestratorArgs(**{**values, **overrides})  # type: ignore[arg-type]


def test_with_an_external_id_the_provisioner_gets_every_provisioner_variable() -> None:
    variables = provisioner_environment(args(deploy_role_external_id="s3cr3t"), "data-key", "secrets-key", "image")
    assert set(variables) == {str(name) for name in PROVISIONER_VARIABLES}
    assert "s3cr3t" not in variables.values()
    assert all(type(key) is str for key in variables)


def test_light_functions_are_told_the_provisioner_and_the_data_key() -> None:
    variables = light_function_environment(args(), "data-key")
    assert set(variables) == {str(name) for name in LIGHT_FUNCTION_VARIABLES}
    assert variables["MLOPS_PROVISIONER_FUNCTION"] == "mlops-orch-provisioner"
    assert variables["MLOPS_ASSETS_KMS_KEY_ARN"] == "data-key"


# -- imports, read from the source ------------------------------------------------------------------


def module_file(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(path: Path) -> Iterator[str]:
    """First-party modules `path` imports anywhere (lazy imports too), but not for type checking only."""
    tree = ast.parse(path.read_text())
    type_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for node in ast.walk(block)
    }
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name.startswith(FIRST_PARTY))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(FIRST_PARTY):
            yield node.module
            # `from package import module` names a module as well as attributes.
            yield from (
                f"{node.module}.{alias.name}" for alias in node.names if module_file(f"{node.module}.{alias.name}")
            )


def import_closure(modules: tuple[str, ...]) -> set[str]:
    seen: set[str] = set()
    todo = list(modules)
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        parts = module.split(".")
        todo += [".".join(parts[:depth]) for depth in range(1, len(parts))]
        path = module_file(module)
        if path is not None:
            todo += list(imported_modules(path))
    return seen


def test_light_functions_ship_every_module_they_import_and_no_component() -> None:
    closure = import_closure(LIGHT_HANDLERS)
    shipped = set(source_files(LIGHT_FUNCTION_CODE))
    files = {str(path.relative_to(ROOT)) for module in closure if (path := module_file(module))}
    assert not any(module.startswith("components") for module in closure)
    assert files - shipped == set()


def package_graph(package: str) -> dict[str, set[str]]:
    folder = ROOT.joinpath(*package.split("."))
    modules = {f"{package}.{path.stem}": path for path in folder.glob("*.py") if path.stem != "__init__"}
    return {
        module: {imported for imported in imported_modules(path) if imported in modules}
        for module, path in modules.items()
    }


def cycle_in(graph: dict[str, set[str]]) -> list[str] | None:
    def visit(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        return next((c for n in sorted(graph[module]) if (c := visit(n, [*path, module]))), None)

    return next((c for module in sorted(graph) if (c := visit(module, []))), None)


def test_the_orchestrator_and_delivery_packages_import_one_way() -> None:
    for package in ("components.orchestrator", "components.delivery"):
        graph = package_graph(package)
        assert len(graph) > 1, package
        assert cycle_in(graph) is None, cycle_in(graph)


def test_components_never_import_the_functions() -> None:
    for package in ("components.orchestrator", "components.delivery"):
        for path in ROOT.joinpath(*package.split(".")).glob("*.py"):
            assert not [m for m in imported_modules(path) if m.startswith("lambda_src")], path
