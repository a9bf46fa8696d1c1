"""`mlops plan --preflight` (issue 15): SageMaker's quotas read with the caller's credentials (Service Quotas through
botocore's Stubber, the account's endpoints from moto's SageMaker): enough, zero, not enough during a canary
switch, other accounts not checked, and no credentials as one line and exit 1."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from typer.testing import CliRunner

from mlops_cli.main import app
from mlops_cli.quota_check import check_stack
from mlops_spec.request import parse_pipeline_request
from mlops_spec.stack_config import load_stack_config

runner = CliRunner()
REPO_ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"  # moto's caller
ENDPOINT_M5 = "ml.m5.large for endpoint usage"
REQUEST = json.loads((REPO_ROOT / "examples" / "byom_realtime_builtin.json").read_text())  # 2 x ml.m5.large, canary
SINGLE = {"aws:region": "us-east-1", "mlops:accounts": json.dumps({"dev": ACCOUNT})}


class QuotaSession:
    """boto3's session under moto, but Service Quotas (which moto lacks) answered by a Stubber."""

    def __init__(self, applied: dict[str, int]):
        self.session = boto3.session.Session()
        self.quotas = self.session.client("service-quotas", region_name="us-east-1")
        self.stub = Stubber(self.quotas)
        listed = [{"QuotaName": name, "Value": float(value)} for name, value in applied.items()]
        self.stub.add_response("list_service_quotas", {"Quotas": listed}, {"ServiceCode": "sagemaker"})
        if not applied:
            self.stub.add_response("list_aws_default_service_quotas", {"Quotas": []}, {"ServiceCode": "sagemaker"})
        self.stub.activate()

    def client(self, service: str, **kwargs: Any) -> Any:
        return self.quotas if service == "service-quotas" else self.session.client(service, **kwargs)


@pytest.fixture
def aws(aws_credentials: None) -> Iterator[None]:
    with mock_aws():
        yield


def deployed_endpoint(name: str, instances: int) -> None:
    sagemaker = boto3.client("sagemaker")
    role = f"arn:aws:iam::{ACCOUNT}:role/sagemaker"
    sagemaker.create_model(ModelName=name, ExecutionRoleArn=role, PrimaryContainer={"Image": "xgboost:1.7-1"})
    variant = {"VariantName": "AllTraffic", "ModelName": name, "InitialInstanceCount": instances}
    sagemaker.create_endpoint_config(
        EndpointConfigName=name, ProductionVariants=[{**variant, "InstanceType": "ml.m5.large"}]
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)


def check(values: dict[str, str], applied: dict[str, int]) -> list[dict[str, Any]]:
    config = load_stack_config(values, "dev")
    spec = parse_pipeline_request(REQUEST, mode=config.mode)
    return [result.as_dict() for result in check_stack([spec], config, QuotaSession(applied))]


def test_enough_quota_is_ok(aws: None) -> None:
    assert check(SINGLE, {ENDPOINT_M5: 2}) == [
        {"pipeline_id": "churn-xgb-realtime-builtin", "environment": "dev", "status": "ok"}
    ]


def test_a_zero_quota_is_a_shortfall_naming_quota_value_and_need(aws: None) -> None:
    [dev] = check(SINGLE, {ENDPOINT_M5: 0})

    assert dev["status"] == "shortfall"
    assert [(s["quota"], s["value"], s["in_use"], s["needed"]) for s in dev["shortfalls"]] == [(ENDPOINT_M5, 0, 0, 2)]


def test_a_canary_switch_of_a_deployed_endpoint_needs_both_fleets(aws: None) -> None:
    deployed_endpoint("churn-xgb", 2)  # the request's endpoint: updating it runs a second fleet meanwhile
    deployed_endpoint("other-team", 1)  # another endpoint of the account holds an instance

    [dev] = check(SINGLE, {ENDPOINT_M5: 4})

    assert [(s["value"], s["in_use"], s["needed"]) for s in dev["shortfalls"]] == [(4, 1, 4)]


def test_environments_in_other_accounts_are_not_checked(aws: None) -> None:
    accounts = {"dev": ACCOUNT, "staging": "222222222222", "prod": "333333333333"}
    values = {
        **SINGLE,
        "mlops:mode": "multi",
        "mlops:accounts": json.dumps(accounts),
        "mlops:notificationEmail": "team@example.com",
    }
    config = load_stack_config(values, "dev")
    spec = parse_pipeline_request(
        json.loads((REPO_ROOT / "examples" / "multi" / "byom_realtime_builtin.json").read_text()), mode="multi"
    )

    results = [r.as_dict() for r in check_stack([spec], config, QuotaSession({ENDPOINT_M5: 10}))]

    assert [(r["environment"], r["status"]) for r in results] == [
        ("dev", "ok"),
        ("staging", "not checked"),
        ("prod", "not checked"),
    ]
    assert (
        results[2]["reason"] == f"its account 333333333333 is not the caller's ({ACCOUNT}); run with credentials there"
    )


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("__main__.py", "Pulumi.yaml"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    (tmp_path / "Pulumi.dev.yaml").write_text(
        f'config:\n  aws:region: us-east-1\n  mlops:accounts: {{dev: "{ACCOUNT}"}}\n'
    )
    (tmp_path / "request.json").write_text(json.dumps(REQUEST))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_plan_preflight_prints_each_environment_and_exits_1_on_a_shortfall(
    aws: None, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mlops_cli.plan_command._aws_session", lambda: QuotaSession({ENDPOINT_M5: 1}))

    result = runner.invoke(app, ["plan", "--request", "request.json", "--delivery", "--preflight"])

    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines()[-1] == (
        "preflight churn-xgb-realtime-builtin dev: SageMaker quota 'ml.m5.large for endpoint usage' is 1; this "
        "request needs 2 more. Ask for an increase in Service Quotas, or choose another instance type or count."
    )


def test_plan_preflight_without_credentials_is_one_line_and_exit_1(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")

    result = runner.invoke(app, ["plan", "--request", "request.json", "--preflight"])

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: --preflight needs AWS credentials to read Service Quotas (Unable to locate credentials)"
    ]
