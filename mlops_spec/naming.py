"""Deterministic, length-bounded names for pipelines, stacks and AWS resources."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from mlops_spec.environments import ENVIRONMENTS
from mlops_spec.model_packages import SHARED_MODEL_PACKAGE_GROUP

# SageMaker names (endpoint, model, job, schedule) are limited to 63 characters.
SAGEMAKER_NAME_LIMIT = 63
# Pipeline ids leave room for an environment suffix ("-staging") and resource
# suffixes ("-dq-baseline") inside SageMaker's limit.
PIPELINE_ID_LIMIT = 40


def slug(text: str) -> str:
    """Lower-case letters, digits and single hyphens."""
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9]+", "-", text.lower())).strip("-")


def short_hash(text: str, length: int = 6) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def bounded(name: str, limit: int) -> str:
    """`name` if it fits; otherwise a prefix plus a hash of the full name, so distinct names stay distinct."""
    if len(name) <= limit:
        return name
    digest = short_hash(name)
    return f"{name[: limit - len(digest) - 1].rstrip('-')}-{digest}"


def pipeline_id(infix: str, type_slug: str) -> str:
    """The id of a pipeline: its model (or image) name and its type, e.g. `churn-xgb-realtime-builtin`."""
    return bounded(f"{slug(infix)}-{type_slug}", PIPELINE_ID_LIMIT)


def target_stack_name(pipeline: str, env: str) -> str:
    """The Pulumi stack holding one environment's deployment of a pipeline."""
    return f"{pipeline}-{env}"


def delivery_stack_name(pipeline: str) -> str:
    """The Pulumi stack holding a pipeline's CodePipeline."""
    return f"{pipeline}-delivery"


# -- the assets bucket: where a pipeline's request and its delivery source live ---------------------
# The API stores the validated request as SPEC_FILE; the provisioner packs it into the source zip
# that the delivery pipeline's S3 source hands to CodeBuild (an unzipped object breaks CodeBuild).
SPEC_FILE = "spec.json"
# A file with this name uploaded anywhere in the assets bucket is a pipeline request.
CONFIG_FILE_NAME = "mlops-config.json"


def spec_key(pipeline: str) -> str:
    return f"pipelines/{pipeline}/{SPEC_FILE}"


def source_key(pipeline: str) -> str:
    return f"pipelines/{pipeline}/source.zip"


# -- delivery pipelines (CodePipeline) -------------------------------------------------------------
# The orchestrator's event rule forwards CodePipeline events of pipelines named `mlops-*`.
DELIVERY_PIPELINE_PREFIX = "mlops-"
_DELIVERY_HASH_LENGTH = 8
_DELIVERY_NAME = re.compile(rf"{DELIVERY_PIPELINE_PREFIX}([0-9a-f]{{{_DELIVERY_HASH_LENGTH}}})-(.+)")


def codepipeline_name(pipeline: str) -> str:
    """`mlops-<hash>-<pipeline id>`: readable, and its first 20 characters (the folder CodePipeline
    files a run's artifacts under) differ between pipelines whose ids start alike."""
    return f"{DELIVERY_PIPELINE_PREFIX}{short_hash(pipeline, _DELIVERY_HASH_LENGTH)}-{pipeline}"


def pipeline_id_of(codepipeline: str) -> str | None:
    """The pipeline id of a delivery pipeline's name; None for any other CodePipeline."""
    match = _DELIVERY_NAME.fullmatch(codepipeline)
    if not match or short_hash(match.group(2), _DELIVERY_HASH_LENGTH) != match.group(1):
        return None
    return match.group(2)


# CodePipeline files a run's artifacts in its artifact store under the first 20 characters of the
# pipeline's name: for delivery pipelines, the prefix and the hash (the rest is the pipeline id's start).
DELIVERY_ARTIFACT_FOLDERS = f"{DELIVERY_PIPELINE_PREFIX}{'?' * _DELIVERY_HASH_LENGTH}-*"

# Every deploy project is `mlops-deploy-<pipeline id>-<environment>`.
DEPLOY_PROJECT_PREFIX = "mlops-deploy-"


def deploy_project_name(pipeline: str, env: str) -> str:
    """The CodeBuild project that deploys one environment of a pipeline (its delivery stack makes it)."""
    return f"{DEPLOY_PROJECT_PREFIX}{pipeline}-{env}"


def deploy_projects_of(env: str) -> str:
    """A name pattern matching the deploy projects of `env` and of no other environment: the
    environment is the project name's last part."""
    return f"{DEPLOY_PROJECT_PREFIX}*-{env}"


def deploy_project_arn(pipeline: str, env: str, region: str, account_id: str, partition: str = "aws") -> str:
    """The ARN CodeBuild gives a deploy project: what `${codebuild:projectArn}` resolves to in its builds."""
    return f"arn:{partition}:codebuild:{region}:{account_id}:project/{deploy_project_name(pipeline, env)}"


def target_stack_parts(stack_name: str) -> tuple[str, str] | None:
    """(pipeline, environment) of a target stack's name (`target_stack_name`'s inverse); None for any
    other stack (a delivery stack ends in `-delivery`, which is no environment)."""
    pipeline, _, env = stack_name.rpartition("-")
    if not pipeline or env not in ENVIRONMENTS:
        return None
    return pipeline, env


# -- where Pulumi state lives in the state bucket ----------------------------------------------------
# The Pulumi project every stack the orchestrator runs belongs to.
PULUMI_PROJECT = "mlops-pipelines"
# Target stacks live under a prefix of their own deploy project: `target-stacks/<project ARN>/` holds
# the backend of one stack (its `.pulumi/` stack file, locks, history and backups). The shared build
# role of an environment reaches exactly that prefix through the IAM variable below, which CodeBuild
# resolves to the ARN of the project a build belongs to. Delivery stacks (and target stacks of older
# versions, until moved) live at the bucket's root, out of every build's reach.
TARGET_STATE_FOLDER = "target-stacks"
PROJECT_ARN_VARIABLE = "${codebuild:projectArn}"
# The KMS encryption context of target stacks' secrets: `awskms://...&context_<key>=<environment>`;
# build roles may use the secrets key only with their own environment's value. One key only: Pulumi
# mixes up the values of several context keys (pulumi/pulumi#21068).
STATE_CONTEXT_KEY = "mlops-environment"


def target_state_prefix(project_arn: str) -> str:
    """The state bucket prefix (no trailing slash) of the target stack a deploy project deploys.

    One function for both readers: the runner passes a project's ARN (`deploy_project_arn`), the build
    roles' policy passes PROJECT_ARN_VARIABLE. An ARN is a safe S3 key part (`:` and `/` need no
    escaping in S3 keys nor in IAM resource ARNs; Go's URL parser keeps them in a URL path), and it is
    the form CodeBuild documents for this variable in S3 resource ARNs.
    """
    return f"{TARGET_STATE_FOLDER}/{project_arn}"


def legacy_stack_key(stack_name: str, project: str = PULUMI_PROJECT) -> str:
    """Where the S3 backend of earlier versions kept a stack (project mode, at the bucket's root)."""
    return f"{legacy_stacks_folder(project)}{stack_name}.json"


def legacy_stacks_folder(project: str = PULUMI_PROJECT) -> str:
    return f".pulumi/stacks/{project}/"


def legacy_lock_folder(stack_name: str, project: str = PULUMI_PROJECT) -> str:
    """Where Pulumi's S3 backend keeps the lock files of a stack at the bucket's root."""
    return f".pulumi/locks/organization/{project}/{stack_name}/"


def prefixed_backend_url(backend_url: str, prefix: str) -> str:
    """`s3://bucket?query` with `prefix` as its path: Pulumi's S3 backend then keeps everything of the
    stacks it opens under that prefix of the bucket (it wraps the bucket in a prefixed one)."""
    split = urlsplit(backend_url)
    return urlunsplit((split.scheme, split.netloc, f"/{prefix.strip('/')}", split.query, ""))


def secrets_provider_of(secrets_provider: str, env: str) -> str:
    """The KMS secrets provider with environment `env` as the encryption context (gocloud's awskms
    URLs take `context_<key>=<value>` query parameters)."""
    split = urlsplit(secrets_provider)
    query = [(k, v) for k, v in parse_qsl(split.query) if not k.startswith("context_")]
    query.append((f"context_{STATE_CONTEXT_KEY}", env))
    # Written out, not urlunsplit: that drops the `//` of a URL without a host (`awskms:///arn:...`).
    return f"{split.scheme}://{split.netloc}{split.path}?{urlencode(query, safe='/:')}"


def resource_name(pipeline: str, env: str, suffix: str, limit: int = SAGEMAKER_NAME_LIMIT) -> str:
    """A physical AWS name for one resource of a pipeline in one environment."""
    return bounded(f"{pipeline}-{env}-{suffix}", limit)


# Every role and function of the orchestrator stack carries this prefix. Deploy roles do not trust
# it: they trust exact role ARNs (OrchestratorNames.deploy_role_principals).
ORCHESTRATOR_ROLE_PREFIX = "mlops-orch-"
# IAM path of every role a pipeline creates, so deploy roles can be scoped to exactly those roles.
PIPELINE_ROLE_PATH = "/mlops/"


@dataclass(frozen=True)
class EnvironmentNames:
    """Physical names of an environment's baseline, derivable from (env, account, region) alone so
    the orchestrator can address another account's resources without reading its stack."""

    environment: str
    account_id: str
    region: str

    @property
    def kms_alias(self) -> str:
        return f"alias/mlops-{self.environment}"

    @property
    def artifacts_bucket(self) -> str:
        return f"mlops-{self.environment}-artifacts-{self.account_id}-{self.region}"

    @property
    def access_log_bucket(self) -> str:
        return f"mlops-{self.environment}-access-logs-{self.account_id}-{self.region}"

    @property
    def sagemaker_role(self) -> str:
        return f"mlops-{self.environment}-sagemaker-execution"

    @property
    def deploy_role(self) -> str:
        return f"mlops-{self.environment}-deploy"

    def deploy_role_arn(self, partition: str = "aws") -> str:
        return f"arn:{partition}:iam::{self.account_id}:role/{self.deploy_role}"

    @property
    def pipeline_boundary(self) -> str:
        """The managed policy every role under PIPELINE_ROLE_PATH carries as its permissions boundary."""
        return f"mlops-{self.environment}-pipeline-boundary"

    def pipeline_boundary_arn(self, partition: str = "aws") -> str:
        """Derivable from (env, account): the target stacks run in the environment's own account."""
        return f"arn:{partition}:iam::{self.account_id}:policy/{self.pipeline_boundary}"


@dataclass(frozen=True)
class OrchestratorNames:
    """Physical names of the orchestrator's resources in its account."""

    account_id: str
    region: str

    @property
    def assets_bucket(self) -> str:
        return f"mlops-assets-{self.account_id}-{self.region}"

    @property
    def state_bucket(self) -> str:
        return f"mlops-pulumi-state-{self.account_id}-{self.region}"

    @property
    def access_log_bucket(self) -> str:
        return f"mlops-orchestrator-logs-{self.account_id}-{self.region}"

    @property
    def state_key_alias(self) -> str:
        return "alias/mlops-pulumi-secrets"

    @property
    def registry_table(self) -> str:
        return "mlops-pipelines"

    @property
    def topic(self) -> str:
        return "mlops-notifications"

    @property
    def ecr_repository(self) -> str:
        return "mlops-custom-algorithms"

    @property
    def provisioner_repository(self) -> str:
        return "mlops-provisioner"

    @property
    def model_package_group(self) -> str:
        return SHARED_MODEL_PACKAGE_GROUP

    def role(self, purpose: str) -> str:
        """Name of an orchestrator role (or function): `mlops-orch-<purpose>`."""
        return bounded(f"{ORCHESTRATOR_ROLE_PREFIX}{purpose}", 64)

    def role_arn(self, purpose: str, partition: str = "aws") -> str:
        return f"arn:{partition}:iam::{self.account_id}:role/{self.role(purpose)}"

    @property
    def provisioner_role(self) -> str:
        return self.role("provisioner")

    def build_role(self, env: str) -> str:
        """The role every pipeline's deploy project of `env` runs as (one per environment, so that a
        deploy role can trust it by its exact ARN)."""
        return self.role(f"build-{env}")

    @property
    def codepipeline_role(self) -> str:
        """The role every delivery pipeline (CodePipeline) runs as."""
        return self.role("codepipeline")

    @property
    def teardown_project(self) -> str:
        """The CodeBuild project that deletes pipelines (a teardown may outlast a Lambda run); it runs
        as the provisioner's role, so its name is not a role's."""
        return self.role("teardown")

    def deploy_role_principals(self, env: str, partition: str = "aws") -> list[str]:
        """The only principals `env`'s deploy role trusts: the provisioner (it destroys target stacks)
        and the deploy builds of `env`."""
        return [self.role_arn("provisioner", partition), self.role_arn(f"build-{env}", partition)]

    def backend_url(self) -> str:
        return f"s3://{self.state_bucket}?region={self.region}"

    def secrets_provider(self) -> str:
        return f"awskms://{self.state_key_alias}?region={self.region}"


class EnvironmentScoped:
    """For settings of one environment: the names of its baseline and of the orchestrator it serves.

    Classes using it have `environment`, `account_id`, `region` and `orchestrator_account_id`.
    """

    environment: str
    account_id: str
    region: str
    orchestrator_account_id: str

    @property
    def names(self) -> EnvironmentNames:
        return EnvironmentNames(self.environment, self.account_id, self.region)

    @property
    def orchestrator(self) -> OrchestratorNames:
        return OrchestratorNames(self.orchestrator_account_id, self.region)
