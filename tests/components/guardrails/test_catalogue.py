"""The registry: every declared rule catches its own bad resource, and rules run in a fixed order.

BAD_RESOURCES holds, for each rule id, resources that break that rule and no other. A rule declared
without an entry here fails `test_every_rule_has_a_bad_resource`, so no rule ships untested.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from components.guardrails import (
    DOMAINS,
    Resource,
    check_all,
    guardrail,
    rules,
    s3_kms_encryption,
)
from components.guardrails.core import _DECLARED
from tests.components.guardrails.support import (
    ORCHESTRATOR,
    bucket_policy,
    endpoint_config,
    res,
    role_policy,
    secure_bucket,
    training_job,
    trusting,
)

BAD_RESOURCES: dict[str, Callable[[], Sequence[Resource]]] = {
    "s3-kms-encryption": lambda: secure_bucket("unencrypted", encryption=None),
    "s3-public-access-block": lambda: secure_bucket("open", block=None),
    "s3-tls-only": lambda: secure_bucket("plain-http", policy=None),
    "s3-no-public-access": lambda: secure_bucket(
        "public", policy=bucket_policy({"Effect": "Allow", "Principal": "*", "Action": "s3:*"}, name="public")
    ),
    "kms-encryption-at-rest": lambda: [res("aws:sns/topic:Topic", "topic")],
    "sagemaker-job-storage-kms": lambda: [training_job(outputDataConfig={})],
    "sagemaker-data-capture-kms": lambda: [endpoint_config("capture", dataCaptureConfig={"enableCapture": True})],
    # NotAction on every resource: "*" itself would break iam-no-service-wildcards as well.
    "iam-no-admin-wildcards": lambda: [role_policy({"Effect": "Allow", "NotAction": "s3:GetObject", "Resource": "*"})],
    "iam-cross-account-trust": lambda: [trusting({"AWS": "arn:aws:iam::999999999999:root"})],
    "iam-no-service-wildcards": lambda: [
        role_policy({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::artifacts/*"})
    ],
    "iam-role-writes-need-boundary": lambda: [
        role_policy(
            {
                "Effect": "Allow",
                "Action": ["iam:CreateRole", "iam:PutRolePolicy"],
                "Resource": "arn:aws:iam::111111111111:role/mlops/*",
            }
        )
    ],
    "iam-pass-role-conditioned": lambda: [
        role_policy({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::111111111111:role/mlops/*"})
    ],
}
RULE_IDS = [rule.name for rule in rules(ORCHESTRATOR)]


def test_every_rule_has_a_bad_resource_and_every_bad_resource_a_rule() -> None:
    untested = sorted(set(RULE_IDS) - set(BAD_RESOURCES))
    assert untested == [], f"add a deliberately bad resource for {untested} to BAD_RESOURCES"
    assert sorted(set(BAD_RESOURCES) - set(RULE_IDS)) == [], "BAD_RESOURCES names a rule that is not declared"


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_each_rule_catches_its_bad_resource_and_no_other_rule_fires(rule_id: str) -> None:
    make_bad = BAD_RESOURCES.get(rule_id)
    assert make_bad is not None, f"{rule_id} has no bad resource in BAD_RESOURCES"
    assert {v.rule for v in check_all(make_bad(), ORCHESTRATOR)} == {rule_id}


def test_check_all_reports_every_rule_over_all_bad_resources_together() -> None:
    everything = [resource for make in BAD_RESOURCES.values() for resource in make()]
    assert {v.rule for v in check_all(everything, ORCHESTRATOR)} == set(RULE_IDS)


def test_rules_run_grouped_by_domain_module_in_the_order_of_domains() -> None:
    """mlops plan lists violations in rule order, and the pack its policies: it must not depend on
    which module happens to be imported first."""
    domain_of = {declared.name: declared.domain for declared in _DECLARED}
    positions = [DOMAINS.index(domain_of[name]) for name in RULE_IDS]
    assert positions == sorted(positions)
    assert set(domain_of.values()) == set(DOMAINS), "each domain module declares rules, and only they do"


def test_a_rule_id_cannot_be_declared_twice() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        guardrail("s3-kms-encryption", "Again.", scope="stack")


def test_a_rule_outside_the_domain_modules_is_refused() -> None:
    declare = guardrail("test-only-rule", "Never registered.", scope="resource")
    with pytest.raises(ValueError, match="DOMAINS"):
        declare(lambda resources: [])
    assert "test-only-rule" not in {rule.name for rule in rules(ORCHESTRATOR)}


def test_violation_reads_as_one_line_and_keeps_the_urn() -> None:
    violation = s3_kms_encryption(secure_bucket(encryption=None))[0]
    assert str(violation).startswith("[s3-kms-encryption] aws:s3/bucket:Bucket data: has no")
    assert violation.urn == "urn:pulumi:dev::mlops::aws:s3/bucket:Bucket::data"
