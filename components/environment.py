"""EnvironmentBaseline: what every account needs before pipelines can land in it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components import policies
from components.base import MlopsComponent
from components.deploy_role import DeployScope, deploy_statements
from components.pipeline_boundary import BoundaryScope, boundary_statements
from components.pipelines.base import PipelineContext
from components.secure_bucket import SecureBucket, SecureBucketArgs, access_log_bucket
from mlops_spec.naming import PIPELINE_ROLE_PATH, EnvironmentScoped
from mlops_spec.partitions import partition_of, regional_service


@dataclass
class EnvironmentBaselineArgs(EnvironmentScoped):
    environment: str
    account_id: str
    region: str
    orchestrator_account_id: str
    use_model_registry: bool = False
    deploy_role_external_id: pulumi.Input[str] | None = None
    """Optional secret (`pulumi config set --secret mlops:deployRoleExternalId ...`)."""
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def partition(self) -> str:
        """The ARN partition of the environment's region (aws, aws-cn, aws-us-gov)."""
        return partition_of(self.region)


def environment_key_services(region: str) -> list[str]:
    """Services that use the environment key on their own behalf (not through a role): S3 access-log
    delivery, CloudWatch Logs, and the log delivery of state machines whose data this key encrypts."""
    return ["delivery.logs.amazonaws.com", "logging.s3.amazonaws.com", regional_service("logs", region)]


def sagemaker_role_statements(args: EnvironmentBaselineArgs, key_arn: str) -> list[policies.Statement]:
    """The environment's SageMaker execution role: its own bucket, the orchestrator's assets
    (models, data), its key, the orchestrator's ECR images and, where enabled, the model registry."""
    names, orchestrator = args.names, args.orchestrator
    artifacts = f"arn:{args.partition}:s3:::{names.artifacts_bucket}"
    assets = f"arn:{args.partition}:s3:::{orchestrator.assets_bucket}"
    ecr = f"arn:{args.partition}:ecr:{args.region}:{args.orchestrator_account_id}:repository/mlops-*"
    statements = [
        policies.statement(["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"], [f"{artifacts}/*"]),
        policies.statement(["s3:GetObject"], [f"{assets}/*"]),
        policies.statement(["s3:ListBucket", "s3:GetBucketLocation"], [artifacts, assets]),
        policies.statement(policies.KEY_USE, [key_arn]),
        policies.statement(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], [ecr]),
        # GetAuthorizationToken has no resource-level permissions: AWS requires "*".
        policies.statement(["ecr:GetAuthorizationToken"], "*"),
        policies.statement(
            ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            [f"arn:{args.partition}:logs:{args.region}:{args.account_id}:log-group:/aws/sagemaker/*"],
        ),
    ]
    if args.use_model_registry:
        group = f"arn:{args.partition}:sagemaker:{args.region}:{args.orchestrator_account_id}:model-package"
        statements.append(
            policies.statement(
                [
                    "sagemaker:DescribeModelPackage",
                    "sagemaker:ListModelPackages",
                    "sagemaker:DescribeModelPackageGroup",
                ],
                [f"{group}/{orchestrator.model_package_group}/*", f"{group}-group/{orchestrator.model_package_group}"],
            )
        )
    return statements


def deploy_role_statements(args: EnvironmentBaselineArgs, key_arn: str) -> list[policies.Statement]:
    """What the provisioner may do in this account when it deploys a pipeline's target stack: the calls
    of the pipeline components' resources, on pipeline resources only (components/deploy_role.py)."""
    scope = DeployScope(
        environment=args.environment,
        account_id=args.account_id,
        region=args.region,
        orchestrator_account_id=args.orchestrator_account_id,
        use_model_registry=args.use_model_registry,
        key_arn=key_arn,
        partition=args.partition,
    )
    return deploy_statements(scope)


def pipeline_boundary_statements(args: EnvironmentBaselineArgs) -> list[policies.Statement]:
    """The permissions boundary of every role under the pipelines' path (components/pipeline_boundary.py)."""
    return boundary_statements(
        BoundaryScope(args.environment, args.account_id, args.region, args.orchestrator_account_id, args.partition)
    )


def deploy_role_trust(args: EnvironmentBaselineArgs, external_id: str | None) -> str:
    """Exactly two roles of the orchestrator account may assume this environment's deploy role: the
    provisioner (it destroys target stacks) and this environment's deploy builds; no other role of
    that account, whatever its name. They are named by ARN in an aws:PrincipalArn condition on the
    account, not as principals: the roles need not exist yet (staging and prod stacks go first), and a
    role deleted and re-created under the same name is trusted again."""
    condition: dict[str, dict[str, object]] = {
        "ArnEquals": {"aws:PrincipalArn": args.orchestrator.deploy_role_principals(args.environment, args.partition)}
    }
    if external_id:
        condition["StringEquals"] = {"sts:ExternalId": external_id}
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{args.partition}:iam::{args.orchestrator_account_id}:root"},
        "Action": "sts:AssumeRole",
        "Condition": condition,
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, sort_keys=True)


class EnvironmentBaseline(MlopsComponent):
    """KMS key, artifacts bucket (with access logs), the pipeline roles' permissions boundary, SageMaker
    execution role and the deploy role the orchestrator assumes to stand pipelines up in this account."""

    def __init__(self, name: str, args: EnvironmentBaselineArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:environment:EnvironmentBaseline", name, opts)
        self.args = args
        names = args.names
        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"MLOps {args.environment}: artifacts, data capture, logs",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=policies.kms_key_policy(args.account_id, environment_key_services(args.region), args.partition),
            tags=args.tags,
            opts=self.child,
        )
        aws.kms.Alias(f"{name}-key-alias", name=names.kms_alias, target_key_id=self.key.key_id, opts=self.child)
        self.access_logs = self._access_logs(name)
        self.artifacts = SecureBucket(
            f"{name}-artifacts",
            SecureBucketArgs(
                kms_key_arn=self.key.arn,
                bucket_name=names.artifacts_bucket,
                access_log_bucket=self.access_logs.name,
                tags=args.tags,
            ),
            opts=self.child,
        )
        self.boundary = aws.iam.Policy(
            f"{name}-pipeline-boundary",
            name=names.pipeline_boundary,
            description=f"MLOps {args.environment}: the most any pipeline role may do (its permissions boundary)",
            policy=policies.document(*pipeline_boundary_statements(args)),
            tags=args.tags,
            opts=self.child,
        )
        self.sagemaker_role = self._sagemaker_role(name)
        self.deploy_role = self._deploy_role(name)

        self.kms_key_arn = self.key.arn
        self.artifacts_bucket = self.artifacts.name
        self.sagemaker_role_arn = self.sagemaker_role.arn
        self.deploy_role_arn = self.deploy_role.arn
        self.register_outputs(
            {
                "kmsKeyArn": self.kms_key_arn,
                "artifactsBucket": self.artifacts_bucket,
                "sagemakerRoleArn": self.sagemaker_role_arn,
                "deployRoleArn": self.deploy_role_arn,
            }
        )

    def _access_logs(self, name: str) -> SecureBucket:
        args = self.args
        return access_log_bucket(
            f"{name}-access-logs",
            self.key.arn,
            args.names.access_log_bucket,
            args.account_id,
            args.tags,
            self.child,
            partition=args.partition,
        )

    def _sagemaker_role(self, name: str) -> aws.iam.Role:
        args = self.args
        role, _ = self.role_with_policy(
            f"{name}-sagemaker",
            name=args.names.sagemaker_role,
            path=PIPELINE_ROLE_PATH,
            trust_policy=policies.service_trust("sagemaker.amazonaws.com", source_account=args.account_id),
            # It shares the pipelines' path: it carries their boundary too.
            permissions_boundary=self.boundary.arn,
            policy=self.key.arn.apply(lambda arn: policies.document(*sagemaker_role_statements(args, arn))),
            tags=args.tags,
        )
        return role

    def _deploy_role(self, name: str) -> aws.iam.Role:
        args = self.args
        external_id = pulumi.Output.from_input(args.deploy_role_external_id or "")
        role, _ = self.role_with_policy(
            f"{name}-deploy",
            name=args.names.deploy_role,
            description="Assumed by the MLOps orchestrator to deploy pipelines into this account",
            trust_policy=external_id.apply(lambda value: deploy_role_trust(args, value or None)),
            max_session_duration=3600,
            policy=self.key.arn.apply(lambda arn: policies.document(*deploy_role_statements(args, arn))),
            tags=args.tags,
        )
        return role

    def pipeline_context(
        self,
        assets_bucket: pulumi.Input[str],
        ecr_repository_url: pulumi.Input[str] | None = None,
        model_package_group_name: pulumi.Input[str] | None = None,
        notification_topic_arn: pulumi.Input[str] | None = None,
        assets_kms_key_arn: pulumi.Input[str] | None = None,
    ) -> PipelineContext:
        """The context pipeline components deployed into this environment receive."""
        return PipelineContext(
            environment=self.args.environment,
            account_id=self.args.account_id,
            region=self.args.region,
            orchestrator_account_id=self.args.orchestrator_account_id,
            kms_key_arn=self.kms_key_arn,
            artifacts_bucket=self.artifacts_bucket,
            assets_bucket=assets_bucket,
            ecr_repository_url=ecr_repository_url,
            model_package_group_name=model_package_group_name,
            notification_topic_arn=notification_topic_arn,
            assets_kms_key_arn=assets_kms_key_arn,
            tags=self.args.tags,
            # The policy itself, not its derived ARN: pipelines declared in this stack wait for it.
            pipeline_boundary_arn=self.boundary.arn,
            partition=self.args.partition,
        )
