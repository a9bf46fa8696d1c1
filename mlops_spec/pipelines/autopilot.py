"""Requests for SageMaker Autopilot (AutoML) jobs."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, Self

from pydantic import Field, model_validator

from mlops_spec.common import Flag, field_problem
from mlops_spec.pipelines.monitors import ProblemType
from mlops_spec.pipelines.training import JobSpec
from mlops_spec.published import Rule, given, rule, value_in, when

JobObjective = Literal["Accuracy", "MSE", "F1", "F1macro", "AUC"]

# Which objectives SageMaker accepts for each problem type.
OBJECTIVES_FOR: dict[str, frozenset[str]] = {
    "Regression": frozenset({"MSE"}),
    "BinaryClassification": frozenset({"Accuracy", "F1", "AUC"}),
    "MulticlassClassification": frozenset({"Accuracy", "F1macro"}),
}


# JSON Schema of `_objective_fits_problem_type`.
_OBJECTIVE_FITS = when(
    given("job_objective"),
    {
        "anyOf": [
            {"allOf": [value_in("problem_type", (problem,)), value_in("job_objective", sorted(objectives))]}
            for problem, objectives in OBJECTIVES_FOR.items()
        ]
    },
)


class AutopilotSpec(JobSpec):
    """Let SageMaker Autopilot pick, train and tune the best model for a tabular dataset."""

    SCHEMA_RULES: ClassVar[tuple[Rule, ...]] = (
        _OBJECTIVE_FITS,
        rule("max_runtime_per_job", "must be at most total_max_runtime"),
    )

    TYPE_SLUG: ClassVar[str] = "autopilot"
    JOB_NAME_LIMIT: ClassVar[int] = 32
    pipeline_type: Literal["model_autopilot_training"]
    target_attribute: Annotated[str, Field(min_length=1, max_length=128)] = Field(
        description="Name of the column to predict."
    )
    problem_type: ProblemType | None = Field(default=None, description="Inferred by Autopilot when absent.")
    job_objective: JobObjective | None = Field(
        default=None, description="Metric to optimise; needs problem_type. Autopilot's default when absent."
    )
    job_max_candidates: int = Field(default=10, ge=1, description="Most candidate models to try.")
    total_max_runtime: int = Field(default=2592000, ge=3600, le=2592000, description="Time limit of the whole job.")
    generate_definition_only: Flag = Field(
        default=False, description="Only generate candidate definitions, do not train them."
    )

    @model_validator(mode="after")
    def _objective_fits_problem_type(self) -> Self:
        if self.job_objective is None:
            return self
        if self.problem_type is None:
            raise field_problem("job_objective", "needs problem_type")
        if self.job_objective not in OBJECTIVES_FOR[self.problem_type]:
            allowed = ", ".join(sorted(OBJECTIVES_FOR[self.problem_type]))
            raise field_problem("job_objective", f"must be one of {allowed} for problem_type {self.problem_type}")
        return self

    @model_validator(mode="after")
    def _job_runtime_within_total(self) -> Self:
        if self.max_runtime_per_job > self.total_max_runtime:
            raise field_problem("max_runtime_per_job", f"must be at most total_max_runtime ({self.total_max_runtime})")
        return self
