"""IAM policy documents as plain functions: every decision about who may do what lives here."""

from __future__ import annotations

import json
from typing import Any

Statement = dict[str, Any]

# What a deployment does to the log groups it owns: create, retain, tag and encrypt them.
LOG_GROUP_LIFECYCLE = [
    "logs:CreateLogGroup",
    "logs:DeleteLogGroup",
    "logs:PutRetentionPolicy",
    "logs:TagResource",
    "logs:UntagResource",
    "logs:ListTagsForResource",
    "logs:AssociateKmsKey",
    "logs:DisassociateKmsKey",
]
# Using a customer-managed key for data: what a role needs to read and write objects it encrypts.
KEY_USE = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:DescribeKey"]
# Step Functions writes execution logs through CloudWatch Logs' log deliveries, which support no
# resource-level permissions: AWS requires "*" for these.
LOG_DELIVERY = [
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
]
# The EC2 network-interface calls SageMaker makes for VPC-attached models and jobs: no resource-level
# permissions, AWS requires "*".
VPC_NETWORK_INTERFACES = [
    "ec2:CreateNetworkInterface",
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeVpcs",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
]
# Writing to an existing log group (its streams); creating the group is the deployment's job.
LOG_WRITE = ["logs:CreateLogStream", "logs:PutLogEvents"]
# The quota preflight (lambda_src/provisioner/preflight.py) reads SageMaker's quotas; Service Quotas'
# list actions have no resource-level permissions: AWS requires "*".
QUOTA_READ = ["servicequotas:ListAWSDefaultServiceQuotas", "servicequotas:ListServiceQuotas"]
# What a deployment does to the roles it owns (PassRole is granted apart: who may pass them differs).
ROLE_LIFECYCLE = [
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:GetRole",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:PutRolePolicy",
    "iam:GetRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:ListRolePolicies",
    "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole",
]


def statement(
    actions: list[str],
    resources: list[str] | str,
    effect: str = "Allow",
    sid: str | None = None,
    condition: dict[str, Any] | None = None,
) -> Statement:
    stmt: Statement = {"Effect": effect, "Action": sorted(actions), "Resource": resources}
    if sid:
        stmt["Sid"] = sid
    if condition:
        stmt["Condition"] = condition
    return stmt


def all_of(*conditions: dict[str, Any]) -> dict[str, Any]:
    """One Condition block requiring every given condition (blocks that share an operator are merged)."""
    merged: dict[str, Any] = {}
    for condition in conditions:
        for operator, keys in condition.items():
            overlap = set(merged.get(operator, {})) & set(keys)
            if overlap:
                raise ValueError(f"{operator} sets {sorted(overlap)} twice")
            merged[operator] = {**merged.get(operator, {}), **keys}
    return merged


def document(*statements: Statement) -> str:
    """A policy document as JSON text, the form IAM resources take."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def service_trust(service: str, source_account: str | None = None) -> str:
    """Trust policy for a role assumed by one AWS service (one service per statement: moto and
    CodePipeline reject lists). `source_account` guards against the confused-deputy problem."""
    stmt: Statement = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if source_account:
        stmt["Condition"] = {"StringEquals": {"aws:SourceAccount": source_account}}
    return json.dumps({"Version": "2012-10-17", "Statement": [stmt]}, sort_keys=True)


def cross_account_trust(orchestrator_account: str, role_name_prefix: str, partition: str = "aws") -> str:
    """Trust for a deploy role: only roles of the orchestrator account whose names start with
    `role_name_prefix` (the provisioner and its CodeBuild projects) may assume it."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{partition}:iam::{orchestrator_account}:root"},
                    "Action": "sts:AssumeRole",
                    "Condition": {
                        "ArnLike": {
                            "aws:PrincipalArn": f"arn:{partition}:iam::{orchestrator_account}:role/{role_name_prefix}*"
                        }
                    },
                }
            ],
        },
        sort_keys=True,
    )


def tls_only_bucket_policy(bucket_arn: str, extra: list[Statement] | None = None) -> str:
    """Deny every request to the bucket that does not use TLS."""
    deny_plain_http: Statement = {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    return document(deny_plain_http, *(extra or []))


def kms_key_policy(account_id: str, service_principals: list[str], partition: str = "aws") -> str:
    """Key policy: the account administers the key through IAM; listed services may use it on this
    account's behalf only."""
    root = f"arn:{partition}:iam::{account_id}:root"
    statements: list[Statement] = [
        {
            "Sid": "AccountAdministersKeyThroughIam",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": "kms:*",
            # A key policy's Resource "*" means "this key"; it grants nothing beyond it.
            "Resource": "*",
        }
    ]
    logs = [p for p in service_principals if p.startswith("logs.")]
    others = sorted(p for p in service_principals if not p.startswith("logs."))
    if others:
        statements.append(
            {
                "Sid": "ServicesUseKey",
                "Effect": "Allow",
                "Principal": {"Service": others},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        )
    for principal in logs:
        region = principal.split(".")[1]
        statements.append(
            {
                # CloudWatch Logs encrypts log groups itself and names them in the encryption context.
                "Sid": "CloudWatchLogsUseKey",
                "Effect": "Allow",
                "Principal": {"Service": principal},
                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                "Resource": "*",
                "Condition": {
                    "ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{region}:{account_id}:*"}
                },
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def s3_log_delivery(bucket: str, account_id: str, partition: str = "aws") -> Statement:
    """S3 server access logs are written by the logging service, only for this account's buckets."""
    return {
        "Sid": "S3ServerAccessLogDelivery",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": f"arn:{partition}:s3:::{bucket}/*",
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
    }
