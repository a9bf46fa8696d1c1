"""Where the orchestrator keeps things: its keys, buckets, registry table, topic, repositories and secrets.

Changes when what the orchestrator stores, or how it is encrypted and shared, changes.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components import policies
from components.base import MlopsComponent
from components.orchestrator.access import (
    assets_cross_account_statements,
    data_key_policy,
    ecr_pull_policy,
    model_group_policy,
    topic_policy,
)
from components.orchestrator.args import EXTERNAL_ID_PARAMETER, OrchestratorArgs
from components.orchestrator.delivery_access import secrets_key_policy
from components.secure_bucket import SecureBucket, SecureBucketArgs, access_log_bucket
from mlops_spec.partitions import ecr_registry


class Storage:
    """The orchestrator's stored state, created as children of `owner` (resources named `<name>-...`)."""

    def __init__(self, owner: MlopsComponent, name: str, args: OrchestratorArgs):
        self._owner, self._name, self._args = owner, name, args
        names = args.names
        self.data_key = self._key("data", "MLOps orchestrator data", data_key_policy(args))
        self.secrets_key = self._key(
            "secrets", "Pulumi secrets provider of the pipeline stacks", secrets_key_policy(args)
        )
        aws.kms.Alias(
            f"{name}-data-key-alias",
            name="alias/mlops-orchestrator",
            target_key_id=self.data_key.key_id,
            opts=owner.child,
        )
        aws.kms.Alias(
            f"{name}-secrets-key-alias",
            name=names.state_key_alias,
            target_key_id=self.secrets_key.key_id,
            opts=owner.child,
        )
        self.access_logs = access_log_bucket(
            f"{name}-access-logs",
            self.data_key.arn,
            names.access_log_bucket,
            args.account_id,
            args.tags,
            owner.child,
            partition=args.partition,
        )
        self.assets_bucket_name = self._assets_bucket()
        self.state_bucket = self._bucket("state", self.secrets_key, names.state_bucket)
        self.table = self._registry_table()
        self.topic = self._topic()
        self.ecr_repository_url = self._custom_algorithms_repository()
        self.model_package_group_name = self._model_package_group()
        self._external_id_parameter()
        # Where the provisioner image is pushed (docs/provisioner-image.md): it exists before the image.
        # Tags are immutable: the tag a function or a deploy project runs is the image it was set to.
        self.provisioner_repository_url = self._ecr_repository(
            "provisioner-image", names.provisioner_repository, "IMMUTABLE"
        ).repository_url

    def _key(self, purpose: str, description: str, policy: str) -> aws.kms.Key:
        return aws.kms.Key(
            f"{self._name}-{purpose}-key",
            description=description,
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=policy,
            tags=self._args.tags,
            opts=self._owner.child,
        )

    def _bucket(
        self, purpose: str, key: aws.kms.Key, bucket_name: str, statements: list[policies.Statement] | None = None
    ) -> SecureBucket:
        return SecureBucket(
            f"{self._name}-{purpose}",
            SecureBucketArgs(
                kms_key_arn=key.arn,
                bucket_name=bucket_name,
                access_log_bucket=self.access_logs.name,
                extra_policy_statements=statements,
                tags=self._args.tags,
            ),
            opts=self._owner.child,
        )

    def _assets_bucket(self) -> pulumi.Output[str]:
        """The assets bucket: ours, or the user's existing one (whose settings stay the user's)."""
        if self._args.existing_assets_bucket:
            return pulumi.Output.from_input(self._args.existing_assets_bucket)
        statements = assets_cross_account_statements(self._args)
        return self._bucket("assets", self.data_key, self._args.names.assets_bucket, statements).name

    def _registry_table(self) -> aws.dynamodb.Table:
        """The pipeline registry: one item per pipeline, found by its id or by the request's client token."""
        return aws.dynamodb.Table(
            f"{self._name}-registry",
            name=self._args.names.registry_table,
            billing_mode="PAY_PER_REQUEST",
            hash_key="pipeline_id",
            attributes=[
                aws.dynamodb.TableAttributeArgs(name="pipeline_id", type="S"),
                aws.dynamodb.TableAttributeArgs(name="client_token", type="S"),
            ],
            global_secondary_indexes=[
                aws.dynamodb.TableGlobalSecondaryIndexArgs(
                    name="client_token",
                    key_schemas=[
                        aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                            attribute_name="client_token", key_type="HASH"
                        )
                    ],
                    projection_type="ALL",
                )
            ],
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(
                enabled=True, kms_key_arn=self.data_key.arn
            ),
            deletion_protection_enabled=True,
            tags=self._args.tags,
            opts=self._owner.child,
        )

    def _topic(self) -> aws.sns.Topic:
        args, name, child = self._args, self._name, self._owner.child
        topic = aws.sns.Topic(
            f"{name}-notifications",
            name=args.names.topic,
            kms_master_key_id=self.data_key.arn,
            tags=args.tags,
            opts=child,
        )
        aws.sns.TopicPolicy(
            f"{name}-notifications-policy",
            arn=topic.arn,
            policy=topic.arn.apply(lambda arn: topic_policy(args, arn)),
            opts=child,
        )
        if args.notification_email:
            aws.sns.TopicSubscription(
                f"{name}-email", topic=topic.arn, protocol="email", endpoint=args.notification_email, opts=child
            )
        return topic

    def _custom_algorithms_repository(self) -> pulumi.Output[str]:
        """ECR repository for custom algorithm images (or the user's existing one)."""
        args = self._args
        if args.existing_ecr_repository:
            return pulumi.Output.from_input(
                f"{ecr_registry(args.account_id, args.region)}/{args.existing_ecr_repository}"
            )
        repo = self._ecr_repository("custom-algorithms", args.names.ecr_repository, "IMMUTABLE")
        if args.other_accounts:
            aws.ecr.RepositoryPolicy(
                f"{self._name}-custom-algorithms-policy",
                repository=repo.name,
                policy=ecr_pull_policy(args),
                opts=self._owner.child,
            )
        return repo.repository_url

    def _ecr_repository(self, purpose: str, name: str, tag_mutability: str) -> aws.ecr.Repository:
        """An ECR repository encrypted with the data key and scanned on push."""
        return aws.ecr.Repository(
            f"{self._name}-{purpose}",
            name=name,
            image_tag_mutability=tag_mutability,
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
            encryption_configurations=[
                aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS", kms_key=self.data_key.arn)
            ],
            tags=self._args.tags,
            opts=self._owner.child,
        )

    def _model_package_group(self) -> pulumi.Output[str] | None:
        args = self._args
        if not args.use_model_registry:
            return None
        group = aws.sagemaker.ModelPackageGroup(
            f"{self._name}-model-registry",
            model_package_group_name=args.names.model_package_group,
            model_package_group_description="Models served by MLOps pipelines",
            tags=args.tags,
            opts=self._owner.child,
        )
        if args.other_accounts:
            aws.sagemaker.ModelPackageGroupPolicy(
                f"{self._name}-model-registry-policy",
                model_package_group_name=group.model_package_group_name,
                resource_policy=group.arn.apply(lambda arn: model_group_policy(args, arn)),
                opts=self._owner.child,
            )
        return group.model_package_group_name

    def _external_id_parameter(self) -> None:
        """The deploy roles' external id, encrypted with the data key, read by the provisioner and its builds."""
        if not self._args.deploy_role_external_id:
            return
        aws.ssm.Parameter(
            f"{self._name}-deploy-role-external-id",
            name=EXTERNAL_ID_PARAMETER,
            type="SecureString",
            key_id=self.data_key.arn,
            value=self._args.deploy_role_external_id,
            tags=self._args.tags,
            opts=self._owner.child,
        )
