"""The Orchestrator component: wires its storage, functions, event sources and API under one parent.

Changes when a part is added to the orchestrator or what it exports changes; each part's own
resources are declared in its module.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.base import MlopsComponent
from components.orchestrator import existing_bucket
from components.orchestrator.api import rest_api
from components.orchestrator.args import OrchestratorArgs
from components.orchestrator.delivery_roles import DeliveryRoles
from components.orchestrator.events import config_trigger, model_approval_rule, status_function_rules
from components.orchestrator.failures import status_failures
from components.orchestrator.functions import Functions
from components.orchestrator.monitor_actions import monitor_violations
from components.orchestrator.storage import Storage
from components.orchestrator.teardown import teardown_project


class Orchestrator(MlopsComponent):
    """Everything the orchestrator account runs: request API, registry, provisioner, state backend."""

    def __init__(self, name: str, args: OrchestratorArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:orchestrator:Orchestrator", name, opts)
        self.args = args
        # A user's existing assets bucket must be set up by them; stop before anything is created if not.
        existing_bucket.verify(args, name)
        storage = Storage(self, name, args)
        self.data_key = storage.data_key
        self.secrets_key = storage.secrets_key
        self.access_logs = storage.access_logs
        self.assets_bucket_name = storage.assets_bucket_name
        self.state_bucket = storage.state_bucket
        self.table = storage.table
        self.topic = storage.topic
        self.ecr_repository_url = storage.ecr_repository_url
        self.model_package_group_name = storage.model_package_group_name
        self.provisioner_repository_url = storage.provisioner_repository_url

        # The roles delivery pipelines run as exist before any delivery stack refers to them.
        self.delivery_roles = DeliveryRoles(self, name, args, storage)
        functions = Functions(self, name, args, storage)
        self.provisioner = functions.provisioner
        self.provisioner_image_uri = functions.provisioner_image_uri
        self.api_function = functions.api
        self.trigger_function = functions.trigger
        self.status_function = functions.status
        self.teardown_project = self._teardown_project(name, storage, functions)

        config_trigger(self, name, args, storage.assets_bucket_name, functions.trigger)
        status_function_rules(self, name, args, functions.status)
        model_approval_rule(self, name, args, functions.trigger)
        monitor_violations(self, name, args, functions.trigger)
        status_failures(self, name, args, functions.status, storage.data_key, storage.topic)
        self.api_url = rest_api(self, name, args, storage.data_key, functions.api)
        self.state_backend_url = pulumi.Output.from_input(args.names.backend_url())
        self.register_outputs(
            {
                **self.assets_bucket_requirements(),
                "apiUrl": self.api_url,
                "assetsBucket": self.assets_bucket_name,
                "stateBucket": self.state_bucket.name,
                "stateBackendUrl": self.state_backend_url,
                "secretsProvider": args.names.secrets_provider(),
                "topicArn": self.topic.arn,
                "registryTable": self.table.name,
                "ecrRepositoryUrl": self.ecr_repository_url,
            }
        )

    def _teardown_project(self, name: str, storage: Storage, functions: Functions) -> aws.codebuild.Project | None:
        """Deletions run where no Lambda time limit applies; like the provisioner, only once its image exists."""
        if functions.provisioner is None or functions.provisioner_image_uri is None:
            return None
        settings = functions.provisioner_settings
        assert settings is not None  # set together with the provisioner
        return teardown_project(
            self,
            name,
            self.args,
            storage.data_key.arn,
            functions.provisioner_image_uri,
            settings,
            functions.provisioner,
        )

    def assets_bucket_requirements(self) -> dict[str, object]:
        """With an existing assets bucket: what the user configures on it (checklist, and the policy
        statements to merge into its policy in multi-account mode); nothing otherwise."""
        if not self.args.existing_assets_bucket:
            return {}
        exports: dict[str, object] = {"assetsBucketRequirements": existing_bucket.requirements(self.args)}
        policy = existing_bucket.required_policy(self.args)
        if policy:
            exports["assetsBucketPolicy"] = policy
        return exports
