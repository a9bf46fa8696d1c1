"""The provisioner's plain decisions: settings, error classification, lock staleness, source zip, status rules."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pulumi.automation import errors as auto_errors
from pulumi.automation._cmd import CommandResult

from lambda_src.provisioner.errors import (
    AssumeRoleDenied,
    DeploymentFailed,
    PulumiUnavailable,
    SpecUnavailable,
    StackBusy,
)
from lambda_src.provisioner.handler import claimable, destroy_order
from lambda_src.provisioner.runner import RetryPolicy, UpOutcome, classify, lock_is_stale, prepare_pulumi_home
from lambda_src.provisioner.runs import needs_start, started_during
from lambda_src.provisioner.settings import ENV_VARS, ProvisionerSettings, SettingsError
from lambda_src.provisioner.source import parse_spec, source_zip, spec_from_zip
from lambda_src.registry import EXECUTION_PENDING, PipelineRecord, Status
from lambda_src.status_events.records import error_text
from lambda_src.status_events.transitions import PipelineEvent, ProvisionerCrash, decide, ignored, notification
from mlops_spec.request import parse_pipeline_request

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
ENV = {"AWS_REGION": "eu-west-1", "MLOPS_ACCOUNTS": '{"dev": "444444444444"}'}


# -- settings ------------------------------------------------------------------------------------------
def test_settings_default_to_the_orchestrators_deterministic_names():
    settings = ProvisionerSettings.from_env(ENV)

    assert settings.backend_url == "s3://mlops-pulumi-state-444444444444-eu-west-1?region=eu-west-1"
    assert settings.secrets_provider == "awskms://alias/mlops-pulumi-secrets?region=eu-west-1"
    assert settings.state_bucket == "mlops-pulumi-state-444444444444-eu-west-1"
    assert settings.assets_bucket == "mlops-assets-444444444444-eu-west-1"
    assert settings.notification_topic_arn == "arn:aws:sns:eu-west-1:444444444444:mlops-notifications"
    assert settings.target("dev").deploy_role_arn == "arn:aws:iam::444444444444:role/mlops-dev-deploy"
    assert settings.target("dev").kms_alias_arn == "arn:aws:kms:eu-west-1:444444444444:alias/mlops-dev"
    assert settings.pulumi_home.startswith("/tmp/")


def test_settings_survive_the_trip_through_environment_variables():
    settings = ProvisionerSettings.from_env(
        {
            **ENV,
            "MLOPS_MODE": "multi",
            "MLOPS_ACCOUNTS": json.dumps({"dev": "444444444444", "staging": "555555555555", "prod": "666666666666"}),
            "MLOPS_USE_MODEL_REGISTRY": "true",
            "MLOPS_TAGS": '{"team": "ml"}',
            "MLOPS_DEPLOY_ROLE_EXTERNAL_ID_PARAMETER": "/mlops/deploy-role-external-id",
            "MLOPS_PROVISIONER_IMAGE_URI": "444444444444.dkr.ecr.eu-west-1.amazonaws.com/mlops-provisioner:v2",
        }
    )

    assert ProvisionerSettings.from_env(settings.as_env()) == settings
    assert set(settings.as_env()) <= set(ENV_VARS.values())
    assert settings.model_package_group_name == "mlops-models"
    assert settings.deploy_role_external_id_parameter == "/mlops/deploy-role-external-id"


def test_the_external_id_itself_is_read_but_never_written_back():
    """`as_env()` feeds CodeBuild's plain-text variables: only the parameter's name may travel."""
    settings = ProvisionerSettings.from_env(
        {
            **ENV,
            "MLOPS_DEPLOY_ROLE_EXTERNAL_ID": "ext-s3cr3t",
            "MLOPS_DEPLOY_ROLE_EXTERNAL_ID_PARAMETER": "/mlops/deploy-role-external-id",
        }
    )
    env = settings.as_env()

    assert settings.deploy_role_external_id == "ext-s3cr3t"
    assert "MLOPS_DEPLOY_ROLE_EXTERNAL_ID" not in env
    assert not any("ext-s3cr3t" in value for value in env.values())
    assert env["MLOPS_DEPLOY_ROLE_EXTERNAL_ID_PARAMETER"] == "/mlops/deploy-role-external-id"
    assert "ext-s3cr3t" not in repr(settings)
    assert ProvisionerSettings.from_env(env) == replace(settings, deploy_role_external_id=None)


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"MLOPS_ACCOUNTS": '{"dev": "444444444444"}'}, "AWS_REGION"),
        ({"AWS_REGION": "eu-west-1"}, "MLOPS_ACCOUNTS"),
        ({**ENV, "MLOPS_MODE": "multi"}, "staging, prod"),
        ({**ENV, "MLOPS_ACCOUNTS": "not json"}, "not valid JSON"),
        ({**ENV, "MLOPS_MODE": "both"}, "MLOPS_MODE"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], problem: str):
    with pytest.raises(SettingsError, match=problem):
        ProvisionerSettings.from_env(env)


def test_a_setting_only_the_delivery_stack_needs_is_asked_for_by_name():
    with pytest.raises(SettingsError, match="MLOPS_PROVISIONER_IMAGE_URI"):
        ProvisionerSettings.from_env(ENV).required("provisioner_image_uri")


# -- errors and locks ------------------------------------------------------------------------------------
def command_error(cls: type[auto_errors.CommandError], stderr: str) -> auto_errors.CommandError:
    return cls(CommandResult(stdout="", stderr=stderr, code=255))


@pytest.mark.parametrize(
    ("exc", "expected", "retryable"),
    [
        (FileNotFoundError(2, "No such file", "pulumi"), PulumiUnavailable, False),
        (auto_errors.InvalidVersionError("too old"), PulumiUnavailable, False),
        (command_error(auto_errors.ConcurrentUpdateError, "locked"), StackBusy, True),
        (
            command_error(auto_errors.CommandError, "api error AccessDenied: ... sts:AssumeRole on resource: x"),
            AssumeRoleDenied,
            False,
        ),
        (command_error(auto_errors.CommandError, "ThrottlingException"), DeploymentFailed, True),
        (ValueError("boom"), DeploymentFailed, True),
    ],
)
def test_failures_are_classified(exc: BaseException, expected: type, retryable: bool):
    error = classify(exc, "churn-dev")

    assert type(error) is expected
    assert error.retryable is retryable


def test_recorded_errors_say_whether_sending_again_may_help():
    assert error_text("stack-busy", "locked", True) == "stack-busy (retryable): locked"
    assert error_text("assume-role-denied", "denied", False) == "assume-role-denied: denied"


def test_long_cli_transcripts_keep_their_end():
    error = DeploymentFailed("noise " * 1000 + "the real cause")

    assert len(error.message) <= 1000 and error.message.endswith("the real cause")


def lock(stamp: str) -> str:
    return f"  s3://b/.pulumi/locks/x/y.json: created by u@h (pid 1) at {stamp}"


def test_only_locks_older_than_any_run_are_stale():
    old, fresh = "2026-11-01T10:00:00Z", "2026-11-01T11:55:00Z"
    after = timedelta(minutes=20)

    assert lock_is_stale(lock(old), NOW, after)
    assert not lock_is_stale(lock(fresh), NOW, after)
    assert not lock_is_stale(lock(old) + "\n" + lock(fresh), NOW, after)
    assert not lock_is_stale("[409] Conflict: Another update is currently in progress.", NOW, after)
    assert not lock_is_stale(lock("yesterday"), NOW, after)


def test_waiting_for_a_lock_is_bounded():
    assert RetryPolicy(attempts=6, base_delay_seconds=5, max_delay_seconds=30).delays() == [5, 10, 20, 30, 30]


def test_an_up_that_only_kept_resources_changed_nothing():
    assert not UpOutcome({}, {"same": 7}).changed
    assert UpOutcome({}, {"same": 6, "update": 1}).changed


def test_the_pulumi_home_links_the_baked_plugins_once(tmp_path: Path):
    (tmp_path / "opt" / "plugins").mkdir(parents=True)
    home = tmp_path / "tmp" / "home"

    prepare_pulumi_home(str(home), str(tmp_path / "opt"))
    prepare_pulumi_home(str(home), str(tmp_path / "opt"))

    assert (home / "plugins").is_symlink()


# -- the stored request --------------------------------------------------------------------------------------
def test_the_source_zip_holds_the_spec_and_is_the_same_for_the_same_spec():
    spec = b'{"pipeline_type": "byom_realtime_builtin"}'

    assert spec_from_zip(source_zip(spec)) == spec
    assert source_zip(spec) == source_zip(spec)


@pytest.mark.parametrize(
    ("folder", "mode", "registry"), [("", "single", False), ("multi", "multi", False), ("registry", "single", True)]
)
def test_every_example_request_as_the_api_stores_it_validates_again_for_the_build(
    folder: str, mode: str, registry: bool
):
    for path in sorted((EXAMPLES / folder).glob("*.json")):
        spec = parse_pipeline_request(json.loads(path.read_text()), mode=mode, use_model_registry=registry)  # type: ignore[arg-type]
        stored = json.dumps(spec.model_dump(mode="json", exclude_none=True), sort_keys=True)

        again = parse_spec(stored, spec.pipeline_id, mode, registry)

        assert again.spec_hash() == spec.spec_hash(), path.name


def test_a_stored_request_of_another_pipeline_is_refused():
    body = json.loads((EXAMPLES / "byom_realtime_builtin.json").read_text())

    with pytest.raises(SpecUnavailable, match="belongs to"):
        parse_spec(json.dumps(body), "someone-else-realtime-builtin", "single", False)
    with pytest.raises(SpecUnavailable, match="not JSON"):
        parse_spec(b"{", "x", "single", False)


# -- the provisioner's decisions ------------------------------------------------------------------------------
def record(status: Status, version: int = 1) -> PipelineRecord:
    return PipelineRecord("p", status, "byom_realtime_builtin", version, "t", "t")


def test_only_the_request_that_queued_the_work_claims_it():
    assert claimable(record(Status.QUEUED), Status.QUEUED, 1)
    assert not claimable(record(Status.QUEUED, version=2), Status.QUEUED, 1)  # superseded
    assert not claimable(record(Status.PROVISIONING), Status.QUEUED, 1)  # duplicate delivery
    assert not claimable(None, Status.QUEUED, 1)


def test_a_run_is_started_unless_the_pipeline_started_one_during_the_up():
    since = NOW
    during = [{"startTime": NOW + timedelta(seconds=20), "status": "InProgress"}]
    earlier = [{"startTime": NOW - timedelta(days=2), "status": "Succeeded"}]

    assert not needs_start(during, since)
    assert needs_start(earlier, since)
    assert needs_start([], since)


def test_the_run_recorded_for_a_request_is_the_newest_one_started_during_the_up():
    runs = [
        {"pipelineExecutionId": "b", "startTime": NOW + timedelta(seconds=30)},
        {"pipelineExecutionId": "a", "startTime": NOW + timedelta(seconds=5)},
        {"pipelineExecutionId": "old", "startTime": NOW - timedelta(hours=1)},
    ]

    assert started_during(runs, NOW) == runs[0]
    assert started_during(runs[2:], NOW) is None


def test_stacks_are_destroyed_last_environment_first():
    assert destroy_order(("dev", "staging", "prod")) == ["prod", "staging", "dev"]


# -- the status function's rules ---------------------------------------------------------------------------------
def event(kind: str, state: str, category: str = "", **extra: Any) -> PipelineEvent:
    return PipelineEvent("p", kind, state, category=category, **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("incoming", "current", "status", "notice"),
    [
        (event("pipeline", "STARTED"), Status.PROVISIONING, Status.PROVISIONING, None),
        (event("pipeline", "SUCCEEDED"), Status.PROVISIONING, Status.DEPLOYED, "succeeded"),
        (event("pipeline", "FAILED"), Status.PROVISIONING, Status.FAILED, "failed"),
        (event("pipeline", "FAILED"), Status.AWAITING_APPROVAL, Status.REJECTED, "rejected"),
        (event("pipeline", "STOPPED"), Status.PROVISIONING, Status.FAILED, "failed"),
        (event("action", "STARTED", "Approval"), Status.PROVISIONING, Status.AWAITING_APPROVAL, None),
        (event("action", "SUCCEEDED", "Approval"), Status.AWAITING_APPROVAL, Status.PROVISIONING, None),
        (event("action", "FAILED", "Approval"), Status.AWAITING_APPROVAL, Status.REJECTED, "rejected"),
        (event("action", "FAILED", "Build"), Status.PROVISIONING, Status.PROVISIONING, None),
    ],
)
def test_events_map_to_normalised_statuses(incoming: PipelineEvent, current: Status, status: Status, notice: Any):
    change = decide(incoming, current)

    assert change is not None
    assert (change.status, change.notify) == (status, notice)


@pytest.mark.parametrize(
    "incoming",
    [
        event("pipeline", "SUPERSEDED"),
        event("stage", "FAILED"),
        event("action", "STARTED", "Build"),
        event("action", "ABANDONED", "Approval"),
    ],
)
def test_events_that_change_nothing(incoming: PipelineEvent):
    assert decide(incoming, Status.PROVISIONING) is None


def test_a_started_run_is_only_applied_while_it_runs():
    change = decide(event("pipeline", "RESUMED"), Status.FAILED)

    assert change is not None and change.only_if_running


@pytest.mark.parametrize("state", ["STARTED", "SUCCEEDED"])
def test_approval_progress_is_only_applied_while_the_run_runs(state: str):
    """A late approval event must not take a DEPLOYED pipeline back to AWAITING_APPROVAL/PROVISIONING."""
    change = decide(event("action", state, "Approval"), Status.DEPLOYED)

    assert change is not None and change.only_if_running


@pytest.mark.parametrize("status", [Status.QUEUED, Status.DELETING, Status.DELETED, Status.REJECTED])
def test_events_never_touch_what_the_provisioner_owns_or_what_has_ended(status: Status):
    assert ignored(event("pipeline", "STOPPED", execution_id="run-1"), status, "run-1") == (
        f"ignored: the pipeline is {status}"
    )


@pytest.mark.parametrize("status", [Status.PROVISIONING, Status.AWAITING_APPROVAL, Status.DEPLOYED, Status.FAILED])
def test_events_of_another_run_than_the_requests_are_stale(status: Status):
    incoming = event("pipeline", "FAILED", execution_id="run-1")

    assert ignored(incoming, status, "run-1") is None
    assert ignored(incoming, status, "run-2") == "stale: not the run of the current request"
    assert ignored(incoming, status, EXECUTION_PENDING) == "stale: not the run of the current request"
    assert ignored(incoming, status, None) is None  # a record from before runs were tracked


def test_a_crash_before_the_claim_is_recognised_only_with_its_version():
    assert ProvisionerCrash("p", 2, "provision", "x").left_statuses == {Status.QUEUED, Status.PROVISIONING}
    assert ProvisionerCrash("p", None, "provision", "x").left_statuses == {Status.PROVISIONING}
    assert ProvisionerCrash("p", 2, "delete", "x").left_statuses == {Status.DELETING}


def test_result_emails_fit_snss_subject_limit_and_show_outputs():
    subject, text = notification(
        "x" * 40, Status.DEPLOYED, "succeeded", None, {"dev": {"endpoint_name": "churn"}, "delivery": {}}, "https://c"
    )

    assert len(subject) <= 100 and subject.endswith("is deployed")
    assert "dev: endpoint_name=churn" in text and "https://c" in text


def test_the_status_function_stays_light():
    """It ships as a small zip: no pulumi, no components, nothing of the provisioner."""
    import ast

    package = Path(__file__).resolve().parents[3] / "lambda_src" / "status_events"
    imported: set[str] = set()
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)

    heavy = {name for name in imported if name.startswith(("pulumi", "components", "lambda_src.provisioner"))}
    assert heavy == set()
