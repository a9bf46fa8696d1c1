"""The policy pack: its files, its policies, and the translation from pulumi-policy's arguments to the
rules' input, exercised with pulumi-policy's own argument types (no CLI involved)."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
    proxy,
)
from pulumi_policy.proxy import UNKNOWN_BOOLEAN_VALUE, UNKNOWN_STRING_VALUE, unknown_checking_proxy

from components import policies
from components.guardrails import PUBLIC_ACCESS_FLAGS, UNKNOWN, rules

PACK_DIR = Path(__file__).resolve().parents[3] / "policy_pack"
KEY = "arn:aws:kms:us-east-1:111111111111:key/00000000-0000-0000-0000-000000000001"
OPTIONS = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def resource_args(typ: str, props: dict[str, Any], config: dict[str, Any] | None = None) -> ResourceValidationArgs:
    """What pulumi-policy hands a resource policy: inputs behind a proxy that raises on unknowns."""
    urn = f"urn:pulumi:dev::mlops::{typ}::thing"
    return ResourceValidationArgs(typ, unknown_checking_proxy(props), urn, "thing", OPTIONS, None, config or {})


def stack_resource(typ: str, name: str, props: dict[str, Any], depends: dict[str, list[PolicyResource]] | None = None):
    urn = f"urn:pulumi:dev::mlops::{typ}::{name}"
    return PolicyResource(typ, unknown_checking_proxy(props), urn, name, OPTIONS, None, None, [], depends or {})


def policy(pack: ModuleType, name: str) -> Any:
    return next(p for p in pack.build_policies() if p.name == name)


def reports(policy_object: Any, args: Any) -> list[tuple[str, str | None]]:
    reported: list[tuple[str, str | None]] = []
    policy_object.validate(args, lambda message, urn=None: reported.append((message, urn)))
    return reported


# -- files and wiring ---------------------------------------------------------------------------
def test_pack_project_file_runs_python_from_the_project_virtualenv() -> None:
    project = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    assert (PACK_DIR / project["runtime"]["options"]["virtualenv"]).resolve() == PACK_DIR.parent / ".venv"
    requirements = (PACK_DIR / "requirements.txt").read_text()
    assert "pulumi-policy" in requirements
    example = json.loads((PACK_DIR / "config.example.json").read_text())
    assert example["iam-cross-account-trust"]["orchestratorAccount"].isdigit()


def test_every_rule_is_a_mandatory_policy_of_its_scope(pack: ModuleType) -> None:
    built = {p.name: p for p in pack.build_policies()}
    assert list(built) == [rule.name for rule in rules("")]
    for rule in rules(""):
        expected = StackValidationPolicy if rule.scope == "stack" else ResourceValidationPolicy
        assert isinstance(built[rule.name], expected), rule.name
        assert built[rule.name].enforcement_level == EnforcementLevel.MANDATORY
    schema = built["iam-cross-account-trust"].config_schema
    assert schema.properties["orchestratorAccount"]["pattern"] == "^[0-9]{12}$"


def test_main_serves_every_policy_as_one_mandatory_pack(pack: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    served: dict[str, Any] = {}
    # The real PolicyPack starts a gRPC server for the CLI and never returns.
    monkeypatch.setattr(pack, "PolicyPack", lambda **kwargs: served.update(kwargs))
    monkeypatch.setattr(sys, "path", list(sys.path))  # __main__ adds the repo root; keep that local
    runpy.run_path(str(PACK_DIR), run_name="__main__")
    assert served["name"] == "mlops-guardrails"
    assert served["enforcement_level"] == EnforcementLevel.MANDATORY
    assert [p.name for p in served["policies"]] == [rule.name for rule in rules("")]


# -- the translation ----------------------------------------------------------------------------
def test_plain_turns_proxies_into_plain_values_and_unknowns_into_unknown(pack: ModuleType) -> None:
    proxied = unknown_checking_proxy(
        {"name": "t", "key": UNKNOWN_STRING_VALUE, "nested": {"flags": [True, UNKNOWN_BOOLEAN_VALUE]}}
    )
    assert pack.plain(proxied) == {"name": "t", "key": UNKNOWN, "nested": {"flags": [True, UNKNOWN]}}


def test_plain_knows_every_value_pulumi_policy_treats_as_unknown(pack: ModuleType) -> None:
    unknowns = {value for value in vars(proxy).values() if isinstance(value, str) and proxy._is_unknown(value)}
    assert len(unknowns) > 1
    assert unknowns == pack._UNKNOWN_SENTINELS
    assert pack.plain(sorted(unknowns)) == [UNKNOWN] * len(unknowns)  # a list of bare strings, no proxy


def test_from_policy_resource_keeps_property_dependencies_as_urns(pack: ModuleType) -> None:
    bucket = stack_resource("aws:s3/bucket:Bucket", "data", {"bucket": "data-physical"})
    block = stack_resource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "pab", {}, {"bucket": [bucket]})
    translated = pack.from_policy_resource(block)
    assert translated.property_dependencies == {"bucket": (bucket.urn,)}
    assert (translated.type, translated.name, translated.urn) == (block.resource_type, "pab", block.urn)


# -- resource policies --------------------------------------------------------------------------
def test_resource_policy_reports_an_unencrypted_topic(pack: ModuleType) -> None:
    at_rest = policy(pack, "kms-encryption-at-rest")
    assert reports(at_rest, resource_args("aws:sns/topic:Topic", {"name": "t"})) == [
        ("kmsMasterKeyId is not set: messages are stored unencrypted", None)
    ]
    # A key from a key created in the same update is unknown in a preview: no report, no crash.
    assert reports(at_rest, resource_args("aws:sns/topic:Topic", {"kmsMasterKeyId": UNKNOWN_STRING_VALUE})) == []


def role_props(account: str) -> dict[str, Any]:
    trust = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"}
    return {"assumeRolePolicy": policies.document(trust)}


def test_trust_policy_judges_against_the_configured_orchestrator_account(
    pack: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLOPS_ORCHESTRATOR_ACCOUNT", raising=False)
    trust = policy(pack, "iam-cross-account-trust")
    configured = {"orchestratorAccount": "111111111111"}
    assert reports(trust, resource_args("aws:iam/role:Role", role_props("111111111111"), configured)) == []
    [(message, _)] = reports(trust, resource_args("aws:iam/role:Role", role_props("999999999999"), configured))
    assert message.startswith("trusts account 999999999999")


def test_trust_policy_without_an_account_reports_roles_instead_of_passing(
    pack: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLOPS_ORCHESTRATOR_ACCOUNT", raising=False)
    trust = policy(pack, "iam-cross-account-trust")
    [(message, _)] = reports(trust, resource_args("aws:iam/role:Role", role_props("111111111111")))
    assert "orchestratorAccount" in message and "MLOPS_ORCHESTRATOR_ACCOUNT" in message
    assert reports(trust, resource_args("aws:sns/topic:Topic", {"kmsMasterKeyId": KEY})) == []
    monkeypatch.setenv("MLOPS_ORCHESTRATOR_ACCOUNT", "111111111111")
    assert reports(trust, resource_args("aws:iam/role:Role", role_props("111111111111"))) == []


# -- stack policies -----------------------------------------------------------------------------
def preview_of_a_new_secure_bucket(linked: bool) -> list[PolicyResource]:
    """A new bucket in a preview: its id is unknown, so companions carry an unknown `bucket`. With
    `linked`, the engine's property dependencies say which bucket they configure."""
    bucket = stack_resource("aws:s3/bucket:Bucket", "data", {"bucket": "data-physical"})
    depends = {"bucket": [bucket]} if linked else {}
    sse = {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY}}]}
    return [
        bucket,
        stack_resource(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "enc",
            {"bucket": UNKNOWN_STRING_VALUE, **sse},
            depends,
        ),
        stack_resource(
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "pab",
            {"bucket": UNKNOWN_STRING_VALUE, **dict.fromkeys(PUBLIC_ACCESS_FLAGS, True)},
            depends,
        ),
        stack_resource(
            "aws:s3/bucketPolicy:BucketPolicy",
            "pol",
            {"bucket": UNKNOWN_STRING_VALUE, "policy": UNKNOWN_STRING_VALUE},
            depends,
        ),
    ]


@pytest.mark.parametrize("name", ["s3-kms-encryption", "s3-public-access-block", "s3-tls-only"])
def test_stack_policy_matches_a_new_bucket_through_property_dependencies(pack: ModuleType, name: str) -> None:
    assert reports(policy(pack, name), StackValidationArgs(preview_of_a_new_secure_bucket(linked=True))) == []
    [(message, urn)] = reports(policy(pack, name), StackValidationArgs(preview_of_a_new_secure_bucket(linked=False)))
    assert message.startswith("aws:s3/bucket:Bucket data: has no")
    assert urn == "urn:pulumi:dev::mlops::aws:s3/bucket:Bucket::data"
