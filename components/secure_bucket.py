"""An S3 bucket with the project's non-negotiables: KMS, no public access, TLS only, versioning, logs."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components import policies
from components.base import MlopsComponent


@dataclass
class SecureBucketArgs:
    kms_key_arn: pulumi.Input[str]
    access_log_bucket: pulumi.Input[str] | None = None
    """Target bucket for server access logs; None only for the log bucket itself."""
    bucket_name: str | None = None
    """Physical name; Pulumi generates a unique one when absent."""
    extra_policy_statements: pulumi.Input[list[dict]] | None = None
    force_destroy: bool = False
    tags: dict[str, str] = field(default_factory=dict)


class SecureBucket(MlopsComponent):
    """One bucket plus the settings that make it safe by default."""

    def __init__(self, name: str, args: SecureBucketArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:storage:SecureBucket", name, opts)
        self.bucket = aws.s3.Bucket(
            name, bucket=args.bucket_name, force_destroy=args.force_destroy, tags=args.tags, opts=self.child
        )
        self._encryption(name, args.kms_key_arn)
        public_access = self._private(name)
        aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=self.bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=self.child,
        )
        if args.access_log_bucket is not None:
            aws.s3.BucketLogging(
                f"{name}-logging",
                bucket=self.bucket.id,
                target_bucket=args.access_log_bucket,
                target_prefix=f"{name}/",
                opts=self.child,
            )
        policy = pulumi.Output.all(arn=self.bucket.arn, extra=args.extra_policy_statements or []).apply(
            lambda values: policies.tls_only_bucket_policy(values["arn"], list(values["extra"]))
        )
        # The policy waits for the public access block so S3 never sees a policy on an unprotected bucket.
        aws.s3.BucketPolicy(
            f"{name}-policy", bucket=self.bucket.id, policy=policy, opts=self.child_opts(depends_on=[public_access])
        )
        self.name = self.bucket.bucket
        self.arn = self.bucket.arn
        self.register_outputs({"name": self.name, "arn": self.arn})

    def _encryption(self, name: str, kms_key_arn: pulumi.Input[str]) -> None:
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="aws:kms", kms_master_key_id=kms_key_arn
                    ),
                    # S3 Bucket Keys cut KMS request costs for busy buckets (data capture).
                    bucket_key_enabled=True,
                )
            ],
            opts=self.child,
        )

    def _private(self, name: str) -> aws.s3.BucketPublicAccessBlock:
        """No public access, and objects owned by the bucket's account whoever writes them."""
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=self.child,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=self.bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=self.child,
        )
        return public_access


def access_log_bucket(
    name: str,
    kms_key_arn: pulumi.Input[str],
    bucket_name: str,
    account_id: str,
    tags: dict[str, str],
    opts: pulumi.ResourceOptions | None = None,
    partition: str = "aws",
) -> SecureBucket:
    """The bucket receiving the other buckets' server access logs (it does not log itself)."""
    return SecureBucket(
        name,
        SecureBucketArgs(
            kms_key_arn=kms_key_arn,
            bucket_name=bucket_name,
            extra_policy_statements=[policies.s3_log_delivery(bucket_name, account_id, partition)],
            tags=tags,
        ),
        opts=opts,
    )
