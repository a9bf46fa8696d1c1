"""State isolation of deploy builds (issue 10, point 4): each build keeps its own target stack's state
only, and decrypts only its environment's secrets, in single and multi mode."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.orchestrator import OrchestratorArgs, build_role_statements
from components.orchestrator.delivery_access import secrets_key_policy
from mlops_spec import naming
from tests.components.iam_eval import allowed

pytestmark = pytest.mark.fast

ORCH = "111111111111"
MULTI_ACCOUNTS = {"dev": ORCH, "staging": "222222222222", "prod": "333333333333"}
DATA_KEY = f"arn:aws:kms:us-east-1:{ORCH}:key/data"
SECRETS_KEY = f"arn:aws:kms:us-east-1:{ORCH}:key/secrets"
BUCKET = f"arn:aws:s3:::mlops-pulumi-state-{ORCH}-us-east-1"
ENVIRONMENTS = [("single", "dev"), ("multi", "dev"), ("multi", "staging"), ("multi", "prod")]


def statements_of(mode: str, env: str) -> list[dict[str, Any]]:
    accounts = MULTI_ACCOUNTS if mode == "multi" else {"dev": ORCH}
    return build_role_statements(OrchestratorArgs(ORCH, "us-east-1", mode, "dev", accounts), env, DATA_KEY, SECRETS_KEY)


def as_resolved_for(statements: list[dict[str, Any]], project_arn: str) -> list[dict[str, Any]]:
    """The statements as IAM evaluates them in a build of `project_arn` (the variable resolved)."""
    resolved: list[dict[str, Any]] = json.loads(json.dumps(statements).replace("${codebuild:projectArn}", project_arn))
    return resolved


def project(pipeline: str, env: str) -> str:
    return naming.deploy_project_arn(pipeline, env, "us-east-1", ORCH)


def state_key(project_arn: str, rest: str) -> str:
    return f"{BUCKET}/{naming.target_state_prefix(project_arn)}/.pulumi/{rest}"


@pytest.mark.parametrize("mode, env", ENVIRONMENTS)
def test_state_statements_name_the_builds_own_project_prefix_through_the_codebuild_variable(
    mode: str, env: str
) -> None:
    sids = {s["Sid"]: s for s in statements_of(mode, env)}

    own = f"{BUCKET}/target-stacks/${{codebuild:projectArn}}"
    assert sids["PulumiState"]["Action"] == ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
    assert sids["PulumiState"]["Resource"] == [f"{own}/*"]
    # Listing (names, not contents) is what makes S3 answer 404, not 403, for a key not there yet.
    assert sids["PulumiStateList"]["Action"] == ["s3:GetBucketLocation", "s3:ListBucket"]
    assert sids["PulumiStateList"]["Resource"] == [BUCKET]
    assert sids["PulumiStateObjects"]["Resource"] == [SECRETS_KEY]
    assert sids["PulumiStateObjects"]["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}
    assert sids["PulumiSecretsOfThisEnvironment"]["Action"] == ["kms:Decrypt", "kms:Encrypt"]
    assert sids["PulumiSecretsOfThisEnvironment"]["Condition"] == {
        "StringEquals": {"kms:EncryptionContext:mlops-environment": env}
    }
    # The secrets key is used under one of those two conditions, never without one.
    assert all(s.get("Condition") for s in statements_of(mode, env) if SECRETS_KEY in s["Resource"])


@pytest.mark.parametrize("mode, env", ENVIRONMENTS)
def test_no_build_role_statement_reaches_the_state_at_the_buckets_root(mode: str, env: str) -> None:
    statements = statements_of(mode, env)

    resources = [r for s in statements for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])]
    assert not [r for r in resources if r.startswith(BUCKET) and "/.pulumi" in r and "target-stacks/" not in r]
    for rest in ("stacks/mlops-pipelines/churn-prod.json", "locks/organization/mlops-pipelines/churn-prod/x.json"):
        for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
            assert not allowed(statements, action, f"{BUCKET}/.pulumi/{rest}", None)


@pytest.mark.parametrize("mode, env", ENVIRONMENTS)
def test_a_build_reads_and_writes_its_own_stacks_state_and_no_other_pipelines(mode: str, env: str) -> None:
    mine, theirs = project("churn-realtime-builtin", env), project("fraud-realtime-builtin", env)
    statements = as_resolved_for(statements_of(mode, env), mine)

    for rest in (
        "stacks/mlops-pipelines/churn-realtime-builtin-dev.json",
        "locks/organization/x/y/1.json",
        "history/mlops-pipelines/s/s-1.history.json",
        "backups/mlops-pipelines/s/s.1.json",
    ):
        assert allowed(statements, "s3:PutObject", state_key(mine, rest), {})
        assert not allowed(statements, "s3:GetObject", state_key(theirs, rest), {})
    assert allowed(statements, "s3:ListBucket", BUCKET, {"s3:prefix": f"target-stacks/{mine}/.pulumi/"})
    # No object anywhere else: not another stack's, not the root's, not the bucket's other folders.
    for elsewhere in (f"{BUCKET}/target-stacks/x", f"{BUCKET}/.pulumi/meta.yaml", f"{BUCKET}/{mine}/.pulumi/x"):
        assert not allowed(statements, "s3:GetObject", elsewhere, {})


@pytest.mark.parametrize("mode, env", ENVIRONMENTS)
def test_a_build_decrypts_its_environments_secrets_and_no_other_environments(mode: str, env: str) -> None:
    statements = statements_of(mode, env)

    for action in ("kms:Decrypt", "kms:Encrypt"):
        assert allowed(statements, action, SECRETS_KEY, {"kms:EncryptionContext:mlops-environment": env})
        for other in {"dev", "staging", "prod"} - {env}:
            assert not allowed(statements, action, SECRETS_KEY, {"kms:EncryptionContext:mlops-environment": other})
        # Secrets of stacks wrapped without context (delivery stacks, stacks not moved yet).
        assert not allowed(statements, action, SECRETS_KEY, {})
    # S3 decrypts the state objects for it; nothing else may ask on its behalf.
    assert allowed(statements, "kms:Decrypt", SECRETS_KEY, {"kms:ViaService": "s3.us-east-1.amazonaws.com"})
    assert not allowed(statements, "kms:Decrypt", SECRETS_KEY, {"kms:ViaService": "ssm.us-east-1.amazonaws.com"})
    assert not allowed(statements, "kms:Encrypt", SECRETS_KEY, {"kms:ViaService": "s3.us-east-1.amazonaws.com"})


# -- the secrets key's own policy: belt and braces, should another policy ever grant a build role more ------
def key_policy(mode: str) -> list[dict[str, Any]]:
    accounts = MULTI_ACCOUNTS if mode == "multi" else {"dev": ORCH}
    document = json.loads(secrets_key_policy(OrchestratorArgs(ORCH, "us-east-1", mode, "dev", accounts)))
    statements: list[dict[str, Any]] = document["Statement"]
    return statements


@pytest.mark.parametrize("mode, env", ENVIRONMENTS)
def test_the_secrets_key_refuses_each_build_role_another_environments_context(mode: str, env: str) -> None:
    statements = key_policy(mode)
    build = f"arn:aws:iam::{ORCH}:role/mlops-orch-build-{env}"

    [deny] = [
        s for s in statements if s["Effect"] == "Deny" and s["Condition"]["ArnEquals"]["aws:PrincipalArn"] == build
    ]
    # Both keys must differ for the Deny to apply; IAM counts an absent key as differing, so a direct
    # call with no context is refused too (what the statement's shape guarantees, checked here).
    assert deny["Condition"]["StringNotEquals"] == {
        "kms:EncryptionContext:mlops-environment": env,
        "kms:ViaService": "s3.us-east-1.amazonaws.com",
    }
    assert deny["Action"] == ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]
    for other in {"dev", "staging", "prod"} - {env}:
        direct = {"aws:PrincipalArn": build, "kms:EncryptionContext:mlops-environment": other, "kms:ViaService": "-"}
        assert not allowed(statements, "kms:Decrypt", "*", direct)
    own = {"aws:PrincipalArn": build, "kms:EncryptionContext:mlops-environment": env, "kms:ViaService": "-"}
    by_s3 = {
        "aws:PrincipalArn": build,
        "kms:EncryptionContext:mlops-environment": "-",
        "kms:ViaService": "s3.us-east-1.amazonaws.com",
    }
    provisioner = {
        "aws:PrincipalArn": f"arn:aws:iam::{ORCH}:role/mlops-orch-provisioner",
        "kms:EncryptionContext:mlops-environment": "-",
        "kms:ViaService": "-",
    }
    # Allowed by the key policy means: left to IAM (the account administers the key through IAM).
    assert all(allowed(statements, "kms:Decrypt", "*", ctx) for ctx in (own, by_s3, provisioner))


@pytest.mark.parametrize("mode", ["single", "multi"])
def test_the_secrets_key_denies_one_statement_per_build_role_and_keeps_iam_administration(mode: str) -> None:
    statements = key_policy(mode)

    envs = ["dev"] if mode == "single" else ["dev", "prod", "staging"]
    assert [s["Sid"] for s in statements if s["Effect"] == "Deny"] == [
        f"BuildsOf{e.capitalize()}UseOnlyTheirEnvironmentsSecrets" for e in envs
    ]
    [admin] = [s for s in statements if s["Effect"] == "Allow"]
    assert admin["Principal"] == {"AWS": f"arn:aws:iam::{ORCH}:root"} and admin["Action"] == "kms:*"
