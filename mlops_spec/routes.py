"""The orchestrator API's routes: API Gateway, the handler, the OpenAPI document and the CLI read them here.

Pure Python, so the API function and the CLI import it at no cost. Paths are written the way API
Gateway and OpenAPI write them (`/pipelines/{pipeline_id}`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

API_STAGE = "v1"
_PARAMETER = re.compile(r"\{(\w+)\}")
# What a path parameter can be (full match). Every pipeline id the orchestrator creates (naming's
# slugs, "rejected-<hash>") and every SageMaker model card name matches; the API answers any other
# value without an AWS call (404 for a pipeline, 400 for a card), and the OpenAPI document
# publishes these as the parameters' patterns.
PATH_PARAMETER_PATTERNS: dict[str, str] = {
    "pipeline_id": r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}",
    "name": r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}",
}
PATH_PARAMETER_MAX_LENGTHS: dict[str, int] = {"pipeline_id": 128, "name": 63}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    operation_id: str
    summary: str

    @property
    def parameters(self) -> tuple[str, ...]:
        """The path parameters, in order."""
        return tuple(_PARAMETER.findall(self.path))

    @property
    def resolver_rule(self) -> str:
        """The path as the Powertools resolver writes it: `/pipelines/<pipeline_id>`."""
        return _PARAMETER.sub(r"<\1>", self.path)

    def url_path(self, **values: str) -> str:
        """The path with each parameter filled in and percent-encoded (a `/` in a value stays inside it)."""
        missing = set(self.parameters) - set(values)
        if missing or set(values) - set(self.parameters):
            raise ValueError(f"{self.path} takes the parameters {self.parameters}, got {sorted(values)}")
        return _PARAMETER.sub(lambda match: quote(values[match.group(1)], safe=""), self.path)


PROVISION_PIPELINE = Route(
    "POST",
    "/provisionpipeline",
    "provisionPipeline",
    "Ask for a pipeline (validated now, deployed later), or run a model-card operation.",
)
PIPELINE_STATUS = Route("POST", "/pipelinestatus", "pipelineStatus", "Status of a pipeline (the old solution's route).")
LIST_PIPELINES = Route("GET", "/pipelines", "listPipelines", "List pipelines.")
GET_PIPELINE = Route("GET", "/pipelines/{pipeline_id}", "getPipeline", "Status of a pipeline.")
DELETE_PIPELINE = Route(
    "DELETE",
    "/pipelines/{pipeline_id}",
    "deletePipeline",
    "Destroy the pipeline's target stacks, then its delivery stack.",
)
ANSWER_APPROVAL = Route(
    "POST",
    "/pipelines/{pipeline_id}/approval",
    "answerApproval",
    "Approve or reject the pending manual approval of the pipeline's delivery pipeline "
    "(multi-account mode); the caller's identity is recorded with the decision.",
)
PIPELINE_DRIFT = Route(
    "GET",
    "/pipelines/{pipeline_id}/drift",
    "getPipelineDrift",
    "The last drift check of the pipeline's deployed target stacks: in sync or not, per environment, and "
    "which resources and properties differ.",
)
RECONCILE_PIPELINE = Route(
    "POST",
    "/pipelines/{pipeline_id}/reconcile",
    "reconcilePipeline",
    "Deploy the pipeline's current spec again as a new version (unchanged), restoring what it declares over "
    "drifted stacks; the caller is recorded as its requester.",
)
PROMOTE_PIPELINE = Route(
    "POST",
    "/pipelines/{pipeline_id}/promote",
    "promotePipeline",
    "Make the shadow of a shadow-tested endpoint its production model (and remove the shadow) through a normal "
    "update: a new version, its delivery run and approvals; the caller is recorded as its requester.",
)
LIST_MODEL_CARDS = Route("GET", "/modelcards", "listModelCards", "List model cards.")
CREATE_MODEL_CARD = Route("POST", "/modelcards", "createModelCard", "Create a model card.")
DESCRIBE_MODEL_CARD = Route(
    "GET", "/modelcards/{name}", "describeModelCard", "A model card (its latest version unless `version` is given)."
)
UPDATE_MODEL_CARD = Route(
    "PUT",
    "/modelcards/{name}",
    "updateModelCard",
    "Replace the given sections and/or the status; the rest of the card is kept.",
)
DELETE_MODEL_CARD = Route("DELETE", "/modelcards/{name}", "deleteModelCard", "Delete a model card.")
EXPORT_MODEL_CARD = Route(
    "POST", "/modelcards/{name}/export", "exportModelCard", "Export a model card to PDF in the assets bucket."
)

ROUTES: tuple[Route, ...] = (
    PROVISION_PIPELINE,
    PIPELINE_STATUS,
    LIST_PIPELINES,
    GET_PIPELINE,
    DELETE_PIPELINE,
    ANSWER_APPROVAL,
    PIPELINE_DRIFT,
    RECONCILE_PIPELINE,
    PROMOTE_PIPELINE,
    LIST_MODEL_CARDS,
    CREATE_MODEL_CARD,
    DESCRIBE_MODEL_CARD,
    UPDATE_MODEL_CARD,
    DELETE_MODEL_CARD,
    EXPORT_MODEL_CARD,
)


def resource_paths(routes: tuple[Route, ...] = ROUTES) -> list[str]:
    """Every API Gateway resource path the routes need, parents before children."""
    paths: set[str] = set()
    for route in routes:
        parts = route.path.strip("/").split("/")
        for depth in range(1, len(parts) + 1):
            paths.add("/" + "/".join(parts[:depth]))
    return sorted(paths, key=lambda p: (p.count("/"), p))
