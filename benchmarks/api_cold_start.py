"""Benchmark of the API function: cold import time and memory, first request, dry-run validation throughput.

Run: python benchmarks/api_cold_start.py [--runs 7] [--seconds 3]
Every figure comes from fresh interpreters (as a new Lambda execution environment would start),
so one run's imports never warm the next.

Two first requests are measured. A dry run with checks=false is the function's own work (validation and
plan), which issue 12's target bounds (import + first request <= 300 ms and <= 60 MB). A dry run with checks
(the default) also makes the Lambda and Price List clients and asks AWS; there is no AWS here, so its calls
fail at once and the figure is the clients' cost alone, before any network time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {
    "MLOPS_REGISTRY_TABLE": "bench-registry",
    "MLOPS_ASSETS_BUCKET": "bench-assets",
    "MLOPS_PROVISIONER_FUNCTION": "bench-provisioner",
    "MLOPS_MODE": "single",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}

# Runs in a fresh interpreter: import the handler, then serve one dry-run request.
COLD = r"""
import json, sys, time
started = time.perf_counter()
import lambda_src.api.handler as api
imported = time.perf_counter()

def rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")

rss_import = rss_mb()
heavy = {"boto3", "pydantic", "pulumi", "sagemaker"}
heavy_at_import = sorted({m.split(".")[0] for m in sys.modules} & heavy)
sys.path.insert(0, "benchmarks")
from api_cold_start import dry_run_event, context
event = dry_run_event(checks=sys.argv[1] == "checks")
before = time.perf_counter()
response = api.handler(event, context())
first = time.perf_counter() - before
assert response["statusCode"] == 200, response
print(json.dumps({
    "import_s": imported - started,
    "rss_import_mb": rss_import,
    "first_request_s": first,
    "rss_first_mb": rss_mb(),
    "heavy_at_import": heavy_at_import,
    "heavy_modules": sorted({m.split(".")[0] for m in sys.modules} & heavy),
}))
"""

# Runs in a fresh interpreter: dry-run requests back to back for a few seconds.
THROUGHPUT = r"""
import json, sys, time
sys.path.insert(0, "benchmarks")
import lambda_src.api.handler as api
from api_cold_start import dry_run_event, context
event, ctx = dry_run_event(), context()
api.handler(event, ctx)  # warm: the spec union is built on the first request
deadline = time.perf_counter() + float(sys.argv[1])
count = 0
started = time.perf_counter()
while time.perf_counter() < deadline:
    assert api.handler(event, ctx)["statusCode"] == 200
    count += 1
print(json.dumps({"requests": count, "seconds": time.perf_counter() - started}))
"""


def dry_run_event(checks: bool = False) -> dict:
    """POST /provisionpipeline?dry_run=true (and checks=false unless `checks`) with the real-time example (or
    a built one)."""
    example = ROOT / "examples" / "byom_realtime_builtin.json"
    body = (
        json.loads(example.read_text())
        if example.exists()
        else {
            "pipeline_type": "byom_realtime_builtin",
            "model_name": "churn-xgb",
            "inference_instance": "ml.m5.large",
            "model_framework": "xgboost",
            "model_framework_version": "1.7-1",
            "model_artifact_location": "models/churn-xgb/model.tar.gz",
            "data_capture_location": "capture-bucket/churn-xgb",
        }
    )
    query = {"dry_run": "true"} if checks else {"dry_run": "true", "checks": "false"}
    return {
        "resource": "/provisionpipeline",
        "path": "/provisionpipeline",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {name: [value] for name, value in query.items()},
        "pathParameters": None,
        "requestContext": {"requestId": "bench", "stage": "v1", "identity": {"userArn": "arn:aws:iam::1:user/b"}},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def context() -> object:
    from types import SimpleNamespace

    return SimpleNamespace(
        function_name="bench",
        memory_limit_in_mb=256,
        invoked_function_arn="arn:aws:lambda:us-east-1:1:function:bench",
        aws_request_id="bench",
    )


def _run(code: str, *args: str) -> dict:
    env = {**os.environ, **ENV, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _print_first_request(label: str, cold: list[dict]) -> None:
    firsts = [c["first_request_s"] * 1000 for c in cold]
    total = statistics.median(c["import_s"] * 1000 + f for c, f in zip(cold, firsts, strict=True))
    print(
        f"{label}: first request median {statistics.median(firsts):.0f} ms; cold import + first request "
        f"median {total:.0f} ms, RSS {statistics.median(c['rss_first_mb'] for c in cold):.1f} MB; heavy modules "
        f"loaded: {cold[0]['heavy_modules'] or 'none'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters for the cold figures")
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of the throughput run")
    options = parser.parse_args()

    print(f"python {sys.version.split()[0]}, {options.runs} fresh interpreters per figure")
    validation = [_run(COLD, "validation") for _ in range(options.runs)]
    imports = [c["import_s"] * 1000 for c in validation]
    print(
        f"cold import of lambda_src.api.handler: median {statistics.median(imports):.0f} ms "
        f"(min {min(imports):.0f}, max {max(imports):.0f}), RSS "
        f"{statistics.median(c['rss_import_mb'] for c in validation):.1f} MB; heavy modules loaded: "
        f"{validation[0]['heavy_at_import'] or 'none'}"
    )
    _print_first_request("dry run, checks=false (validation and plan; target <= 300 ms, <= 60 MB)", validation)
    checked = [_run(COLD, "checks") for _ in range(options.runs)]
    _print_first_request("dry run with checks (+ Lambda and Price List clients; no AWS here)", checked)
    rate = _run(THROUGHPUT, str(options.seconds))
    print(f"dry-run validation (checks=false): {rate['requests'] / rate['seconds']:.0f} requests/s (one process, warm)")


if __name__ == "__main__":
    main()
