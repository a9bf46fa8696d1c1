"""What every pipeline component receives: its environment's context, and the common tagging rule."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import pulumi

from components.base import MlopsComponent
from mlops_spec import naming
from mlops_spec.base import PipelineSpec

S = TypeVar("S", bound=PipelineSpec)


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
    assets_kms_key_arn: pulumi.Input[str] | None = None
    """The key encrypting the assets bucket (the orchestrator's): roles reading model artifacts need Decrypt on it."""
    tags: dict[str, str] = field(default_factory=dict)
    partition: str = "aws"
    pipeline_boundary_arn: pulumi.Input[str] | None = None
    """The environment's pipeline boundary policy; None derives its ARN from (environment, account),
    as target stacks do (the baseline, deployed before them, created it). The baseline's own stack
    passes the policy's output, so that pipelines declared there are created after it."""

    @property
    def permissions_boundary(self) -> pulumi.Input[str]:
        """The permissions boundary every role a pipeline creates carries."""
        if self.pipeline_boundary_arn is not None:
            return self.pipeline_boundary_arn
        names = naming.EnvironmentNames(self.environment, self.account_id, self.region)
        return names.pipeline_boundary_arn(self.partition)

    @property
    def assets_output_key_arn(self) -> pulumi.Input[str]:
        """The key encrypting what a pipeline writes to the assets bucket: the bucket's own key, which the
        environments reading from it (other accounts in multi-account mode) may use; this environment's key
        only when the assets key is unknown."""
        return self.assets_kms_key_arn if self.assets_kms_key_arn is not None else self.kms_key_arn

    def arn(self, service: str, resource: str, regional: bool = True) -> str:
        """An ARN in this environment's account, e.g. arn("sagemaker", "endpoint/x")."""
        region = self.region if regional else ""
        return f"arn:{self.partition}:{service}:{region}:{self.account_id}:{resource}"


class PipelineComponent(MlopsComponent):
    """Base of every target-pipeline component: type token, spec, context, tags and outputs.

    Subclasses set TYPE_TOKEN (`mlops:pipelines:<Type>`), create their children with `self.child`
    or `self.child_opts(...)` (see components.base), and end with `self.finish({...})`.
    """

    TYPE_TOKEN: ClassVar[str]

    def __init__(
        self, name: str, spec: PipelineSpec, context: PipelineContext, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__(self.TYPE_TOKEN, name, opts)
        self.spec = spec
        self.context = context
        self.tags: dict[str, str] = {**context.tags, **spec.tags_for(context.environment)}
        self.outputs: dict[str, pulumi.Output[Any]] = {}

    def expect_spec(self, spec: PipelineSpec, kind: type[S]) -> S:
        """`spec` as the spec class this component deploys; a TypeError names both when it is another."""
        if not isinstance(spec, kind):
            article = "an" if kind.__name__[:1] in "AEIOU" else "a"
            raise TypeError(f"{type(self).__name__} expects {article} {kind.__name__}, got {type(spec).__name__}")
        return spec

    def physical_name(self, suffix: str, limit: int = naming.SAGEMAKER_NAME_LIMIT) -> str:
        """A deterministic AWS name for a resource of this pipeline in this environment."""
        return naming.resource_name(self.spec.pipeline_id, self.context.environment, suffix, limit)

    def finish(self, outputs: dict[str, pulumi.Output[Any]]) -> None:
        self.outputs = outputs
        self.register_outputs(outputs)
