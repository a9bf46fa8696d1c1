"""The HTTP API's OpenAPI 3.1 document: routes, the request models, and the shapes of the API's answers.

Regenerate the committed copy with `python -m mlops_spec.openapi > openapi.json`.
"""

from mlops_spec.openapi.answers import ErrorBody, PipelineState
from mlops_spec.openapi.document import API_VERSION, openapi_document, render
from mlops_spec.openapi.schemas import json_schema

__all__ = ["API_VERSION", "ErrorBody", "PipelineState", "json_schema", "openapi_document", "render"]
