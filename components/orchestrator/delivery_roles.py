"""The roles delivery pipelines run as: one deploy-build role per environment and one CodePipeline role.

Changes when the delivery pipelines need another role. They live in the orchestrator stack, not in
the delivery stacks, so that the provisioner (which writes the delivery stacks) creates no role and
each environment's deploy role can trust its builds by exact ARN. Their statements: delivery_access.py.
"""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pulumi_aws as aws

from components import policies
from components.base import MlopsComponent
from components.orchestrator.args import OrchestratorArgs
from components.orchestrator.delivery_access import (
    build_role_statements,
    build_role_trust,
    codepipeline_role_statements,
    codepipeline_role_trust,
)
from components.orchestrator.storage import Storage


class DeliveryRoles:
    """Children of `owner`: `<name>-build-<env>-role` (and `-policy`) for each environment of the
    install, and `<name>-codepipeline-role` (and `-policy`)."""

    def __init__(self, owner: MlopsComponent, name: str, args: OrchestratorArgs, storage: Storage):
        keys = pulumi.Output.all(data_key=storage.data_key.arn, secrets_key=storage.secrets_key.arn)
        self.build_roles: dict[str, aws.iam.Role] = {}
        for env in sorted(args.environment_accounts):
            self.build_roles[env], _ = owner.role_with_policy(
                f"{name}-build-{env}",
                name=args.names.build_role(env),
                description=f"Runs the deploy builds of every pipeline's {env} stage",
                trust_policy=build_role_trust(args, env),
                policy=keys.apply(_build_policy(args, env)),
                tags=args.tags,
            )
        self.codepipeline_role, _ = owner.role_with_policy(
            f"{name}-codepipeline",
            name=args.names.codepipeline_role,
            description="Runs every delivery pipeline",
            # One service per trust statement: CodePipeline rejects roles that list several.
            trust_policy=codepipeline_role_trust(args),
            policy=storage.data_key.arn.apply(lambda key: policies.document(*codepipeline_role_statements(args, key))),
            tags=args.tags,
        )


def _build_policy(args: OrchestratorArgs, env: str) -> Callable[[dict[str, str]], str]:
    return lambda keys: policies.document(*build_role_statements(args, env, keys["data_key"], keys["secrets_key"]))
