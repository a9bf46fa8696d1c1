"""A Pulumi mock engine that records every resource: the heart of offline plans and component tests."""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockMonitor

from mlops_spec.naming import short_hash
from mlops_spec.partitions import dns_suffix, partition_of

# Services whose ARNs carry no region.
_GLOBAL_SERVICES = {"iam", "s3", "cloudfront", "route53"}


@dataclass
class PlannedResource:
    type: str
    name: str
    parent: str | None
    inputs: dict[str, Any]
    custom: bool
    urn: str = ""
    parent_urn: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The resource as plain JSON values: assets as their files and content hash, so two plans diff."""
        return {"type": self.type, "name": self.name, "parent": self.parent, "inputs": plain_value(self.inputs)}


# How the engine's wire format marks a secret value: {_SIG_KEY: _SECRET_SIG, "value": ...}.
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
SECRET = "[secret]"


def plain_value(value: Any) -> Any:
    """`value` with assets and archives replaced by what identifies them (file list and sha256)."""
    if isinstance(value, dict) and value.get(_SIG_KEY) == _SECRET_SIG:
        return _shown_secret(value.get("value"))
    if isinstance(value, dict):
        return {key: plain_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain_value(item) for item in value]
    if isinstance(value, pulumi.AssetArchive):
        files = _archive_files(value)
        return {"archive": sorted(files), "sha256": _digest(files)}
    if isinstance(value, pulumi.FileAsset | pulumi.StringAsset):
        return {"asset": _asset_name(value), "sha256": hashlib.sha256(_asset_bytes(value)).hexdigest()}
    return value


def _shown_secret(value: Any) -> Any:
    """A value the engine marks secret. One built from the `[secret]` placeholder of a `secure:`
    config value is shown, so the plan says what depends on the secret (a trust policy's
    sts:ExternalId); any other is shown as the placeholder: a plan is printed and shared."""
    if SECRET in json.dumps(value, default=str):
        return plain_value(value)
    return SECRET


def _archive_files(archive: pulumi.AssetArchive) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for name, member in archive.assets.items():
        if isinstance(member, pulumi.AssetArchive):
            files.update({f"{name}/{inner}": data for inner, data in _archive_files(member).items()})
        else:
            files[name] = _asset_bytes(member)
    return files


def _asset_bytes(asset: Any) -> bytes:
    if isinstance(asset, pulumi.StringAsset):
        return asset.text.encode()
    if isinstance(asset, pulumi.FileAsset):
        with open(asset.path, "rb") as file:
            return file.read()
    return repr(asset).encode()  # a remote asset: its address is all a plan knows


def _asset_name(asset: Any) -> str:
    return asset.path.rsplit("/", 1)[-1] if isinstance(asset, pulumi.FileAsset) else "(text)"


def _digest(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


@dataclass
class PlanRecorder(pulumi.runtime.Mocks):
    """Answers resource registrations and data-source calls with realistic values, and records them.

    Duplicate (type, name, parent) triples are recorded in `duplicates`: the real engine would reject
    them with a duplicate URN, the mock engine does not.
    """

    account_id: str = "111111111111"
    region: str = "us-east-1"
    resources: list[PlannedResource] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    _urns: dict[str, PlannedResource] = field(default_factory=dict)

    _registration: threading.local = field(default_factory=threading.local)

    def install(self, project: str, stack: str) -> None:
        """Make this recorder the engine of the current Pulumi runtime."""
        pulumi.runtime.set_mocks(self, project=project, stack=stack, preview=False, monitor=_RecordingMonitor(self))

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        urn, parent_urn = getattr(self._registration, "current", (None, None))
        parent = self._urns[parent_urn].name if parent_urn in self._urns else None
        resource = PlannedResource(
            args.typ, args.name, parent, dict(args.inputs), bool(args.custom), urn or "", parent_urn or ""
        )
        if urn in self._urns:
            self.duplicates.append(f"{args.typ} {args.name}")
        self.resources.append(resource)
        if urn:
            self._urns[urn] = resource
        return f"{args.name}-id", self._state(args.typ, args.name, dict(args.inputs))

    def _state(self, typ: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        service = typ.split(":")[1].split("/")[0] if typ.count(":") >= 2 else ""
        physical = inputs.get("name") or inputs.get("bucket") or f"{name}-0000000"
        region = "" if service in _GLOBAL_SERVICES else self.region
        partition, suffix = partition_of(self.region), dns_suffix(self.region)
        account = "" if service == "s3" else self.account_id
        state: dict[str, Any] = {
            "arn": f"arn:{partition}:{service}:{region}:{account}:{_arn_resource(typ)}/{physical}",
            "name": physical,
            **inputs,
        }
        if typ in ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"):
            state["bucket"] = physical
            state["arn"] = f"arn:{partition}:s3:::{physical}"
        if typ == "aws:ecr/repository:Repository":
            state["repositoryUrl"] = f"{self.account_id}.dkr.ecr.{self.region}.{suffix}/{physical}"
        if typ == "aws:kms/key:Key":
            state["keyId"] = f"{name}-key-id"
            key_id = f"00000000-0000-0000-0000-{short_hash(name, 12)}"
            state["arn"] = f"arn:{partition}:kms:{self.region}:{self.account_id}:key/{key_id}"
        if typ == "aws:apigateway/restApi:RestApi":
            state["rootResourceId"] = "root"
            state["executionArn"] = f"arn:{partition}:execute-api:{self.region}:{self.account_id}:{name}"
        if typ == "aws:apigateway/stage:Stage":
            state["invokeUrl"] = f"https://{name}.execute-api.{self.region}.{suffix}/{inputs.get('stageName', '')}"
        if typ == "aws:lambda/function:Function":
            state["arn"] = f"arn:{partition}:lambda:{self.region}:{self.account_id}:function:{physical}"
            state["invokeArn"] = (
                f"arn:{partition}:apigateway:{self.region}:lambda:path/2015-03-31/functions/{state['arn']}/invocations"
            )
        if typ == "aws:cloudwatch/logGroup:LogGroup":
            state["arn"] = f"arn:{partition}:logs:{self.region}:{self.account_id}:log-group:{physical}"
        if typ == "aws:sqs/queue:Queue":
            state["arn"] = f"arn:{partition}:sqs:{self.region}:{self.account_id}:{physical}"
            state["url"] = f"https://sqs.{self.region}.{suffix}/{self.account_id}/{physical}"
        if typ == "aws:sns/topic:Topic":
            state["arn"] = f"arn:{partition}:sns:{self.region}:{self.account_id}:{physical}"
        if typ == "aws:dynamodb/table:Table":
            state["streamArn"] = f"arn:{partition}:dynamodb:{self.region}:{self.account_id}:table/{physical}/stream/0"
        return state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        token = args.token
        partition, suffix = partition_of(self.region), dns_suffix(self.region)
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": self.account_id,
                "arn": f"arn:{partition}:iam::{self.account_id}:user/plan",
                "userId": "AIDPLAN",
                "id": self.account_id,
            }, []
        if token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}, []
        if token == "aws:index/getPartition:getPartition":
            return {"partition": partition, "dnsSuffix": suffix, "id": partition}, []
        if token == "aws:sagemaker/getPrebuiltEcrImage:getPrebuiltEcrImage":
            repo = args.args.get("repositoryName", "image")
            tag = args.args.get("imageTag") or "latest"
            registry = f"683313688378.dkr.ecr.{self.region}.{suffix}"
            return {"registryPath": f"{registry}/{repo}:{tag}", "registryId": "683313688378", "id": repo}, []
        if token in _EXISTING_BUCKET_ANSWERS:
            return _EXISTING_BUCKET_ANSWERS[token](str(args.args.get("bucket", "")), self.region), []
        return dict(args.args), []

    # -- summaries ------------------------------------------------------------------------
    def in_order(self) -> list[PlannedResource]:
        """The resources in a stable order, whatever order the engine registered them in: each after
        its parent, siblings by name and type."""
        by_urn = {resource.urn: resource for resource in self.resources if resource.urn}

        def path(resource: PlannedResource) -> tuple[tuple[str, str], ...]:
            parent = by_urn.get(resource.parent_urn)
            return (*(path(parent) if parent else ()), (resource.name, resource.type))

        return sorted(self.resources, key=path)

    def counts_by_type(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for resource in self.resources:
            counts[resource.type] = counts.get(resource.type, 0) + 1
        return dict(sorted(counts.items()))

    def of_type(self, typ: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == typ]

    def named(self, typ: str, name: str) -> PlannedResource:
        matches = [r for r in self.resources if r.type == typ and r.name == name]
        if len(matches) != 1:
            raise LookupError(f"expected one {typ} named {name}, found {len(matches)}")
        return matches[0]


def _bucket_notification(bucket: str, region: str) -> dict[str, Any]:
    """A bucket that sends its events to EventBridge and keeps a notification of its owner's."""
    owners_queue = {
        "id": "owners-own-trigger",
        "queueArn": f"arn:{partition_of(region)}:sqs:{region}:999999999999:owners-own-queue",
        "events": ["s3:ObjectRemoved:*"],
        "filterPrefix": "",
        "filterSuffix": "",
    }
    return {
        "bucket": bucket,
        "eventbridge": True,
        "lambdaFunctions": [],
        "queues": [owners_queue],
        "topics": [],
        "region": region,
        "id": bucket,
    }


def _bucket_policy(bucket: str, region: str) -> dict[str, Any]:
    """A bucket whose policy lets the accounts of its organization read it (a common cross-account grant)."""
    arn = f"arn:{partition_of(region)}:s3:::{bucket}"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OrganizationReads",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": [arn, f"{arn}/*"],
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-plan0000000"}},
            }
        ],
    }
    return {"bucket": bucket, "policy": json.dumps(policy), "region": region, "id": bucket}


# Data sources reading a user's existing bucket: answered as a bucket set up as the README asks.
_EXISTING_BUCKET_ANSWERS = {
    "aws:s3/getBucketNotification:getBucketNotification": _bucket_notification,
    "aws:s3/getBucketPolicy:getBucketPolicy": _bucket_policy,
}


def _arn_resource(typ: str) -> str:
    """`aws:sagemaker/endpoint:Endpoint` -> `endpoint`: the resource part of a mock ARN."""
    parts = typ.split(":")
    return parts[-1].lower() if len(parts) == 3 else "resource"


def policy_of(resource: PlannedResource, key: str = "policy") -> dict[str, Any]:
    """A policy input as a dict (components pass policies as JSON text)."""
    value = resource.inputs[key]
    return json.loads(value) if isinstance(value, str) else value


class _RecordingMonitor(MockMonitor):
    """Passes each registration's URN and parent URN to the recorder (MockResourceArgs lacks them)."""

    def __init__(self, recorder: PlanRecorder):
        super().__init__(recorder)
        self._recorder = recorder

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        self._recorder._registration.current = (urn, request.parent)
        try:
            return super().RegisterResource(request)
        finally:
            self._recorder._registration.current = (None, None)
