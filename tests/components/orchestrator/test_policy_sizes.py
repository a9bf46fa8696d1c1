"""IAM refuses a role whose inline policies exceed 10,240 characters (whitespace not counted): every
orchestrator role's policy stays below it in the largest configuration, with room to spare."""

from __future__ import annotations

import json

import pytest

from components import policies
from components.orchestrator.access import api_statements, provisioner_statements, status_statements, trigger_statements
from components.orchestrator.delivery_access import build_role_statements, codepipeline_role_statements
from tests.components.orchestrator.test_orchestrator_decisions import args

pytestmark = pytest.mark.fast

IAM_INLINE_LIMIT = 10_240
KEY = "arn:aws:kms:us-east-1:111111111111:key/00000000-0000-0000-0000-000000000001"
TOPIC = "arn:aws:sns:us-east-1:111111111111:mlops-notifications"
LARGEST = args(
    mode="multi",
    environment_accounts={"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"},
    deploy_role_external_id="ext",
    use_model_registry=True,
    existing_assets_bucket="a-bucket-of-the-users-own-with-a-long-name-0123456789",
)


def size(statements: list[policies.Statement]) -> int:
    return len(json.dumps(json.loads(policies.document(*statements)), separators=(",", ":")))


def test_every_orchestrator_role_policy_fits_iams_limit_with_room() -> None:
    sizes = {
        "provisioner": size(provisioner_statements(LARGEST, KEY, KEY, TOPIC)),
        "api": size(api_statements(LARGEST, KEY, TOPIC)),
        "trigger": size(trigger_statements(LARGEST, KEY, TOPIC)),
        "status": size(status_statements(LARGEST, KEY, TOPIC)),
        "codepipeline": size(codepipeline_role_statements(LARGEST, KEY)),
        **{f"build-{env}": size(build_role_statements(LARGEST, env, KEY, KEY)) for env in ("dev", "staging", "prod")},
    }
    # 5% of the limit left: a statement or two more must not make `pulumi up` fail with LimitExceeded.
    assert {role: n for role, n in sizes.items() if n > IAM_INLINE_LIMIT * 0.95} == {}, sizes
