"""pulumi_aws service packages loaded on use (components/aws_packages.py): a name found in its own module
is the very object the package's `__init__` gives, and a plan loads no service package in full.

The checks that need pulumi_aws unloaded run in a fresh interpreter: the test process has loaded it."""

from __future__ import annotations

import json
import os
import py_compile
import subprocess
import sys
from pathlib import Path

import pytest

from components.aws_packages import modules_of, star_imported

REPO_ROOT = Path(__file__).resolve().parents[2]

# The service packages the orchestrator and its pipelines use.
SERVICES = [
    "apigateway",
    "appautoscaling",
    "cloudformation",
    "cloudwatch",
    "codebuild",
    "dynamodb",
    "ecr",
    "iam",
    "kms",
    "lambda_",
    "s3",
    "sagemaker",
    "sfn",
    "sns",
    "sqs",
]


def run_fresh(code: str) -> dict:
    """Run `code` in a new interpreter at the repository's root; it prints one JSON document."""
    # Warnings as the library's own users see them: a warning filter of the caller's must not fail the run.
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env, cwd=REPO_ROOT
    )
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("BucketV2", "bucket_v2"),
        ("BucketV2Args", "bucket_v2"),
        ("BucketServerSideEncryptionConfigurationV2", "bucket_server_side_encryption_configuration_v2"),
        ("get_prebuilt_ecr_image", "get_prebuilt_ecr_image"),
        ("LogGroup", "log_group"),
        ("RolePolicyAttachment", "role_policy_attachment"),
        ("DataQualityJobDefinition", "data_quality_job_definition"),
        ("get_key_output", "get_key"),
        ("GetKeyResult", "get_key"),
        ("AwaitableGetPolicyDocumentResult", "get_policy_document"),
        ("outputs", "outputs"),
        ("Args", "args"),
    ],
)
def test_a_name_is_looked_up_in_the_module_pulumis_generator_writes_it_to(name, module):
    assert modules_of(name) == [module, "_inputs", "_enums"]


def test_every_name_found_in_its_own_module_is_the_object_the_package_init_gives():
    found = run_fresh(
        f"""
import importlib.util, json, sys
from components.aws_packages import ServicePackage, _MISSING, defined_in_own_module, load_on_use
load_on_use()
import pulumi_aws
report = {{"names": 0, "found": 0, "different": [], "lazy": []}}
for service in {SERVICES!r}:
    package = f"pulumi_aws.{{service}}"
    report["lazy"].append(type(sys.modules[package]) is ServicePackage)
    spec = importlib.util.find_spec(package)
    whole = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(whole)  # the package as its own __init__ builds it
    for name, value in vars(whole).items():
        if name.startswith("_"):
            continue
        report["names"] += 1
        own = defined_in_own_module(package, name)
        if own is _MISSING:
            continue
        report["found"] += 1
        if own is not value:
            report["different"].append(f"{{package}}.{{name}}")
print(json.dumps(report))
"""
    )
    assert found["lazy"] == [True] * len(SERVICES)
    assert found["different"] == []
    # The lookup is worth having: most names are where the generator convention puts them.
    assert found["names"] > 2000
    assert found["found"] > 0.95 * found["names"]


def test_a_plan_loads_no_service_package_in_full_and_no_module_it_does_not_use():
    loaded = run_fresh(
        """
import json, sys
from pathlib import Path
from mlops_cli.planner import plan_stack
from components.aws_packages import ServicePackage
requests = [json.loads(p.read_text()) for p in sorted(Path("examples").glob("*.json"))]
values = {
    "aws:region": "us-east-1",
    "mlops:mode": "single",
    "mlops:accounts": {"dev": "111111111111"},
    "mlops:pipelines": requests,
}
plan = plan_stack("dev", config_values=values)
packages = {n: m for n, m in sys.modules.items() if n.startswith("pulumi_aws.") and n.count(".") == 1}
used = sorted(n for n in packages if any(k.startswith(n + ".") for k in sys.modules))
print(json.dumps({
    "types": sorted({r["pipeline_type"] for r in requests}),
    "resources": len(plan.recorder.resources),
    "used": used,
    "in_full": sorted(n for n in used if type(packages[n]) is not ServicePackage),
    "sagemaker_modules": sorted(k for k in sys.modules if k.startswith("pulumi_aws.sagemaker.")),
}))
"""
    )
    # The orchestrator and every example pipeline (each pipeline type) are planned.
    assert len(loaded["types"]) >= 12
    assert loaded["resources"] > 300
    assert set(loaded["used"]) == {f"pulumi_aws.{service}" for service in SERVICES}
    assert loaded["in_full"] == []
    # sagemaker has ~70 resource modules; the plan uses the few it declares.
    assert "pulumi_aws.sagemaker.algorithm" not in loaded["sagemaker_modules"]
    assert len(loaded["sagemaker_modules"]) < 20


def test_what_needs_the_whole_package_loads_it_as_its_own_init_would():
    whole = run_fresh(
        """
import json, sys
from components.aws_packages import ServicePackage, load_on_use
load_on_use()
import pulumi_aws
before = type(sys.modules["pulumi_aws.sns"]) is ServicePackage
topic = pulumi_aws.sns.Topic
names = pulumi_aws.sns.__all__ if hasattr(pulumi_aws.sns, "__all__") else sorted(dir(pulumi_aws.sns))
print(json.dumps({
    "before": before,
    "after": type(sys.modules["pulumi_aws.sns"]).__name__,
    "topic_module": topic.__module__,
    "has_subscription": "TopicSubscription" in names,
}))
"""
    )
    assert whole == {
        "before": True,
        "after": "module",
        "topic_module": "pulumi_aws.sns.topic",
        "has_subscription": True,
    }


def test_a_function_named_as_its_module_is_the_function_however_its_module_was_imported():
    names = run_fresh(
        """
import json
from components.aws_packages import load_on_use
load_on_use()
import pulumi_aws as aws
aws.kms.get_key_output  # imports module pulumi_aws.kms.get_key first
import pulumi_aws.iam.get_policy_document  # imported directly, as a user or pulumi may
print(json.dumps({
    "kms.get_key": type(aws.kms.get_key).__name__,
    "iam.get_policy_document": type(aws.iam.get_policy_document).__name__,
    "s3.outputs": type(aws.s3.outputs).__name__,
}))
"""
    )
    assert names == {"kms.get_key": "function", "iam.get_policy_document": "function", "s3.outputs": "module"}


def test_a_name_replaced_on_the_package_stays_replaced_when_the_package_loads_in_full():
    patched = run_fresh(
        """
import json
from unittest import mock
from components.aws_packages import load_on_use
load_on_use()
import pulumi_aws as aws
real = aws.s3.BucketV2
with mock.patch("pulumi_aws.s3.BucketV2") as fake:
    dir(aws.s3)  # loads the package in full
    from pulumi_aws.s3 import BucketV2
    during = (aws.s3.BucketV2 is fake, BucketV2 is fake)
print(json.dumps({"during": during, "after": aws.s3.BucketV2 is real, "plain": type(aws.s3).__name__}))
"""
    )
    assert patched == {"during": [True, True], "after": True, "plain": "module"}


def test_a_name_no_module_can_hold_is_missing_as_on_the_package_loaded_at_once():
    missing = run_fresh(
        """
import json
from components.aws_packages import load_on_use
load_on_use()
import pulumi_aws as aws
aws.s3.BucketV2  # its module imports Optional, pulumi and warnings, and exports none of them
print(json.dumps([
    getattr(aws.ecr, "a.b", "missing"),
    hasattr(aws.sns, "x.y"),
    getattr(aws.sqs, "Nope", "missing"),
    [hasattr(aws.s3, name) for name in ("Optional", "pulumi", "warnings")],
]))
"""
    )
    assert missing == ["missing", False, "missing", [False, False, False]]


def test_names_set_or_deleted_on_the_package_stay_so_as_on_the_package_loaded_at_once():
    changed = run_fresh(
        """
import json
from unittest import mock
from components.aws_packages import load_on_use
load_on_use()
import pulumi_aws as aws
aws.s3.BucketV2 = "stand-in"  # set before its module is imported
aws.s3.BucketV2Args  # imports that module
with mock.patch.dict(aws.sqs.__dict__, {"Queue": "patched"}):
    queue = aws.sqs.Queue
del aws.sns.Topic  # never looked up
print(json.dumps({
    "s3.BucketV2": aws.s3.BucketV2,
    "sqs.Queue in patch.dict": queue,
    "sns.Topic after del": hasattr(aws.sns, "Topic"),
    "sns.TopicPolicy": aws.sns.TopicPolicy.__module__,
}))
"""
    )
    assert changed == {
        "s3.BucketV2": "stand-in",
        "sqs.Queue in patch.dict": "patched",
        "sns.Topic after del": False,
        "sns.TopicPolicy": "pulumi_aws.sns.topic_policy",
    }


def test_a_service_package_pickles_by_name_as_a_module_does():
    pickled = run_fresh(
        """
import json, pickle
import dill
from components.aws_packages import load_on_use
load_on_use()
import pulumi_aws as aws
s3 = aws.s3
bucket = s3.BucketV2
print(json.dumps({
    "pickle": pickle.loads(pickle.dumps(s3)) is s3,
    "dill": dill.loads(dill.dumps(s3)) is s3,
    "closure": dill.loads(dill.dumps(lambda: s3.BucketV2, recurse=True))() is bucket,
}))
"""
    )
    assert pickled == {"pickle": True, "dill": True, "closure": True}


def test_only_bytecode_is_a_package_whose_init_cannot_be_read(tmp_path, monkeypatch):
    package = tmp_path / "bytecode_only"
    package.mkdir()
    (package / "__init__.py").write_text("from .thing import *\n")
    py_compile.compile(str(package / "__init__.py"), cfile=str(package / "__init__.pyc"))
    (package / "__init__.py").unlink()
    source = tmp_path / "with_source"
    source.mkdir()
    (source / "__init__.py").write_text("from .thing import *\nfrom ._inputs import *\nfrom . import outputs\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    assert star_imported("bytecode_only") is None
    assert star_imported("with_source") == {"thing", "_inputs"}


def test_a_package_whose_init_cannot_be_read_loads_in_full():
    loaded = run_fresh(
        """
import json, sys
from components import aws_packages
reader = aws_packages.star_imported  # replaced: sns reads as an install of bytecode only
aws_packages.star_imported = lambda package: None if package == "pulumi_aws.sns" else reader(package)
aws_packages.load_on_use()
import pulumi_aws as aws
topic = aws.sns.Topic
print(json.dumps({"sns": type(sys.modules["pulumi_aws.sns"]).__name__, "topic": topic.__module__,
                  "s3": type(sys.modules["pulumi_aws.s3"]).__name__}))
"""
    )
    assert loaded == {"sns": "module", "topic": "pulumi_aws.sns.topic", "s3": "ServicePackage"}
