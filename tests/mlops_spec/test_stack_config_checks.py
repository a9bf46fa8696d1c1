"""Stack config that cannot go wrong silently (issue 13, points 2, 3 and 7): what AWS or the program
would refuse later is refused when the config is read, in plain words that name the fix."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlops_spec.errors import SpecError
from mlops_spec.stack_config import load_stack_config
from mlops_spec.stack_config_checks import plain_text_secrets

pytestmark = pytest.mark.fast

SINGLE: dict[str, Any] = {"aws:region": "us-east-1", "mlops:accounts": '{"dev": "111111111111"}'}
MULTI: dict[str, Any] = {
    "aws:region": "us-east-1",
    "mlops:mode": "multi",
    "mlops:accounts": '{"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}',
    "mlops:notificationEmail": "team@example.com",
}


def problem_of(values: dict[str, Any], stack: str = "dev") -> str:
    with pytest.raises(SpecError) as raised:
        load_stack_config(values, stack)
    return str(raised.value)


def test_account_ids_stored_as_numbers_by_config_set_path_are_read_as_12_digit_ids() -> None:
    # `pulumi config set --path mlops:accounts.dev 012345678901` stores the number 12345678901.
    config = load_stack_config({**SINGLE, "mlops:accounts": '{"dev": 12345678901}'}, "dev")
    assert config.accounts == {"dev": "012345678901"}


def test_any_stack_name_plans_with_the_environment_from_its_config() -> None:
    config = load_stack_config({**MULTI, "mlops:environment": "prod"}, "ml-prod-eu")
    assert (config.environment, config.account_id, config.orchestrator_account_id) == (
        "prod",
        "333333333333",
        "111111111111",
    )


def test_a_single_account_stack_of_any_environment_hosts_the_orchestrator() -> None:
    values = {**SINGLE, "mlops:accounts": '{"prod": "111111111111"}', "mlops:environment": "prod"}
    config = load_stack_config(values, "ml-prod-eu")
    assert (config.environment, config.hosts_orchestrator) == ("prod", True)


def test_a_stack_not_named_after_an_environment_must_set_it() -> None:
    assert problem_of(SINGLE, "ml-prod-eu") == (
        "mlops:environment: is not set and the stack name 'ml-prod-eu' is not dev, staging or prod; "
        "run `pulumi config set mlops:environment <dev|staging|prod> --stack ml-prod-eu`"
    )


def test_a_namespace_typo_is_refused_with_the_key_meant() -> None:
    assert (
        problem_of({**SINGLE, "mlo:mode": "single"})
        == "mlo:mode: 'mlo' is not a config namespace; did you mean mlops:mode?"
    )


def test_an_unknown_key_is_refused_with_the_nearest_known_key() -> None:
    assert problem_of({**SINGLE, "mlops:notificationEmial": "a@b.co"}) == (
        "mlops:notificationEmial: is not a known config key; did you mean mlops:notificationEmail?"
    )


def test_other_providers_settings_are_left_alone() -> None:
    config = load_stack_config({**SINGLE, "aws:profile": "ml", "pulumi:tags": "{}"}, "dev")
    assert config.region == "us-east-1"


@pytest.mark.parametrize(
    ("tags", "problem"),
    [
        ({"aws:owner": "me"}, "mlops:tags.aws:owner: tag keys starting with aws: are reserved by AWS; rename the tag"),
        ({"AWS:owner": "me"}, "mlops:tags.AWS:owner: tag keys starting with aws: are reserved by AWS; rename the tag"),
        (
            {f"k{i}": "v" for i in range(47)},
            "mlops:tags: has 47 tags; AWS allows 50 per resource and the orchestrator adds 4 of its own, "
            "so keep at most 46",
        ),
        (
            {"cost center!": "x"},
            "mlops:tags.cost center!: a tag key must be 1-128 letters, digits, spaces or _ . : / = + @ -",
        ),
        ({"cost-center": 1234}, "mlops:tags.cost-center: the value 1234 must be text; quote it in the stack file"),
    ],
)
def test_tags_aws_would_refuse_are_refused_in_plain_words(tags: dict[str, Any], problem: str) -> None:
    assert problem_of({**SINGLE, "mlops:tags": json.dumps(tags)}) == problem


def test_46_tags_are_accepted() -> None:
    tags = {f"k{i}": "v" for i in range(46)}
    assert len(load_stack_config({**SINGLE, "mlops:tags": json.dumps(tags)}, "dev").tags) == 46


def test_an_image_uri_as_the_existing_repository_is_refused_naming_the_repository() -> None:
    uri = "111111111111.dkr.ecr.us-east-1.amazonaws.com/team/models:1.2"
    assert problem_of({**SINGLE, "mlops:existingEcrRepository": uri}) == (
        "mlops:existingEcrRepository: is an image URI; give the repository name only, e.g. team/models"
    )
    config = load_stack_config({**SINGLE, "mlops:existingEcrRepository": "team/models"}, "dev")
    assert config.existing_ecr_repository == "team/models"


def test_an_unquoted_version_tag_is_refused_with_advice_to_quote_it() -> None:
    problem = problem_of({**SINGLE, "mlops:provisionerImageTag": 0.1})
    assert problem.startswith("mlops:provisionerImageTag: is the number 0.1 (YAML reads an unquoted 0.10 as 0.1)")
    assert 'mlops:provisionerImageTag: "0.10"' in problem
    assert load_stack_config({**SINGLE, "mlops:provisionerImageTag": "0.10"}, "dev").provisioner_image_tag == "0.10"


def test_multi_account_mode_needs_the_notification_email() -> None:
    values = {k: v for k, v in MULTI.items() if k != "mlops:notificationEmail"}
    assert problem_of(values) == (
        "mlops:notificationEmail: is required in multi-account mode (approval requests are sent there); "
        "run `pulumi config set mlops:notificationEmail <address>`"
    )


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        (
            {"mlops:notificationEmail": "team"},
            "mlops:notificationEmail: must be an email address like team@example.com",
        ),
        (
            {"mlops:existingAssetsBucket": "My_Bucket"},
            "mlops:existingAssetsBucket: must be an S3 bucket name: 3-63 lowercase letters, digits, dots or hyphens",
        ),
        ({"mlops:useModelRegistry": "maybe"}, "mlops:useModelRegistry: must be true or false"),
        ({"mlops:accounts": '{"qa": "111111111111"}'}, "mlops:accounts.qa: must be 'dev', 'staging' or 'prod'"),
        (
            {"mlops:provisionerImageTag": "v 1"},
            "mlops:provisionerImageTag: must be an image tag: 1-128 letters, digits, _ . or -",
        ),
    ],
)
def test_messages_show_no_validator_internals(values: dict[str, Any], problem: str) -> None:
    shown = problem_of({**SINGLE, **values})
    assert shown.startswith(problem)
    assert "pattern" not in shown and "[key]" not in shown and "Input should" not in shown


def test_a_secret_written_in_plain_text_is_refused_naming_the_command_to_run() -> None:
    key = "mlops:deployRoleExternalId"
    [error] = plain_text_secrets([key, "mlops:mode"], secret_keys=[])
    assert str(error) == (
        f"{key}: is stored in plain text; remove it from the stack file and run "
        f"`pulumi config set --secret {key} <value>`"
    )
    assert plain_text_secrets([key], secret_keys=[key]) == []


@pytest.mark.parametrize(
    ("key", "meant"),
    [
        ("mlops:email", "mlops:notificationEmail"),  # a part of the name
        ("mlops:region", "aws:region"),  # the right name in the other namespace
        ("mlops-orchestrator:mode", "mlops:mode"),  # `pulumi config set mode` puts it under the project's name
        ("MLOPS:accounts", "mlops:accounts"),
    ],
)
def test_the_key_meant_is_named(key: str, meant: str) -> None:
    assert problem_of({**SINGLE, key: "x"}).endswith(f"did you mean {meant}?")


def test_stacks_of_one_install_that_disagree_are_named_down_to_the_entry() -> None:
    from mlops_spec.stack_config_checks import shared_setting_problems

    accounts = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}
    dev = {"aws:region": "us-east-1", "mlops:mode": "multi", "mlops:accounts": accounts}
    staging = {**dev, "mlops:accounts": {**accounts, "dev": 111111111111}}  # the same id, stored as a number
    prod = {**dev, "mlops:accounts": {**accounts, "dev": "999999999999"}, "aws:region": "eu-west-1"}
    assert [str(p) for p in shared_setting_problems({"dev": dev, "staging": staging, "prod": prod})] == [
        "aws:region: differs between stacks (dev, staging: us-east-1; prod: eu-west-1); every stack of an "
        "install needs the same value: write it once, under config: in Pulumi.yaml",
        "mlops:accounts.dev: differs between stacks (dev, staging: 111111111111; prod: 999999999999); every "
        "stack of an install needs the same value: write it once, under config: in Pulumi.yaml",
    ]
    assert shared_setting_problems({"dev": dev, "staging": staging}) == []
