"""What every pipeline component receives: its environment's context, and the common tagging rule."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi


@dataclass(frozen=True)
class PipelineContext:
    """The environment (account) a pipeline deploys into, as seen by its component.

    Built by the environment baseline (declarative path) or by the provisioner's inline program.
    """

    environment: str
    account_id: str
    region: str
    orchestrator_account_id: str
    kms_key_arn: pulumi.Input[str]
    artifacts_bucket: pulumi.Input[str]
    """Bucket of this environment for pipeline outputs (data capture, batch results, monitoring)."""
    assets_bucket: pulumi.Input[str]
    """The orchestrator's assets bucket: model artifacts, training data, image build contexts."""
    ecr_repository_url: pulumi.Input[str] | None = None
    model_package_group_name: pulumi.Input[str] | None = None
    notification_topic_arn: pulumi.Input[str] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    partition: str = "aws"

    def arn(self, service: str, resource: str, regional: bool = True) -> str:
        """An ARN in this environment's account, e.g. arn("sagemaker", "endpoint/x")."""
        region = self.region if regional else ""
        return f"arn:{self.partition}:{service}:{region}:{self.account_id}:{resource}"
