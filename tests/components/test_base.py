"""The shared component base: children parented to the component, one log retention, role + policy pairs."""

from __future__ import annotations

import json
from typing import Any

import pulumi

from components.base import LOG_RETENTION_DAYS, MlopsComponent
from mlops_cli.mocks import PlanRecorder

KEY = "arn:aws:kms:us-east-1:111111111111:key/11111111-1111-1111-1111-111111111111"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": []})
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]})


class Sample(MlopsComponent):
    def __init__(self, name: str, retention: int | None = None):
        super().__init__("mlops:test:Sample", name)
        extra: dict[str, Any] = {} if retention is None else {"retention_in_days": retention}
        self.logs = self.log_group(f"{name}-logs", name="/aws/lambda/sample", kms_key_id=KEY, tags={"a": "b"}, **extra)
        self.role, self.policy = self.role_with_policy(
            f"{name}-worker", name="sample-worker", trust_policy=TRUST, policy=POLICY, tags={"a": "b"}, path="/mlops/"
        )
        self.register_outputs({})


def test_children_are_parented_to_the_component(pulumi_mocks: PlanRecorder) -> None:
    @pulumi.runtime.test
    def program() -> None:
        component = Sample("sample")
        assert component.child is component.child, "one cached options instance"
        assert component.child.parent is component
        assert component.child_opts() is component.child
        overridden = component.child_opts(depends_on=[component.role])
        assert overridden.parent is component and overridden.depends_on == [component.role]

    program()
    children = [r for r in pulumi_mocks.resources if r.type.startswith("aws:")]
    assert {r.name for r in children} == {"sample-logs", "sample-worker-role", "sample-worker-policy"}
    assert {r.parent for r in children} == {"sample"}
    assert pulumi_mocks.named("mlops:test:Sample", "sample").parent is None


def test_log_group_is_encrypted_and_kept_for_the_shared_retention(pulumi_mocks: PlanRecorder) -> None:
    pulumi.runtime.test(lambda: Sample("sample"))()
    logs = pulumi_mocks.named("aws:cloudwatch/logGroup:LogGroup", "sample-logs").inputs
    assert logs["name"] == "/aws/lambda/sample"
    assert logs["kmsKeyId"] == KEY
    assert logs["retentionInDays"] == LOG_RETENTION_DAYS == 365
    assert logs["tags"] == {"a": "b"}


def test_log_retention_may_be_overridden_with_a_reason(pulumi_mocks: PlanRecorder) -> None:
    pulumi.runtime.test(lambda: Sample("sample", retention=90))()
    assert pulumi_mocks.named("aws:cloudwatch/logGroup:LogGroup", "sample-logs").inputs["retentionInDays"] == 90


def test_role_with_policy_declares_the_role_and_its_inline_policy(pulumi_mocks: PlanRecorder) -> None:
    pulumi.runtime.test(lambda: Sample("sample"))()
    role = pulumi_mocks.named("aws:iam/role:Role", "sample-worker-role").inputs
    assert role["name"] == "sample-worker"
    assert role["assumeRolePolicy"] == TRUST
    assert role["path"] == "/mlops/"
    assert role["tags"] == {"a": "b"}
    policy = pulumi_mocks.named("aws:iam/rolePolicy:RolePolicy", "sample-worker-policy").inputs
    assert policy["role"] == "sample-worker-role-id"
    assert json.loads(policy["policy"]) == json.loads(POLICY)
