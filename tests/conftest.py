"""Shared fixtures: a fresh Pulumi mock engine per test, and fake AWS credentials for moto."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pulumi
import pytest

from mlops_cli.mocks import PlanRecorder
from tests.support import atomic_moto

# Each moto call is atomic, as each DynamoDB call is: concurrency tests are then deterministic.
atomic_moto.install()


def _share_botocore_data_loader() -> None:
    """Test time: every new botocore session (a fresh moto account, each CLI command's boto3 session)
    reads endpoints.json and the service models again through a loader of its own, about 50 ms a
    session. The files are read-only data: one loader per search path serves every session."""
    import botocore.loaders
    import botocore.session

    loaders: dict[str | None, botocore.loaders.Loader] = {}
    create = botocore.loaders.create_loader

    def shared_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
        if search_path_string not in loaders:
            loaders[search_path_string] = create(search_path_string)
        return loaders[search_path_string]

    botocore.session.create_loader = shared_loader  # type: ignore[attr-defined]


_share_botocore_data_loader()


def _one_sns_signing_key() -> None:
    """Test time: moto's SNS signs each message it delivers with an RSA key generated per subscription
    (2048 bits, 40 ms and more), so every test that publishes paid for a key generation. AWS signs with
    one certificate per region and no test reads the signature: one key per process serves them all."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from moto.sns import models

    key: list[rsa.RSAPrivateKey] = []

    def private_key(_subscription: models.Subscription) -> rsa.RSAPrivateKey:
        if not key:
            key.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
        return key[0]

    models.Subscription.private_key = private_key  # type: ignore[method-assign]


_one_sns_signing_key()


@pytest.fixture
def pulumi_mocks() -> Iterator[PlanRecorder]:
    """A recording mock engine, installed for one test only (module-level set_mocks leaks)."""
    recorder = PlanRecorder()
    recorder.install(project="mlops", stack="dev")
    pulumi.runtime.set_all_config({})
    yield recorder
    pulumi.runtime.set_all_config({})


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials so boto3 never finds real ones; moto intercepts every call."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"


# -- `pytest -m fast`: the pure tests (no moto, no mock engine, no subprocess), for a quick loop ---------
# Request-contract tests and the plain decision functions of each layer are pure by construction.
FAST_FOLDERS = ("mlops_spec",)
FAST_FILE_MARK = "decisions"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fast: a pure test (no moto, no mock engine, no subprocess)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = item.path
        if path.parent.name in FAST_FOLDERS or FAST_FILE_MARK in path.stem:
            item.add_marker(pytest.mark.fast)
