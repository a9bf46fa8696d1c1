"""The environment variables the orchestrator's functions are configured with, and their parsing."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

from mlops_spec.approvers import ApprovalRules
from mlops_spec.cost_setting import UNKNOWN_PRICES_CHOICES, parse_cost_limit
from mlops_spec.env_vars import EnvVar
from mlops_spec.environments import ENVIRONMENTS, MODES, Environment, Mode

# The orchestrator component (components/orchestrator) sets these on every light function. Without
# ASSETS_KMS_KEY_ARN the bucket's default encryption (SSE-KMS with the data key) applies.
REGISTRY_TABLE = EnvVar.REGISTRY_TABLE
ASSETS_BUCKET = EnvVar.ASSETS_BUCKET
TOPIC_ARN = EnvVar.TOPIC_ARN
PROVISIONER_FUNCTION = EnvVar.PROVISIONER_FUNCTION
MODE = EnvVar.MODE
USE_MODEL_REGISTRY = EnvVar.USE_MODEL_REGISTRY
ORCHESTRATOR_ENVIRONMENT = EnvVar.ORCHESTRATOR_ENVIRONMENT
ASSETS_KMS_KEY_ARN = EnvVar.ASSETS_KMS_KEY_ARN
# Who may answer manual approvals; unset (a function deployed before it existed): the default rules.
APPROVAL_RULES = EnvVar.APPROVAL_RULES
# Unset (a function deployed before it existed): compatibility mode, unknown keys are warnings.
STRICT_REQUESTS = EnvVar.STRICT_REQUESTS
# Unset or empty (no mlops:maxMonthlyCostPerPipeline, or a function deployed before it existed): no limit.
MAX_MONTHLY_COST_PER_PIPELINE = EnvVar.MAX_MONTHLY_COST_PER_PIPELINE
# Unset or empty (a function deployed before it existed): "refuse" what the limit cannot check.
COST_LIMIT_UNKNOWN_PRICES = EnvVar.COST_LIMIT_UNKNOWN_PRICES

ALL_VARIABLES = (
    REGISTRY_TABLE,
    ASSETS_BUCKET,
    TOPIC_ARN,
    PROVISIONER_FUNCTION,
    MODE,
    USE_MODEL_REGISTRY,
    ORCHESTRATOR_ENVIRONMENT,
    ASSETS_KMS_KEY_ARN,
    APPROVAL_RULES,
    STRICT_REQUESTS,
    MAX_MONTHLY_COST_PER_PIPELINE,
    COST_LIMIT_UNKNOWN_PRICES,
)


class ConfigurationError(RuntimeError):
    """The function was deployed with missing or invalid settings (an operator problem, never the client's)."""


@dataclass(frozen=True)
class Settings:
    registry_table: str
    assets_bucket: str
    topic_arn: str
    provisioner_function: str
    mode: Mode
    use_model_registry: bool
    orchestrator_environment: Environment
    assets_kms_key_arn: str | None = None
    approval_rules: ApprovalRules = field(default_factory=ApprovalRules)
    # mlops:strictRequests: unknown keys of a request are errors even without ?strict=true.
    strict_requests: bool = False
    # mlops:maxMonthlyCostPerPipeline: provisioning a pipeline estimated above it (USD) is refused.
    max_monthly_cost_per_pipeline: float | None = None
    # mlops:costLimitUnknownPrices: "refuse" or "allow" a request the limit cannot check.
    cost_limit_unknown_prices: str = "refuse"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            registry_table=_required(env, REGISTRY_TABLE),
            assets_bucket=_required(env, ASSETS_BUCKET),
            topic_arn=env.get(TOPIC_ARN, ""),
            provisioner_function=env.get(PROVISIONER_FUNCTION, ""),
            mode=cast(Mode, _choice(env, MODE, MODES, "single")),
            use_model_registry=_flag(env, USE_MODEL_REGISTRY),
            orchestrator_environment=cast(Environment, _choice(env, ORCHESTRATOR_ENVIRONMENT, ENVIRONMENTS, "dev")),
            assets_kms_key_arn=env.get(ASSETS_KMS_KEY_ARN) or None,
            approval_rules=_approval_rules(env),
            strict_requests=_flag(env, STRICT_REQUESTS),
            max_monthly_cost_per_pipeline=_cost_limit(env),
            cost_limit_unknown_prices=_choice(env, COST_LIMIT_UNKNOWN_PRICES, UNKNOWN_PRICES_CHOICES, "refuse"),
        )


def settings() -> Settings:
    """Read on every call: it costs microseconds and lets tests change the environment freely."""
    return Settings.from_env()


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"environment variable {name} is not set")
    return value


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = env.get(name, "").strip() or default
    if value not in allowed:
        raise ConfigurationError(f"environment variable {name}={value!r} must be one of {', '.join(allowed)}")
    return value


def _approval_rules(env: Mapping[str, str]) -> ApprovalRules:
    text = env.get(APPROVAL_RULES, "").strip()
    if not text:
        return ApprovalRules()
    try:
        return ApprovalRules.from_json(text)
    except ValueError as exc:
        # Fail closed, as for the other settings: no request is served under rules that cannot be read.
        raise ConfigurationError(f"environment variable {APPROVAL_RULES}: {exc}") from None


def _cost_limit(env: Mapping[str, str]) -> float | None:
    text = env.get(MAX_MONTHLY_COST_PER_PIPELINE, "").strip()
    if not text:
        return None
    try:
        return parse_cost_limit(text)
    except ValueError as exc:
        # Fail closed, as for the other settings: no request is accepted under a limit that cannot be read.
        raise ConfigurationError(f"environment variable {MAX_MONTHLY_COST_PER_PIPELINE}={text!r} {exc}") from None


def _flag(env: Mapping[str, str], name: str) -> bool:
    value = env.get(name, "false").strip().lower()
    if value not in ("true", "false", "yes", "no", "1", "0", ""):
        raise ConfigurationError(f"environment variable {name}={value!r} must be true or false")
    return value in ("true", "yes", "1")
