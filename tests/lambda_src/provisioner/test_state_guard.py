"""A target stack's state is a deploy build's writing: the provisioner destroys or refreshes it only if
it names that environment's deploy role and secrets (state isolation review, issue 10 point 4)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from lambda_src.provisioner.state_guard import same_secrets_provider, state_problems
from lambda_src.registry import Status
from tests.lambda_src.provisioner.test_drift import check
from tests.lambda_src.provisioner.test_drift import deployed as deployed_for_drift
from tests.lambda_src.provisioner.test_teardown import delete_without_running_the_teardown, deployed

DEV_ROLE = "arn:aws:iam::111111111111:role/mlops-dev-deploy"
PROD_ROLE = "arn:aws:iam::333333333333:role/mlops-prod-deploy"
DEV_SECRETS = "awskms://alias/mlops-pulumi-secrets?region=us-east-1&context_mlops-environment=dev"


def exported(*providers: dict[str, Any], url: str = DEV_SECRETS) -> dict[str, Any]:
    resources = [{"urn": "urn:pulumi:s::p::aws:s3/bucket:Bucket::data", "type": "aws:s3/bucket:Bucket"}, *providers]
    return {
        "version": 3,
        "deployment": {"secrets_providers": {"type": "cloud", "state": {"url": url}}, "resources": resources},
    }


def provider(name: str, assume_roles: Any, kind: str = "pulumi:providers:aws") -> dict[str, Any]:
    inputs = {} if assume_roles is None else {"assumeRoles": assume_roles, "region": "us-east-1"}
    return {"urn": f"urn:pulumi:s::p::{kind}::{name}", "type": kind, "inputs": inputs}


@pytest.mark.fast
def test_the_environments_own_provider_and_secrets_are_trusted_however_the_state_spells_them():
    as_list = provider("dev-deploy", [{"roleArn": DEV_ROLE, "externalId": {"plaintext": '"x"'}}])
    as_json_text = provider("dev-deploy", json.dumps([{"roleArn": DEV_ROLE}]))
    reordered = "awskms://alias/mlops-pulumi-secrets?context_mlops-environment=dev&region=us-east-1"

    assert state_problems(exported(as_list), DEV_ROLE, DEV_SECRETS) == []
    assert state_problems(exported(as_json_text, url=reordered), DEV_ROLE, DEV_SECRETS) == []


@pytest.mark.fast
def test_planted_providers_and_secrets_are_named():
    problems = state_problems(
        exported(
            provider("to-prod", [{"roleArn": PROD_ROLE}]),
            provider("default_7_0_0", None),
            provider("other", [], kind="pulumi:providers:command"),
            url="awskms://alias/mlops-pulumi-secrets?region=us-east-1&context_mlops-environment=dev&endpoint=evil.example",
        ),
        DEV_ROLE,
        DEV_SECRETS,
    )

    assert problems == [
        "its secrets provider is 'awskms://alias/mlops-pulumi-secrets?region=us-east-1&context_mlops-environment=dev"
        "&endpoint=evil.example', not this environment's",
        f"provider to-prod assumes {PROD_ROLE}, not {DEV_ROLE}",
        f"provider default_7_0_0 assumes no role, not {DEV_ROLE}",
        "provider other is a command provider",
    ]
    assert not same_secrets_provider(DEV_SECRETS.replace("=dev", "=prod"), DEV_SECRETS)


def test_a_teardown_refuses_a_dev_stack_whose_state_steers_to_prod(
    single: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    pipeline_id = deployed(single, example_body)
    single.backend.exports[f"{pipeline_id}-dev"] = exported(provider("planted", [{"roleArn": PROD_ROLE}]))
    started = delete_without_running_the_teardown(single, pipeline_id)

    outcome = single.run_teardown(started["teardown_build"])

    assert outcome["status"] == "FAILED"
    record = single.record(pipeline_id)
    assert record.status == Status.FAILED
    assert record.last_error.startswith(
        f"untrusted-state: {pipeline_id}-dev: not destroyed or refreshed by the provisioner: provider planted assumes"
    )
    assert ("destroy", f"{pipeline_id}-dev") not in single.backend.history


def test_a_drift_check_does_not_refresh_an_untrusted_state(
    single: Any, example_body: Callable[..., dict[str, Any]]
) -> None:
    pipeline_id = deployed_for_drift(single, example_body("byom_realtime_builtin"))
    single.backend.exports[f"{pipeline_id}-dev"] = exported(provider("default_7_0_0", None))

    result = check(single, pipeline_id)

    assert result["in_sync"] is None
    assert single.record(pipeline_id).drift["environments"]["dev"]["error"].startswith("untrusted-state:")
    assert ("drift", f"{pipeline_id}-dev") not in single.backend.history
