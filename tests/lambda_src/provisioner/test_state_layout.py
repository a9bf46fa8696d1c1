"""Where the runner opens each stack (backend URL and secrets provider per stack), and the legacy stacks at
the state bucket's root as S3 holds them: seen, locked as Pulumi locks, removed."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from lambda_src.provisioner.errors import ProvisioningError, StackBusy
from lambda_src.provisioner.runner import AutomationStackRunner, RunnerConfig
from lambda_src.provisioner.settings import ProvisionerSettings, SettingsError
from lambda_src.provisioner.state_layout import (
    LegacyStacks,
    StackPlace,
    StateLayout,
    StateNotMigrated,
    stacks_to_settle,
    with_secrets_provider,
)
from tests.support.provisioner_settings import make_settings

BUCKET = "mlops-pulumi-state-111111111111-us-east-1"
ROOT = f"s3://{BUCKET}?region=us-east-1"
SECRETS = "awskms://alias/mlops-pulumi-secrets?region=us-east-1"
PIPELINE = "churn-realtime-builtin"


def project(env: str) -> str:
    return f"arn:aws:codebuild:us-east-1:111111111111:project/mlops-deploy-{PIPELINE}-{env}"


def place(env: str) -> StackPlace:
    return StackPlace(
        f"s3://{BUCKET}/target-stacks/{project(env)}?region=us-east-1",
        f"{SECRETS}&context_mlops-environment={env}",
    )


# -- the layout: pure ----------------------------------------------------------------------------------------
@pytest.mark.fast
@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_a_target_stack_lives_under_its_deploy_projects_prefix_with_its_environments_secrets(env: str) -> None:
    layout = StateLayout.from_settings(make_settings("multi"))

    assert layout.place_of(f"{PIPELINE}-{env}") == place(env)
    assert layout.bucket == BUCKET


@pytest.mark.fast
def test_a_delivery_stack_stays_at_the_root_with_the_plain_secrets_provider() -> None:
    layout = StateLayout.from_settings(make_settings("multi"))

    assert layout.place_of(f"{PIPELINE}-delivery") == StackPlace(ROOT, SECRETS)
    assert layout.root == StackPlace(ROOT, SECRETS)


@pytest.mark.fast
def test_the_runner_config_of_the_settings_carries_the_layout_and_who_may_move_stacks() -> None:
    settings = make_settings("multi")

    provisioner = RunnerConfig.from_settings(settings)
    build = RunnerConfig.from_settings(settings, moves_legacy_stacks=False)

    assert provisioner.moves_legacy_stacks and not build.moves_legacy_stacks
    assert provisioner.place_of(f"{PIPELINE}-prod") == place("prod")
    assert provisioner.place_of(f"{PIPELINE}-delivery") == StackPlace(ROOT, SECRETS)
    moved = provisioner.at(place("dev"))
    assert (moved.backend_url, moved.secrets_provider, moved.layout) == (*place("dev").__dict__.values(), None)


@pytest.mark.fast
def test_a_target_stack_settles_itself_a_delivery_stack_its_pipelines_targets_and_nothing_else() -> None:
    assert stacks_to_settle(f"{PIPELINE}-staging") == [f"{PIPELINE}-staging"]
    assert stacks_to_settle(f"{PIPELINE}-delivery") == [f"{PIPELINE}-{e}" for e in ("dev", "staging", "prod")]
    assert stacks_to_settle("something") == []


@pytest.mark.fast
def test_an_export_named_under_a_new_secrets_provider_keeps_everything_else() -> None:
    exported: dict[str, Any] = {
        "version": 3,
        "deployment": {
            "manifest": {"version": "v3.272.0"},
            "secrets_providers": {"type": "cloud", "state": {"url": SECRETS, "encryptedkey": "b2xk"}},
            "resources": [{"urn": "urn:pulumi:x::p::aws:s3/bucket:Bucket::b", "outputs": {"k": {"plaintext": "1"}}}],
        },
    }
    new = {"type": "cloud", "state": {"url": place("dev").secrets_provider, "encryptedkey": "bmV3"}}

    moved = with_secrets_provider(exported, new)

    assert moved["deployment"]["secrets_providers"] == new
    assert moved["deployment"]["resources"] == exported["deployment"]["resources"]
    assert moved["version"] == 3
    assert exported["deployment"]["secrets_providers"]["state"]["encryptedkey"] == "b2xk"  # not changed in place


# -- the runner on the fake CLI -------------------------------------------------------------------------------
@pytest.fixture
def s3(aws_credentials: None) -> Iterator[Any]:
    import boto3

    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def runner_on(fake_pulumi: Any, tmp_path: Path, s3: Any, moves: bool) -> AutomationStackRunner:
    config = RunnerConfig.from_settings(
        make_settings(
            "multi", pulumi_home=str(tmp_path / "home"), baked_pulumi_home=None, pulumi_root=str(fake_pulumi.root)
        ),
        moves_legacy_stacks=moves,
    )
    return AutomationStackRunner(config, s3=s3, work_dir=str(tmp_path / "ws"))


def init_call(fake_pulumi: Any) -> dict[str, Any]:
    [call] = [
        c for c in fake_pulumi.calls() if [a for a in c["argv"] if a != "--non-interactive"][:2] == ["stack", "init"]
    ]
    return call


def test_a_deploy_build_opens_its_target_stack_at_its_prefix_with_its_environments_secrets(
    fake_pulumi: Any, tmp_path: Path, s3: Any
) -> None:
    runner = runner_on(fake_pulumi, tmp_path, s3, moves=False)

    runner.select_or_create(f"{PIPELINE}-staging", lambda: None)

    init = init_call(fake_pulumi)
    assert init["argv"][init["argv"].index("--secrets-provider") + 1] == place("staging").secrets_provider
    assert f"url: {place('staging').backend_url}" in init["project"]
    runner.close()


def test_the_provisioner_opens_a_delivery_stack_at_the_root(fake_pulumi: Any, tmp_path: Path, s3: Any) -> None:
    runner = runner_on(fake_pulumi, tmp_path, s3, moves=True)

    runner.select_or_create(f"{PIPELINE}-delivery", lambda: None)

    init = init_call(fake_pulumi)
    assert init["argv"][init["argv"].index("--secrets-provider") + 1] == SECRETS
    assert f"url: {ROOT}\n" in init["project"]


def test_a_deploy_build_refuses_to_create_its_stack_beside_one_still_at_the_root(
    fake_pulumi: Any, tmp_path: Path, s3: Any
) -> None:
    s3.put_object(Bucket=BUCKET, Key=f".pulumi/stacks/mlops-pipelines/{PIPELINE}-dev.json", Body=b"{}")
    runner = runner_on(fake_pulumi, tmp_path, s3, moves=False)

    with pytest.raises(StateNotMigrated, match=f"{PIPELINE}-dev is still where earlier versions kept it"):
        runner.select_or_create(f"{PIPELINE}-dev", lambda: None)

    assert fake_pulumi.commands() == []  # nothing selected, nothing created


# -- legacy stacks in S3 --------------------------------------------------------------------------------------
def test_legacy_stacks_are_seen_by_their_checkpoint_plain_or_compressed(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key=".pulumi/stacks/mlops-pipelines/a-dev.json", Body=b"{}")
    s3.put_object(Bucket=BUCKET, Key=".pulumi/stacks/mlops-pipelines/b-dev.json.gz", Body=b"{}")
    s3.put_object(Bucket=BUCKET, Key=".pulumi/stacks/mlops-pipelines/a-dev-x-dev.json", Body=b"{}")
    legacy = LegacyStacks(s3, BUCKET)

    assert legacy.exists("a-dev") and legacy.exists("b-dev")
    assert not legacy.exists("c-dev")
    assert not legacy.exists("a")  # "a-dev-x-dev.json" is another stack's


def test_a_legacy_stack_is_locked_as_pulumi_locks_it_and_unlocked_after(s3: Any) -> None:
    legacy = LegacyStacks(s3, BUCKET)
    folder = ".pulumi/locks/organization/mlops-pipelines/a-dev/"

    with legacy.lock("a-dev"):
        [lock] = s3.list_objects_v2(Bucket=BUCKET, Prefix=folder)["Contents"]
        content = json.loads(s3.get_object(Bucket=BUCKET, Key=lock["Key"])["Body"].read())
        assert lock["Key"].endswith(".json") and set(content) == {"pid", "username", "hostname", "timestamp"}

    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix=folder)


def test_a_legacy_stack_locked_by_another_update_is_not_locked_again(s3: Any) -> None:
    folder = ".pulumi/locks/organization/mlops-pipelines/a-dev/"
    s3.put_object(Bucket=BUCKET, Key=f"{folder}other.json", Body=b"{}")
    entered = []

    with pytest.raises(StackBusy, match="a-dev is locked by another update"), LegacyStacks(s3, BUCKET).lock("a-dev"):
        entered.append(True)

    assert entered == []
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=folder)["Contents"]] == [f"{folder}other.json"]


def test_removing_a_legacy_stack_forgets_its_checkpoint_and_keeps_its_history(s3: Any) -> None:
    keys = [
        ".pulumi/stacks/mlops-pipelines/a-dev.json",
        ".pulumi/stacks/mlops-pipelines/a-dev.json.bak",
        ".pulumi/stacks/mlops-pipelines/a-dev-x-dev.json",
        ".pulumi/history/mlops-pipelines/a-dev/a-dev-1.history.json",
    ]
    for key in keys:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"{}")
    legacy = LegacyStacks(s3, BUCKET)

    legacy.remove("a-dev")

    left = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert left == {keys[2], keys[3]}
    assert not legacy.exists("a-dev")


def test_mlops_deploy_runs_on_the_layout_and_may_not_move_stacks(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from lambda_src.provisioner import deploy as deploy_module
    from tests.support.provisioner_settings import example_spec, load_example

    opened: list[RunnerConfig] = []

    class Opened(Exception):
        pass

    class Recording:
        def __init__(self, config: RunnerConfig, **_: Any):
            opened.append(config)

        def select_or_create(self, stack_name: str, program: Any) -> None:
            raise Opened(stack_name)

        def close(self) -> None:
            pass

    monkeypatch.setattr(deploy_module, "AutomationStackRunner", Recording)
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(load_example("byom_realtime_builtin")))
    pipeline_id = example_spec().pipeline_id

    with pytest.raises(Opened, match=f"{pipeline_id}-dev"):
        deploy_module.deploy(pipeline_id, "dev", make_settings("single"), spec_file=spec_file)

    [config] = opened
    assert config.layout == StateLayout.from_settings(make_settings("single")) and not config.moves_legacy_stacks


def test_the_provisioner_waits_for_a_legacy_stacks_lock_then_reports_it_busy(
    fake_pulumi: Any, tmp_path: Path, s3: Any
) -> None:
    from lambda_src.provisioner.runner import RetryPolicy

    legacy = f".pulumi/stacks/mlops-pipelines/{PIPELINE}-dev.json"
    s3.put_object(Bucket=BUCKET, Key=legacy, Body=b"{}")
    s3.put_object(Bucket=BUCKET, Key=f".pulumi/locks/organization/mlops-pipelines/{PIPELINE}-dev/o.json", Body=b"{}")
    sleeps: list[float] = []
    config = RunnerConfig.from_settings(
        make_settings(
            "single", pulumi_home=str(tmp_path / "home"), baked_pulumi_home=None, pulumi_root=str(fake_pulumi.root)
        )
    )
    runner = AutomationStackRunner(
        config, s3=s3, work_dir=str(tmp_path / "ws"), retry=RetryPolicy(attempts=3), sleep=sleeps.append
    )

    with pytest.raises(StackBusy, match=f"{PIPELINE}-dev is locked by another update"):
        runner.select_existing(f"{PIPELINE}-dev", lambda: None)

    assert sleeps == [5.0, 10.0]
    assert s3.get_object(Bucket=BUCKET, Key=legacy)["Body"].read() == b"{}"
    assert "stack init" not in fake_pulumi.commands()


def test_the_runner_moves_a_deployment_through_the_cli(fake_pulumi: Any, tmp_path: Path, s3: Any) -> None:
    """export_deployment, secrets_provider_state, import_deployment and remove_state, as the CLI runs them."""
    runner = runner_on(fake_pulumi, tmp_path, s3, moves=True)
    runner.select_or_create(f"{PIPELINE}-dev", lambda: None)

    exported = runner.export_deployment()
    provider = runner.secrets_provider_state()
    runner.import_deployment(with_secrets_provider(exported, provider or {}))
    runner.remove_state()

    assert exported["version"] == 3 and exported["deployment"]["resources"] == []
    assert provider == {
        "type": "cloud",
        "state": {"url": place("dev").secrets_provider, "encryptedkey": "a2V5LW9mLSVz"},
    }
    imported = fake_pulumi.state()["imported"][f"{PIPELINE}-dev"]
    assert imported["deployment"]["secrets_providers"] == provider
    [export] = fake_pulumi.argv_of("stack export")
    assert "--show-secrets" in export  # secrets in plain text, to be encrypted again by the import
    [remove] = fake_pulumi.argv_of("stack rm")
    assert "--force" in remove and remove[-1] == f"{PIPELINE}-dev"  # state only: resources are not touched
    assert f"{PIPELINE}-dev" not in fake_pulumi.state()["stacks"]


def test_a_killed_runs_lock_on_a_legacy_stack_is_removed_once_older_than_any_run(s3: Any) -> None:
    """A run killed while it held the lock (a Lambda timeout, a stopped build) would block the move for
    good: a lock older than the stale limit is removed, as `pulumi cancel` would."""
    folder = ".pulumi/locks/organization/mlops-pipelines/a-dev/"
    s3.put_object(Bucket=BUCKET, Key=f"{folder}killed.json", Body=b"{}")
    two_hours_later = datetime.now(UTC) + timedelta(hours=2)
    legacy = LegacyStacks(s3, BUCKET, clock=lambda: two_hours_later, stale_after=timedelta(minutes=65))

    with legacy.lock("a-dev"):
        held = [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET, Prefix=folder)["Contents"]]

    assert len(held) == 1 and held[0] != f"{folder}killed.json"
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix=folder)
    # A lock younger than the limit is a live run's: still refused.
    s3.put_object(Bucket=BUCKET, Key=f"{folder}live.json", Body=b"{}")
    with pytest.raises(StackBusy), LegacyStacks(s3, BUCKET, stale_after=timedelta(minutes=65)).lock("a-dev"):
        pass


def test_a_failed_import_leaves_no_plain_text_secrets_outside_the_runners_work_directory(
    fake_pulumi: Any, tmp_path: Path, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared_tmp = tmp_path / "shared-tmp"
    shared_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(shared_tmp))
    runner = runner_on(fake_pulumi, tmp_path, s3, moves=True)
    runner.select_or_create(f"{PIPELINE}-dev", lambda: None)
    exported = {"version": 3, "deployment": {"resources": [], "secret": "s3cret-in-plain-text"}}
    fake_pulumi.fail_next("stack import", "error: import failed")

    with pytest.raises(ProvisioningError):
        runner.import_deployment(exported)
    left_in_work_dir = [p for p in Path(runner.work_dir).rglob("*") if p.is_file() and "s3cret" in p.read_text()]

    # In the runner's work directory (a runner that made its own removes it on close), not the shared /tmp.
    assert list(shared_tmp.iterdir()) == []
    assert len(left_in_work_dir) == 1
    assert tempfile.tempdir == str(shared_tmp)


@pytest.mark.fast
def test_a_state_backend_url_with_a_path_is_refused() -> None:
    with pytest.raises(SettingsError, match="must name the state bucket only"):
        ProvisionerSettings(
            region="us-east-1", accounts={"dev": "111111111111"}, backend_url="s3://b/custom?region=us-east-1"
        )
