"""Benchmark: offline plan time of the three stacks, of every pipeline type, and cost per declared pipeline;
and the whole `mlops plan` process (start-up, imports, plan, output) of the orchestrator plus one
pipeline of every type.

Run: .venv/bin/python benchmarks/plan.py [--repeat N] [--whole-process [--against OTHER_CHECKOUT]]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))


def timed(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def plan_all_stacks() -> int:
    from mlops_cli.planner import plan_stack
    from mlops_cli.project import find_project

    project = find_project(REPO_ROOT / "examples" / "stacks" / "multi-account")
    return sum(len(plan_stack(stack, project).recorder.resources) for stack in project.stacks())


def example_requests() -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((REPO_ROOT / "examples").glob("*.json"))]


def one_of_each_type(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first example of each pipeline type: the workload issue 13 measures (the orchestrator plus
    one pipeline of every type); the other examples show options of a type already there."""
    chosen: dict[str, dict[str, Any]] = {}
    for request in requests:
        chosen.setdefault(request["pipeline_type"], request)
    return list(chosen.values())


def renamed(request: dict[str, Any], index: int) -> dict[str, Any]:
    """A copy of a request with a distinct name, so N copies are N pipelines."""
    clone = copy.deepcopy(request)
    key = "model_name" if "model_name" in clone else "image_tag"
    clone[key] = f"{clone[key]}-{index}"
    return clone


def plan_with(requests: list[dict[str, Any]]) -> int:
    from mlops_cli.planner import plan_stack, read_stack_file
    from mlops_cli.project import find_project

    values = read_stack_file("dev", find_project(REPO_ROOT))
    values["mlops:mode"] = "single"
    values["mlops:accounts"] = {"dev": "111111111111"}
    values["mlops:useModelRegistry"] = False
    return len(plan_stack("dev", config_values=values, extra_pipelines=requests).recorder.resources)


def whole_process_seconds(
    requests: list[dict[str, Any]], repeat: int, roots: tuple[Path, ...] = (REPO_ROOT,)
) -> list[tuple[float, float]]:
    """Per code root, the median wall time and median CPU time (user + system, which other load on the
    machine inflates less) of `mlops plan` run as a user runs it, in a project whose dev stack (single
    account, no model registry) declares `requests`. With several roots (checkouts of two revisions),
    their runs alternate, so that both see the same load: on a shared machine the same code's figure
    moves by 10-20% from one hour to the next.

    As an installed package runs: its modules byte-compiled (pip and the Makefile compile what they
    install). Here each root's own modules get their bytecode in a temporary cache, written by a first
    run that is not counted, whatever PYTHONDONTWRITEBYTECODE says.
    """
    with tempfile.TemporaryDirectory() as directory:
        project = _project_declaring(Path(directory), requests)
        runs = [_PlanRun(root, project) for root in roots]
        for run in runs:
            run.once()
        samples: list[list[tuple[float, float]]] = [[] for _ in runs]
        for _ in range(repeat):
            for run, taken in zip(runs, samples, strict=True):
                taken.append(run.once())
        for run in runs:
            run.bytecode.cleanup()
    return [(statistics.median(w for w, _ in taken), statistics.median(c for _, c in taken)) for taken in samples]


def _project_declaring(project: Path, requests: list[dict[str, Any]]) -> Path:
    (project / "Pulumi.yaml").write_text("name: mlops-orchestrator\nruntime: python\n")
    (project / "__main__.py").write_text("from mlops_cli.program import run\n\nrun()\n")
    config = {
        "aws:region": "us-east-1",
        "aws:allowedAccountIds": ["111111111111"],
        "mlops:mode": "single",
        "mlops:accounts": {"dev": "111111111111"},
        "mlops:pipelines": requests,
    }
    (project / "Pulumi.dev.yaml").write_text(json.dumps({"config": config}))  # JSON is YAML
    return project


class _PlanRun:
    """`mlops plan` of `project` with the code of `root`, timed."""

    def __init__(self, root: Path, project: Path):
        self.bytecode = tempfile.TemporaryDirectory()
        # `python -m mlops_cli.main` runs what the console script runs (main), even in a venv whose
        # bin/mlops predates the entry point; run from `root`, it imports that root's code.
        self.command = [sys.executable, "-m", "mlops_cli.main", "plan", "--cwd", str(project)]
        self.root = root
        self.environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
        self.environment["PYTHONPYCACHEPREFIX"] = self.bytecode.name
        self.environment["PYTHONPATH"] = str(root)

    def once(self) -> tuple[float, float]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(self.command, check=True, capture_output=True, env=self.environment, cwd=self.root)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def print_whole_process(examples: list[dict[str, Any]], repeat: int, against: Path | None = None) -> None:
    roots = (REPO_ROOT,) if against is None else (REPO_ROOT, against.resolve())
    for root, (wall, cpu) in zip(roots, whole_process_seconds(examples, repeat, roots), strict=True):
        code = "" if against is None else f" [{root}]"
        print(
            f"whole process, mlops plan of the orchestrator + {len(examples)} example pipelines, "
            f"median of {repeat}: {wall:.3f} s wall, {cpu:.3f} s CPU{code}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--whole-process", action="store_true", help="only the whole `mlops plan` process")
    parser.add_argument(
        "--against",
        type=Path,
        help="with --whole-process: another checkout (e.g. `git worktree add /tmp/old main~3`) whose runs "
        "alternate with this one's, so both figures come from the same sitting",
    )
    args = parser.parse_args()
    if args.whole_process:
        print_whole_process(one_of_each_type(example_requests()), args.repeat, args.against)
        print_whole_process(example_requests(), args.repeat, args.against)
        return

    cold, resources = timed(plan_all_stacks)
    print(f"plan --stack all (cold, includes imports): {cold:.3f} s, {resources} resources")
    warm = [timed(plan_all_stacks)[0] for _ in range(args.repeat)]
    print(f"plan --stack all (warm, median of {args.repeat}): {statistics.median(warm):.3f} s")

    examples = example_requests()
    if not examples:
        print("no examples/*.json yet: pipeline benchmarks skipped")
        return
    print_whole_process(one_of_each_type(examples), args.repeat)
    print_whole_process(examples, args.repeat)
    plan_with([])  # warm the component imports
    each_type = one_of_each_type(examples)
    seconds, count = timed(lambda: plan_with(each_type))
    print(f"dev orchestrator + one pipeline of each of {len(each_type)} types: {seconds:.3f} s, {count} resources")

    base_seconds = statistics.median(timed(lambda: plan_with([]))[0] for _ in range(3))
    print(f"   0 declared pipelines (dev, orchestrator only): {base_seconds:.3f} s")
    seconds_for: dict[int, float] = {}
    for n in (1, 50, 200):
        batch = [renamed(examples[i % len(examples)], i) for i in range(n)]
        seconds, count = timed(lambda batch=batch: plan_with(batch))
        seconds_for[n] = seconds
        per_pipeline_ms = (seconds - base_seconds) / n * 1000
        print(f"{n:>4} declared pipelines: {seconds:.3f} s, {count} resources, {per_pipeline_ms:.1f} ms per pipeline")
    marginal_ms = (seconds_for[200] - seconds_for[50]) / 150 * 1000
    print(f"marginal cost from 50 to 200 pipelines: {marginal_ms:.1f} ms per pipeline (linear if close to the above)")


if __name__ == "__main__":
    main()
