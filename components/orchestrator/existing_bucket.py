"""A user's existing assets bucket (`mlops:existingAssetsBucket`): what it must have, and checking it.

Changes when the orchestrator needs something new of an assets bucket it does not own. The project
never writes the bucket's configuration (notifications, policy, versioning, encryption): it states
what the bucket needs (`requirements`, `required_policy`, exported by the stack so `mlops plan`
shows them) and, where a data source can read the setting, checks it before anything is deployed
(`verify`, one line naming what is missing). Versioning and encryption have no data source in
pulumi-aws, so they are only listed.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components import policies
from components.orchestrator.access import assets_cross_account_statements
from components.orchestrator.args import OrchestratorArgs, function_arn
from components.orchestrator.events import notification_name
from mlops_spec.naming import ORCHESTRATOR_ROLE_PREFIX

# What a target account's pipeline roles do in the assets bucket: (action, resource kind).
_TARGET_READS = (("s3:GetObject", "object"), ("s3:ListBucket", "bucket"))


@dataclass(frozen=True)
class BucketSettings:
    """What the data sources read of the bucket: whether it sends events to EventBridge, the Lambda
    functions its notification configuration names, and its policy (None when it has none)."""

    eventbridge: bool
    lambda_function_arns: tuple[str, ...] = ()
    policy: str | None = None


# -- what the bucket needs ------------------------------------------------------------------------
def required_policy(args: OrchestratorArgs) -> str | None:
    """The statements the bucket's policy must hold (multi-account mode), as a policy document to
    merge into it; None when no other account reads the bucket."""
    statements = assets_cross_account_statements(args)
    return policies.document(*statements) if statements else None


def requirements(args: OrchestratorArgs) -> list[str]:
    """The checklist of what the user configures on the existing bucket (exported, shown by `mlops plan`)."""
    bucket = args.existing_assets_bucket
    roles = f"arn:{args.partition}:iam::{args.account_id}:role/{ORCHESTRATOR_ROLE_PREFIX}*"
    items = [
        f"versioning enabled on {bucket} (delivery pipelines read their source zip by version): "
        f"aws s3api put-bucket-versioning --bucket {bucket} --versioning-configuration Status=Enabled",
        f"Amazon EventBridge notifications enabled on {bucket} (config uploads reach the trigger through "
        "an EventBridge rule; the project writes no notification configuration): in the console, "
        "Properties > Amazon EventBridge > On, which keeps the bucket's other notifications",
        f"default encryption SSE-S3, or a KMS key whose key policy lets the roles {roles} use it"
        + (" and the target accounts decrypt through S3" if args.other_accounts else ""),
    ]
    if args.other_accounts:
        items.append(
            f"bucket policy of {bucket} holds the statement of the stack output assetsBucketPolicy "
            "(target accounts' pipeline roles read models and data)"
        )
    return items


# -- checking it -----------------------------------------------------------------------------------
def missing(args: OrchestratorArgs, settings: BucketSettings, legacy_notification: str) -> list[str]:
    """What the bucket lacks (or still carries from an earlier version of this project), one phrase each.

    `legacy_notification` is the URN (or name) of the BucketNotification earlier versions declared on
    the bucket: removed from the program it would be deleted, which clears the bucket's whole
    notification configuration, so the user drops it from the state first.
    """
    problems = []
    if not settings.eventbridge:
        problems.append("EventBridge notifications are off (Properties > Amazon EventBridge > On)")
    trigger = function_arn(args, "trigger")
    if any(arn == trigger or arn.startswith(f"{trigger}:") for arn in settings.lambda_function_arns):
        problems.append(
            f"its notification configuration still invokes {trigger}, as an earlier version of this project "
            f"wrote it: run `pulumi state delete '{legacy_notification}'` (deleting it would clear every "
            "notification of the bucket), then remove that entry from the bucket's notifications"
        )
    for account in args.other_accounts:
        for action, kind in _TARGET_READS:
            if not grants(settings.policy, account, action, _resource(args, kind)):
                problems.append(f"its policy does not allow account {account} {action} (see assetsBucketPolicy)")
    return problems


def grants(policy: str | None, account: str, action: str, resource: str) -> bool:
    """Whether an Allow statement of `policy` gives `account`'s principals `action` on `resource`.

    Conditions are not evaluated (they may name an organization or role paths the plan cannot
    resolve): a statement counts if its principal, action and resource cover the request.
    """
    if not policy:
        return False
    try:
        statements = json.loads(policy).get("Statement", [])
    except (ValueError, AttributeError):
        return False
    for stmt in statements if isinstance(statements, list) else [statements]:
        if (
            isinstance(stmt, dict)
            and stmt.get("Effect") == "Allow"
            and _principal_covers(stmt.get("Principal"), account)
            and _matches_any(stmt.get("Action"), action, case_sensitive=False)
            and _matches_any(stmt.get("Resource"), resource, case_sensitive=True)
        ):
            return True
    return False


def verify(args: OrchestratorArgs, component_name: str) -> None:
    """Read the bucket's notification configuration (and policy, when other accounts read it) and stop
    the program with one line naming what is missing. Runs in `pulumi preview` and `up`."""
    bucket = args.existing_assets_bucket
    if not bucket:
        return
    legacy = (
        f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::mlops:orchestrator:Orchestrator"
        f"$aws:s3/bucketNotification:BucketNotification::{notification_name(component_name)}"
    )
    problems = missing(args, read_settings(bucket, needs_policy=bool(args.other_accounts)), legacy)
    if problems:
        raise pulumi.RunError(f"mlops:existingAssetsBucket {bucket}: " + "; ".join(problems))


def read_settings(bucket: str, needs_policy: bool) -> BucketSettings:
    notification = aws.s3.get_bucket_notification(bucket=bucket)
    policy = None
    if needs_policy:
        try:
            policy = aws.s3.get_bucket_policy(bucket=bucket).policy
        except Exception:  # the data source fails when the bucket has no policy
            policy = None
    return BucketSettings(
        eventbridge=bool(notification.eventbridge),
        lambda_function_arns=tuple(entry.lambda_function_arn for entry in notification.lambda_functions or []),
        policy=policy,
    )


def _resource(args: OrchestratorArgs, kind: str) -> str:
    bucket = f"arn:{args.partition}:s3:::{args.existing_assets_bucket}"
    return bucket if kind == "bucket" else f"{bucket}/pipelines/example/source.zip"


def _listed(value: Any) -> Sequence[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _principal_covers(principal: Any, account: str) -> bool:
    if principal == "*":
        return True
    entries: Iterable[Any] = _listed(principal.get("AWS")) if isinstance(principal, dict) else []
    return any(entry in ("*", account) or f":iam::{account}:" in str(entry) for entry in entries)


def _matches_any(patterns: Any, value: str, case_sensitive: bool) -> bool:
    match = fnmatch.fnmatchcase if case_sensitive else (lambda v, p: fnmatch.fnmatchcase(v.lower(), p.lower()))
    return any(isinstance(p, str) and match(value, p) for p in _listed(patterns))
