"""Deploys on registry approval: SageMaker's "Model Package State Change" events, through the normal update path.

A realtime or batch pipeline with `deploy_on_approval` follows the group of its `model_package_name`.
When a newer version of that group is Approved, its request is sent again naming that version: a new
spec version, a delivery run, the manual approvals between environments, like any update. Only newer
versions act: SageMaker may deliver an event more than once (the second finds the version deployed, or
the same request a replay), and an older version approved later never replaces a newer one. When the
deployed version is Rejected, the pipeline's owners are told, and with `rollback_on_reject` the newest
Approved version before it is deployed.

The event is a hint, not the truth: events may come late, out of order or more than once, so the
package's status is read again from the registry (DescribeModelPackage) before anything acts, and the
IAM principal that last changed it (its approver) becomes the new version's requester, who may then
not approve its promotion to prod. A package whose approver the registry does not name has an unknown
requester, whose promotion to prod only an answer in CodePipeline (under IAM) can approve.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from aws_lambda_powertools import Logger

from lambda_src.common import aws, submission
from lambda_src.common.settings import Settings
from lambda_src.registry import PipelineRecord, Registry, Status
from mlops_spec.approvers import Principal
from mlops_spec.model_packages import PackageVersion, package_version

if TYPE_CHECKING:  # pydantic stays out of the trigger's import (its cold start)
    from mlops_spec.base import PipelineSpec

logger = Logger(child=True)

SOURCE = "aws.sagemaker"
DETAIL_TYPE = "SageMaker Model Package State Change"
APPROVED, REJECTED = "Approved", "Rejected"
# Pipelines whose resources are gone or going: a new version is not theirs to deploy.
GONE = frozenset({Status.DELETED, Status.DELETING, Status.REJECTED})


@dataclass(frozen=True)
class ApprovalEvent:
    package: PackageVersion
    status: str
    approver: Principal = field(default_factory=Principal)

    @classmethod
    def parse(cls, event: dict[str, Any]) -> ApprovalEvent | None:
        """The package version and its approval status; None for any other event, or one about a
        package of another account than the event's own."""
        if event.get("source") != SOURCE or event.get("detail-type") != DETAIL_TYPE:
            return None
        detail = event.get("detail") or {}
        package = package_version(detail.get("ModelPackageArn"))
        status = detail.get("ModelApprovalStatus")
        if package is None or not isinstance(status, str) or event.get("account") != package.account:
            return None
        return cls(package, status)

    def as_the_registry_says(self, sagemaker: Any) -> ApprovalEvent:
        """The package's status now and who last changed it, read from the registry."""
        described = sagemaker.describe_model_package(ModelPackageName=self.package.arn)
        identity = (described.get("LastModifiedBy") or {}).get("IamIdentity") or {}
        approver = Principal(arn=identity.get("Arn") or None, principal_id=identity.get("PrincipalId") or None)
        return ApprovalEvent(self.package, str(described.get("ModelApprovalStatus", "")), approver)


@dataclass(frozen=True)
class Decision:
    action: Literal["deploy", "rejected", "none"]
    why: str


def decide(spec: PipelineSpec | None, status: Status, event: ApprovalEvent) -> Decision:
    """What a pipeline does about one event (pure): deploy a newer Approved version of the group it
    follows, hear of its deployed version's rejection, or nothing."""
    following = package_version(getattr(spec, "model_package_name", None)) if spec is not None else None
    if spec is None or not getattr(spec, "deploy_on_approval", False) or following is None:
        return Decision("none", "does not follow the model registry")
    if not event.package.same_group(following):
        return Decision("none", f"follows {following.group}")
    if status in GONE:
        return Decision("none", f"is {status}")
    if event.status == APPROVED:
        if event.package.supersedes(following):
            return Decision("deploy", f"version {event.package.version} supersedes {following.version}")
        return Decision("none", f"version {event.package.version} does not supersede {following.version}")
    if event.status == REJECTED and event.package.version == following.version:
        return Decision("rejected", f"its deployed version {following.version} was rejected")
    return Decision("none", f"{event.status} version {event.package.version} is not its deployed version")


def handle(event: dict[str, Any], config: Settings, announce: Callable[[str, str], None]) -> dict[str, Any]:
    """Act on one model package event for every pipeline following its group."""
    parsed = ApprovalEvent.parse(event)
    if parsed is None:
        return {"outcome": "ignored"}
    approval = parsed.as_the_registry_says(aws.client("sagemaker"))
    results, failed = [], []
    for record in Registry(config.registry_table).each():
        spec = submission.stored_spec(record, config)
        decision = decide(spec, record.status, approval)
        if decision.action == "none" or spec is None:
            continue
        try:
            results.append(_act(record, spec, approval, decision, config, announce))
        except Exception:
            # One pipeline that cannot take it now (an operation under way) must not cost the others.
            logger.exception("model package event not applied", pipeline_id=record.pipeline_id)
            failed.append(record.pipeline_id)
    logger.info("model package event", package=approval.package.arn, status=approval.status, results=results)
    if failed:
        # Lambda retries the event: the pipelines done by now find it a replay, these try again.
        raise RuntimeError(f"model package {approval.package.arn} not applied to {', '.join(failed)}")
    return {"outcome": "model package event", "package": approval.package.arn, "results": results}


def _act(
    record: PipelineRecord,
    spec: PipelineSpec,
    approval: ApprovalEvent,
    decision: Decision,
    config: Settings,
    announce: Callable[[str, str], None],
) -> dict[str, Any]:
    if decision.action == "deploy":
        return _deploy(record, approval.package.arn, config, decision.why, approval.approver)
    rollback = _previous_approved(approval.package) if getattr(spec, "rollback_on_reject", False) else None
    lines = [
        f"Version {approval.package.version} of model package group {approval.package.group}, deployed by "
        f"MLOps pipeline {record.pipeline_id}, was rejected in the model registry."
    ]
    lines.append(f"Rolling back to version {rollback.version}." if rollback else "It stays deployed until you act.")
    announce(f"MLOps pipeline {record.pipeline_id}: deployed model version rejected", "\n".join(lines))
    if rollback is None:
        return {"pipeline_id": record.pipeline_id, "outcome": "rejection announced"}
    why = f"rollback from rejected version {approval.package.version}"
    return _deploy(record, rollback.arn, config, why, approval.approver)


def _deploy(
    record: PipelineRecord, package_arn: str, config: Settings, why: str, approver: Principal
) -> dict[str, Any]:
    """The pipeline's own request, naming `package_arn`, sent through the normal update path (without
    its client token: that token belongs to the request its sender sent)."""
    body = {**(record.spec_document() or {}), "model_package_name": package_arn}
    body.pop("client_token", None)
    request = submission.plan(body, config)
    outcome = submission.submit(request, config, source=f"model registry: {package_arn}", requested_by=approver)
    verb = "queued" if outcome.queued else "unchanged"
    return {"pipeline_id": record.pipeline_id, "outcome": verb, "version": outcome.record.version, "why": why}


def _previous_approved(rejected: PackageVersion) -> PackageVersion | None:
    """The newest Approved version of the group before the rejected one (SageMaker's registry)."""
    pages = (
        aws.client("sagemaker")
        .get_paginator("list_model_packages")
        .paginate(
            ModelPackageGroupName=rejected.group,
            ModelApprovalStatus=APPROVED,
            SortBy="CreationTime",
            SortOrder="Descending",
        )
    )
    versions = [
        package_version(item.get("ModelPackageArn"))
        for page in pages
        for item in page.get("ModelPackageSummaryList", [])
    ]
    older = [v for v in versions if v is not None and rejected.supersedes(v)]
    return max(older, key=lambda v: v.version, default=None)
