"""The packaged program checks the config as pulumi hands it over (issue 13, points 6 and 7): every
key, not only the ones it reads, so a typo or a plain-text secret stops `pulumi up` before any change."""

from __future__ import annotations

from collections.abc import Iterator

import pulumi
import pytest

from mlops_cli.program import check_config_as_set

pytestmark = pytest.mark.fast
BASE = {"aws:region": "us-east-1", "mlops:accounts": '{"dev": "111111111111"}', "pulumi:tags": "{}"}


@pytest.fixture(autouse=True)
def engine_config(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    monkeypatch.delenv("PULUMI_CONFIG_SECRET_KEYS", raising=False)
    yield
    pulumi.runtime.set_all_config({}, [])


def test_a_misspelt_key_stops_the_program_with_the_key_meant() -> None:
    pulumi.runtime.set_all_config({**BASE, "mlops:useModelRegistery": "true"})
    with pytest.raises(pulumi.RunError) as stopped:
        check_config_as_set()
    assert str(stopped.value) == (
        "invalid stack config: mlops:useModelRegistery: is not a known config key; did you mean mlops:useModelRegistry?"
    )


def test_keys_the_cli_passes_in_its_environment_are_checked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_CONFIG", '{"mlop:mode": "single"}')
    with pytest.raises(pulumi.RunError, match="mlop:mode: 'mlop' is not a config namespace; did you mean mlops:mode"):
        check_config_as_set()


def test_a_secret_key_in_plain_text_stops_the_program(monkeypatch: pytest.MonkeyPatch) -> None:
    pulumi.runtime.set_all_config({**BASE, "mlops:deployRoleExternalId": "abc"})
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", "[]")
    with pytest.raises(pulumi.RunError, match=r"pulumi config set --secret mlops:deployRoleExternalId <value>"):
        check_config_as_set()
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", '["mlops:deployRoleExternalId"]')
    check_config_as_set()


def test_without_the_engines_list_of_secrets_nothing_is_refused_for_them() -> None:
    pulumi.runtime.set_all_config({**BASE, "mlops:deployRoleExternalId": "abc"})
    check_config_as_set()


def test_a_stack_applied_in_another_account_stops_before_any_resource() -> None:
    from mlops_cli.mocks import PlanRecorder
    from mlops_cli.program import check_account

    recorder = PlanRecorder(account_id="999999999999")  # the account of the credentials

    @pulumi.runtime.test
    def applied() -> None:
        with pytest.raises(pulumi.RunError) as stopped:
            check_account("111111111111", "prod")
        assert str(stopped.value).startswith(
            "wrong account: the credentials are of account 999999999999, but this stack deploys prod "
            "into account 111111111111 (mlops:accounts.prod); nothing was changed."
        )
        check_account("999999999999", "prod")

    recorder.install("mlops-orchestrator", "prod")
    applied()
    assert recorder.resources == []
