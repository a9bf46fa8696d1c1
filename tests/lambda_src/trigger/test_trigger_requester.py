"""Who requested a version queued by an uploaded mlops-config.json (issue 10, point 5): the S3 event's
uploader, only when the event names the version that was read."""

from __future__ import annotations

import json

from lambda_src.common import aws
from lambda_src.registry import from_attr
from lambda_src.registry.approvals import record_requester
from lambda_src.trigger.handler import handler, object_version, requester
from mlops_spec.approvers import Principal
from tests.lambda_src.trigger.test_trigger import s3_events  # noqa: F401 (the fixture)
from tests.support.api_gateway import LAMBDA_CONTEXT
from tests.support.moto_orchestrator import BUCKET, TABLE
from tests.support.requests import realtime_body

PIPELINE = "churn-xgb-realtime-builtin"
UPLOADER = "AWS:AROAUPLOADER:alice"


def versions(key: str) -> list[str]:
    """The key's version ids, the current one last (S3 lists them newest first)."""
    found = aws.client("s3").list_object_versions(Bucket=BUCKET, Prefix=key)["Versions"]
    return [v["VersionId"] for v in reversed(found) if v["Key"] == key]


def as_s3_sends_it(record: dict, version: str) -> None:  # type: ignore[type-arg]
    """What S3 adds and moto leaves out: the uploader and, in a versioned bucket, the version created."""
    record["userIdentity"] = {"principalId": UPLOADER}
    record["s3"]["object"]["versionId"] = version


def requested_by(orchestrator) -> object:  # type: ignore[no-untyped-def]
    item = orchestrator.item(PIPELINE)
    return from_attr(item["requested_by"]) if "requested_by" in item else None


def test_the_uploader_of_the_file_is_the_requester(orchestrator, s3_events):  # noqa: F811
    event = s3_events(("team/mlops-config.json", json.dumps(realtime_body())))
    as_s3_sends_it(event["Records"][0], versions("team/mlops-config.json")[-1])

    assert handler(event, LAMBDA_CONTEXT)["results"][0]["outcome"] == "queued"

    assert requested_by(orchestrator) == {"principal_id": UPLOADER}


def test_an_event_of_an_older_upload_is_skipped_and_the_newer_uploads_event_names_its_uploader(
    orchestrator,
    s3_events,  # noqa: F811
):
    # Alice uploads the same file twice quickly: the first event reads the second upload.
    key = "team/mlops-config.json"
    first = s3_events((key, json.dumps(realtime_body())))
    second = s3_events((key, json.dumps(realtime_body())))
    older, newer = versions(key)
    as_s3_sends_it(first["Records"][0], older)
    as_s3_sends_it(second["Records"][0], newer)

    [skipped] = handler(first, LAMBDA_CONTEXT)["results"]
    assert orchestrator.items() == []  # not queued under no requester
    [applied] = handler(second, LAMBDA_CONTEXT)["results"]

    assert skipped == {
        "source": f"s3://{BUCKET}/{key}",
        "outcome": "superseded",
        "pipeline_id": None,
        "errors": [
            {
                "field": "(file)",
                "problem": f"version {older} was replaced by {newer} before it was read: its own event applies it",
            }
        ],
    }
    assert applied["outcome"] == "queued"
    assert requested_by(orchestrator) == {"principal_id": UPLOADER}


def test_a_replay_by_a_known_uploader_names_the_missing_requester(orchestrator, s3_events):  # noqa: F811
    key = "team/mlops-config.json"
    unnamed = s3_events((key, json.dumps(realtime_body())))  # moto's event: no uploader, no version
    assert handler(unnamed, LAMBDA_CONTEXT)["results"][0]["outcome"] == "queued"
    assert requested_by(orchestrator) is None
    again = s3_events((key, json.dumps(realtime_body())))
    as_s3_sends_it(again["Records"][0], versions(key)[-1])

    assert handler(again, LAMBDA_CONTEXT)["results"][0]["outcome"] == "unchanged"

    assert requested_by(orchestrator) == {"principal_id": UPLOADER}
    assert orchestrator.item(PIPELINE)["version"] == {"N": "1"}


def test_a_replay_by_a_known_uploader_replaces_a_requester_that_names_no_one(orchestrator, s3_events):  # noqa: F811
    # The root user's principal id is its account id, which every principal of the account shares.
    key = "team/mlops-config.json"
    by_root = s3_events((key, json.dumps(realtime_body())))
    as_s3_sends_it(by_root["Records"][0], versions(key)[-1])
    by_root["Records"][0]["userIdentity"]["principalId"] = "AWS:111111111111"
    handler(by_root, LAMBDA_CONTEXT)
    assert requested_by(orchestrator) == {"principal_id": "AWS:111111111111"}
    again = s3_events((key, json.dumps(realtime_body())))
    as_s3_sends_it(again["Records"][0], versions(key)[-1])

    assert handler(again, LAMBDA_CONTEXT)["results"][0]["outcome"] == "unchanged"

    assert requested_by(orchestrator) == {"principal_id": UPLOADER}


def test_a_replay_never_replaces_a_recorded_requester(orchestrator, s3_events):  # noqa: F811
    key = "team/mlops-config.json"
    first = s3_events((key, json.dumps(realtime_body())))
    as_s3_sends_it(first["Records"][0], versions(key)[-1])
    handler(first, LAMBDA_CONTEXT)
    again = s3_events((key, json.dumps(realtime_body())))
    as_s3_sends_it(again["Records"][0], versions(key)[-1])
    again["Records"][0]["userIdentity"]["principalId"] = "AWS:AROAOTHER:mallory"

    assert handler(again, LAMBDA_CONTEXT)["results"][0]["outcome"] == "unchanged"

    assert requested_by(orchestrator) == {"principal_id": UPLOADER}


def test_the_requester_rule_needs_the_event_to_name_the_version_read():
    assert requester(UPLOADER, "v2", "v2") == Principal(principal_id=UPLOADER)
    assert requester(UPLOADER, None, None) == Principal(principal_id=UPLOADER)  # an unversioned bucket
    assert requester(UPLOADER, "v1", "v2") is None
    assert requester(None, "v2", "v2") is None


def test_a_requester_is_named_only_on_the_record_as_it_was_read(orchestrator, s3_events):  # noqa: F811
    key = "team/mlops-config.json"
    handler(s3_events((key, json.dumps(realtime_body()))), LAMBDA_CONTEXT)
    revision = int(orchestrator.item(PIPELINE)["revision"]["N"])

    # Another writer moved the record on since it was read: the replay names no one.
    assert record_requester(TABLE, PIPELINE, revision - 1, {"principal_id": UPLOADER}) is False
    assert requested_by(orchestrator) is None
    assert record_requester(TABLE, PIPELINE, revision, {"principal_id": UPLOADER}) is True
    assert requested_by(orchestrator) == {"principal_id": UPLOADER}
    assert orchestrator.item(PIPELINE)["revision"] == {"N": str(revision + 1)}


def test_an_unversioned_object_is_never_superseded_however_its_event_spells_no_version(orchestrator, s3_events):  # noqa: F811
    aws.client("s3").put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    event = s3_events(("team/mlops-config.json", json.dumps(realtime_body())))
    event["Records"][0]["s3"]["object"]["versionId"] = "null"

    assert handler(event, LAMBDA_CONTEXT)["results"][0]["outcome"] == "queued"
    assert object_version("null") is object_version("") is object_version(None) is None
