"""Size limits of non-test code: no module over 400 lines, no function over 50 (CI runs this).

A module that grows past the limit is cut along its domain into a package; a function that grows
past it is split into named steps. Lines are physical lines, docstrings and comments included.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("components", "lambda_src", "mlops_spec", "mlops_cli", "policy_pack", "scripts", "__main__.py")
MODULE_LIMIT = 400
FUNCTION_LIMIT = 50


def python_files(root: Path = ROOT) -> Iterator[Path]:
    for source in SOURCES:
        path = root / source
        yield from [path] if path.is_file() else sorted(path.rglob("*.py"))


def oversized(path: Path) -> Iterator[str]:
    text = path.read_text()
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    name = path.relative_to(ROOT)
    if lines > MODULE_LIMIT:
        yield f"{name}: {lines} lines (limit {MODULE_LIMIT})"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            length = (node.end_lineno or node.lineno) - start + 1
            if length > FUNCTION_LIMIT:
                yield f"{name}:{node.lineno}: function {node.name} is {length} lines (limit {FUNCTION_LIMIT})"


def main() -> int:
    problems = [problem for path in python_files() for problem in oversized(path)]
    for problem in problems:
        print(problem)
    print(f"size check: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
