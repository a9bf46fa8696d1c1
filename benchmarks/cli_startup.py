"""Benchmark of start-up times: `mlops --help`, `mlops validate <example>` and the API handler's cold import.

Run: .venv/bin/python benchmarks/cli_startup.py [--runs 10] [--warmup 1]
Each figure comes from fresh processes, started as users start them (the `mlops` script installed
next to this interpreter), so no run warms the next one's imports. The verdict compares the median
with the target; the max and the CPU time (user + system, which load on the machine does not
inflate) are shown beside it. Exits 1 when a target is missed. Not run by pytest: it takes a while.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = "examples/byom_realtime_builtin.json"
HEAVY = ("pulumi", "pulumi_aws", "components")

# Runs in a fresh interpreter: the handler's import time, measured around the import alone
# (as a Lambda cold start pays it), and the heavy packages it loaded.
HANDLER_IMPORT = f"""
import json, sys, time
started, cpu_started = time.perf_counter(), time.process_time()
import lambda_src.api.handler
seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
heavy = sorted({{name.split(".")[0] for name in sys.modules}} & {set(HEAVY)!r})
print(json.dumps({{"seconds": seconds, "cpu": cpu, "heavy": heavy}}))
"""


@dataclass(frozen=True)
class Sample:
    wall: float
    cpu: float


@dataclass(frozen=True)
class Result:
    name: str
    target: float
    samples: list[Sample]
    problem: str = ""

    @property
    def median(self) -> float:
        return statistics.median(sample.wall for sample in self.samples)

    @property
    def passed(self) -> bool:
        return not self.problem and self.median <= self.target

    def line(self) -> str:
        cpu = statistics.median(sample.cpu for sample in self.samples)
        maximum = max(sample.wall for sample in self.samples)
        verdict = "PASS" if self.passed else "FAIL"
        figures = f"median {self.median * 1000:.0f} ms, max {maximum * 1000:.0f} ms, CPU {cpu * 1000:.0f} ms"
        return f"{verdict}  {self.name}: {figures} (target {self.target * 1000:.0f} ms){self.problem}"


def mlops_command() -> list[str]:
    """The installed `mlops` script beside this interpreter; the module when it is not installed."""
    script = Path(sys.executable).parent / "mlops"
    return [str(script)] if script.exists() else [sys.executable, "-m", "mlops_cli.main"]


def run_once(argv: list[str]) -> tuple[Sample, subprocess.CompletedProcess[str]]:
    """One whole process: its wall time, its CPU time (user + system), and what it printed."""
    before = os.times()
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return Sample(wall, cpu), done


def measure_command(name: str, argv: list[str], target: float, runs: int, warmup: int) -> Result:
    """`runs` whole-process runs of a command after `warmup` discarded ones; a non-zero exit is a failure."""
    for _ in range(warmup):
        run_once(argv)
    samples, problem = [], ""
    for _ in range(runs):
        sample, done = run_once(argv)
        samples.append(sample)
        if done.returncode != 0:
            problem = f"; exit {done.returncode}: {done.stderr.strip()[:200]}"
    return Result(name, target, samples, problem)


def measure_handler_import(target: float, runs: int, warmup: int) -> Result:
    """The import of lambda_src.api.handler in fresh interpreters; loading pulumi or components is a failure."""
    argv = [sys.executable, "-c", HANDLER_IMPORT]
    samples, problem = [], ""
    for index in range(warmup + runs):
        sample, done = run_once(argv)
        if done.returncode != 0:
            return Result("import lambda_src.api.handler", target, [sample], f"; failed: {done.stderr.strip()[-200:]}")
        report = json.loads(done.stdout.strip().splitlines()[-1])
        if report["heavy"]:
            problem = f"; it loads {', '.join(report['heavy'])}"
        if index >= warmup:
            samples.append(Sample(report["seconds"], report["cpu"]))
    return Result("import lambda_src.api.handler", target, samples, problem)


def run_all(runs: int, warmup: int) -> list[Result]:
    mlops = mlops_command()
    print(f"{' '.join(mlops)}; python {sys.version.split()[0]}; {os.cpu_count()} CPUs, load average {_load()}")
    print(f"{runs} runs each (the median decides; the handler's figures are its import alone)")
    return [
        measure_command("mlops --help", [*mlops, "--help"], 0.3, runs, warmup),
        measure_command(f"mlops validate {EXAMPLE}", [*mlops, "validate", EXAMPLE], 0.6, runs, warmup),
        measure_handler_import(0.15, runs, warmup),
    ]


def _load() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10, help="measured runs per figure")
    parser.add_argument("--warmup", type=int, default=1, help="discarded runs first (file cache, .pyc files)")
    options = parser.parse_args()
    results = run_all(options.runs, options.warmup)
    for result in results:
        print(result.line())
    return 0 if all(result.passed for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
