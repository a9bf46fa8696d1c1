"""The `mlops` console script ends `plan` without interpreter teardown (os._exit): the status and message a
SystemExit carries must survive it, as sys.exit would give them (review, low b)."""

from __future__ import annotations

import sys

import pytest

from mlops_cli import main as entry

pytestmark = pytest.mark.fast


def test_a_system_exit_message_is_printed_to_stderr_and_the_status_is_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert entry.exit_status("the stack file is unreadable") == 1
    assert capsys.readouterr().err == "the stack file is unreadable\n"


@pytest.mark.parametrize(("code", "status"), [(None, 0), (0, 0), (2, 2)])
def test_numeric_and_empty_exits_keep_their_status_and_print_nothing(
    code: int | None, status: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert entry.exit_status(code) == status
    assert capsys.readouterr().err == ""


def test_plan_ending_with_a_message_exits_1_with_that_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def app() -> None:
        raise SystemExit("no stack file found")

    ended: list[int] = []
    monkeypatch.setattr(sys, "argv", ["mlops", "plan"])
    monkeypatch.setattr(entry, "build_app", lambda only=None: app)
    monkeypatch.setattr(entry.os, "_exit", ended.append)
    monkeypatch.setattr(entry.gc, "disable", lambda: None)

    with pytest.raises(SystemExit):  # the real os._exit ends the process before main's own sys.exit
        entry.main()

    assert ended == [1]
    assert capsys.readouterr().err == "no stack file found\n"
