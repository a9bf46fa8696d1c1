"""Where target stacks keep their Pulumi state: the per-project prefix, the backend URL and the secrets provider."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from mlops_spec import naming

pytestmark = pytest.mark.fast

ROOT = "s3://mlops-pulumi-state-111111111111-us-east-1?region=us-east-1"
SECRETS = "awskms://alias/mlops-pulumi-secrets?region=us-east-1"
PROJECT = "arn:aws:codebuild:us-east-1:111111111111:project/mlops-deploy-churn-xgb-realtime-builtin-dev"


def test_a_deploy_projects_arn_is_what_codebuild_names_it() -> None:
    assert naming.deploy_project_arn("churn-xgb-realtime-builtin", "dev", "us-east-1", "111111111111") == PROJECT
    assert naming.deploy_project_arn("p", "prod", "cn-north-1", "222222222222", "aws-cn") == (
        "arn:aws-cn:codebuild:cn-north-1:222222222222:project/mlops-deploy-p-prod"
    )


def test_the_state_prefix_is_the_projects_arn_under_the_target_stacks_folder_in_both_forms() -> None:
    assert naming.target_state_prefix(PROJECT) == f"target-stacks/{PROJECT}"
    # The IAM form: the same function, given the variable CodeBuild resolves to the build's project.
    assert naming.target_state_prefix(naming.PROJECT_ARN_VARIABLE) == "target-stacks/${codebuild:projectArn}"


def test_the_backend_url_keeps_bucket_and_query_and_takes_the_prefix_as_its_path() -> None:
    url = naming.prefixed_backend_url(ROOT, naming.target_state_prefix(PROJECT))

    assert url == f"s3://mlops-pulumi-state-111111111111-us-east-1/target-stacks/{PROJECT}?region=us-east-1"
    split = urlsplit(url)
    # What Pulumi's S3 backend takes: the bucket from the host, the prefix from the path (':' kept as is).
    assert split.netloc == "mlops-pulumi-state-111111111111-us-east-1"
    assert split.path.lstrip("/") == f"target-stacks/{PROJECT}"
    assert parse_qs(split.query) == {"region": ["us-east-1"]}


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_the_secrets_provider_carries_the_environment_as_its_only_encryption_context(env: str) -> None:
    provider = naming.secrets_provider_of(SECRETS, env)

    split = urlsplit(provider)
    assert (split.scheme, split.netloc, split.path) == ("awskms", "alias", "/mlops-pulumi-secrets")
    assert parse_qs(split.query) == {"region": ["us-east-1"], "context_mlops-environment": [env]}
    # Applied twice (or to a provider that already names one), it still names one context, this one.
    assert parse_qs(urlsplit(naming.secrets_provider_of(provider, "prod")).query)["context_mlops-environment"] == [
        "prod"
    ]


def test_a_target_stack_name_gives_back_its_pipeline_and_environment_and_nothing_else_does() -> None:
    stack = naming.target_stack_name("churn-dev-realtime-builtin", "staging")

    assert naming.target_stack_parts(stack) == ("churn-dev-realtime-builtin", "staging")
    assert naming.target_stack_parts(naming.delivery_stack_name("churn-realtime-builtin")) is None
    assert naming.target_stack_parts("dev") is None


def test_legacy_stacks_are_where_pulumis_s3_backend_kept_them_at_the_root() -> None:
    assert naming.legacy_stack_key("churn-dev") == ".pulumi/stacks/mlops-pipelines/churn-dev.json"
    assert naming.legacy_lock_folder("churn-dev") == ".pulumi/locks/organization/mlops-pipelines/churn-dev/"


@pytest.mark.fast
def test_a_secrets_provider_naming_a_key_by_arn_keeps_its_form():
    from mlops_spec.naming import secrets_provider_of

    url = "awskms:///arn:aws:kms:us-east-1:111111111111:key/abc?region=us-east-1"
    assert secrets_provider_of(url, "prod") == (
        "awskms:///arn:aws:kms:us-east-1:111111111111:key/abc?region=us-east-1&context_mlops-environment=prod"
    )
