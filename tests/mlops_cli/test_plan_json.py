"""A JSON plan diffs cleanly (issue 13, point 8): resources in a stable order whatever order the engine
registered them in, assets as their files and content hash, secrets as the placeholder."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pytest

from mlops_cli.mocks import PlannedResource, PlanRecorder, plain_value

pytestmark = pytest.mark.fast
SECRET_WIRE = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}


def resource(name: str, typ: str, parent: str = "") -> PlannedResource:
    return PlannedResource(typ, name, None, {}, True, urn=f"urn:{typ}::{name}", parent_urn=parent)


def test_resources_are_listed_depth_first_by_name_whatever_the_registration_order() -> None:
    top_b = resource("b", "mlops:x:B")
    top_a = resource("a", "mlops:x:A")
    child_z = resource("z", "aws:s3/bucket:Bucket", parent=top_a.urn)
    child_y = resource("y", "aws:s3/bucket:Bucket", parent=top_a.urn)
    grandchild = resource("c", "aws:s3/bucketPolicy:BucketPolicy", parent=child_z.urn)
    orders = ([top_b, child_z, grandchild, top_a, child_y], [grandchild, child_y, top_a, top_b, child_z])
    for registered in orders:
        recorder = PlanRecorder(resources=list(registered))
        assert [r.name for r in recorder.in_order()] == ["a", "y", "z", "c", "b"]


def test_an_archive_is_shown_as_its_files_and_a_hash_of_their_content(tmp_path: Path) -> None:
    (tmp_path / "handler.py").write_text("print('v1')\n")
    (tmp_path / "util.py").write_text("X = 1\n")

    def archive() -> pulumi.AssetArchive:
        return pulumi.AssetArchive(
            {
                "pkg/util.py": pulumi.FileAsset(str(tmp_path / "util.py")),
                "pkg/handler.py": pulumi.FileAsset(str(tmp_path / "handler.py")),
            }
        )

    first = plain_value({"code": archive()})
    assert first["code"]["archive"] == ["pkg/handler.py", "pkg/util.py"]
    assert len(first["code"]["sha256"]) == 64
    assert plain_value({"code": archive()}) == first
    (tmp_path / "handler.py").write_text("print('v2')\n")
    assert plain_value({"code": archive()})["code"]["sha256"] != first["code"]["sha256"]


def test_a_secret_shows_what_depends_on_the_placeholder_and_hides_any_other_value() -> None:
    policy = '{"Condition": {"StringEquals": {"sts:ExternalId": "[secret]"}}}'
    assert plain_value({"policy": {**SECRET_WIRE, "value": policy}}) == {"policy": policy}
    assert plain_value({"password": {**SECRET_WIRE, "value": "hunter2"}}) == {"password": "[secret]"}
