"""`pulumi up` checks the provider's account guard too (issue 13, point 5): the program reads the stack's
`aws:allowedAccountIds` and stops, in one line, when it names another account than the stack's."""

from __future__ import annotations

from collections.abc import Iterator

import pulumi
import pytest

from components.stack import read_stack_config
from mlops_cli.mocks import PlanRecorder

pytestmark = pytest.mark.fast
CONFIG = {"aws:region": "us-gov-west-1", "mlops:accounts": '{"dev": "111111111111"}'}


@pytest.fixture(autouse=True)
def dev_stack() -> Iterator[None]:
    PlanRecorder(account_id="111111111111", region="us-gov-west-1").install("mlops-orchestrator", "dev")
    yield
    pulumi.runtime.set_all_config({}, [])


def test_the_stacks_own_account_as_guard_reads_the_config() -> None:
    pulumi.runtime.set_all_config({**CONFIG, "aws:allowedAccountIds": '["111111111111"]'})
    config = read_stack_config()
    assert (config.account_id, config.partition) == ("111111111111", "aws-us-gov")


def test_a_guard_naming_another_account_stops_the_program_with_the_fix() -> None:
    pulumi.runtime.set_all_config({**CONFIG, "aws:allowedAccountIds": '["222222222222"]'})
    with pytest.raises(pulumi.RunError) as stopped:
        read_stack_config()
    assert str(stopped.value) == (
        "invalid stack config: aws:allowedAccountIds: names 222222222222 "
        "(the shipped example's account), but this stack deploys dev into account 111111111111 "
        "(mlops:accounts.dev); set it with "
        "`pulumi config set --path 'aws:allowedAccountIds[0]' 111111111111 --type string`"
    )


def test_a_stack_without_a_guard_deploys_with_a_warning_naming_the_command(caplog: pytest.LogCaptureFixture) -> None:
    pulumi.runtime.set_all_config(CONFIG)

    config = read_stack_config()

    assert config.account_id == "111111111111"
    # The mock engine logs the program's warnings (the CLI shows them in the plan, the engine in `pulumi up`).
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "WARNING",
            "aws:allowedAccountIds is not set: `pulumi destroy` and `pulumi refresh` would act in whatever account "
            "the credentials are of; guard this stack with "
            "`pulumi config set --path 'aws:allowedAccountIds[0]' 111111111111 --type string`",
        )
    ]


def test_a_guarded_stack_deploys_without_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    pulumi.runtime.set_all_config({**CONFIG, "aws:allowedAccountIds": '["111111111111"]'})

    read_stack_config()

    assert caplog.records == []
