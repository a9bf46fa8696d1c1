"""Least-privilege execution roles for pipeline resources, and the statements they are built from."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from components import policies
from components.base import MlopsComponent
from components.pipelines.base import PipelineContext
from mlops_spec import naming

Statement = policies.Statement

# IAM's limit on role names. Pulumi's autonaming (logical name + "-" + 7 random characters) overruns it
# for long pipeline ids, so every pipeline role gets an explicit, deterministic name.
IAM_ROLE_NAME_LIMIT = 64


def s3_read(bucket: str, prefixes: Sequence[str] = ("*",), partition: str = "aws") -> list[Statement]:
    """Read objects under the given prefixes of one bucket (and list only those prefixes)."""
    arn = f"arn:{partition}:s3:::{bucket}"
    objects = [f"{arn}/{p.strip('/')}{'' if p == '*' else '*'}" for p in prefixes]
    list_condition = None if "*" in prefixes else {"StringLike": {"s3:prefix": [f"{p.strip('/')}*" for p in prefixes]}}
    return [
        policies.statement(["s3:GetObject"], objects),
        policies.statement(["s3:ListBucket"], [arn], condition=list_condition),
    ]


def s3_write(bucket: str, prefixes: Sequence[str], partition: str = "aws") -> list[Statement]:
    """Write (and read back) objects under the given prefixes of one bucket."""
    arn = f"arn:{partition}:s3:::{bucket}"
    objects = [f"{arn}/{p.strip('/')}*" for p in prefixes]
    return [
        policies.statement(["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"], objects),
        policies.statement(["s3:ListBucket"], [arn]),
    ]


def kms_use(key_arns: Sequence[str]) -> Statement:
    return policies.statement(
        ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:DescribeKey", "kms:CreateGrant"], list(key_arns)
    )


def ecr_pull(repository_arns: Sequence[str]) -> list[Statement]:
    return [
        policies.statement(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], list(repository_arns)),
        # GetAuthorizationToken has no resource-level permissions: AWS requires "*".
        policies.statement(["ecr:GetAuthorizationToken"], "*"),
    ]


def sagemaker_logs(context: PipelineContext) -> Statement:
    """Write CloudWatch logs of SageMaker jobs and endpoints in this account only."""
    return policies.statement(
        ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        [context.arn("logs", "log-group:/aws/sagemaker/*")],
    )


def sagemaker_metrics(namespace: str = "/aws/sagemaker/*") -> Statement:
    # PutMetricData supports no resource-level permissions ("*" is required); the condition keeps
    # the role to SageMaker's own metric namespaces.
    return policies.statement(
        ["cloudwatch:PutMetricData"], "*", condition={"StringLike": {"cloudwatch:namespace": namespace}}
    )


def assets_key_decrypt(assets_key: str | None) -> list[Statement]:
    """Data in the orchestrator's assets bucket is encrypted with its key (none when unknown)."""
    return [policies.statement(["kms:Decrypt"], [assets_key])] if assets_key else []


def sns_publish(topic_arns: Sequence[str]) -> Statement:
    """Publish to these SNS topics only (async inference notifications)."""
    return policies.statement(["sns:Publish"], list(topic_arns))


def vpc_access() -> Statement:
    # The EC2 network-interface calls SageMaker makes for VPC-attached models do not support
    # resource-level permissions, so AWS requires "*" here.
    return policies.statement(
        policies.VPC_NETWORK_INTERFACES,
        "*",
    )


class ExecutionRole(MlopsComponent):
    """An IAM role assumed by one AWS service, with one inline policy built from `statements`.

    `role_name` is the role's physical name (bounded to IAM's 64 characters here); it must be unique in
    the account, e.g. `PipelineComponent.physical_name("<purpose>-role", IAM_ROLE_NAME_LIMIT)`.

    `statements` is an Output (or list) of statement dicts so that ARNs of sibling resources can be
    scoped in without creating resources inside `apply`.

    `permissions_boundary` is the environment's pipeline boundary (`PipelineContext.permissions_boundary`):
    whatever `statements` say, the role can do no more than it, and deploy roles may create no role without it.
    """

    def __init__(
        self,
        name: str,
        role_name: str,
        service: str,
        account_id: str,
        statements: pulumi.Input[list[Statement]],
        tags: dict[str, str],
        opts: pulumi.ResourceOptions | None = None,
        *,
        permissions_boundary: pulumi.Input[str],
    ):
        super().__init__("mlops:iam:ExecutionRole", name, opts)
        self.role_name = naming.bounded(role_name, IAM_ROLE_NAME_LIMIT)
        self.role = aws.iam.Role(
            name,
            name=self.role_name,
            # Every pipeline role lives under one path so environment deploy roles can be scoped to it.
            path=naming.PIPELINE_ROLE_PATH,
            assume_role_policy=policies.service_trust(service, source_account=account_id),
            permissions_boundary=permissions_boundary,
            tags=tags,
            opts=self.child,
        )
        aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.id,
            policy=pulumi.Output.from_input(statements).apply(
                lambda stmts: json.dumps({"Version": "2012-10-17", "Statement": stmts}, sort_keys=True)
            ),
            opts=self.child,
        )
        self.arn = self.role.arn
        self.name = self.role.name
        self.register_outputs({"arn": self.arn})
