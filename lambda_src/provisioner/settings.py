"""The provisioner's settings: every environment variable the orchestrator sets for it, in one place."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from mlops_spec.env_vars import EnvVar
from mlops_spec.environments import ENVIRONMENTS
from mlops_spec.naming import PULUMI_PROJECT, EnvironmentNames, OrchestratorNames
from mlops_spec.partitions import ecr_registry, partition_of

# The variables, by field. `as_env()` writes these (all but the SECRET_FIELDS), so the settings of
# the provisioner Lambda can be handed on unchanged to the CodeBuild projects that run `mlops deploy`.
ENV_VARS: dict[str, EnvVar] = {
    "region": EnvVar.REGION,
    "mode": EnvVar.MODE,
    "accounts": EnvVar.ACCOUNTS,
    "orchestrator_environment": EnvVar.ORCHESTRATOR_ENVIRONMENT,
    "assets_bucket": EnvVar.ASSETS_BUCKET,
    "assets_kms_key_arn": EnvVar.ASSETS_KMS_KEY_ARN,
    "backend_url": EnvVar.STATE_BACKEND_URL,
    "secrets_provider": EnvVar.SECRETS_PROVIDER,
    "state_key_arn": EnvVar.STATE_KEY_ARN,
    "registry_table": EnvVar.REGISTRY_TABLE,
    "notification_topic_arn": EnvVar.TOPIC_ARN,
    "provisioner_image_uri": EnvVar.PROVISIONER_IMAGE_URI,
    "deploy_role_external_id": EnvVar.DEPLOY_ROLE_EXTERNAL_ID,
    "deploy_role_external_id_parameter": EnvVar.DEPLOY_ROLE_EXTERNAL_ID_PARAMETER,
    "use_model_registry": EnvVar.USE_MODEL_REGISTRY,
    "ecr_repository": EnvVar.ECR_REPOSITORY,
    "tags": EnvVar.TAGS,
    "pulumi_home": EnvVar.PULUMI_HOME,
    "baked_pulumi_home": EnvVar.BAKED_PULUMI_HOME,
    "pulumi_root": EnvVar.PULUMI_ROOT,
}

# Read from the environment but never written by `as_env()`: its values would end up in clear text
# in CodeBuild projects and in the delivery stacks' state. The orchestrator passes the external id
# as the name of its SSM SecureString parameter instead (read at run time, see program.py).
SECRET_FIELDS = frozenset({"deploy_role_external_id"})

# Lambda's only writable directory is /tmp; the image bakes plugins under /opt (read-only).
DEFAULT_PULUMI_HOME = "/tmp/pulumi-home"
DEFAULT_BAKED_PULUMI_HOME = "/opt/pulumi"
PROJECT_NAME = PULUMI_PROJECT


class SettingsError(ValueError):
    """A missing or malformed provisioner setting: a deployment problem of the orchestrator."""


@dataclass(frozen=True)
class EnvironmentTarget:
    """One environment as the provisioner addresses it: its account, deploy role and baseline names."""

    environment: str
    account_id: str
    region: str

    @property
    def partition(self) -> str:
        return partition_of(self.region)

    @property
    def names(self) -> EnvironmentNames:
        return EnvironmentNames(self.environment, self.account_id, self.region)

    @property
    def deploy_role_arn(self) -> str:
        return self.names.deploy_role_arn(self.partition)

    @property
    def kms_alias_arn(self) -> str:
        return f"arn:{self.partition}:kms:{self.region}:{self.account_id}:{self.names.kms_alias}"

    @property
    def artifacts_bucket(self) -> str:
        return self.names.artifacts_bucket


@dataclass(frozen=True)
class ProvisionerSettings:
    region: str
    accounts: dict[str, str]
    mode: str = "single"
    orchestrator_environment: str = "dev"
    assets_bucket: str = ""
    backend_url: str = ""
    """Pulumi state backend, `s3://<state bucket>?region=<region>`."""
    secrets_provider: str = ""
    """`awskms://<alias>?region=<region>`: encrypts the secrets in every stack's state."""
    registry_table: str = ""
    notification_topic_arn: str = ""
    ecr_repository: str = ""
    assets_kms_key_arn: str | None = None
    state_key_arn: str | None = None
    provisioner_image_uri: str | None = None
    deploy_role_external_id: str | None = field(default=None, repr=False)
    """The deploy roles' sts:ExternalId itself (a user's own `mlops deploy`); never written by `as_env()`."""
    deploy_role_external_id_parameter: str | None = None
    """Name of the SSM SecureString parameter holding the external id (how the orchestrator passes it)."""
    use_model_registry: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    pulumi_home: str = DEFAULT_PULUMI_HOME
    baked_pulumi_home: str | None = DEFAULT_BAKED_PULUMI_HOME
    pulumi_root: str | None = None
    """Directory holding bin/pulumi; None runs `pulumi` from PATH."""
    # The external id read from its parameter, by parameter name: one read per run (per settings).
    _resolved_secrets: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.backend_url and urlsplit(self.backend_url).path not in ("", "/"):
            # Target stacks live under prefixes of the bucket (mlops_spec/naming.py), legacy ones at its root.
            raise SettingsError(
                f"{ENV_VARS['backend_url']} must name the state bucket only (s3://<bucket>?region=<region>), not a path"
            )
        if self.mode not in ("single", "multi"):
            raise SettingsError(f"{ENV_VARS['mode']} must be 'single' or 'multi', not {self.mode!r}")
        if self.orchestrator_environment not in self.accounts:
            raise SettingsError(
                f"{ENV_VARS['accounts']} lacks the orchestrator environment {self.orchestrator_environment!r}"
            )
        if self.mode == "multi":
            missing = [env for env in ENVIRONMENTS if env not in self.accounts]
            if missing:
                raise SettingsError(f"{ENV_VARS['accounts']} lacks {', '.join(missing)} (multi-account mode)")
        defaults = orchestrator_defaults(self.orchestrator_account_id, self.region)
        for name, value in defaults.items():
            if not getattr(self, name):
                object.__setattr__(self, name, value)

    # -- reading and writing the environment -------------------------------------------------
    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ProvisionerSettings:
        env = os.environ if environ is None else environ
        region = env.get(ENV_VARS["region"]) or env.get("AWS_DEFAULT_REGION")
        if not region:
            raise SettingsError("AWS_REGION is not set")
        values: dict[str, Any] = {"region": region, "accounts": _json_object(env, "accounts")}
        if not values["accounts"]:
            raise SettingsError(f"{ENV_VARS['accounts']} must be a JSON object of account ids per environment")
        for name, var in ENV_VARS.items():
            if name in values or var not in env or env[var] == "":
                continue
            if name == "tags":
                values[name] = _json_object(env, name)
            elif name == "use_model_registry":
                values[name] = env[var].strip().lower() in ("true", "yes", "1")
            else:
                values[name] = env[var]
        return cls(**values)

    def as_env(self) -> dict[str, str]:
        """The environment variables that recreate these settings (None fields are left out).

        Secrets are left out too: only the name of the parameter holding the external id is written.
        """
        out: dict[str, str] = {}
        for name, var in ENV_VARS.items():
            value = getattr(self, name)
            if value is None or name in SECRET_FIELDS:
                continue
            if isinstance(value, dict):
                out[var] = json.dumps(value, sort_keys=True)
            elif isinstance(value, bool):
                out[var] = "true" if value else "false"
            else:
                out[var] = str(value)
        return out

    # -- derived ------------------------------------------------------------------------------
    @property
    def orchestrator_account_id(self) -> str:
        return self.accounts[self.orchestrator_environment]

    @property
    def orchestrator(self) -> OrchestratorNames:
        return OrchestratorNames(self.orchestrator_account_id, self.region)

    def target(self, environment: str) -> EnvironmentTarget:
        if environment not in self.accounts:
            raise SettingsError(f"no account configured for environment {environment!r} in {ENV_VARS['accounts']}")
        return EnvironmentTarget(environment, self.accounts[environment], self.region)

    @property
    def partition(self) -> str:
        """The ARN partition of the orchestrator's region (aws, aws-cn, aws-us-gov)."""
        return partition_of(self.region)

    @property
    def state_bucket(self) -> str:
        """The bucket of the S3 backend (the IAM scope of everything that reads or writes state)."""
        return urlsplit(self.backend_url).netloc

    @property
    def registry_table_arn(self) -> str:
        return f"arn:{self.partition}:dynamodb:{self.region}:{self.orchestrator_account_id}:table/{self.registry_table}"

    @property
    def ecr_repository_url(self) -> str:
        return f"{ecr_registry(self.orchestrator_account_id, self.region)}/{self.ecr_repository}"

    @property
    def model_package_group_name(self) -> str | None:
        return self.orchestrator.model_package_group if self.use_model_registry else None

    def once(self, parameter: str, read: Callable[[str], str]) -> str:
        """`read(parameter)` on first use, then its value again: one read per run (settings are per run)."""
        if parameter not in self._resolved_secrets:
            self._resolved_secrets[parameter] = read(parameter)
        return self._resolved_secrets[parameter]

    def required(self, name: str) -> str:
        """A setting only some paths need (the delivery stack needs the image and keys)."""
        value = getattr(self, name)
        if not value:
            raise SettingsError(f"{ENV_VARS[name]} is not set")
        return str(value)


def orchestrator_defaults(account_id: str, region: str) -> dict[str, str]:
    """Names the orchestrator gives its resources when the stack config does not override them."""
    names = OrchestratorNames(account_id, region)
    return {
        "assets_bucket": names.assets_bucket,
        "backend_url": names.backend_url(),
        "secrets_provider": names.secrets_provider(),
        "registry_table": names.registry_table,
        "notification_topic_arn": f"arn:{partition_of(region)}:sns:{region}:{account_id}:{names.topic}",
        "ecr_repository": names.ecr_repository,
    }


def _json_object(env: Mapping[str, str], name: str) -> dict[str, str]:
    raw = env.get(ENV_VARS[name], "")
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        raise SettingsError(f"{ENV_VARS[name]} is not valid JSON") from None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise SettingsError(f"{ENV_VARS[name]} must be a JSON object of strings")
    return dict(value)
