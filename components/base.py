"""What every component of this project shares: options for its children, its log groups and its roles.

Changes here when the project's common rules for child resources change (their parent, how long
logs are kept, how a role and its inline policy are declared). Each component keeps its own type
token, names and inputs; this base only removes the boilerplate around them:

    class Thing(MlopsComponent):
        def __init__(self, name, ..., opts=None):
            super().__init__("mlops:area:Thing", name, opts)
            logs = self.log_group(f"{name}-logs", name="/aws/lambda/thing", kms_key_id=key, tags=tags)
            role, _ = self.role_with_policy(f"{name}-thing", name="thing", trust_policy=trust,
                                            policy=document, tags=tags)
            aws.lambda_.Function(f"{name}-fn", ..., opts=self.child_opts(depends_on=[role, logs]))

Resource names are exactly what the caller passes, so adopting this base never changes a URN.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import pulumi
import pulumi_aws as aws

# How long CloudWatch keeps the logs of every function, state machine and build we create
# (a year, so incidents and audits can look back over a full release cycle).
LOG_RETENTION_DAYS = 365


class MlopsComponent(pulumi.ComponentResource):
    """A Pulumi component whose children are parented to it, with helpers for logs and roles.

    Subclasses pass their own type token (`mlops:<area>:<Type>`); the component has no inputs of its
    own (`props` is None), as every component of this project.
    """

    def __init__(self, type_token: str, name: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__(type_token, name, None, opts)

    @cached_property
    def child(self) -> pulumi.ResourceOptions:
        """Options of a plain child: parented to this component. Pulumi copies options on use, so
        one instance serves every child."""
        return pulumi.ResourceOptions(parent=self)

    def child_opts(self, **overrides: Any) -> pulumi.ResourceOptions:
        """Options of a child that needs more than its parent, e.g. `child_opts(depends_on=[role])`."""
        if not overrides:
            return self.child
        return pulumi.ResourceOptions(parent=self, **overrides)

    def log_group(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str],
        kms_key_id: pulumi.Input[str],
        tags: pulumi.Input[dict[str, str]] | None,
        retention_in_days: int = LOG_RETENTION_DAYS,
    ) -> aws.cloudwatch.LogGroup:
        """A CloudWatch log group encrypted with `kms_key_id`, kept for LOG_RETENTION_DAYS unless the
        caller has a reason to keep its logs for a different time."""
        return aws.cloudwatch.LogGroup(
            resource_name,
            name=name,
            kms_key_id=kms_key_id,
            retention_in_days=retention_in_days,
            tags=tags,
            opts=self.child,
        )

    def role_with_policy(
        self,
        prefix: str,
        *,
        name: pulumi.Input[str],
        trust_policy: pulumi.Input[str],
        policy: pulumi.Input[str],
        tags: pulumi.Input[dict[str, str]] | None,
        **role_args: Any,
    ) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
        """An IAM role `<prefix>-role` and its one inline policy `<prefix>-policy` (a JSON document).

        `role_args` are further `aws.iam.Role` inputs (path, description, max_session_duration).
        """
        role = aws.iam.Role(
            f"{prefix}-role", name=name, assume_role_policy=trust_policy, tags=tags, opts=self.child, **role_args
        )
        role_policy = aws.iam.RolePolicy(f"{prefix}-policy", role=role.id, policy=policy, opts=self.child)
        return role, role_policy
