"""The base of every pipeline request: identity, tags, idempotency and per-environment resolution."""

from __future__ import annotations

import hashlib
import json
from typing import Any, ClassVar, Self, get_args

from pydantic import ConfigDict, Field, model_validator

from mlops_spec import naming
from mlops_spec.common import STAGED, Environment, Flag, NonEmptyStr, StrictModel, Tags, TagValue, field_problem

ClientToken = NonEmptyStr


def _mentions_staged(annotation: Any) -> bool:
    """True when an annotation such as `Staged[X] | None` contains a stage-aware part."""
    return any(arg is STAGED or _mentions_staged(arg) for arg in get_args(annotation))


class PipelineSpec(StrictModel):
    """A request for one target pipeline. Subclasses add the fields of their type.

    Subclasses set:
      - `pipeline_type`: a `Literal[...]` field, the discriminator of the request union;
      - `TYPE_SLUG`: the short type name used in pipeline ids (e.g. "realtime-builtin");
      - `MULTI_ACCOUNT`: False for types that always deploy in the orchestrator account only
        (training, tuning, autopilot, image building), as in the solution we replace.
    """

    # Validators are built on first use, not at import: a request is validated by its own type's model
    # only, so the API's cold start pays for one type, not twelve (issue 12).
    model_config = ConfigDict(defer_build=True)

    TYPE_SLUG: ClassVar[str]
    MULTI_ACCOUNT: ClassVar[bool] = True
    # The request field(s) a pipeline's name comes from, as errors about its identity name them.
    NAME_FIELD: ClassVar[str] = "model_name"

    pipeline_type: str
    client_token: ClientToken | None = Field(
        default=None,
        max_length=64,
        description="Idempotency key: a repeated request with the same token returns the same pipeline.",
    )
    tags: Tags = Field(default_factory=dict, description="Tags added to every resource of the pipeline.")
    owner: TagValue | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="Team or person owning the pipeline; every resource is tagged mlops:owner with it.",
    )
    auto_remediate: Flag = Field(
        default=False,
        description="When a scheduled drift check finds the pipeline's deployed stacks drifted, restore what the "
        "request declares with the normal update (as mlops reconcile does), once per detected drift.",
    )
    named_pipeline_id: str | None = Field(
        default=None,
        validation_alias="pipeline_id",
        exclude=True,
        description="The id of the pipeline this request updates, when its name is not written exactly as the "
        "pipeline was created (e.g. another case). Must be the id the request's name and type give.",
    )

    @model_validator(mode="before")
    @classmethod
    def _blank_means_absent(cls, data: Any) -> Any:
        """The old solution's users send "" for every optional key they leave out; treat it as absent.
        Only known keys are dropped: an unknown key stays and is reported, even with an empty value."""
        if isinstance(data, dict):
            known = cls.accepted_keys()
            return {
                key: value
                for key, value in data.items()
                if not (key in known and isinstance(value, str) and not value.strip())
            }
        return data

    @classmethod
    def accepted_keys(cls) -> set[str]:
        """The keys a request of this type may carry: each field's name, or its aliases when it has some."""
        keys: set[str] = set()
        for name, field in cls.model_fields.items():
            alias = field.validation_alias
            choices = getattr(alias, "choices", [alias])
            keys.update([choice for choice in choices if isinstance(choice, str)] or [name])
        return keys

    @classmethod
    def type_name(cls) -> str:
        """The `pipeline_type` of this spec class: the one place a type string is written is its Literal."""
        (name,) = get_args(cls.model_fields["pipeline_type"].annotation)
        return str(name)

    @model_validator(mode="after")
    def _named_pipeline_is_this_one(self) -> Self:
        if self.named_pipeline_id is not None and self.named_pipeline_id != self.pipeline_id:
            raise field_problem(
                "pipeline_id",
                f"names {self.named_pipeline_id!r}, but this request's {self.NAME_FIELD} and type give "
                f"{self.pipeline_id!r}",
                self.named_pipeline_id,
            )
        return self

    # -- identity -------------------------------------------------------------------------
    @property
    def name_infix(self) -> str:
        """The user-chosen part of the pipeline id (model name; image tag for image builds)."""
        return str(getattr(self, "model_name"))  # noqa: B009 (the base class declares no model_name)

    @property
    def identity_name(self) -> str:
        """The pipeline's name as its identity: unambiguous where the id's name part is not."""
        return self.name_infix

    @property
    def pipeline_id(self) -> str:
        return naming.pipeline_id(self.name_infix, self.TYPE_SLUG)

    def spec_hash(self) -> str:
        """Hash of the normalised request (without the client token): equal requests, equal hash. Values
        left at their defaults are left out, so an option added in a later release changes the hash of
        no request that does not use it (re-sending it stays a replay)."""
        body = self.model_dump(mode="json", exclude={"client_token"}, exclude_defaults=True)
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

    def run_name(self, env: Environment, kind: str, limit: int = naming.SAGEMAKER_NAME_LIMIT) -> str:
        """Name of a one-off SageMaker job of this pipeline in `env` (baseline, training, tuning, autopilot).

        Job names can never be reused in an account, so the name carries a hash of the request as
        resolved for `env`: an unchanged request keeps its job (no re-run), a changed one gets a new one.
        """
        # auto_remediate says how drift is handled, nothing about the job: switching it re-runs none.
        unrelated = {"client_token", "tags", "auto_remediate"}
        resolved = self.for_env(env).model_dump_json(exclude=unrelated, exclude_defaults=True)
        return naming.resource_name(self.pipeline_id, env, f"{kind}-{naming.short_hash(resolved)}", limit)

    # -- environments ---------------------------------------------------------------------
    @classmethod
    def staged_fields(cls) -> tuple[str, ...]:
        """Fields that may hold one value per environment in multi-account mode."""
        return tuple(
            name
            for name, field in cls.model_fields.items()
            if STAGED in field.metadata or _mentions_staged(field.annotation)
        )

    def environments(self, mode: str, home: Environment = "dev") -> tuple[Environment, ...]:
        """The environments this pipeline deploys to, in promotion order."""
        if mode == "multi" and self.MULTI_ACCOUNT:
            return ("dev", "staging", "prod")
        return (home,)

    def for_env(self, env: Environment) -> Self:
        """This request with every per-environment value resolved for `env`."""
        update: dict[str, Any] = {}
        for name in self.staged_fields():
            value = getattr(self, name)
            if isinstance(value, dict):
                update[name] = value[env]
        return self.model_copy(update=update)

    def tags_for(self, env: str) -> dict[str, str]:
        """Tags for every resource of this pipeline in `env`; user tags cannot override ours."""
        return {
            **self.tags,
            "mlops:pipeline-id": self.pipeline_id,
            "mlops:pipeline-type": self.pipeline_type,
            "mlops:environment": env,
            **({"mlops:owner": self.owner} if self.owner else {}),
        }
