"""The image build's commands, run by a POSIX shell as CodeBuild runs them, against fake `aws` and `docker`
commands that keep ECR's state (repositories, their settings, immutable tags) in a folder.

Covers what the image builder promises: the first build of an image creates its repository with the
project's settings, the next tag reuses it, a re-created pipeline (tag already pushed) succeeds without
pushing, two builds racing to create the repository both succeed, and any other failure fails the build.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.pipelines.image_builder import NewRepository, buildspec

REGISTRY = "111111111111.dkr.ecr.us-east-1.amazonaws.com"
KEY = "arn:aws:kms:us-east-1:111111111111:key/11111111-1111-1111-1111-111111111111"
TAGS = {"mlops:pipeline-type": "byom_image_builder", "team": "retention & churn's"}

FAKE_AWS = """
import json, os, pathlib, sys
state = pathlib.Path(os.environ["FAKE_STATE"])
args = sys.argv[1:]
with (state / "calls.jsonl").open("a") as log:
    log.write(json.dumps(["aws", *args]) + "\\n")
def option(name):
    return args[args.index(name) + 1]
def fail(code):
    print(f"An error occurred ({code})", file=sys.stderr)
    sys.exit(254)
repos = state / "repos"
if args[:2] == ["ecr", "get-login-password"]:
    print("password")
elif args[:2] == ["ecr", "describe-repositories"]:
    hidden = state / "created-by-another-build"
    if hidden.exists():
        hidden.unlink()
        (repos / option("--repository-names")).mkdir(parents=True)
        fail("RepositoryNotFoundException")
    if not (repos / option("--repository-names")).is_dir():
        fail("RepositoryNotFoundException")
    print("{}")
elif args[:2] == ["ecr", "create-repository"]:
    if (state / "deny-create").exists():
        fail("AccessDeniedException")
    repo = repos / option("--repository-name")
    if repo.is_dir():
        fail("RepositoryAlreadyExistsException")
    repo.mkdir(parents=True)
    (repo / "settings.json").write_text(json.dumps(args))
    print("{}")
elif args[:2] == ["ecr", "describe-images"]:
    tag = option("--image-ids").split("=", 1)[1]
    if not (repos / option("--repository-name") / "images" / tag).is_dir():
        fail("ImageNotFoundException")
else:
    sys.exit(2)
"""

FAKE_DOCKER = """
import json, os, pathlib, sys
state = pathlib.Path(os.environ["FAKE_STATE"])
args = sys.argv[1:]
with (state / "calls.jsonl").open("a") as log:
    log.write(json.dumps(["docker", *args]) + "\\n")
if args[0] == "login":
    sys.stdin.read()
elif args[0] == "build":
    sys.exit(1 if (state / "build-fails").exists() else 0)
elif args[0] == "push":
    repository, tag = args[1].split("/", 1)[1].rsplit(":", 1)
    image = state / "repos" / repository / "images" / tag
    if not image.parent.parent.is_dir():
        sys.exit("name unknown: the repository does not exist")
    if image.is_dir():
        sys.exit("tag invalid: the image tag already exists and cannot be overwritten (IMMUTABLE)")
    image.mkdir(parents=True)
else:
    sys.exit(2)
"""


@dataclass
class FakeEcr:
    state: Path
    path: str

    def run(self, spec: str) -> int:
        """Each phase's commands in order, each in `sh -c` as CodeBuild does; the first failure ends the build."""
        env = {**os.environ, "PATH": self.path, "FAKE_STATE": str(self.state), "AWS_REGION": "us-east-1"}
        for phase in ("pre_build", "build"):
            for command in yaml.safe_load(spec)["phases"][phase]["commands"]:
                code = subprocess.run(["sh", "-c", command], env=env, capture_output=True, timeout=30).returncode
                if code:
                    return code
        return 0

    def calls(self, program: str) -> list[list[str]]:
        lines = (self.state / "calls.jsonl").read_text().splitlines() if (self.state / "calls.jsonl").exists() else []
        found = [json.loads(line) for line in lines]
        (self.state / "calls.jsonl").unlink(missing_ok=True)
        return [call[1:] for call in found if call[0] == program]

    def images(self, repository: str) -> list[str]:
        return sorted(p.name for p in (self.state / "repos" / repository / "images").glob("*"))

    def settings(self, repository: str) -> dict[str, Any]:
        args = json.loads((self.state / "repos" / repository / "settings.json").read_text())
        return {name: args[args.index(name) + 1] for name in args if name.startswith("--")}

    def flag(self, name: str) -> None:
        (self.state / name).touch()


@pytest.fixture
def ecr(tmp_path: Path) -> FakeEcr:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, source in (("aws", FAKE_AWS), ("docker", FAKE_DOCKER)):
        script = bin_dir / name
        script.write_text(f"#!{sys.executable}\n{source}")
        script.chmod(0o755)
    state = tmp_path / "state"
    state.mkdir()
    return FakeEcr(state, f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def spec(tag: str, repository: str = "churn-serving") -> str:
    return buildspec(f"{REGISTRY}/{repository}", tag, NewRepository(KEY, TAGS))


def test_the_first_build_creates_the_repository_with_the_project_settings(ecr: FakeEcr) -> None:
    assert ecr.run(spec("v1")) == 0
    assert ecr.images("churn-serving") == ["v1"]
    settings = ecr.settings("churn-serving")
    assert settings["--image-tag-mutability"] == "IMMUTABLE"
    assert settings["--image-scanning-configuration"] == "scanOnPush=true"
    assert json.loads(settings["--encryption-configuration"]) == {"encryptionType": "KMS", "kmsKey": KEY}
    assert json.loads(settings["--tags"]) == [{"Key": k, "Value": v} for k, v in sorted(TAGS.items())]


def test_a_new_tag_reuses_the_repository(ecr: FakeEcr) -> None:
    assert ecr.run(spec("v1")) == 0
    ecr.calls("aws")

    assert ecr.run(spec("v2")) == 0

    assert [call[1] for call in ecr.calls("aws")] == ["describe-repositories", "get-login-password", "describe-images"]
    assert ecr.images("churn-serving") == ["v1", "v2"]


def test_a_re_created_pipeline_finds_its_tag_and_pushes_nothing(ecr: FakeEcr) -> None:
    assert ecr.run(spec("v1")) == 0
    ecr.calls("docker")

    assert ecr.run(spec("v1")) == 0

    assert [call[0] for call in ecr.calls("docker")] == ["login"]
    assert ecr.images("churn-serving") == ["v1"]


def test_two_builds_racing_to_create_the_repository_both_go_on(ecr: FakeEcr) -> None:
    ecr.flag("created-by-another-build")  # absent when looked up, present when created

    assert ecr.run(spec("v1")) == 0

    assert [call[1] for call in ecr.calls("aws")][:3] == [
        "describe-repositories",
        "create-repository",
        "describe-repositories",
    ]
    assert ecr.images("churn-serving") == ["v1"]


def test_a_repository_that_cannot_be_created_fails_the_build(ecr: FakeEcr) -> None:
    ecr.flag("deny-create")
    assert ecr.run(spec("v1")) != 0
    assert ecr.calls("docker") == []


def test_a_failed_docker_build_pushes_nothing_and_fails(ecr: FakeEcr) -> None:
    ecr.flag("build-fails")
    assert ecr.run(spec("v1")) != 0
    assert [call[0] for call in ecr.calls("docker")] == ["login", "build"]
    assert ecr.images("churn-serving") == []
